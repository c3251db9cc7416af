package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/auth"
	"granttrack/app/store"
	"granttrack/models"
)

// registerPeoplePages: the admins' users page, every user's account page,
// and the one-time password reset page (no sign-in needed: the link is the
// proof).
func (s *Server) registerPeoplePages() {
	s.app.Get("/users", s.requireWebRole(admins), s.usersPage)
	s.app.Post("/users", s.requireWebRole(admins), s.userCreatePage)
	s.app.Post("/users/:id/role", s.requireWebRole(admins), s.userRolePage)
	s.app.Post("/users/:id/deactivate", s.requireWebRole(admins), s.userActivePage(false))
	s.app.Post("/users/:id/reactivate", s.requireWebRole(admins), s.userActivePage(true))
	s.app.Post("/users/:id/password-reset", s.requireWebRole(admins), s.userResetPage)
	s.app.Get("/account", s.requireWebUser, s.accountPage)
	s.app.Post("/account/password", s.requireWebUser, s.accountPasswordPage)
	s.app.Post("/account/tokens", s.requireWebUser, s.accountTokenPage)
	s.app.Post("/account/tokens/:id/revoke", s.requireWebUser, s.accountRevokePage)
	s.app.Post("/account/sessions/end", s.requireWebUser, s.accountSignOutEverywhere)
	s.app.Get("/reset-password/:token", s.resetPasswordPage)
	s.app.Post("/reset-password/:token", s.resetPasswordSave)
}

// usersView is what the users page shows beside the list: a form's input
// and problems, a flash, and a reset link shown once.
type usersView struct {
	In     models.UserInput
	Errs   map[string]string
	Flash  string
	Reset  *passwordResetJSON
	Status int
}

func (s *Server) usersPage(c *fiber.Ctx) error { return s.usersShow(c, usersView{}) }

func (s *Server) usersShow(c *fiber.Ctx, v usersView) error {
	f, err := parseUserFilter(c.Query("role"), c.Query("active"))
	if err != nil {
		v.Errs, f = map[string]string{"_": models.ErrorMessage(err)}, store.UserFilter{}
	}
	us, err := s.store.Accounts(c.UserContext(), f)
	if err != nil {
		return err
	}
	tfRoles, err := s.store.TwoFactorRoles(c.UserContext())
	if err != nil {
		return err
	}
	if v.Status == 0 {
		v.Status = fiber.StatusOK
	}
	return s.render(c.Status(v.Status), "people/users", fiber.Map{"TwoFactorRoles": tfRoles, "Title": "Users", "Users": us, "Roles": models.AllRoles(),
		"RoleFilter": c.Query("role"), "ActiveFilter": c.Query("active"), "In": v.In, "Errors": v.Errs, "Flash": v.Flash, "Reset": v.Reset,
		"Me": currentUser(c).ID})
}

// refused shows the users page with an expected refusal as a message.
func (s *Server) usersRefused(c *fiber.Ctx, err error) error {
	errs, err := formErrors(err)
	if err != nil && models.ErrorCode(err) != models.EFORBIDDEN && models.ErrorCode(err) != models.ENOTFOUND {
		return err
	}
	if err != nil {
		errs = map[string]string{"_": models.ErrorMessage(err)}
	}
	return s.usersShow(c, usersView{Errs: errs, Status: fiber.StatusUnprocessableEntity})
}

// userCreatePage adds an account with no password of its own yet: the admin
// is shown a one-time link for the new user to set one.
func (s *Server) userCreatePage(c *fiber.Ctx) error {
	in := models.UserInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role")}
	u, err := in.Validate()
	if err == nil {
		// Nobody knows this password: the user sets theirs with the link.
		u.PasswordHash, err = auth.HashPassword(auth.NewSecret(32))
	}
	var grant bool
	if err == nil {
		g, aerr := s.store.AddAccount(c.UserContext(), actorOf(c), u, c.FormValue("reason"))
		err, grant = aerr, g != nil
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.usersShow(c, usersView{In: in, Errs: errs, Status: fiber.StatusUnprocessableEntity})
	}
	reset, err := s.newPasswordReset(c, u.ID)
	if err != nil {
		return err
	}
	flash := u.Email + " was added."
	if grant {
		flash += " The " + strings.ReplaceAll(string(u.Role), "_", " ") + " role approves money, so a second admin must approve the grant on Approvals before this account can approve anything."
	}
	return s.usersShow(c, usersView{Flash: flash, Reset: &reset})
}

func (s *Server) userRolePage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, g, err := s.store.ChangeUserRole(c.UserContext(), actorOf(c), id, models.Role(c.FormValue("role")), c.FormValue("reason"))
	if err != nil {
		return s.usersRefused(c, err)
	}
	flash := u.Email + " is now a " + strings.ReplaceAll(string(u.Role), "_", " ") + "."
	if g != nil {
		flash += " A second admin must approve the grant on Approvals before this account can approve anything."
	}
	return s.usersShow(c, usersView{Flash: flash})
}

