package server

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/auth"
	"granttrack/app/store"
	"granttrack/models"
)

// Two-factor sign-in (TOTP). After a right password, an enrolled account
// is asked for its code on /login/two-factor: the half-signed-in state is a
// row in sign_in_pending tied to a cookie, lasting pendingTTL, and grants
// nothing; only a right code (or an unused recovery code) runs
// CompleteSignIn. An account whose role must use two-factor and has not
// enrolled is signed in with a session that opens nothing but enrolment.
const (
	pendingCookie   = "granttrack_2fa"
	pendingPath     = "/login/two-factor"
	pendingTTL      = 5 * time.Minute
	enrolPath       = "/account/two-factor"
	sessionEnrolKey = "must_enrol"
)

// enrolmentPath reports whether a session that must enrol may open path.
func enrolmentPath(path string) bool {
	return path == enrolPath || strings.HasPrefix(path, enrolPath+"/") || path == "/logout"
}

func (s *Server) registerTwoFactorPages() {
	s.app.Get(pendingPath, s.secondFactorPage)
	s.app.Post(pendingPath, s.secondFactor)
	s.app.Get(enrolPath, s.requireWebUser, s.enrolPage)
	s.app.Get(enrolPath+"/qr.png", s.requireWebUser, s.enrolQRCode)
	s.app.Post(enrolPath, s.requireWebUser, s.enrol)
	s.app.Post(enrolPath+"/off", s.requireWebUser, s.twoFactorOff)
	s.app.Post("/users/:id/two-factor-reset", s.requireWebRole(admins), s.userTwoFactorResetPage)
	s.app.Post("/two-factor-settings", s.requireWebRole(admins), s.twoFactorSettingsPage)
}

