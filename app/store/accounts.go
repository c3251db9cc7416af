package store

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// UserFilter narrows the list of users: by role and by whether the account
// is active (nil: both).
type UserFilter struct {
	Role   models.Role
	Active *bool
}

// AccountView is a user as an admin sees it: never the password hash, with
// the grant of money authority awaiting a second admin, if any.
type AccountView struct {
	*models.User
	PendingGrant *models.AccountGrant
}

// Accounts lists users by email, filtered, each with its pending grant.
func (s *Store) Accounts(ctx context.Context, f UserFilter) ([]AccountView, error) {
	var us []*models.User
	q := s.db.NewSelect().Model(&us).Order("email")
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Active != nil {
		q = q.Where("active = ?", *f.Active)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, translate(err)
	}
	var grants []*models.AccountGrant
	if err := s.db.NewSelect().Model(&grants).Where("status = 'pending'").Scan(ctx); err != nil {
		return nil, translate(err)
	}
	pending := map[int64]*models.AccountGrant{}
	for _, g := range grants {
		pending[g.UserID] = g
	}
	out := make([]AccountView, len(us))
	for i, u := range us {
		out[i] = AccountView{User: u, PendingGrant: pending[u.ID]}
	}
	return out, nil
}

// AddAccount creates an account on an admin's behalf. A role that approves
// money is itself a two-person decision: the account is made with its role
// and a pending grant another admin decides (DecideAccountGrant), and until
// then it approves nothing. EFORBIDDEN unless actor is an admin; ECONFLICT
// when the email is taken.
func (s *Store) AddAccount(ctx context.Context, actor models.Actor, u *models.User, reason string) (*models.AccountGrant, error) {
	if actor.Role != models.RoleAdmin {
		return nil, models.Errorf(models.EFORBIDDEN, "Only an admin manages accounts.")
	}
	var grant *models.AccountGrant
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, Change{Action: "user.create", Entity: "user", EntityID: u.ID, After: viewUser(u)}); err != nil {
			return err
		}
		if u.Role.HoldsMoneyAuthority() {
			var err error
			grant, err = s.proposeGrant(ctx, tx, actor, u, nil, reason)
			return err
		}
		return nil
	})
	return grant, err
}

// proposeGrant records a pending grant of u's role, proposed by actor.
func (s *Store) proposeGrant(ctx context.Context, tx bun.Tx, actor models.Actor, u *models.User, from *models.Role, reason string) (*models.AccountGrant, error) {
	g := &models.AccountGrant{UserID: u.ID, Role: u.Role, FromRole: from, Reason: strings.TrimSpace(reason),
		Status: models.DecisionPending, ProposedBy: actor.UserID}
	if _, err := tx.NewInsert().Model(g).Returning("*").Exec(ctx); err != nil {
		return nil, err
	}
	return g, s.audit(ctx, tx, actor, Change{Action: "account_grant.propose", Entity: "account_grant", EntityID: g.ID, After: g})
}

// lockUser locks an account for a change by an admin; EFORBIDDEN unless the
// actor is an admin other than the account's owner (nobody changes their own
// role or deactivates themselves), ENOTFOUND if there is no such account.
func lockUser(ctx context.Context, tx bun.Tx, actor models.Actor, userID int64, what string) (*models.User, error) {
	if actor.Role != models.RoleAdmin {
		return nil, models.Errorf(models.EFORBIDDEN, "Only an admin manages accounts.")
	}
	if actor.UserID == userID {
		return nil, models.Errorf(models.EFORBIDDEN, "You cannot %s your own account; ask another admin.", what)
	}
	u := new(models.User)
	if err := tx.NewSelect().Model(u).Where("id = ?", userID).For("UPDATE").Scan(ctx); err != nil {
		return nil, notFound(err, "User", userID)
	}
	return u, nil
}

