// Package server is granttrack's HTTP face: the JSON API under /api/v1 and the
// server-rendered web app, on Fiber, with one error handler for both.
package server

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Config is what the server needs from the application.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// SecureCookies marks cookies Secure; on when served over HTTPS.
	SecureCookies bool
	// SignInAttempts is how many sign-ins one address may try per minute.
	SignInAttempts int
	// ApprovalLimit is the amount of spend above which only an admin approves.
	ApprovalLimit decimal.Decimal
}

// Server holds the Fiber app and what its handlers use.
type Server struct {
	app    *fiber.App
	store  *store.Store
	log    *slog.Logger
	cfg    Config
	routes []Route
	web    *webState
}

// MaxBody bounds any request body; JSON bodies have a smaller limit.
const (
	MaxBody     = 32 << 20
	MaxJSONBody = 1 << 20
)

// requestTimeout bounds the database work of one request.
const requestTimeout = 30 * time.Second

// New builds the server with every route registered.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SignInAttempts == 0 {
		cfg.SignInAttempts = 10
	}
	if cfg.ApprovalLimit.IsZero() {
		cfg.ApprovalLimit = models.DefaultApprovalLimit
	}
	s := &Server{store: cfg.Store, log: cfg.Logger, cfg: cfg}
	web, err := newWebState(s)
	if err != nil {
		return nil, err
	}
	s.web = web
	s.app = fiber.New(fiber.Config{
		// Fiber reuses the memory behind strings from requests; immutable
		// copies them so none can change under a handler.
		Immutable:             true,
		BodyLimit:             MaxBody,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		Views:                 web.engine,
		ReadTimeout:           time.Minute,
		WriteTimeout:          5 * time.Minute,
	})
	s.app.Use(recover.New(), requestid.New(), s.logRequests, s.withDeadline)
	s.app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
			"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		ReferrerPolicy: "same-origin",
	}))
	s.registerAPI()
	s.registerWeb()
	s.app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return s, nil
}

// App returns the Fiber app, for tests (app.Test) and for serving.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

func (s *Server) withDeadline(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

func (s *Server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = problemOf(err).Status
	}
	s.log.Debug("request", "method", c.Method(), "path", c.Path(), "status", status,
		"duration", time.Since(start), "request_id", requestID(c))
	return err
}

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("requestid").(string); ok {
		return v
	}
	return ""
}

// currentUser returns the signed-in user, or nil.
func currentUser(c *fiber.Ctx) *models.User {
	u, _ := c.Locals(localUser).(*models.User)
	return u
}

const localUser = "granttrack.user"

// actorOf says who is acting in this request, for the audit trail.
func actorOf(c *fiber.Ctx) models.Actor {
	a := models.Actor{Label: "anonymous", RequestID: requestID(c)}
	if u := currentUser(c); u != nil {
		a.UserID, a.Label, a.Role = u.ID, u.Email, u.Role
	}
	return a
}
