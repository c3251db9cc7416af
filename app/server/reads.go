package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/export"
	"granttrack/app/store"
)

// localFreshness holds, for a request whose figures came through reads,
// where they came from; pages show it under their heading.
const localFreshness = "granttrack.freshness"

// reads is the store a report, the dashboard, the board pack or an export
// reads from: the read replica while it keeps up, else the primary. The
// answer says which, and as of when, in the Granttrack-Data-Source
// header (and on a page, under its heading).
func (s *Server) reads(c *fiber.Ctx) *store.Store {
	st, fresh := s.store.Reader(c.UserContext())
	c.Locals(localFreshness, &fresh)
	header := fresh.Source + "; as-of=" + fresh.AsOf.UTC().Format(time.RFC3339)
	if fresh.Fallback != "" {
		header += "; fallback=" + fresh.Fallback
	}
	c.Set("Granttrack-Data-Source", header)
	return st
}

// publisher is the export option naming the effective publisher: the
// stored settings, read from the primary so that a change is seen at once,
// with the environment's for what admins left empty.
func (s *Server) publisher(c *fiber.Ctx) (export.Option, error) {
	p, err := s.store.EffectivePublisher(c.UserContext(), s.cfg.Publisher)
	return export.WithPublisher(p), err
}
