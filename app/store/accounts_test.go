package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// newAccount is an account an admin adds, as the API and the pages do.
func newAccount(t *testing.T, st *store.Store, by models.Actor, role models.Role) (*models.User, *models.AccountGrant) {
	t.Helper()
	u := &models.User{Email: unique("acct") + "@test.example", Name: "New account", Role: role, PasswordHash: "x", Active: true}
	g, err := st.AddAccount(context.Background(), by, u, "Joined the finance team")
	if err != nil {
		t.Fatal(err)
	}
	return u, g
}

// TestAccountWithMoneyAuthorityIsTwoAdminsDecision: an admin who makes an
// account that approves money (say, a second account for themselves) gets a
// pending grant, and until a second admin approves it the account approves
// nothing, in Go and in PostgreSQL; the admin cannot approve their own
// proposal, and the grantee cannot approve it either.
func TestAccountWithMoneyAuthorityIsTwoAdminsDecision(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	admin, admin2, officer := person(t, st, models.RoleAdmin), person(t, st, models.RoleAdmin), person(t, st, models.RoleFinanceOfficer)
	u, g := newAccount(t, st, admin, models.RoleFinanceManager)
	if g == nil || g.Status != models.DecisionPending || g.Role != models.RoleFinanceManager || g.FromRole != nil {
		t.Fatalf("grant = %+v", g)
	}
	if _, g2 := newAccount(t, st, admin, models.RoleAuditor); g2 != nil {
		t.Fatalf("an auditor's account needs no grant: %+v", g2)
	}
	amount := decimal.RequireFromString("10.00")
	if err := st.CheckDecisionAuthority(ctx, nil, models.DecisionSpend, amount, u.ID, officer.UserID); !errors.Is(err, models.ErrAuthorityPending) {
		t.Fatalf("go: a pending account approving spend: %v", err)
	}
	refusedBy(t, raw(st, "SELECT assert_decision_authority('spend', 10.00, ?, ?)", u.ID, officer.UserID), "decision_authority_pending")
	// Not by the admin who proposed it; not by the grantee (no admin either).
	if _, err := st.DecideAccountGrant(ctx, admin, g.ID, models.DecisionApproved, ""); !errors.Is(err, models.ErrFourEyes) {
		t.Fatalf("the proposer approving: %v", err)
	}
	grantee := models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}
	if _, err := st.DecideAccountGrant(ctx, grantee, g.ID, models.DecisionApproved, ""); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("the grantee approving: %v", err)
	}
	// Nor through raw SQL as the application, by the proposer.
	refusedBy(t, raw(st, "UPDATE account_grants SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", admin.UserID, g.ID),
		"decision_four_eyes")
	if _, err := st.DecideAccountGrant(ctx, admin2, g.ID, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckDecisionAuthority(ctx, nil, models.DecisionSpend, amount, u.ID, officer.UserID); err != nil {
		t.Fatalf("an approved finance manager approving spend: %v", err)
	}
	if err := raw(st, "SELECT assert_decision_authority('spend', 10.00, ?, ?)", u.ID, officer.UserID); err != nil {
		t.Fatalf("database: %v", err)
	}
	// Decided once.
	if _, err := st.DecideAccountGrant(ctx, admin2, g.ID, models.DecisionRejected, "Changed my mind"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("deciding twice: %v", err)
	}
	refusedBy(t, raw(st, "UPDATE account_grants SET status = 'pending', decided_by = NULL, decided_at = NULL WHERE id = ?", g.ID),
		"account_grants_decided_once")
}

// TestRejectedGrantUndoesTheAccount: a rejected new account is deactivated;
// a rejected raise puts the old role back.
func TestRejectedGrantUndoesTheAccount(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	admin, admin2 := person(t, st, models.RoleAdmin), person(t, st, models.RoleAdmin)
	u, g := newAccount(t, st, admin, models.RoleFinanceOfficer)
	if _, err := st.DecideAccountGrant(ctx, admin2, g.ID, models.DecisionRejected, ""); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("a rejection without a reason: %v", err)
	}
	if _, err := st.DecideAccountGrant(ctx, admin2, g.ID, models.DecisionRejected, "Not on the finance team"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.UserByID(ctx, u.ID); got.Active {
		t.Fatal("a rejected new account is still active")
	}

	board, _ := newAccount(t, st, admin, models.RoleBoardMember)
	raised, rg, err := st.ChangeUserRole(ctx, admin, board.ID, models.RoleFinanceManager, "Acting finance manager")
	if err != nil || raised.Role != models.RoleFinanceManager || rg == nil || *rg.FromRole != models.RoleBoardMember {
		t.Fatalf("raise: %+v %+v %v", raised, rg, err)
	}
	if _, _, err := st.ChangeUserRole(ctx, admin, board.ID, models.RoleAuditor, ""); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("a role change while a grant is pending: %v", err)
	}
	if _, err := st.DecideAccountGrant(ctx, admin, rg.ID, models.DecisionWithdrawn, "Proposed in error"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.UserByID(ctx, board.ID); got.Role != models.RoleBoardMember || !got.Active {
		t.Fatalf("after the withdrawal: %+v", got)
	}
}

