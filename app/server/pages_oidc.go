package server

import (
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/auth"
	"granttrack/app/store"
	"granttrack/models"
)

// Single sign-on through an OpenID provider (auth.OIDC): the sign-in page's
// button posts to /login/oidc, which keeps the state, nonce and PKCE
// verifier in PostgreSQL (so any node can finish the sign-in) and sends the
// browser to the provider; the provider sends it back to the callback,
// which takes the state once, checks it against the browser's cookie,
// verifies the ID token and signs the linked user in with the same session
// as a password sign-in.
const (
	oidcStateCookie = "granttrack_oidc"
	// oidcSignInTTL is how long a sign-in may stay at the provider.
	oidcSignInTTL = 10 * time.Minute
)

func (s *Server) registerOIDCPages() {
	if s.cfg.OIDC == nil {
		return
	}
	s.app.Post("/login/oidc", s.oidcStart)
	s.app.Get(auth.OIDCCallbackPath, s.oidcCallback)
}

// offerSSO puts the single sign-on button on the sign-in page, and lets
// its form lead to the provider: browsers hold a form's redirects to the
// policy's form-action too.
func (s *Server) offerSSO(c *fiber.Ctx, data fiber.Map) {
	if s.cfg.OIDC == nil {
		return
	}
	data["SSO"] = s.cfg.OIDC.Config().Label
	c.Set(fiber.HeaderContentSecurityPolicy, strings.Replace(contentSecurityPolicy, "form-action 'self'",
		"form-action 'self' "+strings.Join(s.cfg.OIDC.Origins(), " "), 1))
}

func (s *Server) oidcStart(c *fiber.Ctx) error {
	ctx := c.UserContext()
	start, err := s.cfg.OIDC.Start(ctx)
	if err != nil {
		s.log.Error("single sign-on: the identity provider cannot be reached", "err", err, "request_id", requestID(c))
		return s.render(c.Status(fiber.StatusServiceUnavailable), "login", fiber.Map{"Title": "Sign in", "Next": safeNext(bodyValue(c, "next")),
			"Error": "The identity provider cannot be reached. Try again shortly."})
	}
	if err := s.store.BeginOIDCSignIn(ctx, start.State, store.OIDCSignIn{Nonce: start.Nonce, CodeVerifier: start.Verifier,
		Next: safeNext(bodyValue(c, "next"))}, oidcSignInTTL); err != nil {
		return err
	}
	// The state is also bound to this browser, so a link to the callback
	// made in someone else's sign-in cannot sign this browser in.
	c.Cookie(&fiber.Cookie{Name: oidcStateCookie, Value: start.State, Path: auth.OIDCCallbackPath, HTTPOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: "Lax", MaxAge: int(oidcSignInTTL / time.Second)})
	return c.Redirect(start.URL, fiber.StatusSeeOther)
}

