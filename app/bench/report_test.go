package bench_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/bench"
	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/models"
)

// TestReportBenchSeedsWhatItSaysAndTimesAll seeds a small data set and
// checks it holds what was asked, that the reports read it, and that every
// measurement ran.
func TestReportBenchSeedsWhatItSaysAndTimesAll(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	owner := mustOwner(t) // seeding switches the ledger's triggers off
	size := bench.ReportSize{Lines: 40, Entries: 4000, Indicators: 5}
	seeded, err := bench.SeedReportData(ctx, st, owner, size, 2022)
	if err != nil || !seeded {
		t.Fatalf("seed: %v %v", seeded, err)
	}
	if again, err := bench.SeedReportData(ctx, st, owner, size, 2022); err != nil || again {
		t.Fatalf("a second seed ran again: %v %v", again, err)
	}
	var lines, entries, measurements int
	err = st.DB().NewRaw(`SELECT
		(SELECT count(*) FROM funding_lines WHERE code LIKE 'RPT-L%'),
		(SELECT count(*) FROM spend_entries WHERE reference LIKE 'RPT-%' AND status = 'approved' AND decided_by <> recorded_by),
		(SELECT count(*) FROM measurements m JOIN indicators i ON i.id = m.indicator_id WHERE i.name LIKE 'Bench indicator %')`).
		Scan(ctx, &lines, &entries, &measurements)
	if err != nil || lines != 40 || entries != 4000 || measurements != 5*60 {
		t.Fatalf("seeded %d lines, %d entries, %d measurements (%v)", lines, entries, measurements, err)
	}
	if drift, err := st.MonthlyRollupDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the seeded rollup differs from the ledger (%v): %v", err, drift)
	}
	if drift, err := st.YearlyRollupDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the seeded yearly rollup differs from the ledger (%v): %+v", err, drift)
	}
	if drift, err := st.MonthTotalsDrift(ctx); err != nil || len(drift) > 0 {
		t.Fatalf("the monthly totals differ from the ledger after seeding (%v): %+v", err, drift)
	}
	// The year's report over one bench programme equals the raw sum.
	var progID int64
	var raw decimal.Decimal
	p := models.PeriodOf(2024, 0)
	if err := st.DB().NewRaw(`SELECT fl.programme_id, sum(e.amount) FROM spend_entries e JOIN funding_lines fl ON fl.id = e.funding_line_id
		JOIN programmes pr ON pr.id = fl.programme_id WHERE pr.code = 'RPT-P01' AND e.incurred_on BETWEEN ? AND ? GROUP BY 1`, p.Start, p.End).
		Scan(ctx, &progID, &raw); err != nil {
		t.Fatal(err)
	}
	b, err := report.BudgetReport(ctx, st, report.Query{Period: p, AsOf: time.Now(), GroupBy: report.ByFundingLine, Scope: store.ReportScope{ProgrammeID: progID}})
	if err != nil || !b.Total.Spent.Equal(raw) || !raw.IsPositive() {
		t.Fatalf("report spent %v, raw %s (%v)", b.Total.Spent, raw, err)
	}
	srv, err := server.New(server.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	timings, err := bench.Reports(ctx, st, srv, 2024, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(timings) != 8 || timings[7].Raw != &timings[6] {
		t.Fatalf("%d timings", len(timings))
	}
	// The dashboard after a change was timed after spend was recorded,
	// once a run, each on another line.
	var changes, changedLines int
	if err := st.DB().NewRaw(`SELECT count(*), count(DISTINCT funding_line_id) FROM spend_entries WHERE purpose = 'Bench change' AND status = 'pending'`).
		Scan(ctx, &changes, &changedLines); err != nil || changes != 2 || changedLines != 2 {
		t.Fatalf("spend recorded for the dashboard after a change: %d entries on %d lines (%v), want 2 on 2", changes, changedLines, err)
	}
	for _, tm := range timings {
		if len(tm.Runs) != 2 || tm.Median() <= 0 {
			t.Errorf("%s: %v", tm.Name, tm.Runs)
		}
	}
	// The alerts list against the raw query of its figures: every seeded
	// line spends far below its year's budget, so each is red.
	alerts, err := bench.Alerts(ctx, st, 2024, 2)
	if err != nil || len(alerts) != 2 {
		t.Fatalf("alerts timings %v (%v)", alerts, err)
	}
	for _, tm := range alerts {
		t.Log(tm)
		if len(tm.Runs) != 2 || tm.Median() <= 0 {
			t.Errorf("%s: %v", tm.Name, tm.Runs)
		}
	}
	board, err := st.UserByEmail(ctx, "bench-board@bench.example")
	if err != nil {
		t.Fatal(err)
	}
	list, err := report.Alerts(ctx, st, board.ID, models.PeriodOf(2024, 0).End)
	if err != nil {
		t.Fatal(err)
	}
	red := 0
	for _, a := range list {
		if a.Kind == models.AlertRedLine && strings.HasPrefix(a.FundingLineCode, "RPT-L") { // other tests' lines share the database
			red++
		}
	}
	if red != 40 || !strings.Contains(alerts[1].Comment, fmt.Sprintf("%d alerts", len(list))) {
		t.Fatalf("%d red lines of %d alerts; timing says %q", red, len(list), alerts[1].Comment)
	}
}
