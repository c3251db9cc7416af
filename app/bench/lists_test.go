package bench_test

import (
	"context"
	"testing"

	"granttrack/app/bench"
	"granttrack/app/pgtest"
	"granttrack/app/server"
	"granttrack/app/store"
)

// TestListBenchSeedsTheAwardAndTimesEveryPage seeds a small data set in a
// database of its own, adds the list pages' award with its spend (the
// rollup kept in step), and times each page and its raw query.
func TestListBenchSeedsTheAwardAndTimesEveryPage(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.FreshMigrated(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	owner, err := store.Open(ctx, pgtest.Owner(dsn))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := bench.SeedReportData(ctx, st, owner, bench.ReportSize{Lines: 30, Entries: 3000, Indicators: 2}, 2022); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second seed finds the award and adds nothing
		if err := bench.SeedListData(ctx, st, owner); err != nil {
			t.Fatal(err)
		}
	}
	var awards, entries int
	if err := st.DB().NewRaw(`SELECT (SELECT count(*) FROM awards WHERE status = 'approved'),
		(SELECT count(*) FROM spend_entries WHERE award_id IS NOT NULL AND status = 'approved')`).Scan(ctx, &awards, &entries); err != nil {
		t.Fatal(err)
	}
	if awards != 1 || entries != 1000 {
		t.Fatalf("seeded %d awards with %d entries", awards, entries)
	}
	if drift, err := st.MonthlyRollupDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the seeded rollup differs from the ledger (%v): %v", err, drift)
	}
	if drift, err := st.YearlyRollupDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the yearly rollup differs from the ledger after seeding the award's entries: %v %v", drift, err)
	}
	if drift, err := st.MonthTotalsDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the monthly totals differ from the ledger after seeding (%v): %+v", err, drift)
	}
	srv, err := server.New(server.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	timings, err := bench.Lists(ctx, st, srv, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(timings) != 10 {
		t.Fatalf("%d timings, want a page and its raw query for each of 5 pages", len(timings))
	}
	for _, tm := range timings {
		t.Log(tm)
		if len(tm.Runs) != 2 || tm.Median() <= 0 {
			t.Errorf("%s: %v", tm.Name, tm.Runs)
		}
	}
}
