package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/models"
)

// yearlyRow is one spend_yearly row as the test reads it.
type yearlyRow struct {
	FinancialYear int
	Status        string
	Reversal      bool
	Amount        decimal.Decimal
	Entries       int64
}

func yearlyRows(t *testing.T, st *store.Store, lineID int64) []yearlyRow {
	t.Helper()
	var out []yearlyRow
	if err := st.DB().NewRaw(`SELECT financial_year, status, reversal, amount, entries FROM spend_yearly
		WHERE funding_line_id = ? AND entries <> 0 ORDER BY 1, 2, 3`, lineID).Scan(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// driftOn is the yearly rollup's drift on the given lines only, since other
// tests in the package tamper with their own lines.
func driftOn(t *testing.T, st *store.Store, lineIDs ...int64) []store.LedgerFinding {
	t.Helper()
	all, err := st.YearlyRollupDrift(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []store.LedgerFinding
	for _, f := range all {
		for _, id := range lineIDs {
			if f.FundingLineID == id {
				out = append(out, f)
			}
		}
	}
	return out
}

// refusedToApp runs each statement, with arg, as the application role and
// expects PostgreSQL to refuse it for want of privilege.
func refusedToApp(t *testing.T, st *store.Store, arg int64, cases []struct{ name, sql string }) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := raw(st, c.sql, arg)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "0A000") {
				t.Fatalf("err = %v, want a refusal (insufficient privilege)", err)
			}
		})
	}
}

