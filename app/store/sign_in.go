package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Sign-in scopes: the client's address and the account (the email typed).
const (
	SignInByAddress = "address"
	SignInByAccount = "account"
)

// signInForget is how long after its last attempt a subject's failures are
// forgotten.
const signInForget = time.Hour

// SignInLimit is how many sign-in attempts a subject may fail before it is
// locked out, and for how long: Lock at first, doubling with every further
// failure, at most MaxLock.
type SignInLimit struct {
	Scope    string // SignInByAddress or SignInByAccount
	Failures int
	Lock     time.Duration
	MaxLock  time.Duration
}

// lockAfter returns how long a subject with failures failed attempts is
// locked, or 0.
func (l SignInLimit) lockAfter(failures int) time.Duration {
	if failures < l.Failures {
		return 0
	}
	lock := l.Lock
	for i := l.Failures; i < failures && lock < l.MaxLock; i++ {
		lock *= 2
	}
	return min(lock, l.MaxLock)
}

// BeginSignIn counts an attempt to sign in against subject, as a failure
// until SignInSucceeded takes it back, so that attempts made at once on
// several nodes cannot pass the limit together. When subject is locked out it
// counts nothing and returns how long the lock still lasts; otherwise 0.
func (s *Store) BeginSignIn(ctx context.Context, limit SignInLimit, subject string) (time.Duration, error) {
	var wait time.Duration
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO sign_in_throttles (scope, subject, failures, last_attempt_at)
			VALUES (?, ?, 0, now()) ON CONFLICT (scope, subject) DO NOTHING`, limit.Scope, subject).Exec(ctx); err != nil {
			return err
		}
		var row struct {
			Failures      int
			LastAttemptAt time.Time
			LockedUntil   *time.Time
			Now           time.Time
		}
		if err := tx.NewRaw(`SELECT failures, last_attempt_at, locked_until, now() AS now FROM sign_in_throttles
			WHERE scope = ? AND subject = ? FOR UPDATE`, limit.Scope, subject).Scan(ctx, &row); err != nil {
			return err
		}
		if row.LockedUntil != nil && row.LockedUntil.After(row.Now) {
			wait = row.LockedUntil.Sub(row.Now)
			return nil
		}
		failures := row.Failures + 1
		if row.Now.Sub(row.LastAttemptAt) >= signInForget {
			failures = 1
		}
		var until *time.Time
		if lock := limit.lockAfter(failures); lock > 0 {
			t := row.Now.Add(lock)
			until = &t
		}
		_, err := tx.NewRaw(`UPDATE sign_in_throttles SET failures = ?, last_attempt_at = ?, locked_until = ?
			WHERE scope = ? AND subject = ?`, failures, row.Now, until, limit.Scope, subject).Exec(ctx)
		return err
	})
	return wait, err
}

// SignInSucceeded takes back the attempt BeginSignIn counted against the
// address, and forgets the account's failures; an account of "" keeps
// every account's count (a password right but a second factor to come, or
// a single sign-on, which counts by address only).
func (s *Store) SignInSucceeded(ctx context.Context, address SignInLimit, addr, account string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("DELETE FROM sign_in_throttles WHERE scope = ? AND subject = ?", SignInByAccount, account).
			Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewRaw(`UPDATE sign_in_throttles SET failures = failures - 1,
			locked_until = CASE WHEN failures - 1 >= ? THEN locked_until END
			WHERE scope = ? AND subject = ? AND failures > 0`, address.Failures, SignInByAddress, addr).Exec(ctx)
		return err
	})
}
