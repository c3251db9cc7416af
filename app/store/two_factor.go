package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"granttrack/models"
)

// TwoFactorRoles returns the roles that must sign in with a second factor.
func (s *Store) TwoFactorRoles(ctx context.Context) ([]models.Role, error) {
	var roles []string
	if err := s.db.NewRaw("SELECT required_roles FROM two_factor_settings").Scan(ctx, pgdialect.Array(&roles)); err != nil {
		return nil, translate(err)
	}
	return toRoles(roles), nil
}

// toRoles orders roles as models.AllRoles does.
func toRoles(names []string) []models.Role {
	out := []models.Role{}
	for _, r := range models.AllRoles() {
		if slices.Contains(names, string(r)) {
			out = append(out, r)
		}
	}
	return out
}

// SetTwoFactorRoles replaces the roles that must sign in with a second
// factor and audits the change; EINVALID naming an unknown role.
func (s *Store) SetTwoFactorRoles(ctx context.Context, actor models.Actor, roles []models.Role) ([]models.Role, error) {
	names := []string{}
	var p models.Problems
	for _, r := range roles {
		if !r.Valid() {
			p.Add("required_roles", "must each be one of %s", models.RolesInWords())
			break
		}
		names = append(names, string(r))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	after := toRoles(names)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var before []string
		if err := tx.NewRaw("SELECT required_roles FROM two_factor_settings FOR UPDATE").Scan(ctx, pgdialect.Array(&before)); err != nil {
			return err
		}
		var by *int64
		if actor.UserID != 0 {
			by = &actor.UserID
		}
		if _, err := tx.NewRaw("UPDATE two_factor_settings SET required_roles = ?, updated_by = ?, updated_at = now()",
			pgdialect.Array(names), by).Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "two_factor_settings.update", Entity: "two_factor_settings", EntityID: 1,
			Before: twoFactorSettingsView{RequiredRoles: toRoles(before)}, After: twoFactorSettingsView{RequiredRoles: after}})
	})
	if err != nil {
		return nil, err
	}
	return after, nil
}

// twoFactorSettingsView is what the audit trail records of the setting.
type twoFactorSettingsView struct {
	RequiredRoles []models.Role `json:"required_roles"`
}

// TwoFactor is an account's second factor as sign-in needs it.
type TwoFactor struct {
	Secret    string
	Confirmed bool
	LastStep  *int64
}

// TwoFactorOf returns the account's TOTP secret, confirmed or not;
// ENOTFOUND when it has none.
func (s *Store) TwoFactorOf(ctx context.Context, userID int64) (TwoFactor, error) {
	var row struct {
		Secret      string
		ConfirmedAt *time.Time
		LastStep    *int64
	}
	err := s.db.NewRaw("SELECT secret, confirmed_at, last_step FROM user_totp WHERE user_id = ?", userID).Scan(ctx, &row)
	if err != nil {
		return TwoFactor{}, notFound(err, "Two-factor enrolment of user", userID)
	}
	return TwoFactor{Secret: row.Secret, Confirmed: row.ConfirmedAt != nil, LastStep: row.LastStep}, nil
}

// TwoFactorNeeded reports whether the user's role must sign in with a
// second factor, and whether they have one switched on.
func (s *Store) TwoFactorNeeded(ctx context.Context, u *models.User) (required, enrolled bool, err error) {
	err = s.db.NewRaw(`SELECT ? = ANY (required_roles),
			EXISTS (SELECT 1 FROM user_totp WHERE user_id = ? AND confirmed_at IS NOT NULL)
		FROM two_factor_settings`, string(u.Role), u.ID).Scan(ctx, &required, &enrolled)
	return required, enrolled, translate(err)
}

// StartTOTPEnrolment keeps secret as the account's unconfirmed TOTP secret
// unless one is already waiting, and returns the waiting one; ECONFLICT
// when two-factor sign-in is already on.
func (s *Store) StartTOTPEnrolment(ctx context.Context, userID int64, secret string) (string, error) {
	var out string
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("INSERT INTO user_totp (user_id, secret) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
			userID, secret).Exec(ctx); err != nil {
			return err
		}
		var confirmed *time.Time
		if err := tx.NewRaw("SELECT secret, confirmed_at FROM user_totp WHERE user_id = ?", userID).Scan(ctx, &out, &confirmed); err != nil {
			return err
		}
		if confirmed != nil {
			return models.Errorf(models.ECONFLICT, "Two-factor sign-in is already on for this account.")
		}
		return nil
	})
	return out, err
}