func (s *Server) oidcCallback(c *fiber.Ctx) error {
	ctx := c.UserContext()
	// Each callback counts against the address's sign-in limit, as a
	// password does, and is taken back when it signs someone in (or the
	// provider cannot be reached): guessed or replayed states and codes
	// from one address are throttled. The account's limit is the
	// provider's business.
	addr := s.clientIP(c)
	wait, err := s.store.BeginSignIn(ctx, s.signInLimits[0], addr)
	if err != nil {
		return err
	}
	if wait > 0 {
		return s.render(c.Status(fiber.StatusTooManyRequests), "login", fiber.Map{"Title": "Sign in", "Next": "/", "Error": lockedOut(c, wait)})
	}
	state, cookie := c.Query("state"), c.Cookies(oidcStateCookie)
	c.Cookie(&fiber.Cookie{Name: oidcStateCookie, Path: auth.OIDCCallbackPath, HTTPOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: "Lax", Expires: time.Unix(0, 0), MaxAge: -1})
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(cookie)) != 1 {
		return s.refuseOIDC(c, &auth.Refusal{Reason: "browser", Message: "That sign-in did not start in this browser. Sign in again."}, nil)
	}
	pending, err := s.store.TakeOIDCSignIn(ctx, state)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return s.refuseOIDC(c, &auth.Refusal{Reason: "state", Message: "That sign-in has expired or was already used. Sign in again."}, nil)
	}
	if err != nil {
		return err
	}
	if e := c.Query("error"); e != "" {
		return s.refuseOIDC(c, &auth.Refusal{Reason: "provider", Message: "The identity provider did not sign you in.",
			Err: errors.New(e + ": " + c.Query("error_description"))}, nil)
	}
	id, err := s.cfg.OIDC.Finish(ctx, c.Query("code"), pending.CodeVerifier, pending.Nonce)
	var refusal *auth.Refusal
	if errors.As(err, &refusal) {
		return s.refuseOIDC(c, refusal, nil)
	}
	if err != nil {
		s.log.Error("single sign-on: the identity provider cannot be reached", "err", err, "request_id", requestID(c))
		if err := s.store.SignInSucceeded(ctx, s.signInLimits[0], addr, ""); err != nil {
			return err
		}
		return s.render(c.Status(fiber.StatusServiceUnavailable), "login", fiber.Map{"Title": "Sign in", "Next": pending.Next,
			"Error": "The identity provider cannot be reached. Try again shortly."})
	}
	if len(id.Roles) == 0 {
		msg := "Your account at the identity provider is not given any role in granttrack. Ask an admin."
		if id.Overage {
			msg = "The identity provider left your groups out of the sign-in (you are in too many); granttrack needs app roles instead. Ask an admin."
		}
		return s.refuseOIDC(c, &auth.Refusal{Reason: "unmapped", Message: msg}, id)
	}
	u, err := s.store.UserByOIDC(ctx, id.Issuer, id.Subject)
	if models.ErrorCode(err) == models.ENOTFOUND {
		if u, err = s.createOIDCUser(c, id); err != nil {
			var r *auth.Refusal
			if errors.As(err, &r) {
				return s.refuseOIDC(c, r, id)
			}
			return err
		}
	} else if err != nil {
		return err
	}
	switch {
	case !u.Active:
		return s.refuseOIDC(c, &auth.Refusal{Reason: "deactivated", Message: "Your granttrack account has been deactivated."}, id)
	case !id.Grants(u.Role):
		return s.refuseOIDC(c, &auth.Refusal{Reason: "role", Message: "The identity provider no longer gives you the " +
			string(u.Role) + " role you hold in granttrack. Ask an admin."}, id)
	}
	if err := s.store.SignInSucceeded(ctx, s.signInLimits[0], addr, ""); err != nil {
		return err
	}
	if err := s.CompleteSignIn(c, u, map[string]any{"method": "oidc", "issuer": id.Issuer,
		"subject": id.Subject, "tenant_id": id.TenantID, "roles": id.Values}); err != nil {
		return err
	}
	return c.Redirect(pending.Next, fiber.StatusSeeOther)
}

// createOIDCUser creates the user a person the provider vouched for becomes
// at their first sign-in, when the configuration allows it, with the role
// auth.NewSSOUserRole gives; a *auth.Refusal otherwise.
func (s *Server) createOIDCUser(c *fiber.Ctx, id *auth.Identity) (*models.User, error) {
	if !s.cfg.OIDC.Config().CreateUsers {
		return nil, &auth.Refusal{Reason: "unknown", Message: "No granttrack account is linked to your account at the identity provider. " +
			"Ask an admin to link it; give them this reference: " + id.Subject}
	}
	name := id.Name
	if name == "" {
		name = id.Email
	}
	u, err := models.UserInput{Email: id.Email, Name: name, Role: string(auth.NewSSOUserRole())}.Validate()
	if err != nil {
		return nil, &auth.Refusal{Reason: "profile", Message: "The identity provider did not give a usable email address and name.", Err: err}
	}
	// No password: this user signs in only through the provider.
	u.PasswordHash = auth.NoPassword
	a := actorOf(c)
	a.Label = "single sign-on"
	err = s.store.CreateOIDCUser(c.UserContext(), a, u, id.Issuer, id.Subject)
	if models.ErrorCode(err) == models.ECONFLICT {
		return nil, &auth.Refusal{Reason: "email_taken", Message: "A granttrack account already has your email address; " +
			"accounts are never joined on an email. Ask an admin to link it; give them this reference: " + id.Subject, Err: err}
	}
	return u, err
}

// refuseOIDC records a refused sign-in through the provider (who, if the
// token was good, and why) and shows the sign-in page with the reason.
func (s *Server) refuseOIDC(c *fiber.Ctx, r *auth.Refusal, id *auth.Identity) error {
	after := map[string]any{"method": "oidc", "reason": r.Reason, "ip": s.clientIP(c)}
	if id != nil {
		after["issuer"], after["subject"], after["email"], after["tenant_id"], after["roles"] = id.Issuer, id.Subject, id.Email, id.TenantID, id.Values
	}
	if r.Err != nil {
		// The provider's words go into the audit trail only when they are text.
		detail := r.Err.Error()
		if len(detail) > 1000 || models.CheckText(detail, true) != nil {
			detail = "(not shown: not plain text)"
		}
		after["detail"] = detail
	}
	a := actorOf(c)
	a.Label = "anonymous"
	if err := s.store.RecordEvent(c.UserContext(), a, store.Change{Action: "session.sign_in_failed", Entity: "session", After: after}); err != nil {
		return err
	}
	status := fiber.StatusForbidden // the provider knows them; granttrack does not let them in
	if id == nil {
		status = fiber.StatusUnauthorized
	}
	return s.render(c.Status(status), "login", fiber.Map{"Title": "Sign in", "Error": r.Message, "Next": "/"})
}
