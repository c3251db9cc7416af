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

// TestYearlyRollupIsKeptByTheDatabase: recording, approving, rejecting and
// reversing spend in two financial years leaves the yearly rollup equal to
// the ledger, row by row, and the application role can neither write it
// nor run its trigger functions.
func TestYearlyRollupIsKeptByTheDatabase(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	a := spendOn(t, st, maker, fl, "100.00", "2024-05-01")
	b := spendOn(t, st, maker, fl, "40.00", "2025-03-31")
	c := spendOn(t, st, maker, fl, "7.50", "2024-04-01")
	for _, id := range []int64{a.ID, b.ID} {
		if _, err := st.ApproveSpend(ctx, checker, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RejectSpend(ctx, checker, c.ID, "not ours"); err != nil {
		t.Fatal(err)
	}
	rev, err := st.ReverseSpend(ctx, checker, a.ID, "correction")
	if err != nil {
		t.Fatal(err)
	}
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
	for _, c := range []struct{ name, sql string }{
		{"ErrRollupUpdated", "UPDATE spend_yearly SET amount = amount + 1 WHERE funding_line_id = ?"},
		{"ErrRollupInserted", "INSERT INTO spend_yearly (funding_line_id, financial_year, status, reversal, amount, entries) VALUES (?, 2030, 'approved', false, 1, 1)"},
		{"ErrRollupDeleted", "DELETE FROM spend_yearly WHERE funding_line_id = ?"},
		{"ErrTriggerFunctionCalled", "SELECT spend_yearly_add() WHERE ? > 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := raw(st, c.sql, fl.ID)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "0A000") {
				t.Fatalf("err = %v, want a refusal (insufficient privilege)", err)
			}
		})
	}
}

// TestYearlyRollupUnderConcurrentApprovals: approvals of entries on two
// lines and two years, from many goroutines in random order, neither
// deadlock nor lose an update: the rollup ends equal to the ledger.
func TestYearlyRollupUnderConcurrentApprovals(t *testing.T) {
	st := MustStore(t)
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
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		work = make(chan int64)
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if _, err := st.ApproveSpend(ctx, checker, id); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d approvals failed, first: %v", len(errs), errs[0])
	}
	if d := driftOn(t, st, lines[0].ID, lines[1].ID); len(d) > 0 {
		t.Fatalf("the rollup differs from the ledger after concurrent approvals: %+v", d)
	}
	var approved decimal.Decimal
	if err := st.DB().NewRaw("SELECT sum(amount) FROM spend_yearly WHERE funding_line_id IN (?, ?) AND status = 'approved'",
		lines[0].ID, lines[1].ID).Scan(ctx, &approved); err != nil || !approved.Equal(decimal.RequireFromString("150.00")) {
		t.Fatalf("approved in the rollup: %s (%v), want 150.00", approved, err)
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
