package app

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// openPrivate opens the app on a private cluster of its own in dir/p, with
// the default configuration, closed when the test ends.
func openPrivate(t *testing.T, dir string) *App {
	t.Helper()
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = filepath.Join(dir, "p")
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestBackgroundVerificationFoldsTheMonthlyTotalsAndPrunesMoneyChanges:
// every recording and approval appends to the monthly totals; a turn of the
// background verification folds them to one row a month and status, each
// total as it was and equal to the ledger. A full run also prunes the
// names of the lines whose money moved; an incremental one does not.
func TestBackgroundVerificationFoldsTheMonthlyTotalsAndPrunesMoneyChanges(t *testing.T) {
	ctx := context.Background()
	a := openPrivate(t, t.TempDir())
	fl := storetest.ActiveLine(t, a.Store, storetest.LineSpec{Code: "FOLD", PayeeName: "Fold Trust", Budget: "1000.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	officers := storetest.Officers(t, a.Store, "maker@fold.example", "checker@fold.example")
	for _, amount := range []string{"10.00", "20.00", "30.00"} {
		e := &models.SpendEntry{FundingLineID: fl.ID, PayeeID: fl.Payee.ID, Amount: decimal.RequireFromString(amount),
			IncurredOn: time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC), Category: "other"}
		if _, err := a.Store.RecordSpend(ctx, officers[0], e, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Store.ApproveSpend(ctx, officers[1], e.ID); err != nil {
			t.Fatal(err)
		}
	}
	rows := func() (n int, approved decimal.Decimal) {
		t.Helper()
		if err := a.Store.DB().NewRaw(`SELECT count(*), coalesce(sum(amount) FILTER (WHERE status = 'approved'), 0) FROM spend_month_totals`).
			Scan(ctx, &n, &approved); err != nil {
			t.Fatal(err)
		}
		return n, approved
	}
	before, total := rows()
	if before < 6 || !total.Equal(decimal.RequireFromString("60.00")) {
		t.Fatalf("before folding: %d rows holding %s approved; want a row or two a change, 60.00", before, total)
	}
	a.verifyOnce(ctx, store.TriggerSchedule)
	after, total := rows()
	// June's approved; its pending, netted to nothing, is gone.
	if after != 1 || !total.Equal(decimal.RequireFromString("60.00")) {
		t.Fatalf("after a turn of the verification: %d rows holding %s approved; want one, June's approved, 60.00", after, total)
	}
	if drift, err := a.Store.MonthTotalsDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the folded totals differ from the ledger (%v): %+v", err, drift)
	}

	// That first run was a full one, which also prunes the names of the
	// lines whose money moved; an incremental run leaves them.
	changes := func() (n int, pruned bool) {
		t.Helper()
		if err := a.Store.DB().NewRaw(`SELECT (SELECT count(*) FROM line_money_changes), (SELECT below > '0' FROM line_money_changes_pruned)`).
			Scan(ctx, &n, &pruned); err != nil {
			t.Fatal(err)
		}
		return n, pruned
	}
	if n, pruned := changes(); n != 0 || !pruned {
		t.Fatalf("after a full run: %d changes left, pruned mark raised %v; want none left, raised", n, pruned)
	}
	e := &models.SpendEntry{FundingLineID: fl.ID, PayeeID: fl.Payee.ID, Amount: decimal.RequireFromString("5.00"),
		IncurredOn: time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC), Category: "other"}
	if _, err := a.Store.RecordSpend(ctx, officers[0], e, "", nil); err != nil {
		t.Fatal(err)
	}
	a.verifyOnce(ctx, store.TriggerSchedule)
	if n, _ := changes(); n == 0 {
		t.Fatal("an incremental run pruned the lines' money changes; only full runs should")
	}
}