// ChangeUserRole gives an account another role. Raising it to a role that
// approves money makes a pending grant another admin decides; until then the
// account approves nothing. ECONFLICT while a grant awaits a decision, or
// when the role is unchanged; EINVALID for an unknown role.
func (s *Store) ChangeUserRole(ctx context.Context, actor models.Actor, userID int64, role models.Role, reason string) (*models.User, *models.AccountGrant, error) {
	if !role.Valid() {
		return nil, nil, &models.Error{Code: models.EINVALID, Message: "Choose a role.",
			Fields: []models.FieldError{{Field: "role", Message: "must be one of " + models.RolesInWords()}}}
	}
	var out *models.User
	var grant *models.AccountGrant
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := lockUser(ctx, tx, actor, userID, "change the role of")
		if err != nil {
			return err
		}
		if u.Role == role {
			return models.Errorf(models.ECONFLICT, "%s is already a %s.", u.Email, strings.ReplaceAll(string(role), "_", " "))
		}
		if n, err := tx.NewSelect().Model((*models.AccountGrant)(nil)).Where("user_id = ? AND status = 'pending'", u.ID).Count(ctx); err != nil {
			return err
		} else if n > 0 {
			return models.Errorf(models.ECONFLICT, "%s has a grant of authority awaiting a second admin; decide it first.", u.Email)
		}
		before := viewUser(u)
		from := u.Role
		u.Role = role
		if role.HoldsMoneyAuthority() {
			// The grant comes first: the database lets the role change only
			// beside it (users_role_guard).
			if grant, err = s.proposeGrant(ctx, tx, actor, u, &from, reason); err != nil {
				return err
			}
		}
		if _, err := tx.NewUpdate().Model(u).Column("role").WherePK().Exec(ctx); err != nil {
			return err
		}
		out = u
		return s.audit(ctx, tx, actor, Change{Action: "user.role", Entity: "user", EntityID: u.ID, Before: before, After: viewUser(u)})
	})
	return out, grant, err
}

// SetUserActive deactivates or reactivates an account. Deactivating ends
// its sessions and revokes its API tokens at once, in the same transaction.
func (s *Store) SetUserActive(ctx context.Context, actor models.Actor, userID int64, active bool) (*models.User, error) {
	var out *models.User
	verb := map[bool]string{true: "reactivate", false: "deactivate"}[active]
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := lockUser(ctx, tx, actor, userID, verb)
		if err != nil {
			return err
		}
		if u.Active == active {
			return models.Errorf(models.ECONFLICT, "%s is already %sd.", u.Email, verb)
		}
		before := viewUser(u)
		u.Active = active
		if _, err := tx.NewUpdate().Model(u).Column("active").WherePK().Exec(ctx); err != nil {
			return err
		}
		after := map[string]any{"user": viewUser(u)}
		if !active {
			sessions, tokens, err := cutOff(ctx, tx, u.ID, "", true)
			if err != nil {
				return err
			}
			after["sessions_ended"], after["tokens_revoked"] = sessions, tokens
		}
		out = u
		return s.audit(ctx, tx, actor, Change{Action: "user." + verb, Entity: "user", EntityID: u.ID, Before: before, After: after})
	})
	return out, err
}

// cutOff ends every session of userID but keep (a session key, or ""), and
// with revoke every API token too. It returns how many of each.
func cutOff(ctx context.Context, tx bun.IDB, userID int64, keep string, revoke bool) (sessions, tokens int64, err error) {
	res, err := tx.NewRaw("DELETE FROM sessions WHERE user_id = ? AND key <> ?", userID, keep).Exec(ctx)
	if err != nil {
		return 0, 0, err
	}
	sessions, _ = res.RowsAffected()
	if !revoke {
		return sessions, 0, nil
	}
	res, err = tx.NewRaw("UPDATE api_tokens SET revoked_at = now() WHERE user_id = ? AND revoked_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return 0, 0, err
	}
	tokens, _ = res.RowsAffected()
	return sessions, tokens, nil
}

