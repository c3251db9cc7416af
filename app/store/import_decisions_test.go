package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

// importAmounts imports one entry per amount on fl, as by, and returns the
// import's id.
func importAmounts(t *testing.T, st *store.Store, by models.Actor, fl *models.FundingLine, amounts ...string) int64 {
	t.Helper()
	o, err := st.Organisation(context.Background(), fl.FunderID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(importHeader)
	for i, a := range amounts {
		fmt.Fprintf(&b, "%s,,\"%s\",%s,2024-05-01,services,IMP-%d,Imported,Youth work,Framework rate\n", fl.Code, o.Name, a, i)
	}
	res, err := st.ImportSpend(context.Background(), by, strings.NewReader(b.String()),
		store.ImportOptions{FileName: models.SanitiseFileName(t.Name()) + ".csv", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

func TestApproveImport(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	id := importAmounts(t, st, maker, fl, "120.00", "300.00", "50.50")

	if _, err := st.ApproveImport(ctx, maker, id); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("the importer approved their own import: %v", err)
	}
	if n := count(t, st, `SELECT count(*) FROM audit_events WHERE action = 'authz.denied' AND entity = 'spend_import'
		AND entity_id = ? AND actor_id = ?`, fmt.Sprint(id), maker.UserID); n != 1 {
		t.Fatalf("%d refusals recorded for the importer's own approval, want 1", n)
	}
	d, err := st.ApproveImport(ctx, checker, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Entries != 3 || d.Total.StringFixed(2) != "470.50" || d.Status != models.SpendApproved {
		t.Fatalf("decision %+v", d)
	}
	if n := count(t, st, `SELECT count(*) FROM spend_entries WHERE import_id = ? AND status = 'approved' AND decided_by = ?`, id, checker.UserID); n != 3 {
		t.Fatalf("%d entries approved by the checker, want 3", n)
	}
	if n := count(t, st, `SELECT count(*) FROM audit_events WHERE action = 'spend.approve_import' AND entity_id = ?`, fmt.Sprint(id)); n != 1 {
		t.Fatalf("%d approval events, want 1", n)
	}
	// The event names the entries it decided: this import, this decider, this moment.
	if n := count(t, st, `SELECT count(*) FROM spend_entries e JOIN audit_events a ON a.action = 'spend.approve_import'
		AND a.entity_id = e.import_id::text AND e.decided_by = a.actor_id AND e.decided_at = (a.after->>'decided_at')::timestamptz
		WHERE e.import_id = ?`, id); n != 3 {
		t.Fatalf("the approval event identifies %d of the 3 entries it approved", n)
	}
	imp, err := st.SpendImportByID(ctx, id)
	if err != nil || imp.Approved != 3 || imp.Pending != 0 || !imp.PendingTotal.IsZero() {
		t.Fatalf("import after approval: %+v %v", imp, err)
	}
	if _, err := st.ApproveImport(ctx, checker, id); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("approved twice: %v", err)
	}
	if _, err := st.ApproveImport(ctx, checker, id+1000); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("approving a missing import: %v", err)
	}
	if status, err := st.VerifyAuditChain(ctx); err != nil || !status.OK {
		t.Fatalf("audit chain: %+v %v", status, err)
	}
}

func TestApproveImportKeepsToBudgetAndLimit(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	maker, checker, manager := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceManager)

	fl := line(t, st, "500.00")
	before := record(t, st, maker, fl, "300.00")
	if _, err := st.ApproveSpend(ctx, checker, before.ID); err != nil {
		t.Fatal(err)
	}
	id := importAmounts(t, st, maker, fl, "150.00", "100.00")
	_, err := st.ApproveImport(ctx, checker, id)
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err),
		"funding line "+fl.Code+" has £500.00, with £300.00 approved so far and £250.00 in this import, so it is £50.00 short") {
		t.Fatalf("an import beyond the budget: %v", err)
	}
	if n := count(t, st, "SELECT count(*) FROM spend_entries WHERE import_id = ? AND status = 'pending'", id); n != 2 {
		t.Fatalf("a refused import approval left %d of 2 entries pending", n)
	}
	// The database refuses the same, whoever writes the statement.
	err = raw(st, "UPDATE spend_entries SET status = 'approved', decided_by = ?, decided_at = now() WHERE import_id = ?", checker.UserID, id)
	if err == nil || !strings.Contains(err.Error(), "exceeds the budget 500.00") {
		t.Fatalf("raw approval of the import beyond the budget: %v", err)
	}
	d, err := st.RejectImport(ctx, checker, id, "Duplicated invoices")
	if err != nil || d.Entries != 2 || d.Status != models.SpendRejected {
		t.Fatalf("rejecting the import: %+v %v", d, err)
	}
	if n := count(t, st, "SELECT count(*) FROM spend_entries WHERE import_id = ? AND status = 'rejected' AND rejection_reason = 'Duplicated invoices'", id); n != 2 {
		t.Fatalf("%d entries rejected with the reason, want 2", n)
	}

	big := line(t, st, "500000.00")
	id = importAmounts(t, st, maker, big, "10.00", "100000.01", "100000.00")
	_, err = st.ApproveImport(ctx, checker, id)
	if models.ErrorCode(err) != models.EFORBIDDEN || !strings.Contains(models.ErrorMessage(err), "1 of the 3 entries") ||
		!errors.Is(err, models.ErrAmountAuthority) {
		t.Fatalf("a finance officer approved an import with an entry over the limit: %v", err)
	}
	if d, err := st.ApproveImport(ctx, manager, id); err != nil || d.Entries != 3 {
		t.Fatalf("a finance manager approving the import: %+v %v", d, err)
	}
}

