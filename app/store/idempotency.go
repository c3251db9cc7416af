package store

import (
	"bytes"
	"context"

	"granttrack/models"
)

// IdempotentResponse is the first answer to a request made with an
// idempotency key.
type IdempotentResponse struct {
	Status   int
	Location string
	Body     []byte
}

// Idempotent runs create, which writes through the store it is given, in one
// transaction with the user's idempotency key: the first request with the
// key runs create and stores its response; a retry with the same route and
// request hash returns that response (replayed true), also when it races the
// first (it waits for the first to commit); the key with another request is
// ECONFLICT. When create fails, nothing is stored, the key included.
func (s *Store) Idempotent(ctx context.Context, userID int64, key, route string, requestHash []byte,
	create func(ctx context.Context, st *Store) (IdempotentResponse, error)) (resp IdempotentResponse, replayed bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context, st *Store) error {
		var stored struct {
			Route       string
			RequestHash []byte
			IdempotentResponse
		}
		// A placeholder row claims the key; a racing request blocks here
		// until the first commits, then finds the stored answer.
		res, err := st.db.NewRaw(`INSERT INTO idempotency_keys (user_id, key, route, request_hash, status, response)
			VALUES (?, ?, ?, ?, 0, '') ON CONFLICT (user_id, key) DO NOTHING`, userID, key, route, requestHash).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if err := st.db.NewRaw(`SELECT route, request_hash, status, location, response AS body FROM idempotency_keys
				WHERE user_id = ? AND key = ?`, userID, key).Scan(ctx, &stored); err != nil {
				return err
			}
			if stored.Route != route || !bytes.Equal(stored.RequestHash, requestHash) {
				return models.Errorf(models.ECONFLICT, "This Idempotency-Key was already used for a different request; use a new key for a new request.")
			}
			resp, replayed = stored.IdempotentResponse, true
			return nil
		}
		if resp, err = create(ctx, st); err != nil {
			return err
		}
		_, err = st.db.NewRaw(`UPDATE idempotency_keys SET status = ?, location = ?, response = ? WHERE user_id = ? AND key = ?`,
			resp.Status, resp.Location, resp.Body, userID, key).Exec(ctx)
		return err
	})
	return resp, replayed, err
}
