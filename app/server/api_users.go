package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/auth"
	"granttrack/app/store"
	"granttrack/models"
)

// peopleRoutes are the API's account administration (admins) and every
// user's own account: password, tokens and sessions.
func (s *Server) peopleRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/users", Summary: "List users, by role and whether active, with any grant of money authority awaiting a second admin", Roles: admins, Query: userQuery{}, Response: list[userJSON]{}, Handler: s.listUsers},
		{Method: "POST", Path: "/api/v1/users", Summary: "Create a user; a role that approves money (finance_officer, finance_manager) waits for a second admin's approval of the grant", Roles: admins, Request: userCreateInput{}, Response: userJSON{}, Status: 201, Handler: s.createUser},
		{Method: "POST", Path: "/api/v1/users/:id/role", Summary: "Change a user's role; raising it to one that approves money waits for a second admin's approval of the grant", Roles: admins, Request: roleChangeInput{}, Response: userJSON{}, Handler: s.changeUserRole},
		{Method: "POST", Path: "/api/v1/users/:id/deactivate", Summary: "Deactivate a user: their sessions end and their API tokens are revoked at once", Roles: admins, Response: userJSON{}, Handler: s.setUserActive(false)},
		{Method: "POST", Path: "/api/v1/users/:id/reactivate", Summary: "Reactivate a user (their old tokens stay revoked)", Roles: admins, Response: userJSON{}, Handler: s.setUserActive(true)},
		{Method: "POST", Path: "/api/v1/users/:id/password-reset", Summary: "Issue a one-time password reset link for a user, shown only in this answer and expiring within hours (never kept for an Idempotency-Key replay)", Roles: admins, Response: passwordResetJSON{}, Handler: s.issuePasswordReset},
		{Method: "POST", Path: "/api/v1/account-grants/:id/approve", Summary: "Approve a grant of money authority to an account (another admin than the one who proposed it)", Roles: admins, Response: models.AccountGrant{}, Handler: s.decideAccountGrant(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/account-grants/:id/reject", Summary: "Reject a grant of money authority with a reason: the account goes back to its old role, or is deactivated if new", Roles: admins, Request: reasonInput{}, Response: models.AccountGrant{}, Handler: s.decideAccountGrant(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/account-grants/:id/withdraw", Summary: "Withdraw your own proposed grant of money authority", Roles: admins, Request: reasonInput{}, Response: models.AccountGrant{}, Handler: s.decideAccountGrant(models.DecisionWithdrawn)},

		{Method: "GET", Path: "/api/v1/me/tokens", Summary: "List my API tokens: name, created, last used, expiry, revoked", Roles: everyone, Response: list[tokenJSON]{}, Handler: s.listMyTokens},
		{Method: "POST", Path: "/api/v1/me/tokens", Summary: "Create an API token for myself, with an expiry date; the token is shown only in this answer (never kept for an Idempotency-Key replay)", Roles: everyone, Request: tokenInput{}, Response: newTokenJSON{}, Status: 201, OneTimeSecret: true, Handler: s.createMyToken},
		{Method: "POST", Path: "/api/v1/me/tokens/:id/revoke", Summary: "Revoke one of my API tokens", Roles: everyone, Response: tokenJSON{}, Handler: s.revokeMyToken},
		{Method: "GET", Path: "/api/v1/me/sessions", Summary: "List my web sessions", Roles: everyone, Response: list[store.SessionInfo]{}, Handler: s.listMySessions},
		{Method: "POST", Path: "/api/v1/me/sessions/end", Summary: "Sign out everywhere: end every web session of mine", Roles: everyone, Response: sessionsEndedJSON{}, Handler: s.endMySessions},
		{Method: "POST", Path: "/api/v1/me/password", Summary: "Change my password (the current one is needed); my web sessions end", Roles: everyone, Request: passwordChangeInput{}, Response: sessionsEndedJSON{}, Handler: s.changeMyPassword},
	}
}

type userQuery struct {
	Role   string `query:"role" doc:"admin, finance_officer, finance_manager, board_member or auditor"`
	Active string `query:"active" doc:"true or false"`
}

