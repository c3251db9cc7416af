package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// spendOn records and approves spend on a line, one entry per amount.
func spendOn(t *testing.T, st *store.Store, maker, checker models.Actor, l storetest.Line, on string, amounts ...string) []*models.SpendEntry {
	t.Helper()
	ctx := context.Background()
	var out []*models.SpendEntry
	for _, a := range amounts {
		e, err := models.SpendInput{FundingLineID: l.ID, PayeeID: l.Payee.ID, Amount: a, IncurredOn: on, Category: "grant_payment",
			Purpose: "Payment", VFMReason: "Paid on milestone evidence"}.Validate()
		must(t, err)
		_, err = st.RecordSpend(ctx, maker, e, "", nil)
		must(t, err)
		_, err = st.ApproveSpend(ctx, checker, e.ID)
		must(t, err)
		out = append(out, e)
	}
	return out
}

// TestHeadlineIsTheWorstOfItsParts: three programmes, each with one line
// profiled £100,000.00 for 2031-32 (a year no other test uses, so the
// report holds only these). On 30 September 2031, 183 of the year's 366
// days have passed; one line has spent £60,000.00 (forecast £120,000.00,
// 20 % over: red), one £40,000.00 (forecast £80,000.00, 20 % under: red),
// one £50,000.00 (forecast £100,000.00: green). The netted forecast is
// £300,000.00 against £300,000.00, which the old rule rated green; the
// headline is red, the worst of the three, with 2 red, 0 amber, 1 green.
func TestHeadlineIsTheWorstOfItsParts(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	officers := storetest.Officers(t, st, "headline-maker@test.example", "headline-checker@test.example")
	profile := map[string]string{"2031-32": "100000.00", "2032-33": "100000.00"}
	for i, amounts := range [][]string{{"60000.00"}, {"40000.00"}, {"50000.00"}} {
		code := fmt.Sprintf("HEADLINE-%d", i)
		l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: code, PayeeName: "Payee " + code,
			Budget: "200000.00", StartsOn: "2031-04-01", EndsOn: "2033-03-31", Profile: profile})
		spendOn(t, st, officers[0], officers[1], l, "2031-06-01", amounts...)
	}
	q := report.Query{Period: models.PeriodOf(2031, 0), AsOf: time.Date(2031, 9, 30, 0, 0, 0, 0, time.UTC), GroupBy: report.ByProgramme}
	b, err := report.BudgetReport(ctx, st, q)
	must(t, err)
	if len(b.Groups) != 3 {
		t.Fatalf("%d programmes in 2031-32, want this test's 3", len(b.Groups))
	}
	for _, g := range b.Groups {
		if g.RollUp == nil || g.RollUp.Parts() != 1 || g.RollUp.Of != "funding lines" || g.RAG != g.RollUp.Worst() {
			t.Fatalf("programme %s rated %s, rolled up %+v", g.Code, g.RAG, g.RollUp)
		}
	}
	if old := models.RateForecast(b.Total.Budget, b.Total.Forecast); old != models.Green {
		t.Fatalf("the netted total rates %s; the test no longer shows the old figure was wrong", old)
	}
	want := "worst of 3 programmes: 2 red, 0 amber, 1 green"
	if b.Total.RAG != models.Red || b.Total.RollUp == nil || b.Total.RollUp.String() != want {
		t.Fatalf("headline %s rolled up %v, want red, %s", b.Total.RAG, b.Total.RollUp, want)
	}
	if !b.Total.Variance.IsZero() {
		t.Fatalf("the netted variance %s is still shown as the sum of the lines'", b.Total.Variance)
	}
	q.GroupBy = report.ByFundingLine
	b, err = report.BudgetReport(ctx, st, q)
	must(t, err)
	if want := "worst of 3 funding lines: 2 red, 0 amber, 1 green"; b.Total.RAG != models.Red || b.Total.RollUp.String() != want {
		t.Fatalf("by line: %s %v, want %s", b.Total.RAG, b.Total.RollUp, want)
	}
	q.GroupBy = report.ByRecipient
	b, err = report.BudgetReport(ctx, st, q)
	must(t, err)
	if b.Total.RAG != models.Red || b.Total.RollUp.Of != "recipients" || b.Total.RollUp.Parts() != len(b.Groups) {
		t.Fatalf("by recipient: %s %v", b.Total.RAG, b.Total.RollUp)
	}
}