// DecideAccountGrant approves, rejects with a reason or withdraws a grant of
// money authority, under decide's rules (kind account_grant: another admin,
// never the account's owner). A rejection or withdrawal puts the account
// back to its old role, or deactivates it if it was new.
func (s *Store) DecideAccountGrant(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.AccountGrant, error) {
	var out *models.AccountGrant
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		g := new(models.AccountGrant)
		if err := tx.NewSelect().Model(g).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "Account grant", id)
		}
		u := new(models.User)
		if err := tx.NewSelect().Model(u).Where("id = ?", g.UserID).For("UPDATE").Scan(ctx); err != nil {
			return err
		}
		if to != models.DecisionWithdrawn && actor.UserID == g.UserID {
			return &models.Error{Code: models.EFORBIDDEN, Err: models.ErrFourEyes, Message: "You cannot decide the grant of your own authority."}
		}
		p := proposal{table: "account_grants", what: "grant of " + string(g.Role) + " to " + u.Email, id: g.ID,
			kind: models.DecisionAccountGrant, status: g.Status, proposedBy: &g.ProposedBy}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		before := g.Status
		g.Status, g.DecidedBy, g.DecidedAt = to, &actor.UserID, &at
		out = g
		if to != models.DecisionApproved {
			before := viewUser(u)
			if g.FromRole != nil {
				u.Role = *g.FromRole
				_, err = tx.NewUpdate().Model(u).Column("role").WherePK().Exec(ctx)
			} else {
				u.Active = false
				if _, err = tx.NewUpdate().Model(u).Column("active").WherePK().Exec(ctx); err == nil {
					_, _, err = cutOff(ctx, tx, u.ID, "", true)
				}
			}
			if err != nil {
				return err
			}
			if err := s.audit(ctx, tx, actor, Change{Action: "user.grant_undone", Entity: "user", EntityID: u.ID, Before: before, After: viewUser(u)}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, Change{Action: "account_grant." + decisionVerb(to), Entity: "account_grant", EntityID: g.ID,
			Before: map[string]any{"status": before}, After: g})
	})
	return out, s.recordRefusal(ctx, actor, "account_grant", "account_grant."+decisionVerb(to), id, err)
}

// PasswordResetTTL is how long a reset link works: long enough to hand it on
// the same working day, short enough that a forgotten one is dead.
const PasswordResetTTL = 4 * time.Hour

// CreatePasswordReset stores the SHA-256 of a new one-time reset token for
// userID, issued by an admin, and returns when it expires. The token itself
// is the caller's to show once; it is never stored.
func (s *Store) CreatePasswordReset(ctx context.Context, actor models.Actor, userID int64, token string) (time.Time, error) {
	var expires time.Time
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u, err := lockUser(ctx, tx, actor, userID, "reset the password of")
		if err != nil {
			return err
		}
		if !u.Active {
			return models.Errorf(models.ECONFLICT, "%s is deactivated; reactivate the account first.", u.Email)
		}
		creator := actor.UserIDOrNil()
		var id int64
		if err := tx.NewRaw(`INSERT INTO password_resets (user_id, token_hash, created_by, expires_at)
			VALUES (?, ?, ?, now() + ? * interval '1 second') RETURNING id, expires_at`,
			u.ID, HashToken(token), creator, int64(PasswordResetTTL/time.Second)).Scan(ctx, &id, &expires); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "user.password_reset_issued", Entity: "user", EntityID: u.ID,
			After: map[string]any{"password_reset_id": id, "expires_at": expires}})
	})
	return expires, err
}

// PasswordResetUser returns the account a reset token is for while the
// token is unused and unexpired; ENOTFOUND otherwise.
func (s *Store) PasswordResetUser(ctx context.Context, token string) (*models.User, error) {
	u := new(models.User)
	err := s.db.NewRaw(`SELECT u.* FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > now() AND u.active`, HashToken(token)).Scan(ctx, u)
	if err != nil {
		return nil, notFound(err, "Password reset link", "(this link)")
	}
	return u, nil
}

// UsePasswordReset sets the account's password to hash with a reset token,
// once: the token is spent, every other reset of the account too, and its
// sessions end. ENOTFOUND for a used, expired or unknown token.
func (s *Store) UsePasswordReset(ctx context.Context, token, hash string) (*models.User, error) {
	var out *models.User
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var userID int64
		err := tx.NewRaw(`UPDATE password_resets SET used_at = now()
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > now()
			AND user_id IN (SELECT id FROM users WHERE active) RETURNING user_id`, HashToken(token)).Scan(ctx, &userID)
		if err != nil {
			return notFound(err, "Password reset link", "(this link)")
		}
		if _, err := tx.NewRaw("UPDATE password_resets SET used_at = now() WHERE user_id = ? AND used_at IS NULL", userID).Exec(ctx); err != nil {
			return err
		}
		u := new(models.User)
		if err := tx.NewRaw("UPDATE users SET password_hash = ? WHERE id = ? RETURNING *", hash, userID).Scan(ctx, u); err != nil {
			return err
		}
		if _, _, err := cutOff(ctx, tx, userID, "", false); err != nil {
			return err
		}
		out = u
		a := models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}
		return s.audit(ctx, tx, a, Change{Action: "user.password_reset", Entity: "user", EntityID: u.ID})
	})
	return out, err
}