// passwordAccepted goes on from a right password: to the code, to
// enrolment, or straight to a session. The account's attempt stays counted
// as a failure until the second factor is right, so a known password does
// not reset the limit on guessing codes.
func (s *Server) passwordAccepted(c *fiber.Ctx, u *models.User, addr, next string) error {
	ctx := c.UserContext()
	required, enrolled, err := s.store.TwoFactorNeeded(ctx, u)
	if err != nil {
		return err
	}
	if enrolled {
		if err := s.store.SignInSucceeded(ctx, s.signInLimits[0], addr, ""); err != nil {
			return err
		}
		token := auth.NewSecret(32)
		if err := s.store.StartPendingSignIn(ctx, token, u.ID, next, pendingTTL); err != nil {
			return err
		}
		c.Cookie(&fiber.Cookie{Name: pendingCookie, Value: token, Path: pendingPath, HTTPOnly: true, Secure: s.cfg.SecureCookies,
			SameSite: "Lax", Expires: time.Now().Add(pendingTTL)})
		return c.Redirect(pendingPath, fiber.StatusSeeOther)
	}
	if err := s.store.SignInSucceeded(ctx, s.signInLimits[0], addr, u.Email); err != nil {
		return err
	}
	if err := s.completeSignIn(c, u, map[string]any{"method": "password"}, required); err != nil {
		return err
	}
	if required {
		return c.Redirect(enrolPath, fiber.StatusSeeOther)
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// pendingSignIn returns the sign-in awaiting its code under the request's
// cookie and its user, or ok false when there is none (or it expired).
func (s *Server) pendingSignIn(c *fiber.Ctx) (store.PendingSignIn, *models.User, bool, error) {
	token := c.Cookies(pendingCookie)
	if token == "" {
		return store.PendingSignIn{}, nil, false, nil
	}
	p, err := s.store.PendingSignInOf(c.UserContext(), token)
	if err != nil {
		if models.ErrorCode(err) == models.ENOTFOUND {
			return p, nil, false, nil
		}
		return p, nil, false, err
	}
	u, err := s.store.UserByID(c.UserContext(), p.UserID)
	if err != nil || !u.Active {
		return p, nil, false, err
	}
	return p, u, true, nil
}

func (s *Server) secondFactorPage(c *fiber.Ctx) error {
	_, _, ok, err := s.pendingSignIn(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return s.render(c, "two_factor_code", fiber.Map{"Title": "Two-factor sign-in"})
}

// secondFactor checks the code of a sign-in awaiting it: a TOTP code not
// used before, or an unused recovery code. Every try counts against the
// address and the account like a password; a wrong one is audited.
func (s *Server) secondFactor(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, u, ok, err := s.pendingSignIn(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	addr := s.clientIP(c)
	if wait, err := s.beginSignIn(c, addr, u.Email); err != nil || wait > 0 {
		if err != nil {
			return err
		}
		return s.render(c.Status(fiber.StatusTooManyRequests), "two_factor_code", fiber.Map{"Title": "Two-factor sign-in", "Error": lockedOut(c, wait)})
	}
	code := bodyValue(c, "code")
	how, err := s.checkSecondFactor(c, u, code)
	if err != nil {
		return err
	}
	if how == "" {
		a := actorOf(c)
		a.Label = "anonymous"
		if err := s.store.RecordEvent(ctx, a, store.Change{Action: "session.second_factor_failed", Entity: "user", EntityID: u.ID,
			After: map[string]any{"email": u.Email, "ip": addr}}); err != nil {
			return err
		}
		return s.render(c.Status(fiber.StatusUnauthorized), "two_factor_code", fiber.Map{"Title": "Two-factor sign-in",
			"Errors": map[string]string{"code": "is not a current code from your authenticator app, or is one already used"}})
	}
	if err := s.store.SignInSucceeded(ctx, s.signInLimits[0], addr, u.Email); err != nil {
		return err
	}
	if err := s.store.EndPendingSignIn(ctx, c.Cookies(pendingCookie)); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: pendingCookie, Value: "", Path: pendingPath, HTTPOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: "Lax", Expires: time.Unix(0, 0)})
	if err := s.CompleteSignIn(c, u, map[string]any{"method": "password", "second_factor": how}); err != nil {
		return err
	}
	return c.Redirect(safeNext(p.Next), fiber.StatusSeeOther)
}

// checkSecondFactor returns how code proves u ("totp" or
// "recovery_code"), using it up, or "" when it does not.
func (s *Server) checkSecondFactor(c *fiber.Ctx, u *models.User, code string) (string, error) {
	ctx := c.UserContext()
	tf, err := s.store.TwoFactorOf(ctx, u.ID)
	if err != nil || !tf.Confirmed {
		if models.ErrorCode(err) == models.ENOTFOUND || err == nil {
			return "", nil // reset meanwhile: nothing proves this account
		}
		return "", err
	}
	if step, ok := auth.MatchTOTP(tf.Secret, code, time.Now()); ok {
		used, err := s.store.UseTOTPStep(ctx, u.ID, step)
		if err != nil || !used {
			return "", err
		}
		return "totp", nil
	}
	code = auth.NormalRecoveryCode(code)
	if len(code) != 11 {
		return "", nil
	}
	codes, err := s.store.UnusedRecoveryCodes(ctx, u.ID)
	if err != nil {
		return "", err
	}
	for _, rc := range codes {
		if auth.PasswordMatches(code, rc.CodeHash) {
			used, err := s.store.UseRecoveryCode(ctx, models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role, RequestID: requestID(c)}, u.ID, rc.ID)
			if err != nil || !used {
				return "", err
			}
			return "recovery_code", nil
		}
	}
	return "", nil
}

// enrolView is what the enrolment page shows.
type enrolView struct {
	Errs          map[string]string
	Flash         string
	RecoveryCodes []string
	Status        int
}

func (s *Server) enrolPage(c *fiber.Ctx) error { return s.enrolShow(c, enrolView{}) }

func (s *Server) enrolShow(c *fiber.Ctx, v enrolView) error {
	ctx := c.UserContext()
	u := currentUser(c)
	required, enrolled, err := s.store.TwoFactorNeeded(ctx, u)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "Two-factor sign-in", "Required": required, "Enrolled": enrolled, "Errors": v.Errs, "Flash": v.Flash,
		"RecoveryCodes": v.RecoveryCodes}
	if !enrolled {
		secret, err := s.store.StartTOTPEnrolment(ctx, u.ID, auth.NewTOTPSecret())
		if err != nil {
			return err
		}
		data["Secret"] = secret
	}
	if v.Status == 0 {
		v.Status = fiber.StatusOK
	}
	c.Set("Referrer-Policy", "no-referrer")
	return s.render(c.Status(v.Status), "people/two_factor", data)
}

