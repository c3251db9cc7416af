package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// trancheAward makes an approved £10,000.00 award on a £20,000.00 line in
// three tranches: £3,333.33 due 2024-06-01, £3,333.33 due 2024-09-01 and
// £3,333.34 due 2024-12-01.
func trancheAward(t *testing.T, st *store.Store) (*models.FundingLine, *models.Award) {
	t.Helper()
	fl := line(t, st, "20000.00")
	a, err := models.AwardInput{RecipientID: fl.FunderID, Reference: unique("TR"), Amount: "10000.00", AwardedOn: "2024-06-01",
		StartsOn: "2024-06-01", EndsOn: "2025-03-31", Tranches: []models.TrancheInput{
			{DueOn: "2024-06-01", Amount: "3333.33"}, {DueOn: "2024-09-01", Amount: "3333.33"}, {DueOn: "2024-12-01", Amount: "3333.34"}}}.Validate(fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := storetest.Award(context.Background(), st, a); err != nil {
		t.Fatal(err)
	}
	a, err = st.Award(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return fl, a
}

func trancheSpend(fl *models.FundingLine, a *models.Award, tr *models.Tranche, amount, on string) (*models.SpendEntry, error) {
	return models.SpendInput{FundingLineID: fl.ID, AwardID: &a.ID, TrancheID: &tr.ID, PayeeID: fl.FunderID, Amount: amount,
		IncurredOn: on, Category: "grant_payment", Purpose: "Tranche", VFMReason: "Scheduled"}.Validate()
}

// TestTranchePaymentRules breaks the tranche rules through the store and
// through raw SQL as the application role: spend beyond a tranche's
// outstanding amount, spend on a withheld tranche, a tranche marked paid by
// hand, and a move the state machine does not allow. A tranche becomes paid
// when approved spend naming it reaches its amount, and due again when a
// reversal takes it below.
func TestTranchePaymentRules(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	fl, a := trancheAward(t, st)
	t1, t2, t3 := a.Tranches[0], a.Tranches[1], a.Tranches[2]

	t.Run("ErrBeyondTrancheInGo", func(t *testing.T) {
		e, err := trancheSpend(fl, a, t3, "6000.00", "2024-12-01")
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.RecordSpend(ctx, maker, e, "", nil)
		msg := models.ErrorMessage(err)
		if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(msg, "tranche 3 of award "+a.Reference) ||
			!strings.Contains(msg, "£3,333.34 is outstanding") || !strings.Contains(msg, "£2,666.66 is too much") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrBeyondTrancheInSQL", func(t *testing.T) {
		err := raw(st, `INSERT INTO spend_entries (funding_line_id, award_id, tranche_id, payee_id, amount, incurred_on, category,
			recorded_by, status, decided_by, decided_at) VALUES (?, ?, ?, ?, 6000.00, '2024-12-01', 'grant_payment', ?, 'approved', ?, now())`,
			fl.ID, a.ID, t3.ID, fl.FunderID, maker.UserID, checker.UserID)
		refusedBy(t, err, "spend_within_tranche")
	})
	t.Run("PaidWhenSpendReachesTheAmount", func(t *testing.T) {
		e, _ := trancheSpend(fl, a, t1, "3333.33", "2024-06-02")
		if _, err := st.RecordSpend(ctx, maker, e, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
			t.Fatal(err)
		}
		got, err := st.Tranche(ctx, t1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != models.TranchePaid || got.PaidOn == nil || got.PaidOn.Format(models.DateLayout) != "2024-06-02" || !got.Outstanding().IsZero() {
			t.Fatalf("tranche 1 = %+v, want paid on 2024-06-02", got)
		}
		aw, err := st.Award(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		p := aw.Payments(time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC))
		if p.Paid.StringFixed(2) != "3333.33" || p.Outstanding.StringFixed(2) != "6666.67" || p.Overdue.StringFixed(2) != "3333.33" {
			t.Fatalf("payments on 2024-10-01 = %+v, want paid 3333.33, outstanding 6666.67, overdue 3333.33 (tranche 2)", p)
		}

		// The ledger alone says paid: not a person, and not back by hand.
		refusedBy(t, raw(st, `UPDATE tranches SET status = 'paid' WHERE id = ?`, t2.ID), "tranche_paid_by_spend")
		refusedBy(t, raw(st, `UPDATE tranches SET status = 'withheld', withheld_reason = 'x' WHERE id = ?`, t1.ID), "tranche_status_transition")
		if err := raw(st, `UPDATE tranches SET amount = 9999.00 WHERE id = ?`, t1.ID); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("the application changed a tranche's amount: %v", err)
		}
		_, err = st.ChangeTrancheStatus(ctx, maker, t1.ID, models.TrancheWithheld, nil, "late report")
		if models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("withheld a paid tranche: %v", err)
		}

		// A reversal, once approved, makes it due again.
		rev, err := st.ReverseSpend(ctx, maker, e.ID, "paid twice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApproveSpend(ctx, checker, rev.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.Tranche(ctx, t1.ID); got.Status != models.TrancheDue || got.PaidOn != nil {
			t.Fatalf("tranche 1 after its reversal = %+v, want due", got)
		}
	})
	t.Run("ErrWithheldTranche", func(t *testing.T) {
		got, err := st.ChangeTrancheStatus(ctx, maker, t2.ID, models.TrancheWithheld, nil, "monitoring report missing")
		if err != nil || got.Status != models.TrancheWithheld {
			t.Fatalf("withhold: %v %+v", err, got)
		}
		e, _ := trancheSpend(fl, a, t2, "100.00", "2024-09-02")
		_, err = st.RecordSpend(ctx, maker, e, "", nil)
		if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "withheld") {
			t.Fatalf("spend on a withheld tranche: %v", err)
		}
		err = raw(st, `INSERT INTO spend_entries (funding_line_id, award_id, tranche_id, payee_id, amount, incurred_on, category, recorded_by)
			VALUES (?, ?, ?, ?, 100.00, '2024-09-02', 'grant_payment', ?)`, fl.ID, a.ID, t2.ID, fl.FunderID, maker.UserID)
		refusedBy(t, err, "spend_tranche_withheld")
		refusedBy(t, raw(st, `UPDATE tranches SET status = 'claimed', claimed_on = '2024-09-01', withheld_reason = NULL WHERE id = ?`, t2.ID),
			"tranche_status_transition")
		if got, err := st.ChangeTrancheStatus(ctx, maker, t2.ID, models.TrancheDue, nil, "report arrived"); err != nil || got.Status != models.TrancheDue {
			t.Fatalf("release: %v %+v", err, got)
		}
		claimed := time.Date(2024, 9, 3, 0, 0, 0, 0, time.UTC)
		if got, err := st.ChangeTrancheStatus(ctx, maker, t2.ID, models.TrancheClaimed, &claimed, ""); err != nil || got.Status != models.TrancheClaimed {
			t.Fatalf("claim: %v %+v", err, got)
		}
	})
}

