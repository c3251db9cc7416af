package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// draftLine makes a draft funding line with the budget.
func draftLine(t *testing.T, st *store.Store, budget string) *models.FundingLine {
	t.Helper()
	fl := line(t, st, "1.00")
	in := models.FundingLineInput{Code: unique("D"), Title: "Draft", Kind: "grant", ProgrammeID: fl.ProgrammeID, FunderID: fl.FunderID,
		Budget: budget, StartsOn: "2024-04-01", EndsOn: "2025-03-31"}
	d, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateFundingLine(context.Background(), actor, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLineStatusNeedsASecondPerson: one person cannot approve or activate
// a line, through the store or through raw SQL; a second person with
// authority for the budget can.
func TestLineStatusNeedsASecondPerson(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	officer, officer2 := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	manager, board := person(t, st, models.RoleFinanceManager), person(t, st, models.RoleBoardMember)
	fl := draftLine(t, st, "9999999999999.99")

	if _, err := st.ChangeFundingLineStatus(ctx, officer, fl.ID, models.StatusApproved, "just do it"); !errors.Is(err, models.ErrFourEyes) {
		t.Fatalf("direct approval: %v", err)
	}
	refusedBy(t, raw(st, "UPDATE funding_lines SET status = 'approved' WHERE id = ?", fl.ID), "funding_lines_status_decision")
	refusedBy(t, raw(st, `INSERT INTO funding_lines (code, title, kind, programme_id, funder_id, budget, starts_on, ends_on, status)
		VALUES (?, 'Born active', 'grant', ?, ?, 1.00, '2024-04-01', '2025-03-31', 'active')`, unique("RAW"), fl.ProgrammeID, fl.FunderID),
		"funding_lines_status_decision")

	d, err := st.ProposeLineStatus(ctx, officer, fl.ID, models.StatusApproved, "Plan 2024-25", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProposeLineStatus(ctx, officer2, fl.ID, models.StatusApproved, "", nil); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("a second open proposal: %v", err)
	}
	// Through the store: the proposer, a board member, an officer above
	// their limit, and a finance manager without the citation the amount needs.
	for _, tc := range []struct {
		who  models.Actor
		want error
	}{{officer, models.ErrFourEyes}, {board, models.ErrRoleAuthority}, {officer2, models.ErrAmountAuthority}, {manager, models.ErrCitationRequired}} {
		if _, err := st.DecideLineStatus(ctx, tc.who, d.ID, models.DecisionApproved, ""); !errors.Is(err, tc.want) {
			t.Errorf("approval by %s: err = %v, want %v", tc.who.Role, err, tc.want)
		}
	}
	// Through raw SQL, the same refusals by the same rules.
	approveAs := func(decider int64) error {
		return raw(st, "UPDATE line_decisions SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", decider, d.ID)
	}
	refusedBy(t, approveAs(officer.UserID), "decision_four_eyes")
	refusedBy(t, approveAs(board.UserID), "decision_role_authority")
	refusedBy(t, approveAs(officer2.UserID), "decision_amount_authority")
	refusedBy(t, approveAs(manager.UserID), "decision_citation_required")
	// The application role may not delete a proposal at all; even the owner
	// is stopped by the trigger.
	if err := raw(st, "DELETE FROM line_decisions WHERE id = ?", d.ID); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the application role deleted a line decision: %v", err)
	}
	refusedBy(t, asOwner(t, "DELETE FROM line_decisions WHERE id = ?", d.ID), "line_decisions_decided_once")

	// Only the proposer withdraws; then a cited proposal is approved by a finance manager.
	if _, err := st.DecideLineStatus(ctx, officer2, d.ID, models.DecisionWithdrawn, ""); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("withdrawn by someone else: %v", err)
	}
	if _, err := st.DecideLineStatus(ctx, officer, d.ID, models.DecisionWithdrawn, ""); err != nil {
		t.Fatal(err)
	}
	r := &models.DecisionRecord{Reference: unique("PCD "), Title: "Budget", SignedOn: fl.StartsOn, DecisionMaker: "DMPC"}
	if err := st.CreateDecisionRecord(ctx, manager, r); err != nil {
		t.Fatal(err)
	}
	d, err = st.ProposeLineStatus(ctx, officer, fl.ID, models.StatusApproved, "", &r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideLineStatus(ctx, manager, d.ID, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
	got, err := st.FundingLine(ctx, fl.ID)
	if err != nil || got.Status != models.StatusApproved {
		t.Fatalf("line after approval: %+v %v", got, err)
	}
	// A decided proposal stays decided.
	refusedBy(t, raw(st, "UPDATE line_decisions SET status = 'rejected', decision_reason = 'no' WHERE id = ?", d.ID), "line_decisions_decided_once")
}

// TestAwardsNeedASecondPerson: an award is pending until someone else
// approves it, carries no spend while pending, and cannot be approved by
// its proposer through the store or raw SQL.
func TestAwardsNeedASecondPerson(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	officer, officer2 := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	fl := line(t, st, "1000.00")
	a := award(t, fl.ID, fl.FunderID, "600.00")
	a.Tranches = []*models.Tranche{{Seq: 1, DueOn: a.StartsOn, Amount: a.Amount}}
	if err := st.CreateAward(ctx, officer, a); err != nil {
		t.Fatal(err)
	}
	if a.Status != models.DecisionPending {
		t.Fatalf("a new award is %s", a.Status)
	}
	// A pending award holds its budget: a second proposal cannot oversubscribe.
	b := award(t, fl.ID, fl.FunderID, "400.01")
	b.Tranches = []*models.Tranche{{Seq: 1, DueOn: b.StartsOn, Amount: b.Amount}}
	if err := st.CreateAward(ctx, officer2, b); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("oversubscribed by a second proposal: %v", err)
	}
	// No spend against a pending award.
	e, err := models.SpendInput{FundingLineID: fl.ID, AwardID: &a.ID, PayeeID: fl.FunderID, Amount: "10.00", IncurredOn: "2024-06-02",
		Category: "services"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(ctx, officer, e, "", nil); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("spend on a pending award: %v", err)
	}
	refusedBy(t, raw(st, `INSERT INTO spend_entries (funding_line_id, award_id, payee_id, amount, incurred_on, category, recorded_by)
		VALUES (?, ?, ?, 10.00, '2024-06-02', 'services', ?)`, fl.ID, a.ID, fl.FunderID, officer.UserID), "spend_award_approved")

	if _, err := st.DecideAward(ctx, officer, a.ID, models.DecisionApproved, ""); !errors.Is(err, models.ErrFourEyes) {
		t.Fatalf("approved by its proposer: %v", err)
	}
	refusedBy(t, raw(st, "UPDATE awards SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", officer.UserID, a.ID), "decision_four_eyes")
	refusedBy(t, raw(st, `INSERT INTO awards (funding_line_id, recipient_id, reference, amount, awarded_on, starts_on, ends_on, status, proposed_by)
		VALUES (?, ?, ?, 1.00, '2024-06-01', '2024-06-01', '2024-06-30', 'approved', ?)`, fl.ID, fl.FunderID, unique("R"), officer.UserID), "awards_decided_once")
	if _, err := st.DecideAward(ctx, officer2, a.ID, models.DecisionRejected, ""); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("rejected without a reason: %v", err)
	}
	got, err := st.DecideAward(ctx, officer2, a.ID, models.DecisionApproved, "")
	if err != nil || got.Status != models.DecisionApproved {
		t.Fatalf("approval by a second officer: %+v %v", got, err)
	}
	if _, err := st.RecordSpend(ctx, officer, e, "", nil); err != nil {
		t.Fatalf("spend on the approved award: %v", err)
	}
	totals, err := st.LineTotals(ctx, fl.ID)
	if err != nil || !totals[fl.ID].Committed.Equal(decimal.RequireFromString("600.00")) {
		t.Fatalf("committed = %v %v", totals[fl.ID].Committed, err)
	}
}
