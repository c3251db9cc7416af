package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/models"
)

// user makes an active user with the role and returns its id.
func user(t *testing.T, st *store.Store, role models.Role) int64 { return person(t, st, role).UserID }

// TestDecisionAuthority checks the scheme's default rules twice: in Go
// (CheckDecisionAuthority) and in PostgreSQL (assert_decision_authority,
// called over the application's own connection), which must agree on every
// case and name the same rule.
func TestDecisionAuthority(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	admin, admin2 := user(t, st, models.RoleAdmin), user(t, st, models.RoleAdmin)
	officer, officer2 := user(t, st, models.RoleFinanceOfficer), user(t, st, models.RoleFinanceOfficer)
	board, auditor := user(t, st, models.RoleBoardMember), user(t, st, models.RoleAuditor)
	manager := user(t, st, models.RoleFinanceManager)
	inactive := user(t, st, models.RoleFinanceManager)
	// Deactivated as the owner: the application cannot deactivate users yet.
	owner, err := store.Open(ctx, pgtest.OwnerDSN())
	if err != nil {
		t.Fatal(err)
	}
	_, err = owner.DB().NewRaw("UPDATE users SET active = false WHERE id = ?", inactive).Exec(ctx)
	owner.Close()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		kind              models.DecisionKind
		amount            string
		decider, proposer int64
		want              error // nil: allowed
	}{
		{"OKOfficerSpendAtLimit", models.DecisionSpend, "100000.00", officer2, officer, nil},
		{"OKOfficerReversalAtLimit", models.DecisionSpend, "-100000.00", officer2, officer, nil},
		{"ErrOfficerSpendOverLimit", models.DecisionSpend, "100000.01", officer2, officer, models.ErrAmountAuthority},
		{"ErrOfficerReversalOverLimit", models.DecisionSpend, "-150000.00", officer2, officer, models.ErrAmountAuthority},
		{"OKManagerSpendUnlimited", models.DecisionSpend, "9999999999999.99", manager, officer, nil},
		{"ErrAdminSpend", models.DecisionSpend, "1.00", admin, officer, models.ErrRoleAuthority},
		{"ErrAdminAward", models.DecisionAward, "1.00", admin, officer, models.ErrRoleAuthority},
		{"ErrAdminBudgetIncrease", models.DecisionBudgetIncrease, "1.00", admin, officer, models.ErrRoleAuthority},
		{"ErrOwnSpend", models.DecisionSpend, "1.00", officer, officer, models.ErrFourEyes},
		{"ErrManagerOwnLine", models.DecisionLineApproval, "1.00", manager, manager, models.ErrFourEyes},
		{"ErrBoardMemberSpend", models.DecisionSpend, "1.00", board, officer, models.ErrRoleAuthority},
		{"ErrAuditorAward", models.DecisionAward, "1.00", auditor, officer, models.ErrRoleAuthority},
		{"ErrInactiveManager", models.DecisionAward, "1.00", inactive, officer, models.ErrRoleAuthority},
		{"ErrNoSuchUser", models.DecisionAward, "1.00", -1, officer, models.ErrRoleAuthority},
		{"OKOfficerLineApproval", models.DecisionLineApproval, "100000.00", officer2, officer, nil},
		{"ErrOfficerLineApprovalOverLimit", models.DecisionLineApproval, "2000000.00", officer2, officer, models.ErrAmountAuthority},
		{"ErrOfficerVirementAcrossProgrammes", models.DecisionBudgetVirementAcrossProgrammes, "1.00", officer2, officer, models.ErrRoleAuthority},
		{"OKManagerVirementAcrossProgrammes", models.DecisionBudgetVirementAcrossProgrammes, "5000000.00", manager, officer, nil},
		{"ErrManagerDelegationChange", models.DecisionDelegationChange, "0", manager, admin, models.ErrRoleAuthority},
		{"ErrOfficerDelegationChange", models.DecisionDelegationChange, "0", officer2, admin, models.ErrRoleAuthority},
		{"OKSecondAdminDelegationChange", models.DecisionDelegationChange, "0", admin2, admin, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			amount := decimal.RequireFromString(tc.amount)
			goErr := st.CheckDecisionAuthority(ctx, nil, tc.kind, amount, tc.decider, tc.proposer)
			dbErr := raw(st, "SELECT assert_decision_authority(?, ?, ?, ?)", string(tc.kind), amount, tc.decider, tc.proposer)
			if tc.want == nil {
				if goErr != nil || dbErr != nil {
					t.Fatalf("refused: go %v; database %v", goErr, dbErr)
				}
				return
			}
			if !errors.Is(goErr, tc.want) || models.ErrorCode(goErr) != models.EFORBIDDEN {
				t.Errorf("go: err = %v, want %v", goErr, tc.want)
			}
			var pgErr *pgconn.PgError
			if !errors.As(dbErr, &pgErr) || pgErr.Code != "42501" || pgErr.ConstraintName != tc.want.Error() ||
				!strings.HasPrefix(pgErr.Message, tc.want.Error()+": ") {
				t.Errorf("database: err = %v, want SQLSTATE 42501 and constraint %v", dbErr, tc.want)
			}
		})
	}
	t.Run("ErrUnknownKind", func(t *testing.T) {
		err := st.CheckDecisionAuthority(ctx, nil, "gift", decimal.Zero, admin, officer)
		if models.ErrorCode(err) != models.EINVALID {
			t.Errorf("go: err = %v", err)
		}
		var pgErr *pgconn.PgError
		if err := raw(st, "SELECT assert_decision_authority('gift', 0, ?, ?)", admin, officer); !errors.As(err, &pgErr) || pgErr.ConstraintName != "decision_kind_unknown" {
			t.Errorf("database: err = %v", err)
		}
	})
}