// TestEndedLineWithAPendingReversal: a line ran 1 April to 30 September
// 2024 and paid £5,000.00; on 15 June 2025 a reversal of £1,200.00 is
// recorded and waits for approval. In 2025-26 the line is "ended" (not
// "not started"), has no days in the period so is not rated, the pending
// reversal is £1,200.00 apart from pending spend £0.00 (not −£1,200.00),
// and the £1,200.00 dated after its end is an exception.
func TestEndedLineWithAPendingReversal(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	real := st.Clock()
	t.Cleanup(func() { st.SetClock(real) })
	officers := storetest.Officers(t, st, "ended-maker@test.example", "ended-checker@test.example")
	l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "ENDED", PayeeName: "Ended payee", Budget: "5000.00",
		StartsOn: "2024-04-01", EndsOn: "2024-09-30"})
	paid := spendOn(t, st, officers[0], officers[1], l, "2024-05-01", "3800.00", "1200.00")
	st.SetClock(func() time.Time { return time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC) })
	rev, err := st.ReverseSpend(ctx, officers[0], paid[1].ID, "Paid twice")
	must(t, err)
	q := report.Query{Period: models.PeriodOf(2025, 0), AsOf: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), GroupBy: report.ByFundingLine,
		Scope: store.ReportScope{FundingLineID: l.ID}}
	b, err := report.BudgetReport(ctx, st, q)
	must(t, err)
	if len(b.Groups) != 1 {
		t.Fatalf("%d groups; the line with a pending reversal in the year belongs in the report", len(b.Groups))
	}
	g := b.Groups[0]
	if g.State != models.StateEnded || g.RAG != models.NotRated {
		t.Fatalf("state %q rated %q, want ended and not_rated", g.State, g.RAG)
	}
	if g.Pending.StringFixed(2) != "0.00" || g.PendingReversals.StringFixed(2) != "1200.00" || b.Total.Pending.IsNegative() {
		t.Fatalf("pending %s, pending reversals %s, total pending %s", g.Pending, g.PendingReversals, b.Total.Pending)
	}
	if g.AfterEndCount != 1 || g.AfterEnd.StringFixed(2) != "-1200.00" {
		t.Fatalf("after the end: %d entries, %s", g.AfterEndCount, g.AfterEnd)
	}
	// Approved, the reversal leaves the pending figures and is spent.
	_, err = st.ApproveSpend(ctx, officers[1], rev.ID)
	must(t, err)
	b, err = report.BudgetReport(ctx, st, q)
	must(t, err)
	g = b.Groups[0]
	if !g.Pending.IsZero() || !g.PendingReversals.IsZero() || g.Spent.StringFixed(2) != "-1200.00" || g.AfterEndCount != 1 {
		t.Fatalf("after approval: pending %s, reversals %s, spent %s, after end %d", g.Pending, g.PendingReversals, g.Spent, g.AfterEndCount)
	}
	// In 2024-25, as it stood on 31 March 2025, the line had ended and is
	// rated on what it spent against its year.
	q.Period = models.PeriodOf(2024, 0)
	b, err = report.BudgetReport(ctx, st, q)
	must(t, err)
	if g := b.Groups[0]; g.State != models.StateEnded || g.RAG != models.Green || g.AfterEndCount != 0 {
		t.Fatalf("2024-25: %q %q after end %d", g.State, g.RAG, g.AfterEndCount)
	}
}
