package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// SessionInfo is one of an account's web sessions, as its owner sees it:
// never the session's key, only a short label of it.
type SessionInfo struct {
	Label      string     `bun:"label" json:"label"`
	SignedInAt *time.Time `bun:"signed_in_at" json:"signed_in_at"`
	ExpiresAt  *time.Time `bun:"expires_at" json:"expires_at"`
	Address    string     `bun:"address" json:"address"`
	Current    bool       `bun:"current" json:"current"`
}

// BindSession records that the web session key belongs to userID, signed in
// from address, so it can be listed and ended with the account's others.
func (s *Store) BindSession(ctx context.Context, key string, userID int64, address string) error {
	_, err := s.db.NewRaw("UPDATE sessions SET user_id = ?, signed_in_at = now(), address = ? WHERE key = ?", userID, address, key).Exec(ctx)
	return translate(err)
}

// UserSessions lists userID's unexpired web sessions, newest first; current
// is the key of the session asking, marked Current.
func (s *Store) UserSessions(ctx context.Context, userID int64, current string) ([]SessionInfo, error) {
	out := []SessionInfo{}
	err := s.db.NewRaw(`SELECT left(encode(sha256(convert_to(key, 'UTF8')), 'hex'), 8) AS label, signed_in_at, expires_at, address,
			key = ? AS current
		FROM sessions WHERE user_id = ? AND (expires_at IS NULL OR expires_at > now())
		ORDER BY signed_in_at DESC NULLS LAST`, current, userID).Scan(ctx, &out)
	return out, translate(err)
}

// SignOutEverywhere ends every web session of the actor but keep (the one
// asking, or "" for all), and returns how many it ended.
func (s *Store) SignOutEverywhere(ctx context.Context, actor models.Actor, keep string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if n, _, err = cutOff(ctx, tx, actor.UserID, keep, false); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "session.sign_out_everywhere", Entity: "user", EntityID: actor.UserID,
			After: map[string]any{"sessions_ended": n}})
	})
	return n, err
}

// ChangePassword replaces the actor's own password hash (the caller checked
// the current password), ends their other sessions and returns how many.
func (s *Store) ChangePassword(ctx context.Context, actor models.Actor, hash, keepSession string) (int64, error) {
	var n int64
	return n, s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("UPDATE users SET password_hash = ? WHERE id = ?", hash, actor.UserID).Exec(ctx); err != nil {
			return err
		}
		var err error
		if n, _, err = cutOff(ctx, tx, actor.UserID, keepSession, false); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "user.password", Entity: "user", EntityID: actor.UserID,
			After: map[string]any{"other_sessions_ended": n}})
	})
}

// APITokens lists userID's tokens, newest first, revoked ones too (never
// their hashes).
func (s *Store) APITokens(ctx context.Context, userID int64) ([]*models.APIToken, error) {
	var ts []*models.APIToken
	err := s.db.NewSelect().Model(&ts).ExcludeColumn("token_hash").Where("user_id = ?", userID).Order("created_at DESC", "id DESC").Scan(ctx)
	return ts, translate(err)
}

// RevokeOwnAPIToken revokes one of the actor's own tokens; ENOTFOUND for a
// token that is not theirs or is already revoked.
func (s *Store) RevokeOwnAPIToken(ctx context.Context, actor models.Actor, tokenID int64) error {
	return s.revokeAPIToken(ctx, actor, tokenID, actor.UserID)
}