// TestDelegationSchemeDefaults checks the scheme the migration seeds: every
// kind Go knows, the £100,000 approval limit for finance officers, and
// virements across programmes for finance managers only, scheme changes
// for admins only, and no money decision for admins.
func TestDelegationSchemeDefaults(t *testing.T) {
	st := MustStore(t)
	kinds, rules, err := st.DelegationScheme(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	known := map[models.DecisionKind]bool{}
	for _, k := range kinds {
		known[k.DecisionKind] = true
	}
	for _, k := range models.AllDecisionKinds() {
		if !known[k] {
			t.Errorf("the database's scheme has no kind %q", k)
		}
	}
	if len(kinds) != len(models.AllDecisionKinds()) {
		t.Errorf("the database has %d kinds, Go %d", len(kinds), len(models.AllDecisionKinds()))
	}
	limits := map[string]string{}
	for _, r := range rules {
		v := "unlimited"
		if r.MaxAmount != nil {
			v = r.MaxAmount.StringFixed(2)
		}
		limits[string(r.DecisionKind)+"/"+string(r.Role)] = v
	}
	for key, want := range map[string]string{
		"spend/finance_officer":                             models.DefaultApprovalLimit.StringFixed(2),
		"spend/finance_manager":                             "unlimited",
		"spend/admin":                                       "",
		"award/admin":                                       "",
		"line_approval/finance_officer":                     "100000.00",
		"budget_increase/finance_officer":                   "100000.00",
		"budget_virement_across_programmes/finance_manager": "unlimited",
		"budget_virement_across_programmes/admin":           "",
		"budget_virement_across_programmes/finance_officer": "",
		"delegation_change/admin":                           "unlimited",
		"delegation_change/finance_officer":                 "",
		"spend/board_member":                                "",
		"spend/auditor":                                     "",
	} {
		if limits[key] != want {
			t.Errorf("%s = %q, want %q", key, limits[key], want)
		}
	}
}

// TestDecisionCitation checks the citation threshold in Go and in
// PostgreSQL: above it a decision must cite a record, at or below it need not.
func TestDecisionCitation(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	r, err := models.DecisionRecordInput{Reference: unique("PCD "), Title: "Violence Reduction Unit grants 2024-25",
		SignedOn: "2024-03-28", DecisionMaker: "Deputy Mayor for Policing and Crime", URL: "https://www.london.gov.uk/pcd"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	admin := models.Actor{UserID: user(t, st, models.RoleAdmin), Label: "admin", Role: models.RoleAdmin}
	if err := st.CreateDecisionRecord(ctx, admin, r); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		amount string
		record *int64
		want   bool // refused
	}{
		{"OKAtThreshold", "1000000.00", nil, false},
		{"ErrAboveThresholdUncited", "1000000.01", nil, true},
		{"OKAboveThresholdCited", "5000000.00", &r.ID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			amount := decimal.RequireFromString(tc.amount)
			goErr := st.CheckDecisionCitation(ctx, nil, models.DecisionAward, amount, tc.record)
			dbErr := raw(st, "SELECT assert_decision_citation('award', ?, ?)", amount, tc.record)
			if !tc.want {
				if goErr != nil || dbErr != nil {
					t.Fatalf("refused: go %v; database %v", goErr, dbErr)
				}
				return
			}
			if !errors.Is(goErr, models.ErrCitationRequired) || models.ErrorCode(goErr) != models.EINVALID {
				t.Errorf("go: err = %v", goErr)
			}
			var pgErr *pgconn.PgError
			if !errors.As(dbErr, &pgErr) || pgErr.ConstraintName != "decision_citation_required" {
				t.Errorf("database: err = %v", dbErr)
			}
		})
	}
	// A second record with the same reference is a conflict on reference.
	dup := *r
	dup.ID = 0
	if err := st.CreateDecisionRecord(ctx, admin, &dup); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("duplicate reference: err = %v", err)
	}
}