// approveRejectReverse records 100.00, 40.00 and 7.50 of spend on fl on the
// days given, approves the first two, rejects the third and records the
// reversal of the first or second (reverse 0 or 1), which it returns.
func approveRejectReverse(t *testing.T, st *store.Store, fl *models.FundingLine, on1, on2, on3 string, reverse int) *models.SpendEntry {
	t.Helper()
	ctx := context.Background()
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	a := spendOn(t, st, maker, fl, "100.00", on1)
	b := spendOn(t, st, maker, fl, "40.00", on2)
	c := spendOn(t, st, maker, fl, "7.50", on3)
	for _, id := range []int64{a.ID, b.ID} {
		if _, err := st.ApproveSpend(ctx, checker, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RejectSpend(ctx, checker, c.ID, "not ours"); err != nil {
		t.Fatal(err)
	}
	rev, err := st.ReverseSpend(ctx, checker, []*models.SpendEntry{a, b}[reverse].ID, "correction")
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// TestYearlyRollupIsKeptByTheDatabase: recording, approving, rejecting and
// reversing spend in two financial years leaves the yearly rollup equal to
// the ledger, row by row, and the application role can neither write it
// nor run its trigger functions.
func TestYearlyRollupIsKeptByTheDatabase(t *testing.T) {
	st := MustStore(t)
	fl := line(t, st, "1000.00")
	rev := approveRejectReverse(t, st, fl, "2024-05-01", "2025-03-31", "2024-04-01", 0)
	fy := int(models.FinancialYearOf(rev.IncurredOn))
	want := []yearlyRow{
		{2024, "approved", false, decimal.RequireFromString("140.00"), 2},
		{2024, "rejected", false, decimal.RequireFromString("7.50"), 1},
		{fy, "pending", true, decimal.RequireFromString("-100.00"), 1},
	}
	got := yearlyRows(t, st, fl.ID)
	if len(got) != len(want) {
		t.Fatalf("rollup rows %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].FinancialYear != want[i].FinancialYear || got[i].Status != want[i].Status || got[i].Reversal != want[i].Reversal ||
			!got[i].Amount.Equal(want[i].Amount) || got[i].Entries != want[i].Entries {
			t.Fatalf("rollup row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if d := driftOn(t, st, fl.ID); len(d) > 0 {
		t.Fatalf("the rollup differs from the ledger: %+v", d)
	}
	refusedToApp(t, st, fl.ID, []struct{ name, sql string }{
		{"ErrRollupUpdated", "UPDATE spend_yearly SET amount = amount + 1 WHERE funding_line_id = ?"},
		{"ErrRollupInserted", "INSERT INTO spend_yearly (funding_line_id, financial_year, status, reversal, amount, entries) VALUES (?, 2030, 'approved', false, 1, 1)"},
		{"ErrRollupDeleted", "DELETE FROM spend_yearly WHERE funding_line_id = ?"},
		{"ErrTriggerFunctionCalled", "SELECT spend_yearly_add() WHERE ? > 0"},
	})
}

// TestRollupsUnderConcurrentApprovalsAndCompaction: approvals of entries
// on two lines and two years, from many goroutines in random order, while
// the monthly totals are compacted again and again, neither deadlock nor
// lose an update: the yearly rollup and the monthly totals end equal to the
// ledger.
func TestRollupsUnderConcurrentApprovalsAndCompaction(t *testing.T) {
	st := FreshStore(t) // the monthly totals are checked whole
	ctx := context.Background()
	lines := []*models.FundingLine{line(t, st, "100000.00"), line(t, st, "100000.00")}
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	var ids []int64
	for i := range 120 {
		day := []string{"2024-06-01", "2025-02-01"}[i%2]
		ids = append(ids, spendOn(t, st, maker, lines[i%3%2], "1.25", day).ID)
	}
	rand.New(rand.NewPCG(3, 5)).Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	var (
		approvals, compactor sync.WaitGroup
		mu                   sync.Mutex
		errs                 []error
		work                 = make(chan int64)
		done                 = make(chan struct{})
		folds                int
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	compactor.Add(1)
	go func() {
		defer compactor.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := st.CompactMonthTotals(ctx); err != nil {
				fail(err)
				return
			}
			folds++
		}
	}()
	for range 16 {
		approvals.Add(1)
		go func() {
			defer approvals.Done()
			for id := range work {
				if _, err := st.ApproveSpend(ctx, checker, id); err != nil {
					fail(err)
				}
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	approvals.Wait()
	close(done)
	compactor.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d approvals or compactions failed, first: %v", len(errs), errs[0])
	}
	if folds < 2 {
		t.Fatalf("the totals were compacted %d times while approving; the test raced nothing", folds)
	}
	if d := driftOn(t, st, lines[0].ID, lines[1].ID); len(d) > 0 {
		t.Fatalf("the rollup differs from the ledger after concurrent approvals: %+v", d)
	}
	if drift, err := st.MonthTotalsDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the monthly totals differ from the ledger after concurrent approvals and compaction (%v): %+v", err, drift)
	}
	for _, table := range []string{"spend_yearly", "spend_month_totals"} {
		var approved decimal.Decimal
		if err := st.DB().NewRaw("SELECT sum(amount) FROM ? WHERE status = 'approved'", bun.Ident(table)).Scan(ctx, &approved); err != nil ||
			!approved.Equal(decimal.RequireFromString("150.00")) {
			t.Fatalf("approved in %s: %s (%v), want 150.00", table, approved, err)
		}
	}
}

// TestVerificationFindsATamperedRollup: a yearly rollup row changed by the
// schema's owner (who alone could) is named, line and year, by the next
// full verification, which the ledger itself passes.
func TestVerificationFindsATamperedRollup(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	e := spendOn(t, st, maker, fl, "60.00", "2024-07-01")
	if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
		t.Fatal(err)
	}
	if run, err := st.Verify(ctx, store.VerifyFull, store.TriggerDemand, nil); err != nil || !run.OK() {
		t.Fatalf("before tampering: %+v %v", run, err)
	}
	pgtest.Tamper(t, st, []string{"spend_yearly"}, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("UPDATE spend_yearly SET amount = 6.00 WHERE funding_line_id = ? AND financial_year = 2024 AND status = 'approved'",
			fl.ID).Exec(ctx)
		return err
	})
	run, err := st.Verify(ctx, store.VerifyFull, store.TriggerDemand, nil)
	if err != nil || run.OK() || !run.ChainOK || run.LedgerOK || run.LedgerFindings != 1 {
		t.Fatalf("after tampering: %+v %v; want one finding", run, err)
	}
	f := run.Findings[0]
	if f.FundingLineID != fl.ID || f.FinancialYear != "2024-25" || !strings.Contains(f.Problem, fl.Code) ||
		!strings.Contains(f.Problem, "holds 6.00") || !strings.Contains(f.Problem, "ledger has 60.00") {
		t.Fatalf("finding %+v does not name the line, the year and both figures", f)
	}
}

// monthTotal is one month's and status's monthly total, its rows added up.
type monthTotal struct {
	Month   string
	Status  string
	Amount  decimal.Decimal
	Entries int64
	Rows    int
}

func monthTotals(t *testing.T, st *store.Store) []monthTotal {
	t.Helper()
	var out []monthTotal
	if err := st.DB().NewRaw(`SELECT to_char(month, 'YYYY-MM') AS month, status, sum(amount) AS amount, sum(entries) AS entries, count(*) AS rows
		FROM spend_month_totals GROUP BY month, status HAVING sum(amount) <> 0 OR sum(entries) <> 0 ORDER BY 1, 2`).Scan(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMonthTotalsAreKeptByTheDatabase: recording, approving, rejecting and
// reversing spend leaves the monthly totals equal to the ledger, before and
// after they are compacted; the application role can compact them but
// neither write them nor run their trigger functions; and a total changed
// by the schema's owner is named, month and status, by the next full
// verification.
func TestMonthTotalsAreKeptByTheDatabase(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	rev := approveRejectReverse(t, st, fl, "2024-05-01", "2024-05-31", "2024-06-15", 1)
	revMonth := rev.IncurredOn.Format("2006-01")
	want := []monthTotal{
		{"2024-05", "approved", decimal.RequireFromString("140.00"), 2, 0},
		{"2024-06", "rejected", decimal.RequireFromString("7.50"), 1, 0},
		{revMonth, "pending", decimal.RequireFromString("-40.00"), 1, 0},
	}
	same := func(stage string, got []monthTotal) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: totals %+v, want %+v", stage, got, want)
		}
		for i := range want {
			if got[i].Month != want[i].Month || got[i].Status != want[i].Status || !got[i].Amount.Equal(want[i].Amount) || got[i].Entries != want[i].Entries {
				t.Fatalf("%s: total %d is %+v, want %+v", stage, i, got[i], want[i])
			}
		}
		if drift, err := st.MonthTotalsDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("%s: the totals differ from the ledger (%v): %+v", stage, err, drift)
		}
	}
	got := monthTotals(t, st)
	same("as recorded", got)
	if got[0].Rows < 2 {
		t.Fatalf("May's approved total is %d row(s); each approval should have appended one", got[0].Rows)
	}
	removed, err := st.CompactMonthTotals(ctx)
	if err != nil || removed == 0 {
		t.Fatalf("compacting removed %d rows (%v)", removed, err)
	}
	got = monthTotals(t, st)
	same("compacted", got)
	for _, m := range got {
		if m.Rows != 1 {
			t.Fatalf("after compacting, %s %s is %d rows", m.Month, m.Status, m.Rows)
		}
	}
	refusedToApp(t, st, fl.ID, []struct{ name, sql string }{
		{"ErrTotalsUpdated", "UPDATE spend_month_totals SET amount = amount + 1 WHERE ? > 0"},
		{"ErrTotalsInserted", "INSERT INTO spend_month_totals (month, status, amount, entries) VALUES ('2030-01-01', 'approved', ?, 1)"},
		{"ErrTotalsDeleted", "DELETE FROM spend_month_totals WHERE ? > 0"},
		{"ErrTriggerFunctionCalled", "SELECT spend_month_totals_add() WHERE ? > 0"},
	})
	pgtest.Tamper(t, st, []string{"spend_month_totals"}, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewRaw("UPDATE spend_month_totals SET amount = 14.00 WHERE month = '2024-05-01' AND status = 'approved'").Exec(ctx)
		return err
	})
	run, err := st.Verify(ctx, store.VerifyFull, store.TriggerDemand, nil)
	if err != nil || run.OK() || !run.ChainOK || run.LedgerOK || run.LedgerFindings != 1 {
		t.Fatalf("after tampering: %+v %v; want one finding", run, err)
	}
	if f := run.Findings[0]; f.FinancialYear != "2024-25" || !strings.Contains(f.Problem, "May 2024, approved") ||
		!strings.Contains(f.Problem, "hold 14.00") || !strings.Contains(f.Problem, "ledger has 140.00") {
		t.Fatalf("finding %+v does not name the month, the status and both figures", f)
	}
}
