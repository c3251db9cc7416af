package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/auth"
	"granttrack/models"
)

// CSRF protection is a signed double-submit cookie: the cookie holds a random
// value and its HMAC, and a form (field _csrf) or a script (header
// X-CSRF-Token) must send the same token back. It needs no row in the
// database, so a visitor who has not signed in writes nothing. The HMAC binds
// the token to the signed-in session (or to "no session"), so a token from
// before sign-in, or from another session, is refused; a new one is issued at
// sign-in and at sign-out. The key is kept in PostgreSQL (server_keys) so that
// every app node accepts the tokens of the others. A token in the query string
// is never read: it would end up in logs and Referer headers.
const (
	csrfCookie    = "granttrack_csrf"
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
	csrfKeyName   = "csrf"
	localSession  = "granttrack.session"
	anonymousBind = "anonymous"
)

// newCSRFKey returns a fresh random key, for a database that has none yet.
func newCSRFKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("server: no randomness: " + err.Error())
	}
	return b
}

// csrfBinding is what a request's token is bound to: its signed-in session.
func csrfBinding(c *fiber.Ctx) string {
	if id, ok := c.Locals(localSession).(string); ok && id != "" {
		return "session:" + id
	}
	return anonymousBind
}

func (s *Server) csrfMAC(binding, random string) string {
	m := hmac.New(sha256.New, s.web.csrfKey)
	m.Write([]byte("granttrack csrf\x00" + binding + "\x00" + random))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) csrfValid(binding, token string) bool {
	random, mac, ok := strings.Cut(token, ".")
	return ok && random != "" && hmac.Equal([]byte(mac), []byte(s.csrfMAC(binding, random)))
}

// issueCSRF gives the request a new token bound to binding, in the cookie
// and for the page being drawn.
func (s *Server) issueCSRF(c *fiber.Ctx, binding string) {
	random := auth.NewSecret(32)
	token := random + "." + s.csrfMAC(binding, random)
	c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: token, Path: "/", HTTPOnly: true, Secure: s.cfg.SecureCookies, SameSite: "Lax"})
	c.Locals(csrfKey, token)
}

// checkCSRF refuses a state-changing web request whose token is missing,
// differs from the cookie's or is not signed for this session, and gives
// every page a token for its forms.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	if isAPI(c) || strings.HasPrefix(c.Path(), "/static/") {
		return c.Next()
	}
	binding := csrfBinding(c)
	token := c.Cookies(csrfCookie)
	if !s.csrfValid(binding, token) {
		token = ""
	}
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
	default:
		sent := submittedCSRF(c)
		if token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
			return models.Errorf(models.EFORBIDDEN, "The form has expired or did not come from this site. Go back, reload the page and try again.")
		}
	}
	if token == "" {
		s.issueCSRF(c, binding)
	} else {
		c.Locals(csrfKey, token)
	}
	return c.Next()
}

// submittedCSRF returns the token sent in the header or in the body of the
// form; never one from the query string.
func submittedCSRF(c *fiber.Ctx) string {
	if v := c.Get(csrfHeader); v != "" {
		return v
	}
	return bodyValue(c, csrfField)
}

// bodyValue returns the form field name from the request's body, URL-encoded
// or multipart. Unlike c.FormValue it never falls back to the query string,
// where secrets would be written to logs and Referer headers.
func bodyValue(c *fiber.Ctx, name string) string {
	if v := c.Request().PostArgs().Peek(name); len(v) > 0 {
		return string(v)
	}
	if strings.HasPrefix(string(c.Request().Header.ContentType()), fiber.MIMEMultipartForm) {
		if form, err := c.MultipartForm(); err == nil && len(form.Value[name]) > 0 {
			return form.Value[name][0]
		}
	}
	return ""
}
