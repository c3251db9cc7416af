package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/template/html/v2"

	"granttrack/app/auth"
	"granttrack/app/store"
	"granttrack/models"
	"granttrack/web"
)

// webState is what the web app keeps between requests.
type webState struct {
	engine   *html.Engine
	sessions *session.Store
	csrfKey  []byte // signs CSRF tokens; shared by every node (see csrf.go)
}

const (
	sessionUserKey = "user_id"
	csrfKey        = "csrf"
	sessionTTL     = 8 * time.Hour
	sessionCookie  = "granttrack_session"
)

func newWebState(s *Server) (*webState, error) {
	engine := html.NewFileSystem(http.FS(web.Templates()), ".html")
	engine.AddFuncMap(templateFuncs)
	if err := engine.Load(); err != nil {
		return nil, err
	}
	sessions := session.New(session.Config{
		Storage:        s.store.Sessions(),
		Expiration:     sessionTTL,
		KeyLookup:      "cookie:" + sessionCookie,
		CookieHTTPOnly: true,
		CookieSecure:   s.cfg.SecureCookies,
		CookieSameSite: "Lax",
	})
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	key, err := s.store.ServerKey(ctx, csrfKeyName, newCSRFKey())
	if err != nil {
		return nil, fmt.Errorf("server: CSRF key: %w", err)
	}
	return &webState{engine: engine, sessions: sessions, csrfKey: key}, nil
}

var templateFuncs = template.FuncMap{
	"money": func(v any) string {
		switch m := v.(type) {
		case Money:
			return pounds(m)
		case *Money:
			if m == nil {
				return ""
			}
			return pounds(*m)
		}
		return ""
	},
	"title": func(s any) string {
		str := strings.ReplaceAll(fmt.Sprint(s), "_", " ")
		if str == "" {
			return ""
		}
		return strings.ToUpper(str[:1]) + str[1:]
	},
	"fieldError": func(errs map[string]string, field string) string { return errs[field] },
	"problems":   formProblems,
	"query": func(kv ...string) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				v.Set(kv[i], kv[i+1])
			}
		}
		return template.URL(v.Encode())
	},
	"can": func(u *models.User, what string) bool {
		return u != nil && slices.Contains(webPermissions[what], u.Role)
	},
	"list": func(v ...string) []string { return v },
	"has":  func(rs []models.Role, r models.Role) bool { return slices.Contains(rs, r) },
	// decideArgs are the approve, reject and withdraw buttons' arguments
	// for a pending decision (the "decide" template).
	"decideArgs": func(entity string, id int64, mine bool, csrf any) map[string]any {
		return map[string]any{"Entity": entity, "ID": id, "Mine": mine, "CSRF": csrf}
	},
	"deref": func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	},
	"humanSize": models.HumanSize,
	"hex":       func(b []byte) string { return hex.EncodeToString(b) },
}

// webPermissions mirror the API's role sets for what the pages offer.
var webPermissions = map[string][]models.Role{
	"write": writers,
	"admin": admins,
	"audit": auditors,
}

// pounds shows an amount as -£1,234.50: the sign before the pound sign.
func pounds(m Money) string { return models.PoundsText(string(m)) }

func (s *Server) registerWeb() {
	s.app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(web.Static()), MaxAge: 3600}))
	s.app.Use(s.webSession, s.checkCSRF)
	s.app.Get("/login", s.loginPage)
	s.app.Post("/login", s.login)
	s.app.Post("/logout", s.logout)
	s.app.Get("/", s.requireWebUser, func(c *fiber.Ctx) error {
		// Board members land on their dashboard; officers on the lines.
		if currentUser(c).Role == models.RoleBoardMember {
			return c.Redirect("/dashboard", fiber.StatusSeeOther)
		}
		return c.Redirect("/funding-lines", fiber.StatusSeeOther)
	})
	s.registerPages()
	s.registerBoardPages()
	s.registerLineOutcomePages()
	s.registerBudgetPages()
	s.registerSpendPages()
	s.registerFormPages()
	s.registerTransparencyPages()
	s.registerExpensePages()
	s.registerAuditPages()
	s.registerDecisionPages()
	s.registerPeoplePages()
	s.registerAwardPages()
	s.registerAlertPages()
	s.registerPaymentPages()
	s.registerOIDCPages()
	s.registerTwoFactorPages()
	s.registerContractPages()
	s.registerPublisherPages()
	s.registerListPages()
}