// parseUserFilter reads the users list's filters, naming a bad one.
func parseUserFilter(role, active string) (store.UserFilter, error) {
	var f store.UserFilter
	var p models.Problems
	if role != "" {
		if f.Role = models.Role(role); !f.Role.Valid() {
			p.Add("role", "must be one of %s", models.RolesInWords())
		}
	}
	if active != "" {
		b, err := strconv.ParseBool(active)
		if err != nil || (active != "true" && active != "false") {
			p.Add("active", "must be true or false")
		}
		f.Active = &b
	}
	return f, p.Err()
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	f, err := parseUserFilter(c.Query("role"), c.Query("active"))
	if err != nil {
		return err
	}
	us, err := s.store.Accounts(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := list[userJSON]{Items: []userJSON{}, Page: 1, PerPage: len(us), Total: len(us)}
	for _, u := range us {
		out.Items = append(out.Items, toAccountJSON(u))
	}
	return c.JSON(out)
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var in userCreateInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, verr := in.Validate()
	var p models.Problems
	if verr != nil {
		p = append(p, verr.(*models.Error).Fields...)
	}
	if msg := auth.CheckPassword(in.Password); msg != "" {
		p.Add("password", "%s", msg)
	}
	if err := p.Err(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return err
	}
	u.PasswordHash = hash
	g, err := s.storeOf(c).AddAccount(c.UserContext(), actorOf(c), u, in.Reason)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/users/"+strconv.FormatInt(u.ID, 10), toAccountJSON(store.AccountView{User: u, PendingGrant: g}))
}

type roleChangeInput struct {
	Role   string `json:"role"`
	Reason string `json:"reason"`
}

func (s *Server) changeUserRole(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in roleChangeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, g, err := s.store.ChangeUserRole(c.UserContext(), actorOf(c), id, models.Role(strings.TrimSpace(in.Role)), in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(toAccountJSON(store.AccountView{User: u, PendingGrant: g}))
}

func (s *Server) setUserActive(active bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		u, err := s.store.SetUserActive(c.UserContext(), actorOf(c), id, active)
		if err != nil {
			return err
		}
		return c.JSON(toUserJSON(u))
	}
}

type passwordResetJSON struct {
	UserID    int64     `json:"user_id"`
	ResetPath string    `json:"reset_path" doc:"the one-time link's path on this site: hand it to the user; it is shown only once"`
	ExpiresAt time.Time `json:"expires_at"`
}

// passwordResetPath is the one-time link for a reset token.
func passwordResetPath(token string) string { return "/reset-password/" + token }

// newPasswordReset issues a reset link for the user, for the API and the
// users page alike.
func (s *Server) newPasswordReset(c *fiber.Ctx, userID int64) (passwordResetJSON, error) {
	token := auth.NewSecret(32)
	expires, err := s.store.CreatePasswordReset(c.UserContext(), actorOf(c), userID, token)
	return passwordResetJSON{UserID: userID, ResetPath: passwordResetPath(token), ExpiresAt: expires}, err
}

func (s *Server) issuePasswordReset(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := s.newPasswordReset(c, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(r)
}

func (s *Server) decideAccountGrant(to models.DecisionStatus) fiber.Handler {
	return decideHandler(to, s.store.DecideAccountGrant, func(g *models.AccountGrant) any { return g })
}

// A user's own account.

type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func toTokenJSON(t *models.APIToken) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

type newTokenJSON struct {
	tokenJSON
	Token string `json:"token" doc:"the bearer token: shown only once"`
}

type tokenInput struct {
	Name      string `json:"name" form:"name"`
	ExpiresOn string `json:"expires_on" form:"expires_on" doc:"YYYY-MM-DD: the token works until the start of this day in London; at most a year ahead"`
}

// maxTokenLife bounds a token's expiry: a forgotten token dies by itself.
const maxTokenLife = 366 * 24 * time.Hour

// validate returns the token's name and expiry, or EINVALID naming fields.
func (in tokenInput) validate(now time.Time) (string, time.Time, error) {
	var p models.Problems
	name := strings.TrimSpace(in.Name)
	if name == "" {
		p.Add("name", "is required")
	} else if err := models.CheckText(name, false); err != nil || len(name) > 100 {
		p.Add("name", "must be one line of at most 100 characters")
	}
	var expires time.Time
	if d, err := time.ParseInLocation(models.DateLayout, strings.TrimSpace(in.ExpiresOn), models.London); err != nil {
		p.Add("expires_on", "must be a date such as 2027-03-31")
	} else if expires = d; !expires.After(now) || expires.Sub(now) > maxTokenLife {
		p.Add("expires_on", "must be after today and at most a year ahead")
	}
	return name, expires, p.Err()
}

func (s *Server) listMyTokens(c *fiber.Ctx) error {
	ts, err := s.store.APITokens(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return err
	}
	out := list[tokenJSON]{Items: []tokenJSON{}, Page: 1, PerPage: len(ts), Total: len(ts)}
	for _, t := range ts {
		out.Items = append(out.Items, toTokenJSON(t))
	}
	return c.JSON(out)
}

// newToken makes a token for the signed-in user, for the API and the
// account page alike; the token is returned once and never stored.
func (s *Server) newToken(c *fiber.Ctx, in tokenInput) (newTokenJSON, error) {
	// A token is a way in without the second factor: a password account whose
	// role must use two-factor enrols before making one. Single sign-on leaves
	// the second factor to the identity provider.
	if u := currentUser(c); u.PasswordHash != auth.NoPassword {
		required, enrolled, err := s.store.TwoFactorNeeded(c.UserContext(), u)
		if err != nil {
			return newTokenJSON{}, err
		}
		if required && !enrolled {
			return newTokenJSON{}, models.Errorf(models.EFORBIDDEN, "Your role must sign in with two-factor: turn it on at /account/two-factor before creating API tokens.")
		}
	}
	name, expires, err := in.validate(time.Now())
	if err != nil {
		return newTokenJSON{}, err
	}
	token := auth.NewAPIToken()
	t, err := s.store.CreateAPITokenUntil(c.UserContext(), actorOf(c), currentUser(c).ID, name, token, &expires)
	if err != nil {
		return newTokenJSON{}, err
	}
	return newTokenJSON{tokenJSON: toTokenJSON(t), Token: token}, nil
}

func (s *Server) createMyToken(c *fiber.Ctx) error {
	var in tokenInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	t, err := s.newToken(c, in)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return created(c, "/api/v1/me/tokens", t)
}

func (s *Server) revokeMyToken(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.store.RevokeOwnAPIToken(c.UserContext(), actorOf(c), id); err != nil {
		return err
	}
	ts, err := s.store.APITokens(c.UserContext(), currentUser(c).ID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == id {
			return c.JSON(toTokenJSON(t))
		}
	}
	return models.Errorf(models.ENOTFOUND, "API token %d was not found.", id)
}

func (s *Server) listMySessions(c *fiber.Ctx) error {
	ss, err := s.store.UserSessions(c.UserContext(), currentUser(c).ID, "")
	if err != nil {
		return err
	}
	return c.JSON(list[store.SessionInfo]{Items: ss, Page: 1, PerPage: len(ss), Total: len(ss)})
}

type sessionsEndedJSON struct {
	SessionsEnded int64 `json:"sessions_ended"`
}

func (s *Server) endMySessions(c *fiber.Ctx) error {
	n, err := s.store.SignOutEverywhere(c.UserContext(), actorOf(c), "")
	if err != nil {
		return err
	}
	return c.JSON(sessionsEndedJSON{SessionsEnded: n})
}

type passwordChangeInput struct {
	CurrentPassword string `json:"current_password" form:"current_password"`
	NewPassword     string `json:"new_password" form:"new_password"`
}

// changePassword checks the current password and sets the new one, ending
// every web session but keep; for the API and the account page alike.
func (s *Server) changePassword(c *fiber.Ctx, in passwordChangeInput, keep string) (int64, error) {
	u := currentUser(c)
	var p models.Problems
	if !auth.PasswordMatches(in.CurrentPassword, u.PasswordHash) {
		p.Add("current_password", "is not your current password")
	}
	if msg := auth.CheckPassword(in.NewPassword); msg != "" {
		p.Add("new_password", "%s", msg)
	}
	if err := p.Err(); err != nil {
		return 0, err
	}
	hash, err := auth.HashPassword(in.NewPassword)
	if err != nil {
		return 0, err
	}
	return s.store.ChangePassword(c.UserContext(), actorOf(c), hash, keep)
}

func (s *Server) changeMyPassword(c *fiber.Ctx) error {
	var in passwordChangeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	n, err := s.changePassword(c, in, "")
	if err != nil {
		return err
	}
	return c.JSON(sessionsEndedJSON{SessionsEnded: n})
}

// twoFactorSettingsJSON is which roles must sign in with a second factor.
type twoFactorSettingsJSON struct {
	RequiredRoles []models.Role `json:"required_roles" doc:"roles that must sign in with a TOTP code after their password: admin, finance_officer, finance_manager, board_member, auditor"`
}

// twoFactorRoutes read and change which roles must use two-factor sign-in.
func (s *Server) twoFactorRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/two-factor-settings", Summary: "The roles that must sign in with a second factor (TOTP) after their password", Roles: everyone, Response: twoFactorSettingsJSON{}, Handler: s.getTwoFactorSettings},
		{Method: "PUT", Path: "/api/v1/two-factor-settings", Summary: "Change the roles that must sign in with a second factor (admins; audited)", Roles: admins, Request: twoFactorSettingsJSON{}, Response: twoFactorSettingsJSON{}, Handler: s.putTwoFactorSettings},
	}
}

func (s *Server) getTwoFactorSettings(c *fiber.Ctx) error {
	roles, err := s.store.TwoFactorRoles(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(twoFactorSettingsJSON{RequiredRoles: roles})
}

func (s *Server) putTwoFactorSettings(c *fiber.Ctx) error {
	var in twoFactorSettingsJSON
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.RequiredRoles == nil {
		var p models.Problems
		p.Add("required_roles", "is required: a list of roles, empty for none")
		return p.Err()
	}
	roles, err := s.store.SetTwoFactorRoles(c.UserContext(), actorOf(c), in.RequiredRoles)
	if err != nil {
		return err
	}
	return c.JSON(twoFactorSettingsJSON{RequiredRoles: roles})
}
