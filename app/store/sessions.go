package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// SessionStorage keeps web sessions in PostgreSQL. It satisfies Fiber's
// fiber.Storage interface, so the session middleware can use it directly.
type SessionStorage struct{ s *Store }

// Sessions returns the session storage over this store.
func (s *Store) Sessions() *SessionStorage { return &SessionStorage{s: s} }

// Get returns the stored value, or nil when there is none or it has expired.
func (ss *SessionStorage) Get(key string) ([]byte, error) {
	var data []byte
	err := ss.s.db.NewRaw("SELECT data FROM sessions WHERE key = ? AND (expires_at IS NULL OR expires_at > now())", key).
		Scan(context.Background(), &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return data, translate(err)
}

// Set stores val under key; exp of zero means no expiry.
func (ss *SessionStorage) Set(key string, val []byte, exp time.Duration) error {
	var expires *time.Time
	if exp > 0 {
		t := time.Now().Add(exp).UTC()
		expires = &t
	}
	_, err := ss.s.db.NewRaw(`INSERT INTO sessions (key, data, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`, key, val, expires).
		Exec(context.Background())
	return translate(err)
}

// Delete removes key.
func (ss *SessionStorage) Delete(key string) error {
	_, err := ss.s.db.NewRaw("DELETE FROM sessions WHERE key = ?", key).Exec(context.Background())
	return translate(err)
}

// Reset removes every session, and with them every sign-in.
func (ss *SessionStorage) Reset() error {
	_, err := ss.s.db.NewRaw("DELETE FROM sessions").Exec(context.Background())
	return translate(err)
}

// Close does nothing: the store owns the pool.
func (ss *SessionStorage) Close() error { return nil }

// DeleteExpiredSessions removes sessions past their expiry, and sign-in
// counts whose failures are forgotten (see SignInLimit), so neither table
// grows without end.
func (s *Store) DeleteExpiredSessions(ctx context.Context) error {
	if _, err := s.db.NewRaw("DELETE FROM sessions WHERE expires_at <= now()").Exec(ctx); err != nil {
		return translate(err)
	}
	_, err := s.db.NewRaw(`DELETE FROM sign_in_throttles
		WHERE last_attempt_at <= now() - ? * interval '1 second' AND (locked_until IS NULL OR locked_until <= now())`, int64(signInForget/time.Second)).Exec(ctx)
	return translate(err)
}

// ServerKey returns the secret named name that every app node shares,
// making it (from secret, random bytes) when it does not exist yet.
func (s *Store) ServerKey(ctx context.Context, name string, secret []byte) ([]byte, error) {
	if _, err := s.db.NewRaw("INSERT INTO server_keys (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, secret).
		Exec(ctx); err != nil {
		return nil, translate(err)
	}
	var key []byte
	if err := s.db.NewRaw("SELECT secret FROM server_keys WHERE name = ?", name).Scan(ctx, &key); err != nil {
		return nil, translate(err)
	}
	return key, nil
}
