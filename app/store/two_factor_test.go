package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"granttrack/app/auth"
	"granttrack/app/store"
	"granttrack/models"
)

// mustAccount stores a new active user of role.
func mustAccount(t *testing.T, st *store.Store, role models.Role) *models.User {
	t.Helper()
	u := &models.User{Email: unique("tf") + "@test.example", Name: "Two-factor", Role: role, PasswordHash: "-", Active: true}
	if err := st.CreateUser(context.Background(), actor, u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTwoFactorRolesAreASettingAudited(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	roles, err := st.TwoFactorRoles(ctx)
	want := []models.Role{models.RoleAdmin, models.RoleFinanceOfficer, models.RoleFinanceManager, models.RoleAuditor}
	if err != nil || !slices.Equal(roles, want) {
		t.Fatalf("a new database asks two-factor of %v (%v), want %v", roles, err, want)
	}
	if _, err := st.SetTwoFactorRoles(ctx, actor, []models.Role{"chancellor"}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("an unknown role: %v, want EINVALID", err)
	}
	// The database holds the same rule.
	if err := raw(st, "UPDATE two_factor_settings SET required_roles = ARRAY['chancellor']"); err == nil ||
		!strings.Contains(err.Error(), "two_factor_settings_roles") {
		t.Fatalf("raw SQL set an unknown role: %v", err)
	}
	if _, err := st.SetTwoFactorRoles(ctx, actor, []models.Role{models.RoleAuditor, models.RoleBoardMember}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.DB().NewRaw(`SELECT count(*) FROM audit_events WHERE action = 'two_factor_settings.update'
		AND after->'required_roles' = '["board_member", "auditor"]'::jsonb`).Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("%d audit events of the change (%v), want 1", n, err)
	}
	board := mustAccount(t, st, models.RoleBoardMember)
	officer := mustAccount(t, st, models.RoleFinanceOfficer)
	if required, enrolled, err := st.TwoFactorNeeded(ctx, board); !required || enrolled || err != nil {
		t.Fatalf("board member: required %v enrolled %v %v", required, enrolled, err)
	}
	if required, _, err := st.TwoFactorNeeded(ctx, officer); required || err != nil {
		t.Fatalf("finance officer: required %v %v", required, err)
	}
}

func TestTOTPStepsAndRecoveryCodesAreUsedOnce(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	u := mustAccount(t, st, models.RoleAuditor)
	if used, err := st.UseTOTPStep(ctx, u.ID, 1); used || err != nil {
		t.Fatalf("a step of an account not enrolled: used %v, %v", used, err)
	}
	secret, err := st.StartTOTPEnrolment(ctx, u.ID, auth.NewTOTPSecret())
	if err != nil {
		t.Fatal(err)
	}
	// A second start keeps the waiting secret, so the QR code shown holds.
	if again, err := st.StartTOTPEnrolment(ctx, u.ID, auth.NewTOTPSecret()); again != secret || err != nil {
		t.Fatalf("a second start: %q %v, want the waiting secret", again, err)
	}
	if used, err := st.UseTOTPStep(ctx, u.ID, 1); used || err != nil {
		t.Fatalf("a step of an unconfirmed secret: used %v, %v", used, err)
	}
	hash, err := auth.HashRecoveryCode("abcde-fghij")
	if err != nil {
		t.Fatal(err)
	}
	step := auth.TOTPStep(time.Now())
	if err := st.ConfirmTOTP(ctx, actor, u.ID, step, []string{hash}); err != nil {
		t.Fatal(err)
	}
	if err := st.ConfirmTOTP(ctx, actor, u.ID, step, nil); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("confirming twice: %v, want ECONFLICT", err)
	}
	if _, err := st.StartTOTPEnrolment(ctx, u.ID, auth.NewTOTPSecret()); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("starting again once on: %v, want ECONFLICT", err)
	}
	for _, c := range []struct {
		step int64
		want bool
	}{{step, false}, {step - 1, false}, {step + 1, true}, {step + 1, false}} {
		if used, err := st.UseTOTPStep(ctx, u.ID, c.step); used != c.want || err != nil {
			t.Fatalf("step %d (enrolled at %d): used %v, %v; want %v", c.step, step, used, err, c.want)
		}
	}
	codes, err := st.UnusedRecoveryCodes(ctx, u.ID)
	if err != nil || len(codes) != 1 || !auth.PasswordMatches("abcde-fghij", codes[0].CodeHash) {
		t.Fatalf("recovery codes %v %v, want the one hashed", codes, err)
	}
	if used, err := st.UseRecoveryCode(ctx, actor, u.ID, codes[0].ID); !used || err != nil {
		t.Fatalf("first use: %v %v", used, err)
	}
	if used, err := st.UseRecoveryCode(ctx, actor, u.ID, codes[0].ID); used || err != nil {
		t.Fatalf("second use: %v %v, want refused", used, err)
	}
	// The database refuses to use it again, or to make it unused.
	if err := raw(st, "UPDATE two_factor_recovery_codes SET used_at = NULL WHERE id = ?", codes[0].ID); err == nil ||
		!strings.Contains(err.Error(), "two_factor_recovery_once") {
		t.Fatalf("raw SQL made a used recovery code unused: %v", err)
	}
	if err := st.RemoveTwoFactor(ctx, actor, u.ID, "two_factor.reset"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TwoFactorOf(ctx, u.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("after a reset: %v, want ENOTFOUND", err)
	}
	if err := st.RemoveTwoFactor(ctx, actor, u.ID, "two_factor.reset"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("a second reset: %v, want ENOTFOUND", err)
	}
}

func TestPendingSignInsExpire(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	u := mustAccount(t, st, models.RoleAuditor)
	token, old := auth.NewSecret(32), auth.NewSecret(32)
	if err := st.StartPendingSignIn(ctx, token, u.ID, "/audit", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := st.StartPendingSignIn(ctx, old, u.ID, "/", 0); err != nil {
		t.Fatal(err)
	}
	if p, err := st.PendingSignInOf(ctx, token); err != nil || p.UserID != u.ID || p.Next != "/audit" {
		t.Fatalf("pending sign-in %+v %v", p, err)
	}
	if _, err := st.PendingSignInOf(ctx, old); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("an expired pending sign-in: %v, want ENOTFOUND", err)
	}
	if err := st.EndPendingSignIn(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PendingSignInOf(ctx, token); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("an ended pending sign-in: %v, want ENOTFOUND", err)
	}
	var left int
	if err := st.DB().NewRaw("SELECT count(*) FROM sign_in_pending WHERE user_id = ?", u.ID).Scan(ctx, &left); err != nil || left != 0 {
		t.Fatalf("%d pending sign-ins left (%v): the expired one should be swept", left, err)
	}
}
