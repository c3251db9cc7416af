// Package server is granttrack's HTTP face: the JSON API under /api/v1 and the
// server-rendered web app, on Fiber, with one error handler for both.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/valyala/fasthttp"

	"granttrack/app/auth"
	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

// Config is what the server needs from the application.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// SecureCookies marks cookies Secure; on when served over HTTPS.
	SecureCookies bool
	// SignInAttempts is how many sign-ins one client address may fail before
	// it is locked out (default 10); AccountSignInAttempts the same for one
	// account (default 5). A lock lasts a minute and doubles with every
	// further failure, up to an hour; the counts live in PostgreSQL, shared
	// by every node.
	SignInAttempts        int
	AccountSignInAttempts int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; without them the client's address is the peer's.
	TrustedProxies []netip.Prefix
	// Publisher is who publishes the open-data exports (360Giving, OCDS);
	// they are refused until it is complete.
	Publisher export.Publisher
	// OIDC signs people in through an OpenID provider; nil: single sign-on is off.
	OIDC *auth.OIDC
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
	// signInLimits are the limits by address and by account, in that order.
	signInLimits [2]store.SignInLimit
	metrics      *metrics
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

// contentSecurityPolicy is every page's; forms post only to this site (the
// sign-in page also to the identity provider, see offerSSO).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// requestTimeout bounds the database work of one request.
const requestTimeout = 30 * time.Second

// New builds the server with every route registered.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{store: cfg.Store, log: cfg.Logger, cfg: cfg, signInLimits: signInLimits(cfg)}
	var pool *pgxpool.Pool
	if cfg.Store != nil {
		pool = cfg.Store.Pool()
	}
	s.metrics = newMetrics(pool, cfg.Store)
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
	s.app.Use(recover.New(), setAsideClientRequestID, requestid.New(), s.logRequests, s.withDeadline)
	s.app.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy,
		ReferrerPolicy:        "same-origin",
	}))
	// Public like /healthz: what a monitoring system scrapes.
	s.app.Get("/metrics", s.metrics.handler())
	s.registerAPI()
	s.registerWeb()
	s.app.Use(func(c *fiber.Ctx) error {
		c.Locals(localUnmatched, true)
		return fiber.ErrNotFound
	})
	// Fiber fills a list it renders with on the first render, unguarded: two
	// first renders at once race. Render once now, before any request.
	c := s.app.AcquireCtx(&fasthttp.RequestCtx{})
	defer s.app.ReleaseCtx(c)
	if err := c.Render("login", fiber.Map{"Title": "Sign in"}, "layouts/main"); err != nil {
		return nil, fmt.Errorf("server: render: %w", err)
	}
	return s, nil
}

// App returns the Fiber app, for tests (app.Test) and for serving.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting requests and waits for those in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

// signInLimits are the limits of cfg by address and by account: 10 and 5
// failures unless cfg says otherwise, then a minute's lock that doubles with
// every further failure, up to an hour.
func signInLimits(cfg Config) [2]store.SignInLimit {
	byAddress, byAccount := cfg.SignInAttempts, cfg.AccountSignInAttempts
	if byAddress == 0 {
		byAddress = 10
	}
	if byAccount == 0 {
		byAccount = 5
	}
	return [2]store.SignInLimit{
		{Scope: store.SignInByAddress, Failures: byAddress, Lock: time.Minute, MaxLock: time.Hour},
		{Scope: store.SignInByAccount, Failures: byAccount, Lock: time.Minute, MaxLock: time.Hour},
	}
}

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

// logRequests logs every request with its request id (at DEBUG) and
// records its duration in the metrics.
func (s *Server) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = problemOf(err).Status
	}
	took := time.Since(start)
	s.metrics.observe(c, status, took)
	args := []any{"method", c.Method(), "path", c.Path(), "status", status, "duration", took, "request_id", requestID(c)}
	if v, ok := c.Locals(localClientRequestID).(string); ok {
		args = append(args, "client_request_id", v)
	}
	s.log.Debug("request", args...)
	return err
}

const localClientRequestID = "granttrack.client_request_id"

// setAsideClientRequestID keeps a client's X-Request-ID for the log only
// (cut to 128 bytes), so that the request id in the audit trail and in
// responses is always one the server generated.
func setAsideClientRequestID(c *fiber.Ctx) error {
	if v := c.Get(fiber.HeaderXRequestID); v != "" {
		c.Locals(localClientRequestID, v[:min(len(v), 128)])
		c.Request().Header.Del(fiber.HeaderXRequestID)
	}
	return c.Next()
}

// clientIP returns the client's address: the peer's, or, when the peer is a
// trusted proxy, the nearest address in X-Forwarded-For that is not a
// trusted proxy. Proxies append what they saw, so the list is read from the
// right; whatever a client wrote at the left is never believed.
func (s *Server) clientIP(c *fiber.Ctx) string {
	addr, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	addr = addr.Unmap()
	if !s.trustedProxy(addr) {
		return addr.String()
	}
	var hops []string
	for _, h := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, strings.Split(string(h), ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		next, err := netip.ParseAddr(hop)
		if err != nil {
			ap, err := netip.ParseAddrPort(hop)
			if err != nil {
				break // not written by a proxy we trust: stop at the last we do
			}
			next = ap.Addr()
		}
		addr = next.Unmap()
		if !s.trustedProxy(addr) {
			break
		}
	}
	return addr.String()
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
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

// localUnmatched marks a request no route matched.
const localUnmatched = "granttrack.unmatched"

// actorOf says who is acting in this request, for the audit trail.
func actorOf(c *fiber.Ctx) models.Actor {
	a := models.Actor{Label: "anonymous", RequestID: requestID(c)}
	if u := currentUser(c); u != nil {
		a.UserID, a.Label, a.Role = u.ID, u.Email, u.Role
	}
	return a
}