// ConfirmTOTP switches two-factor sign-in on for the account, whose code
// of time step step was just checked against its waiting secret, and
// keeps the hashes of its new recovery codes; ECONFLICT when nothing is
// waiting (already on, or reset meanwhile).
func (s *Store) ConfirmTOTP(ctx context.Context, actor models.Actor, userID, step int64, recoveryHashes []string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`UPDATE user_totp SET confirmed_at = now(), last_step = ?
			WHERE user_id = ? AND confirmed_at IS NULL`, step, userID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.Errorf(models.ECONFLICT, "No two-factor enrolment is waiting for this account; start again from My account.")
		}
		if _, err := tx.NewRaw("DELETE FROM two_factor_recovery_codes WHERE user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		for _, h := range recoveryHashes {
			if _, err := tx.NewRaw("INSERT INTO two_factor_recovery_codes (user_id, code_hash) VALUES (?, ?)", userID, h).Exec(ctx); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, Change{Action: "two_factor.enrol", Entity: "user", EntityID: userID,
			After: map[string]any{"method": "totp", "recovery_codes": len(recoveryHashes)}})
	})
}

// UseTOTPStep records that the account signed in with its code of time
// step step, and reports false (recording nothing) when that step or a
// later one was already used: a code is accepted once.
func (s *Store) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := s.db.NewRaw(`UPDATE user_totp SET last_step = ?
		WHERE user_id = ? AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)`, step, userID, step).Exec(ctx)
	if err != nil {
		return false, translate(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecoveryCode is an unused recovery code's hash.
type RecoveryCode struct {
	ID       int64
	CodeHash string
}

// UnusedRecoveryCodes returns the account's recovery codes not yet used.
func (s *Store) UnusedRecoveryCodes(ctx context.Context, userID int64) ([]RecoveryCode, error) {
	out := []RecoveryCode{}
	err := s.db.NewRaw("SELECT id, code_hash FROM two_factor_recovery_codes WHERE user_id = ? AND used_at IS NULL ORDER BY id", userID).
		Scan(ctx, &out)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	return out, translate(err)
}

// UseRecoveryCode marks the recovery code used and audits it; false when
// it was used meanwhile.
func (s *Store) UseRecoveryCode(ctx context.Context, actor models.Actor, userID, id int64) (bool, error) {
	used := false
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw("UPDATE two_factor_recovery_codes SET used_at = now() WHERE id = ? AND user_id = ? AND used_at IS NULL", id, userID).
			Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		used = true
		var left int
		if err := tx.NewRaw("SELECT count(*) FROM two_factor_recovery_codes WHERE user_id = ? AND used_at IS NULL", userID).Scan(ctx, &left); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "two_factor.recovery_code_used", Entity: "user", EntityID: userID,
			After: map[string]any{"recovery_codes_left": left}})
	})
	return used, err
}

// RemoveTwoFactor turns the account's two-factor sign-in off, removing its
// secret and recovery codes, and audits it as action ("two_factor.off" by
// the user, "two_factor.reset" by an admin); ENOTFOUND when it had none.
func (s *Store) RemoveTwoFactor(ctx context.Context, actor models.Actor, userID int64, action string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("DELETE FROM two_factor_recovery_codes WHERE user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		res, err := tx.NewRaw("DELETE FROM user_totp WHERE user_id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.Errorf(models.ENOTFOUND, "User %d has no two-factor sign-in to turn off.", userID)
		}
		return s.audit(ctx, tx, actor, Change{Action: action, Entity: "user", EntityID: userID})
	})
}

// PendingSignIn is a sign-in whose password was right, awaiting its code.
type PendingSignIn struct {
	UserID int64
	Next   string
}

// StartPendingSignIn keeps a sign-in awaiting its second factor under the
// token's hash for ttl.
func (s *Store) StartPendingSignIn(ctx context.Context, token string, userID int64, next string, ttl time.Duration) error {
	_, err := s.db.NewRaw(`INSERT INTO sign_in_pending (token_hash, user_id, next, expires_at)
		VALUES (?, ?, ?, now() + ? * interval '1 second')`, HashToken(token), userID, next, int64(ttl/time.Second)).Exec(ctx)
	return translate(err)
}

// PendingSignInOf returns the unexpired sign-in awaiting its second factor
// under token; ENOTFOUND when there is none.
func (s *Store) PendingSignInOf(ctx context.Context, token string) (PendingSignIn, error) {
	var p PendingSignIn
	err := s.db.NewRaw("SELECT user_id, next FROM sign_in_pending WHERE token_hash = ? AND expires_at > now()", HashToken(token)).
		Scan(ctx, &p.UserID, &p.Next)
	if err != nil {
		return p, notFound(err, "Pending sign-in", "")
	}
	return p, nil
}

// EndPendingSignIn forgets the sign-in under token, and every expired one.
func (s *Store) EndPendingSignIn(ctx context.Context, token string) error {
	_, err := s.db.NewRaw("DELETE FROM sign_in_pending WHERE token_hash = ? OR expires_at <= now()", HashToken(token)).Exec(ctx)
	return translate(err)
}