// webSession loads the signed-in user of a web request, if any.
func (s *Server) webSession(c *fiber.Ctx) error {
	if isAPI(c) || strings.HasPrefix(c.Path(), "/static/") {
		return c.Next()
	}
	if c.Cookies(sessionCookie) == "" {
		return c.Next() // a visitor: no session is made, nor written
	}
	sess, err := s.web.sessions.Get(c)
	if err != nil {
		return err
	}
	if id, ok := sess.Get(sessionUserKey).(int64); ok {
		u, err := s.store.UserByID(c.UserContext(), id)
		if err == nil && u.Active {
			c.Locals(localUser, u)
			c.Locals(localSession, sess.ID())
			if must, _ := sess.Get(sessionEnrolKey).(bool); must && !enrolmentPath(c.Path()) {
				// Until enrolled, a session that must enrol opens nothing else.
				return c.Redirect(enrolPath, fiber.StatusSeeOther)
			}
		} else if models.ErrorCode(err) != models.ENOTFOUND && err != nil {
			return err
		}
	}
	return c.Next()
}

// requireWebUser sends visitors who are not signed in to the sign-in page.
func (s *Server) requireWebUser(c *fiber.Ctx) error {
	if currentUser(c) == nil {
		return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	return c.Next()
}

// requireWebRole refuses pages the user's role may not use.
func (s *Server) requireWebRole(roles []models.Role) fiber.Handler {
	allow := s.allow(roles)
	return func(c *fiber.Ctx) error {
		if currentUser(c) == nil {
			return s.requireWebUser(c)
		}
		return allow(c)
	}
}

// render draws a page in the main layout with what every page needs.
func (s *Server) render(c *fiber.Ctx, name string, data fiber.Map) error {
	if data == nil {
		data = fiber.Map{}
	}
	data["User"] = currentUser(c)
	data["CSRF"] = c.Locals(csrfKey)
	data["Path"] = c.Path()
	if fresh, ok := c.Locals(localFreshness).(*store.Freshness); ok && (fresh.Source == "replica" || fresh.Fallback != "") {
		data["Freshness"] = fresh
	}
	if name == "login" {
		s.offerSSO(c, data)
	}
	if _, ok := data["Title"]; !ok {
		data["Title"] = "granttrack"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Render(name, data, "layouts/main")
}

func (s *Server) loginPage(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return s.render(c, "login", fiber.Map{"Title": "Sign in", "Next": safeNext(c.Query("next"))})
}

// dummyHash keeps an unknown email as slow as a wrong password, so timing
// does not tell which emails have accounts.
var dummyHash, _ = auth.HashPassword("granttrack-timing-equaliser")

func (s *Server) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	email := strings.TrimSpace(strings.ToLower(bodyValue(c, "email")))
	if models.CheckText(email, false) != nil {
		email = "" // no account has it, and the database could not look it up or record it
	}
	password := bodyValue(c, "password")
	next := safeNext(bodyValue(c, "next"))
	addr := s.clientIP(c)
	// Every attempt counts against the address and the account before the
	// password is checked, so attempts sent at once cannot pass the limit.
	if wait, err := s.beginSignIn(c, addr, email); err != nil || wait > 0 {
		if err != nil {
			return err
		}
		return s.render(c.Status(fiber.StatusTooManyRequests), "login", fiber.Map{"Title": "Sign in", "Email": email, "Next": next,
			"Error": lockedOut(c, wait)})
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil && models.ErrorCode(err) != models.ENOTFOUND {
		return err
	}
	hash := dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	if !auth.PasswordMatches(password, hash) || u == nil || !u.Active {
		a := actorOf(c)
		a.Label = "anonymous"
		if err := s.store.RecordEvent(ctx, a, store.Change{Action: "session.sign_in_failed", Entity: "session",
			After: map[string]any{"email": email, "ip": addr}}); err != nil {
			return err
		}
		return s.render(c.Status(fiber.StatusUnauthorized), "login", fiber.Map{
			"Title": "Sign in", "Error": "That email and password do not match an account.", "Email": email, "Next": next})
	}
	return s.passwordAccepted(c, u, addr, next)
}

// beginSignIn counts a sign-in attempt against the address and the account
// (see store.BeginSignIn) and returns how long either is still locked out.
func (s *Server) beginSignIn(c *fiber.Ctx, addr, email string) (time.Duration, error) {
	limits := []struct {
		limit   store.SignInLimit
		subject string
	}{{s.signInLimits[0], addr}, {s.signInLimits[1], email}}
	for _, l := range limits {
		if l.subject == "" {
			continue
		}
		wait, err := s.store.BeginSignIn(c.UserContext(), l.limit, l.subject)
		if err != nil || wait > 0 {
			return wait, err
		}
	}
	return 0, nil
}

// lockedOut sets Retry-After and returns the message for a sign-in refused
// for wait more.
func lockedOut(c *fiber.Ctx, wait time.Duration) string {
	minutes := int(math.Ceil(wait.Minutes()))
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return fmt.Sprintf("Too many failed sign-ins. Try again in %d minute%s.", minutes, map[bool]string{true: "s"}[minutes != 1])
}

// CompleteSignIn starts a web session for u, who has proven who they are;
// event says how (its "method": "password" or "oidc", and what the sign-in
// proved) and is audited with the address: it sweeps expired
// sessions, gives the browser a fresh session id (stopping session
// fixation), ties the session to the account (so deactivation and "sign out
// everywhere" end it), issues a new CSRF token and writes session.sign_in to
// the audit trail. It refuses an inactive account. Every way of signing in
// ends here; the caller redirects afterwards.
func (s *Server) CompleteSignIn(c *fiber.Ctx, u *models.User, event map[string]any) error {
	return s.completeSignIn(c, u, event, false)
}

// completeSignIn is CompleteSignIn; mustEnrol marks the session as one that
// may do nothing but enrol in two-factor sign-in (see requireEnrolment).
func (s *Server) completeSignIn(c *fiber.Ctx, u *models.User, event map[string]any, mustEnrol bool) error {
	ctx := c.UserContext()
	if !u.Active {
		return models.Errorf(models.EUNAUTHORIZED, "This account is deactivated.")
	}
	// Sign-in is when expired sessions are swept away.
	if err := s.store.DeleteExpiredSessions(ctx); err != nil {
		return err
	}
	sess, err := s.web.sessions.Get(c)
	if err != nil {
		return err
	}
	// A fresh session id on sign-in stops session fixation.
	if err := sess.Regenerate(); err != nil {
		return err
	}
	sess.Set(sessionUserKey, u.ID)
	if mustEnrol {
		sess.Set(sessionEnrolKey, true)
	}
	sessionID := sess.ID() // Save releases sess for reuse
	if err := sess.Save(); err != nil {
		return err
	}
	addr := s.clientIP(c)
	if err := s.store.BindSession(ctx, sessionID, u.ID, addr); err != nil {
		return err
	}
	c.Locals(localUser, u)
	c.Locals(localSession, sessionID)
	s.issueCSRF(c, csrfBinding(c))
	event["ip"] = addr
	return s.store.RecordEvent(ctx, actorOf(c), store.Change{Action: "session.sign_in", Entity: "user", EntityID: u.ID, After: event})
}

func (s *Server) logout(c *fiber.Ctx) error {
	sess, err := s.web.sessions.Get(c)
	if err != nil {
		return err
	}
	if u := currentUser(c); u != nil {
		if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "session.sign_out", Entity: "user", EntityID: u.ID}); err != nil {
			return err
		}
	}
	if err := sess.Destroy(); err != nil {
		return err
	}
	c.Locals(localSession, "")
	s.issueCSRF(c, csrfBinding(c))
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// safeNext keeps redirects after sign-in on this site: it returns next when
// it is a path on this site and "/" otherwise. A browser ignores tabs and
// newlines in a URL and reads a backslash as a slash, so "/\t/evil.example"
// or "/\\evil.example" would leave the site, and CR or LF would end the
// Location header. So next must be printable ASCII starting with one slash,
// with no backslash, and neither it nor its percent-decoded forms may hold a
// control character or a backslash, or name a scheme or a host.
func safeNext(next string) string {
	for i := 0; i < len(next); i++ {
		if next[i] <= ' ' || next[i] >= 0x7f {
			return "/"
		}
	}
	for s, i := next, 0; ; i++ {
		if i == 3 || !sitePath(s) {
			return "/"
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return "/"
		}
		if d == s {
			return next
		}
		s = d
	}
}

// sitePath reports whether p, taken literally, is a path on this site.
func sitePath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') {
		return false
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// formErrors turns an EINVALID error into messages by field, for the forms;
// any other error is returned for the error handler.
func formErrors(err error) (map[string]string, error) {
	var me *models.Error
	if !errors.As(err, &me) || (me.Code != models.EINVALID && me.Code != models.ECONFLICT) {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range me.Fields {
		out[f.Field] = f.Message
	}
	if len(out) == 0 {
		out["_"] = me.Message
	}
	return out, nil
}

// formProblems lists every field problem of a refused form at its top, by
// field name, so that a problem with a field the form shows no message
// beside (a hidden id, a reference) is never lost.
func formProblems(errs map[string]string) template.HTML {
	fields := make([]string, 0, len(errs))
	for f := range errs {
		if f != "_" {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return ""
	}
	slices.Sort(fields)
	var b strings.Builder
	b.WriteString(`<ul class="flash error form-problems" role="alert">`)
	for _, f := range fields {
		b.WriteString("<li><code>" + template.HTMLEscapeString(f) + "</code>: " + template.HTMLEscapeString(errs[f]) + "</li>")
	}
	b.WriteString("</ul>")
	return template.HTML(b.String())
}
