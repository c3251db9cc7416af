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
	return data, err
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
	return err
}

// Delete removes key.
func (ss *SessionStorage) Delete(key string) error {
	_, err := ss.s.db.NewRaw("DELETE FROM sessions WHERE key = ?", key).Exec(context.Background())
	return err
}

// Reset removes every session, and with them every sign-in.
func (ss *SessionStorage) Reset() error {
	_, err := ss.s.db.NewRaw("DELETE FROM sessions").Exec(context.Background())
	return err
}

// Close does nothing: the store owns the pool.
func (ss *SessionStorage) Close() error { return nil }

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) error {
	_, err := s.db.NewRaw("DELETE FROM sessions WHERE expires_at <= now()").Exec(ctx)
	return err
}
