package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// TestDashboardChartIsTheLedgersMonths: after a random walk of spend
// recorded, approved, rejected and reversed, and a line with approved spend
// cancelled, the dashboard's monthly chart for every year and quarter, over
// every programme and for each, is the ledger's approved spend by month on
// the lines the reports count, whether the monthly totals it reads are
// compacted or not; and its lines' total is the budget report's by line.
func TestDashboardChartIsTheLedgersMonths(t *testing.T) {
	// A database of its own: the chart over every programme counts every line.
	st, err := store.Open(context.Background(), pgtest.FreshMigrated(t))
	must(t, err)
	defer st.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	w := newWorld(t, st, rng)
	var pending, approved []int64
	for i := range 200 {
		w.step(t, rng, &pending, &approved)
		if i == 100 {
			if _, err := st.CompactMonthTotals(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(approved) < 10 {
		t.Fatalf("only %d approved entries; the test needs more to mean anything", len(approved))
	}
	// Cancel a line with approved spend: its spend stays in the ledger and
	// the totals, and leaves the chart.
	var cancelled int64
	must(t, st.DB().NewRaw(`SELECT funding_line_id FROM spend_entries WHERE status = 'approved' ORDER BY id LIMIT 1`).Scan(ctx, &cancelled))
	_, err = st.ChangeFundingLineStatus(ctx, w.maker, cancelled, models.StatusCancelled, "Withdrawn")
	must(t, err)
	check := func(stage string) {
		t.Helper()
		if drift, err := st.MonthTotalsDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("%s: the monthly totals differ from the ledger (%v): %+v", stage, err, drift)
		}
		scopes := []store.ReportScope{{}}
		for _, p := range w.programmes {
			scopes = append(scopes, store.ReportScope{ProgrammeID: p.ID})
		}
		months := 0
		for fy := models.FinancialYear(2023); fy <= 2025; fy++ {
			for q := models.Quarter(0); q <= 4; q++ {
				p := models.PeriodOf(fy, q)
				for _, scope := range scopes {
					var want []store.MonthAmount
					must(t, st.DB().NewRaw(`SELECT date_trunc('month', e.incurred_on)::date AS month, sum(e.amount) AS amount
						FROM spend_entries e JOIN funding_lines fl ON fl.id = e.funding_line_id
						WHERE e.status = 'approved' AND fl.status IN ('approved', 'active', 'closed') AND e.incurred_on BETWEEN ? AND ?
						  AND (? = 0 OR fl.programme_id = ?)
						GROUP BY 1`, p.Start, p.End, scope.ProgrammeID, scope.ProgrammeID).Scan(ctx, &want))
					byMonth := map[string]decimal.Decimal{}
					for _, m := range want {
						byMonth[m.Month.Format("2006-01")] = m.Amount
					}
					q := report.Query{Period: p, AsOf: time.Date(2024, 11, 22, 0, 0, 0, 0, time.UTC), GroupBy: report.ByProgramme, Scope: scope}
					d, err := report.DashboardReport(ctx, st, q, 5, 5)
					must(t, err)
					// The lines' total is the budget report's by funding line.
					q.GroupBy = report.ByFundingLine
					byLine, err := report.BudgetReport(ctx, st, q)
					must(t, err)
					lt, bt := d.Lines.Total, byLine.Total
					name := fmt.Sprintf("%s: %s programme %d lines' total", stage, p, scope.ProgrammeID)
					sameMoney(t, name+" budget", lt.Budget, bt.Budget)
					sameMoney(t, name+" spent", lt.Spent, bt.Spent)
					sameMoney(t, name+" forecast", lt.Forecast, bt.Forecast)
					sameMoney(t, name+" variance", lt.Variance, bt.Variance)
					if *lt.RollUp != *bt.RollUp || lt.RAG != bt.RAG || d.AllLines != len(byLine.Groups) {
						t.Fatalf("%s: %s from %+v over %d lines, want %s from %+v over %d", name, lt.RAG, *lt.RollUp, d.AllLines,
							bt.RAG, *bt.RollUp, len(byLine.Groups))
					}
					for _, m := range d.Months {
						key := m.Month.Format("2006-01")
						sameMoney(t, fmt.Sprintf("%s: %s programme %d, %s", stage, p, scope.ProgrammeID, key), m.Spent, byMonth[key])
						if !byMonth[key].IsZero() {
							months++
						}
					}
				}
			}
		}
		if months == 0 {
			t.Fatalf("%s: no month had spend; the test compared nothing", stage)
		}
	}
	check("as recorded")
	removed, err := st.CompactMonthTotals(ctx)
	must(t, err)
	if removed == 0 {
		t.Fatal("compacting after a hundred changes removed no rows")
	}
	var rows, keys int
	must(t, st.DB().NewRaw(`SELECT count(*), count(DISTINCT (month, status)) FROM spend_month_totals`).Scan(ctx, &rows, &keys))
	if rows != keys {
		t.Fatalf("after compacting, %d rows for %d months and statuses", rows, keys)
	}
	check("compacted")
}
