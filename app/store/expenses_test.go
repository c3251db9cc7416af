package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/models"
)

// TestOfficeHolderExpensesAreDecidedByASecondPerson: an expense is
// recorded pending, audited, and approved or rejected once by someone
// other than its recorder within the scheme of delegation (kind
// office_holder_expense); only approved ones are published. Go refuses the
// breaches by name, and PostgreSQL refuses the same through raw SQL as the
// application role.
func TestOfficeHolderExpensesAreDecidedByASecondPerson(t *testing.T) {
	ctx := context.Background()
	st := MustStore(t)
	maker, checker, board := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleBoardMember)
	record := func(amount string) *models.OfficeHolderExpense {
		t.Helper()
		e, err := models.OfficeHolderExpenseInput{OfficeHolder: "Alex Morgan (fictional)", Office: "Deputy Mayor", IncurredOn: "2031-06-04",
			Category: "travel", Description: unique("Rail fare "), Amount: amount}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RecordOfficeHolderExpenses(ctx, maker, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := record("86.40")
	if e.Status != models.DecisionPending || e.ID == 0 {
		t.Fatalf("recorded pending: %+v", e)
	}
	var events int
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE action = 'office_holder_expense.record' AND entity_id = ?::text", e.ID).
		Scan(ctx, &events); err != nil || events != 1 {
		t.Fatalf("the recording is audited: %d %v", events, err)
	}
	june := func() []models.OfficeHolderExpense {
		t.Helper()
		es, err := st.OfficeHolderExpenses(ctx, time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2031, 6, 30, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	if len(june()) != 0 {
		t.Fatalf("a pending expense is not published: %+v", june())
	}

	// Go: not the recorder, not a role without authority, a reason to reject.
	if _, err := st.DecideOfficeHolderExpense(ctx, maker, e.ID, models.DecisionApproved, ""); !errors.Is(err, models.ErrFourEyes) {
		t.Fatalf("the recorder approving: %v", err)
	}
	if _, err := st.DecideOfficeHolderExpense(ctx, board, e.ID, models.DecisionApproved, ""); !errors.Is(err, models.ErrRoleAuthority) {
		t.Fatalf("a board member approving: %v", err)
	}
	if _, err := st.DecideOfficeHolderExpense(ctx, checker, e.ID, models.DecisionRejected, " "); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("a rejection without a reason: %v", err)
	}
	// PostgreSQL: the same, and nothing else about an expense changes.
	decide := "UPDATE office_holder_expenses SET status = ?, decided_by = ?, decided_at = now(), decision_reason = ? WHERE id = ?"
	wantConstraint(t, raw(st, decide, "approved", maker.UserID, nil, e.ID), "decision_four_eyes")
	wantConstraint(t, raw(st, decide, "approved", board.UserID, nil, e.ID), "decision_role_authority")
	wantConstraint(t, raw(st, decide, "rejected", checker.UserID, " ", e.ID), "office_holder_expenses_decided_once")
	wantConstraint(t, raw(st, decide, "withdrawn", checker.UserID, nil, e.ID), "decision_four_eyes")
	// The application may not touch the amount at all; the owner, who may,
	// is stopped by the trigger.
	var pgErr *pgconn.PgError
	if err := raw(st, "UPDATE office_holder_expenses SET amount = 8640.00 WHERE id = ?", e.ID); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Fatalf("the application changing an amount: %v", err)
	}
	wantConstraint(t, asOwner(t, "UPDATE office_holder_expenses SET amount = 8640.00 WHERE id = ?", e.ID), "office_holder_expenses_decided_once")
	wantConstraint(t, raw(st, `INSERT INTO office_holder_expenses (office_holder, office, incurred_on, category, amount, recorded_by, status, decided_by, decided_at)
		VALUES ('Alex Morgan (fictional)', 'Deputy Mayor', '2031-06-05', 'travel', 10.00, ?, 'approved', ?, now())`, maker.UserID, checker.UserID),
		"office_holder_expenses_decided_once")

	approved, err := st.DecideOfficeHolderExpense(ctx, checker, e.ID, models.DecisionApproved, "")
	if err != nil || approved.Status != models.DecisionApproved || approved.DecidedBy == nil || *approved.DecidedBy != checker.UserID {
		t.Fatalf("a second officer approves: %+v %v", approved, err)
	}
	if es := june(); len(es) != 1 || es[0].ID != e.ID {
		t.Fatalf("the approved expense is published: %+v", es)
	}
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE action = 'office_holder_expense.approve' AND entity_id = ?::text", e.ID).
		Scan(ctx, &events); err != nil || events != 1 {
		t.Fatalf("the approval is audited: %d %v", events, err)
	}
	if _, err := st.DecideOfficeHolderExpense(ctx, checker, e.ID, models.DecisionRejected, "Changed my mind"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("decided once: %v", err)
	}
	wantConstraint(t, raw(st, decide, "rejected", checker.UserID, "Changed my mind", e.ID), "office_holder_expenses_decided_once")
	if err := raw(st, "DELETE FROM office_holder_expenses WHERE id = ?", e.ID); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Fatalf("never deleted: %v", err)
	}

	// A rejection keeps its reason and is not published.
	r := record("31.75")
	rejected, err := st.DecideOfficeHolderExpense(ctx, checker, r.ID, models.DecisionRejected, "No receipt")
	if err != nil || rejected.Status != models.DecisionRejected || rejected.DecisionReason == nil || *rejected.DecisionReason != "No receipt" {
		t.Fatalf("rejected with its reason: %+v %v", rejected, err)
	}
	if es := june(); len(es) != 1 {
		t.Fatalf("a rejected expense is not published: %+v", es)
	}
	// Each pending expense is on the checker's approvals list, not the maker's.
	w := record("24.60")
	for who, want := range map[string]bool{"checker": true, "maker": false} {
		a := checker
		if who == "maker" {
			a = maker
		}
		as, err := st.Approvals(ctx, a.UserID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range as {
			found = found || (x.Entity == "office_holder_expense" && x.ID == w.ID)
		}
		if found != want {
			t.Errorf("%s's approvals hold the expense: %v, want %v", who, found, want)
		}
	}
}
