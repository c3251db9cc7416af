// Package server is granttrack's HTTP face: the JSON API under /api/v1 and the
// server-rendered web app, on Fiber, with one error handler for both.
package server

import (
	"context"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/valyala/fasthttp"

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
}

// Server holds the Fiber app and what its handlers use.
type Server struct {
	app    *fiber.App
	store  *store.Store
	log    *slog.Logger
	cfg    Config
	routes []Route
	limits []bodyLimit
	web    *webState
}

// MaxBody bounds a request body, except on the upload routes, which set
// their own limit (see limitBody); JSON bodies have a smaller limit still.
const (
	MaxBody     = 2 << 20
	MaxJSONBody = 1 << 20
	// uploadOverhead is room in an upload's body for the multipart
	// boundaries and the form's other fields.
	uploadOverhead = 64 << 10
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
	// The body is read before any handler runs, so its limit is chosen from
	// the request line: large only on the few upload routes.
	s.app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if l := s.bodyLimitOf(string(h.Method()), string(h.RequestURI())); l != nil {
			return fasthttp.RequestConfig{MaxRequestBodySize: l.max}
		}
		return fasthttp.RequestConfig{}
	}
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

// bodyLimit is a larger body limit for the uploads on one route.
type bodyLimit struct {
	method string
	path   *regexp.Regexp
	max    int    // bytes in the whole body
	what   string // the limit in words, for the refusal
}

// limitBody lets bodies of route (Fiber syntax) carry a file of up to
// fileSize bytes, with room for the rest of the form.
func (s *Server) limitBody(method, route string, fileSize int64, what string) {
	re := "^" + pathParam.ReplaceAllString(regexp.QuoteMeta(route), "[^/]+") + "/?$"
	s.limits = append(s.limits, bodyLimit{method: method, path: regexp.MustCompile(re),
		max: int(fileSize) + uploadOverhead, what: what + " may be at most " + models.HumanSize(fileSize)})
}

// bodyLimitOf returns the larger limit of a request, or nil for MaxBody.
func (s *Server) bodyLimitOf(method, uri string) *bodyLimit {
	path, _, _ := strings.Cut(uri, "?")
	for i := range s.limits {
		if l := &s.limits[i]; l.method == method && l.path.MatchString(path) {
			return l
		}
	}
	return nil
}

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