// TestPaymentRuns: one officer proposes a run of due tranches, another
// approves it, and the approval records an approved spend entry per tranche
// that the audit trail accounts for; the proposer cannot approve it; a run
// one of whose payments breaks a ledger rule pays nothing; the database
// refuses a run approved without its entries, or a tranche that cannot be paid.
func TestPaymentRuns(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	proposer, approver, err := storetest.Deciders(ctx, st, unique("run"))
	if err != nil {
		t.Fatal(err)
	}
	_, a := trancheAward(t, st)
	t1, t2, t3 := a.Tranches[0], a.Tranches[1], a.Tranches[2]
	payOn := time.Date(2024, 9, 2, 0, 0, 0, 0, time.UTC)
	paidByRuns := map[int64]bool{}

	t.Run("ApprovedPaysEveryTranche", func(t *testing.T) {
		run, err := st.ProposePaymentRun(ctx, proposer, payOn, "September run", []int64{t1.ID, t2.ID})
		if err != nil {
			t.Fatal(err)
		}
		if run.Total().StringFixed(2) != "6666.66" || !strings.HasPrefix(run.Reference, "PR-") {
			t.Fatalf("run = %+v", run)
		}
		_, err = st.ProposePaymentRun(ctx, proposer, payOn, "", []int64{t1.ID})
		if models.ErrorCode(err) != models.EINVALID || !strings.Contains(models.ErrorMessage(err)+fieldMessages(err), "already in payment run "+run.Reference) {
			t.Fatalf("a tranche in two runs: %v", err)
		}
		if _, err := st.DecidePaymentRun(ctx, proposer, run.ID, models.DecisionApproved, ""); models.ErrorCode(err) != models.EFORBIDDEN {
			t.Fatalf("the proposer approved their own run: %v", err)
		}
		as, err := st.Approvals(ctx, approver.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if !hasApproval(as, "payment_run", run.ID) {
			t.Fatalf("the run is not awaiting the approver: %+v", as)
		}
		got, err := st.DecidePaymentRun(ctx, approver, run.ID, models.DecisionApproved, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != models.DecisionApproved {
			t.Fatalf("run = %+v", got)
		}
		for _, it := range got.Items {
			e, err := st.SpendEntry(ctx, *it.SpendEntryID)
			if err != nil {
				t.Fatal(err)
			}
			if e.Status != models.SpendApproved || e.Reference != it.Reference || !e.Amount.Equal(it.Amount) || e.RecordedBy != proposer.UserID ||
				*e.DecidedBy != approver.UserID || *e.TrancheID != it.TrancheID {
				t.Fatalf("entry %+v for payment %+v", e, it)
			}
			paidByRuns[e.ID] = true
		}
		for _, id := range []int64{t1.ID, t2.ID} {
			if tr, _ := st.Tranche(ctx, id); tr.Status != models.TranchePaid {
				t.Fatalf("tranche %d is %s after the run", id, tr.Status)
			}
		}
		if _, err := st.DecidePaymentRun(ctx, approver, run.ID, models.DecisionRejected, "again"); models.ErrorCode(err) != models.ECONFLICT {
			t.Fatalf("decided twice: %v", err)
		}
	})
	t.Run("ErrAllOrNothing", func(t *testing.T) {
		_, b := trancheAward(t, st)
		run, err := st.ProposePaymentRun(ctx, proposer, payOn, "", []int64{b.Tranches[0].ID, b.Tranches[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ChangeTrancheStatus(ctx, proposer, b.Tranches[1].ID, models.TrancheWithheld, nil, "dispute"); err != nil {
			t.Fatal(err)
		}
		_, err = st.DecidePaymentRun(ctx, approver, run.ID, models.DecisionApproved, "")
		if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "nothing in run "+run.Reference+" is paid") {
			t.Fatalf("approved a run with a withheld tranche: %v", err)
		}
		if tr, _ := st.Tranche(ctx, b.Tranches[0].ID); tr.Status != models.TrancheDue || !tr.Paid.IsZero() {
			t.Fatalf("the good payment was made anyway: %+v", tr)
		}
		// Raw SQL: approving without the entries, or adding a withheld tranche.
		refusedBy(t, raw(st, `UPDATE payment_runs SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?`, approver.UserID, run.ID),
			"payment_run_paid_in_full")
		refusedBy(t, raw(st, `INSERT INTO payment_run_items (payment_run_id, tranche_id, amount) VALUES (?, ?, 3333.33)`, run.ID, b.Tranches[1].ID),
			"payment_run_tranche_payable")
		refusedBy(t, raw(st, `INSERT INTO payment_run_items (payment_run_id, tranche_id, amount) VALUES (?, ?, 3000.00)`, run.ID, b.Tranches[2].ID),
			"payment_run_tranche_payable")
	})
	t.Run("WithdrawAndReject", func(t *testing.T) {
		run, err := st.ProposePaymentRun(ctx, proposer, payOn, "", []int64{t3.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DecidePaymentRun(ctx, approver, run.ID, models.DecisionWithdrawn, "mine"); models.ErrorCode(err) != models.EFORBIDDEN {
			t.Fatalf("someone else withdrew the run: %v", err)
		}
		if got, err := st.DecidePaymentRun(ctx, proposer, run.ID, models.DecisionWithdrawn, ""); err != nil || got.Status != models.DecisionWithdrawn {
			t.Fatalf("withdraw: %v", err)
		}
		again, err := st.ProposePaymentRun(ctx, proposer, payOn, "", []int64{t3.ID})
		if err != nil {
			t.Fatalf("a withdrawn run's tranche cannot be proposed again: %v", err)
		}
		if _, err := st.DecidePaymentRun(ctx, approver, again.ID, models.DecisionRejected, ""); models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("rejected without a reason: %v", err)
		}
		if got, err := st.DecidePaymentRun(ctx, approver, again.ID, models.DecisionRejected, "wrong bank details"); err != nil || got.Status != models.DecisionRejected {
			t.Fatalf("reject: %v", err)
		}
	})
	// The audit trail accounts for every entry a run recorded.
	status, err := st.VerifyLedger(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range status.Findings {
		if paidByRuns[f.EntryID] {
			t.Errorf("ledger finding on a run's entry: %+v", f)
		}
	}
}

func hasApproval(as []store.Approval, entity string, id int64) bool {
	for _, a := range as {
		if a.Entity == entity && a.ID == id {
			return true
		}
	}
	return false
}

func fieldMessages(err error) string {
	var out string
	if e, ok := err.(*models.Error); ok {
		for _, f := range e.Fields {
			out += " " + f.Message
		}
	}
	return out
}

// TestConfirmPayments reads the finance system's export back: a run's
// payment with the same amount is confirmed once, and a different amount,
// an unknown reference and a run not yet approved are each listed; a file
// with a bad row is refused whole, row by row, and records nothing.
func TestConfirmPayments(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	proposer, approver, err := storetest.Deciders(ctx, st, unique("confirm"))
	if err != nil {
		t.Fatal(err)
	}
	_, a := trancheAward(t, st)
	payOn := time.Date(2024, 12, 2, 0, 0, 0, 0, time.UTC)
	run, err := st.ProposePaymentRun(ctx, proposer, payOn, "", []int64{a.Tranches[0].ID, a.Tranches[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := st.ProposePaymentRun(ctx, proposer, payOn, "", []int64{a.Tranches[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if run, err = st.DecidePaymentRun(ctx, approver, run.ID, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
	one, two := run.Items[0].Reference, run.Items[1].Reference

	_, err = st.ConfirmPayments(ctx, proposer, strings.NewReader("reference,date,amount\r\n"+one+",2024-12-40,3333.33\r\n"+two+",2024-12-03,12.345\r\n"))
	var ie *store.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 2 || ie.Rows[0].Field != "date" || ie.Rows[1].Field != "amount" || ie.Rows[1].Line != 3 {
		t.Fatalf("a bad file: %v", err)
	}
	file := "reference,date,amount\r\n" + one + ",2024-12-03,3333.33\r\n" + two + ",2024-12-03,3333.00\r\n" +
		pending.Items[0].Reference + ",2024-12-03,3333.34\r\nNOT-OURS-1,2024-12-03,10.00\r\n"
	report, err := st.ConfirmPayments(ctx, proposer, strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"confirmed", "amount_mismatch", "not_paid", "unmatched"}
	for i, w := range want {
		if report.Rows[i].Outcome != w {
			t.Fatalf("row %d: %+v, want %s", i, report.Rows[i], w)
		}
	}
	if !strings.Contains(report.Rows[1].Detail, "£3,333.00") || !strings.Contains(report.Rows[1].Detail, "£3,333.33") {
		t.Fatalf("mismatch detail: %q", report.Rows[1].Detail)
	}
	got, err := st.PaymentRunPayments(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].ConfirmedOn == nil || got[0].ConfirmedOn.Format(models.DateLayout) != "2024-12-03" || got[1].ConfirmedOn != nil {
		t.Fatalf("confirmations = %+v / %+v", got[0].ConfirmedOn, got[1].ConfirmedOn)
	}
	report, err = st.ConfirmPayments(ctx, proposer, strings.NewReader(file))
	if err != nil || report.Rows[0].Outcome != "already_confirmed" {
		t.Fatalf("again: %v %+v", err, report)
	}
	// The database keeps a confirmation once.
	refusedBy(t, raw(st, `UPDATE payment_run_items SET confirmed_on = '2025-01-01', confirmed_amount = 1.00 WHERE id = ?`, run.Items[0].ID),
		"payment_run_items_paid_by_entry")
}
