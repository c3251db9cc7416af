package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"slices"
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
		sum := requestHash(c)
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

// requestHash is the SHA-256 of what a request asks for. A multipart body
// is read (fasthttp parses it before any handler) from its parsed form, in
// a fixed order: each value, then each file's name and SHA-256, by field,
// since fasthttp writes the body again from the form in map order, which
// changes from call to call.
func requestHash(c *fiber.Ctx) [32]byte {
	form, err := c.MultipartForm()
	if err != nil {
		return sha256.Sum256(c.Body())
	}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(form.Value)) {
		fmt.Fprintf(h, "value %q %q\n", k, form.Value[k])
	}
	for _, k := range slices.Sorted(maps.Keys(form.File)) {
		for _, fh := range form.File[k] {
			fmt.Fprintf(h, "file %q %q %d ", k, fh.Filename, fh.Size)
			if f, err := fh.Open(); err == nil {
				_, _ = io.Copy(h, f)
				f.Close()
			}
			h.Write([]byte("\n"))
		}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