// TestSchemeChangesOnlyByTwoAdmins: the scheme cannot be written over SQL
// as the application, nor changed by one admin or a finance officer; a
// change one admin proposes and another approves applies at once.
func TestSchemeChangesOnlyByTwoAdmins(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	admin, admin2, officer := person(t, st, models.RoleAdmin), person(t, st, models.RoleAdmin), person(t, st, models.RoleFinanceOfficer)

	refusedBy(t, raw(st, "UPDATE delegation_rules SET max_amount = NULL WHERE decision_kind = 'award' AND role = 'finance_officer'"), "delegation_rules_by_decision")
	refusedBy(t, raw(st, "INSERT INTO delegation_rules (decision_kind, role) VALUES ('award', 'board_member')"), "delegation_rules_by_decision")
	refusedBy(t, raw(st, "DELETE FROM delegation_rules WHERE decision_kind = 'award' AND role = 'finance_manager'"), "delegation_rules_by_decision")

	limit := decimal.RequireFromString("250000.00")
	if err := st.ProposeDelegationChange(ctx, officer, &models.DelegationChange{DecisionKind: models.DecisionAward, Role: models.RoleFinanceOfficer,
		MaxAmount: &limit, Reason: "Larger grants"}); !errors.Is(err, models.ErrRoleAuthority) {
		t.Fatalf("proposed by a finance officer: %v", err)
	}
	c := &models.DelegationChange{DecisionKind: models.DecisionAward, Role: models.RoleFinanceOfficer, MaxAmount: &limit, Reason: "Larger grants"}
	if err := st.ProposeDelegationChange(ctx, admin, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideDelegationChange(ctx, admin, c.ID, models.DecisionApproved, ""); !errors.Is(err, models.ErrFourEyes) {
		t.Fatalf("approved by its proposer: %v", err)
	}
	refusedBy(t, raw(st, "UPDATE delegation_changes SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", officer.UserID, c.ID),
		"decision_role_authority")
	if _, err := st.DecideDelegationChange(ctx, admin2, c.ID, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
	amount := decimal.RequireFromString("250000.00")
	if err := st.CheckDecisionAuthority(ctx, nil, models.DecisionAward, amount, officer.UserID, admin.UserID); err != nil {
		t.Fatalf("the approved change did not apply: %v", err)
	}
	// Put the default back the same way, for the other tests.
	back := decimal.RequireFromString("100000.00")
	c = &models.DelegationChange{DecisionKind: models.DecisionAward, Role: models.RoleFinanceOfficer, MaxAmount: &back, Reason: "Back to the default"}
	if err := st.ProposeDelegationChange(ctx, admin2, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideDelegationChange(ctx, admin, c.ID, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
}
