package server

import (
	"context"
	"crypto/sha256"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// txStoreKey holds, for a request made with an Idempotency-Key, the store
// bound to the transaction that also keeps the key.
const txStoreKey = "granttrack.tx_store"

// storeOf is the store a handler writes through: the idempotent request's
// transaction, or the pool.
func (s *Server) storeOf(c *fiber.Ctx) *store.Store {
	if st, ok := c.Locals(txStoreKey).(*store.Store); ok && st != nil {
		return st
	}
	return s.store
}

// idempotent makes a route that creates something safe to retry: with an
// Idempotency-Key header, the first request runs in one transaction with
// the key and its response, and a retry with the same key and body gets that
// response again (Idempotent-Replayed: true) instead of a second record; the
// same key with another body is a 409. Spend keeps its own key in the
// ledger (RecordSpend).
func (s *Server) idempotent() fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := strings.TrimSpace(c.Get("Idempotency-Key"))
		if key == "" {
			return c.Next()
		}
		if len(key) > maxIdempotencyKey {
			return models.Errorf(models.EBADREQUEST, "The Idempotency-Key header is over %d characters.", maxIdempotencyKey)
		}
		sum := sha256.Sum256(c.Body())
		route := c.Method() + " " + c.Path() // the same key on another line is another request
		resp, replayed, err := s.store.Idempotent(c.UserContext(), actorOf(c).UserID, key, route, sum[:],
			func(_ context.Context, st *store.Store) (store.IdempotentResponse, error) {
				c.Locals(txStoreKey, st)
				defer c.Locals(txStoreKey, nil)
				if err := c.Next(); err != nil {
					return store.IdempotentResponse{}, err
				}
				return store.IdempotentResponse{Status: c.Response().StatusCode(), Location: string(c.Response().Header.Peek(fiber.HeaderLocation)),
					Body: append([]byte(nil), c.Response().Body()...)}, nil
			})
		if err != nil || !replayed {
			return err
		}
		c.Set("Idempotent-Replayed", "true")
		if resp.Location != "" {
			c.Location(resp.Location)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Status(resp.Status).Send(resp.Body)
	}
}
