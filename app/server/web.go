package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/limiter"
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
}

const (
	sessionUserKey = "user_id"
	csrfKey        = "csrf"
	sessionTTL     = 8 * time.Hour
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
		KeyLookup:      "cookie:granttrack_session",
		CookieHTTPOnly: true,
		CookieSecure:   s.cfg.SecureCookies,
		CookieSameSite: "Lax",
	})
	return &webState{engine: engine, sessions: sessions}, nil
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
	"list":      func(v ...string) []string { return v },
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
	s.app.Use(s.webSession, csrf.New(csrf.Config{
		Next:           isAPI,
		KeyLookup:      "form:_csrf",
		Session:        s.web.sessions,
		ContextKey:     csrfKey,
		CookieSameSite: "Lax",
		CookieSecure:   s.cfg.SecureCookies,
		CookieHTTPOnly: true,
		Expiration:     sessionTTL,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			return models.Errorf(models.EFORBIDDEN, "The form has expired or did not come from this site. Go back, reload the page and try again.")
		},
	}))
	s.app.Get("/login", s.loginPage)
	s.app.Post("/login", limiter.New(limiter.Config{
		Max:        s.cfg.SignInAttempts,
		Expiration: time.Minute,
		LimitReached: func(c *fiber.Ctx) error {
			return s.render(c.Status(fiber.StatusTooManyRequests), "login", fiber.Map{
				"Title": "Sign in", "Error": "Too many sign-in attempts. Wait a minute and try again.", "Email": c.FormValue("email")})
		},
	}), s.login)
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
	s.registerAuditPages()
}

// webSession loads the signed-in user of a web request, if any.
func (s *Server) webSession(c *fiber.Ctx) error {
	if isAPI(c) || strings.HasPrefix(c.Path(), "/static/") {
		return c.Next()
	}
	sess, err := s.web.sessions.Get(c)
	if err != nil {
		return err
	}
	if id, ok := sess.Get(sessionUserKey).(int64); ok {
		u, err := s.store.UserByID(c.UserContext(), id)
		if err == nil && u.Active {
			c.Locals(localUser, u)
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
	return s.render(c, "login", fiber.Map{"Title": "Sign in", "Next": c.Query("next")})
}

// dummyHash keeps an unknown email as slow as a wrong password, so timing
// does not tell which emails have accounts.
var dummyHash, _ = auth.HashPassword("granttrack-timing-equaliser")

func (s *Server) login(c *fiber.Ctx) error {
	email := strings.TrimSpace(strings.ToLower(c.FormValue("email")))
	password := c.FormValue("password")
	u, err := s.store.UserByEmail(c.UserContext(), email)
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
		if err := s.store.RecordEvent(c.UserContext(), a, store.Change{Action: "session.sign_in_failed", Entity: "session",
			After: map[string]any{"email": email, "ip": c.IP()}}); err != nil {
			return err
		}
		return s.render(c.Status(fiber.StatusUnauthorized), "login", fiber.Map{
			"Title": "Sign in", "Error": "That email and password do not match an account.", "Email": email, "Next": c.FormValue("next")})
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
	if err := sess.Save(); err != nil {
		return err
	}
	c.Locals(localUser, u)
	if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "session.sign_in", Entity: "user", EntityID: u.ID,
		After: map[string]any{"ip": c.IP()}}); err != nil {
		return err
	}
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
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
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// safeNext keeps redirects after sign-in on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
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