// enrolQRCode draws the waiting secret as a QR code; once two-factor is
// on, the secret is never shown again.
func (s *Server) enrolQRCode(c *fiber.Ctx) error {
	u := currentUser(c)
	tf, err := s.store.TwoFactorOf(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	if tf.Confirmed {
		return models.Errorf(models.ENOTFOUND, "Two-factor sign-in is already on; its secret is not shown again.")
	}
	png, err := auth.TOTPQRCode(tf.Secret, u.Email)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(png)
}

// enrol switches two-factor on once the user types a current code from
// the waiting secret, and shows the recovery codes once.
func (s *Server) enrol(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := currentUser(c)
	tf, err := s.store.TwoFactorOf(ctx, u.ID)
	if err != nil && models.ErrorCode(err) != models.ENOTFOUND {
		return err
	}
	step, ok := auth.MatchTOTP(tf.Secret, c.FormValue("code"), time.Now())
	if err != nil || tf.Confirmed || !ok {
		return s.enrolShow(c, enrolView{Status: fiber.StatusUnprocessableEntity,
			Errs: map[string]string{"code": "is not the current code of this secret: check the app's clock and type the six digits it shows now"}})
	}
	codes := auth.NewRecoveryCodes()
	hashes := make([]string, len(codes))
	for i, rc := range codes {
		if hashes[i], err = auth.HashRecoveryCode(rc); err != nil {
			return err
		}
	}
	if err := s.store.ConfirmTOTP(ctx, actorOf(c), u.ID, step, hashes); err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.enrolShow(c, enrolView{Errs: errs, Status: fiber.StatusUnprocessableEntity})
	}
	sess, err := s.web.sessions.Get(c)
	if err != nil {
		return err
	}
	sess.Delete(sessionEnrolKey)
	if err := sess.Save(); err != nil {
		return err
	}
	return s.enrolShow(c, enrolView{Flash: "Two-factor sign-in is on. From now on you are asked for a code after your password.",
		RecoveryCodes: codes})
}

// twoFactorOff turns the user's own two-factor off, unless their role
// must use it.
func (s *Server) twoFactorOff(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := currentUser(c)
	required, _, err := s.store.TwoFactorNeeded(ctx, u)
	if err != nil {
		return err
	}
	if required {
		return s.enrolShow(c, enrolView{Status: fiber.StatusForbidden,
			Errs: map[string]string{"_": "Your role must sign in with two-factor, so it cannot be turned off; an admin can reset it if you lose your phone."}})
	}
	if err := s.store.RemoveTwoFactor(ctx, actorOf(c), u.ID, "two_factor.off"); err != nil {
		errs, err := formErrors(err)
		if err != nil && models.ErrorCode(err) != models.ENOTFOUND {
			return err
		}
		if err != nil {
			errs = map[string]string{"_": models.ErrorMessage(err)}
		}
		return s.enrolShow(c, enrolView{Errs: errs, Status: fiber.StatusUnprocessableEntity})
	}
	return s.enrolShow(c, enrolView{Flash: "Two-factor sign-in is off."})
}

// userTwoFactorResetPage removes a user's second factor (a lost phone): at
// their next sign-in they enrol again if their role must use it.
func (s *Server) userTwoFactorResetPage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.store.RemoveTwoFactor(c.UserContext(), actorOf(c), id, "two_factor.reset"); err != nil {
		return s.usersRefused(c, err)
	}
	return s.usersShow(c, usersView{Flash: "Two-factor sign-in was reset: the user enrols again at their next sign-in."})
}

// twoFactorSettingsPage saves which roles must use two-factor sign-in.
func (s *Server) twoFactorSettingsPage(c *fiber.Ctx) error {
	var roles []models.Role
	for _, r := range models.AllRoles() {
		if c.FormValue("role_"+string(r)) != "" {
			roles = append(roles, r)
		}
	}
	if _, err := s.store.SetTwoFactorRoles(c.UserContext(), actorOf(c), roles); err != nil {
		return s.usersRefused(c, err)
	}
	return s.usersShow(c, usersView{Flash: "The roles that must use two-factor sign-in were saved."})
}