// TestRoleChangeIsGuardedInTheDatabase: the application role cannot write a
// role that approves money into an account by raw SQL; lowering one is an
// admin's act alone; nobody changes their own role or deactivates
// themselves; only admins manage accounts.
func TestRoleChangeIsGuardedInTheDatabase(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	admin, officer := person(t, st, models.RoleAdmin), person(t, st, models.RoleFinanceOfficer)
	board := person(t, st, models.RoleBoardMember)
	refusedBy(t, raw(st, "UPDATE users SET role = 'finance_manager' WHERE id = ?", board.UserID), "account_grant_required")
	refusedBy(t, raw(st, "UPDATE users SET role = 'finance_manager' WHERE id = ?", admin.UserID), "account_grant_required")
	if _, _, err := st.ChangeUserRole(ctx, admin, admin.UserID, models.RoleFinanceManager, ""); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("an admin raising themselves: %v", err)
	}
	if _, err := st.SetUserActive(ctx, admin, admin.UserID, false); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("an admin deactivating themselves: %v", err)
	}
	if _, _, err := st.ChangeUserRole(ctx, officer, board.UserID, models.RoleAuditor, ""); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("a finance officer changing a role: %v", err)
	}
	lowered, g, err := st.ChangeUserRole(ctx, admin, officer.UserID, models.RoleAuditor, "Moved to internal audit")
	if err != nil || lowered.Role != models.RoleAuditor || g != nil {
		t.Fatalf("lowering: %+v %+v %v", lowered, g, err)
	}
	if _, _, err := st.ChangeUserRole(ctx, admin, officer.UserID, "root", ""); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("an unknown role: %v", err)
	}
}

// TestDeactivationEndsSessionsAndTokens: deactivating an account ends its
// web sessions and revokes its tokens at once; reactivating does not bring
// them back.
func TestDeactivationEndsSessionsAndTokens(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	admin, auditor := person(t, st, models.RoleAdmin), person(t, st, models.RoleAuditor)
	token := "gt_" + unique("token-for-deactivation-test-")
	if _, err := st.CreateAPIToken(ctx, admin, auditor.UserID, "laptop", token); err != nil {
		t.Fatal(err)
	}
	key := unique("session-key-")
	if err := st.Sessions().Set(key, []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.BindSession(ctx, key, auditor.UserID, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if ss, err := st.UserSessions(ctx, auditor.UserID, key); err != nil || len(ss) != 1 || !ss[0].Current || ss[0].Address != "192.0.2.1" {
		t.Fatalf("sessions: %+v %v", ss, err)
	}
	if _, err := st.SetUserActive(ctx, admin, auditor.UserID, false); err != nil {
		t.Fatal(err)
	}
	if data, err := st.Sessions().Get(key); err != nil || data != nil {
		t.Fatalf("the session outlived the account: %q %v", data, err)
	}
	if _, err := st.SetUserActive(ctx, admin, auditor.UserID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UserByToken(ctx, token); models.ErrorCode(err) != models.EUNAUTHORIZED {
		t.Fatalf("the token outlived the deactivation: %v", err)
	}
	if _, err := st.SetUserActive(ctx, admin, auditor.UserID, true); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("reactivating an active account: %v", err)
	}
}

// TestPasswordResetIsOneTimeAndStoredHashed: a reset link works once,
// before it expires, and the database holds only its hash.
func TestPasswordResetIsOneTimeAndStoredHashed(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	admin, board := person(t, st, models.RoleAdmin), person(t, st, models.RoleBoardMember)
	token := unique("reset-token-")
	expires, err := st.CreatePasswordReset(ctx, admin, board.UserID, token)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(expires); d <= 0 || d > store.PasswordResetTTL+time.Minute {
		t.Fatalf("expires in %v", d)
	}
	var hashed int
	if err := st.DB().NewRaw("SELECT count(*) FROM password_resets WHERE token_hash = sha256(convert_to(?, 'UTF8'))", token).Scan(ctx, &hashed); err != nil || hashed != 1 {
		t.Fatalf("the token is not stored as its SHA-256: %d %v", hashed, err)
	}
	if u, err := st.PasswordResetUser(ctx, token); err != nil || u.ID != board.UserID {
		t.Fatalf("reset user: %v %v", u, err)
	}
	if _, err := st.UsePasswordReset(ctx, token, "new-hash"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UsePasswordReset(ctx, token, "again"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("a second use: %v", err)
	}
	if u, _ := st.UserByID(ctx, board.UserID); u.PasswordHash != "new-hash" {
		t.Fatal("the password was not set")
	}
	// Expired links do nothing; the database refuses a link lasting past a day.
	old := unique("old-reset-")
	if err := raw(st, `INSERT INTO password_resets (user_id, token_hash, created_at, expires_at)
		VALUES (?, sha256(convert_to(?, 'UTF8')), now() - interval '5 hours', now() - interval '1 hour')`, board.UserID, old); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PasswordResetUser(ctx, old); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("an expired link: %v", err)
	}
	if _, err := st.UsePasswordReset(ctx, old, "expired"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("using an expired link: %v", err)
	}
	refusedBy(t, raw(st, "INSERT INTO password_resets (user_id, token_hash, expires_at) VALUES (?, sha256('x'), now() + interval '2 days')", board.UserID),
		"password_resets_expiry_check")
}