func (s *Server) userActivePage(active bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		u, err := s.store.SetUserActive(c.UserContext(), actorOf(c), id, active)
		if err != nil {
			return s.usersRefused(c, err)
		}
		flash := u.Email + " was reactivated."
		if !active {
			flash = u.Email + " was deactivated: their sessions ended and their API tokens were revoked."
		}
		return s.usersShow(c, usersView{Flash: flash})
	}
}

func (s *Server) userResetPage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	reset, err := s.newPasswordReset(c, id)
	if err != nil {
		return s.usersRefused(c, err)
	}
	return s.usersShow(c, usersView{Flash: "A one-time password reset link was made.", Reset: &reset})
}

// accountView is what the account page shows beside the lists.
type accountView struct {
	Errs     map[string]string
	Flash    string
	NewToken *newTokenJSON
	Status   int
}

func (s *Server) accountPage(c *fiber.Ctx) error { return s.accountShow(c, accountView{}) }

func (s *Server) accountShow(c *fiber.Ctx, v accountView) error {
	u := currentUser(c)
	tokens, err := s.store.APITokens(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	current, _ := c.Locals(localSession).(string)
	sessions, err := s.store.UserSessions(c.UserContext(), u.ID, current)
	if err != nil {
		return err
	}
	if v.Status == 0 {
		v.Status = fiber.StatusOK
	}
	return s.render(c.Status(v.Status), "people/account", fiber.Map{"Title": "My account", "Tokens": tokens, "Sessions": sessions,
		"Errors": v.Errs, "Flash": v.Flash, "NewToken": v.NewToken})
}

// accountRefused shows the account page with a form's problems.
func (s *Server) accountRefused(c *fiber.Ctx, err error) error {
	errs, err := formErrors(err)
	if err != nil {
		if models.ErrorCode(err) != models.ENOTFOUND {
			return err
		}
		errs = map[string]string{"_": models.ErrorMessage(err)}
	}
	return s.accountShow(c, accountView{Errs: errs, Status: fiber.StatusUnprocessableEntity})
}

func (s *Server) accountPasswordPage(c *fiber.Ctx) error {
	current, _ := c.Locals(localSession).(string)
	n, err := s.changePassword(c, passwordChangeInput{CurrentPassword: c.FormValue("current_password"), NewPassword: c.FormValue("new_password")}, current)
	if err != nil {
		return s.accountRefused(c, err)
	}
	msg := "Your password was changed."
	if n > 0 {
		msg += " Your other sessions were signed out."
	}
	return s.accountShow(c, accountView{Flash: msg})
}

func (s *Server) accountTokenPage(c *fiber.Ctx) error {
	t, err := s.newToken(c, tokenInput{Name: c.FormValue("name"), ExpiresOn: c.FormValue("expires_on")})
	if err != nil {
		return s.accountRefused(c, err)
	}
	return s.accountShow(c, accountView{NewToken: &t})
}

func (s *Server) accountRevokePage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.store.RevokeOwnAPIToken(c.UserContext(), actorOf(c), id); err != nil {
		return s.accountRefused(c, err)
	}
	return s.accountShow(c, accountView{Flash: "The token was revoked."})
}

// accountSignOutEverywhere ends every session of the user, this one too.
func (s *Server) accountSignOutEverywhere(c *fiber.Ctx) error {
	if _, err := s.store.SignOutEverywhere(c.UserContext(), actorOf(c), ""); err != nil {
		return err
	}
	c.Locals(localSession, "")
	c.ClearCookie(sessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func (s *Server) resetPasswordPage(c *fiber.Ctx) error {
	u, err := s.store.PasswordResetUser(c.UserContext(), c.Params("token"))
	if err != nil {
		if models.ErrorCode(err) != models.ENOTFOUND {
			return err
		}
		return s.render(c.Status(fiber.StatusNotFound), "people/reset", fiber.Map{"Title": "Set your password", "Gone": true})
	}
	c.Set("Referrer-Policy", "no-referrer")
	return s.render(c, "people/reset", fiber.Map{"Title": "Set your password", "Email": u.Email})
}

func (s *Server) resetPasswordSave(c *fiber.Ctx) error {
	token := c.Params("token")
	u, err := s.store.PasswordResetUser(c.UserContext(), token)
	if err != nil {
		if models.ErrorCode(err) != models.ENOTFOUND {
			return err
		}
		return s.render(c.Status(fiber.StatusNotFound), "people/reset", fiber.Map{"Title": "Set your password", "Gone": true})
	}
	pw := c.FormValue("password")
	if msg := auth.CheckPassword(pw); msg != "" {
		return s.render(c.Status(fiber.StatusUnprocessableEntity), "people/reset", fiber.Map{"Title": "Set your password", "Email": u.Email,
			"Errors": map[string]string{"password": msg}})
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	if _, err := s.store.UsePasswordReset(c.UserContext(), token, hash); err != nil {
		if models.ErrorCode(err) != models.ENOTFOUND {
			return err
		}
		return s.render(c.Status(fiber.StatusNotFound), "people/reset", fiber.Map{"Title": "Set your password", "Gone": true})
	}
	return s.render(c, "login", fiber.Map{"Title": "Sign in", "Email": u.Email, "Next": "/",
		"Notice": "Your password is set. Sign in with it."})
}