// TestImportApprovalRacesSingleApprovals approves a whole import while other
// officers approve single entries on the same line, which has room for the
// import or for the single entries, not both: the line is never overspent
// and the import is approved whole or not at all.
func TestImportApprovalRacesSingleApprovals(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	amounts := make([]string, 100)
	for i := range amounts {
		amounts[i] = "10.00"
	}
	for round := range 5 {
		fl = line(t, st, "1000.00")
		id := importAmounts(t, st, maker, fl, amounts...)
		singles := make([]*models.SpendEntry, 40)
		for i := range singles {
			singles[i] = record(t, st, maker, fl, "10.00")
		}
		var wg sync.WaitGroup
		var importErr error
		wg.Go(func() { _, importErr = st.ApproveImport(ctx, checker, id) })
		for _, e := range singles {
			wg.Go(func() {
				if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil && models.ErrorCode(err) != models.ECONFLICT {
					t.Errorf("single approval: %v", err)
				}
			})
		}
		wg.Wait()
		spent := count(t, st, "SELECT coalesce(sum(amount), 0)::int FROM spend_entries WHERE funding_line_id = ? AND status = 'approved'", fl.ID)
		fromImport := count(t, st, "SELECT count(*) FROM spend_entries WHERE import_id = ? AND status = 'approved'", id)
		if spent > 1000 {
			t.Fatalf("round %d: £%d approved on a £1,000.00 line", round, spent)
		}
		if fromImport != 0 && fromImport != 100 {
			t.Fatalf("round %d: %d of the import's 100 entries approved: not all or nothing", round, fromImport)
		}
		if (importErr == nil) != (fromImport == 100) {
			t.Fatalf("round %d: import approval returned %v with %d entries approved", round, importErr, fromImport)
		}
	}
}

// TestImportDecisionTakesWhatIsStillPending decides one imported entry on
// its own first: the whole-import decision takes the rest, and the ledger
// still matches the audit trail entry by entry.
func TestImportDecisionTakesWhatIsStillPending(t *testing.T) {
	ctx := context.Background()
	st := FreshStore(t)
	fl := line(t, st, "1000.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	id := importAmounts(t, st, maker, fl, "10.00", "20.00", "30.00")
	var first int64
	if err := st.DB().NewRaw("SELECT min(id) FROM spend_entries WHERE import_id = ?", id).Scan(ctx, &first); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RejectSpend(ctx, checker, first, "Not ours"); err != nil {
		t.Fatal(err)
	}
	d, err := st.ApproveImport(ctx, checker, id)
	if err != nil || d.Entries != 2 || d.Total.StringFixed(2) != "50.00" {
		t.Fatalf("approving the rest of the import: %+v %v", d, err)
	}
	imp, err := st.SpendImportByID(ctx, id)
	if err != nil || imp.Approved != 2 || imp.Rejected != 1 || imp.Pending != 0 {
		t.Fatalf("the import after both decisions: %+v %v", imp, err)
	}
	if l, err := st.VerifyLedger(ctx); err != nil || !l.OK {
		t.Fatalf("the ledger against its audit trail: %+v %v", l, err)
	}
}
