package report_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestAlertsWordEachKindAndAddTheReportsRedLines: a line that spent 90 % of
// its year's budget in its first two months is both "budget used" and red
// by the budget report's own rating; each alert says so in plain English
// with £ amounts and links to the line, the most urgent first.
func TestAlertsWordEachKindAndAddTheReportsRedLines(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.FreshMigrated(t))
	must(t, err)
	defer st.Close()
	ctx := context.Background()
	l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "FAST", PayeeName: "Fast spenders", Budget: "10000.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	officers := storetest.Officers(t, st, "maker@alerts.example", "checker@alerts.example")
	e, err := models.SpendInput{FundingLineID: l.ID, PayeeID: l.Payee.ID, Amount: "9000.00", IncurredOn: "2024-05-01",
		Category: "services", Purpose: "Outreach", VFMReason: "Tendered"}.Validate()
	must(t, err)
	_, err = st.RecordSpend(ctx, officers[0], e, "", nil)
	must(t, err)
	_, err = st.ApproveSpend(ctx, officers[1], e.ID)
	must(t, err)
	pending, err := models.SpendInput{FundingLineID: l.ID, PayeeID: l.Payee.ID, Amount: "250.00", IncurredOn: "2024-05-02",
		Category: "services", Description: "Leaflets"}.Validate()
	must(t, err)
	_, err = st.RecordSpend(ctx, officers[0], pending, "", nil)
	must(t, err)

	today := time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)
	alerts, err := report.Alerts(ctx, st, officers[1].UserID, today)
	must(t, err)
	var got []string
	for _, a := range alerts {
		got = append(got, string(a.Severity)+" "+string(a.Kind)+" "+a.Link+" "+a.Message)
	}
	link := "/funding-lines/" + itoa(l.ID)
	// The red line's figures are the budget report's.
	b, err := report.BudgetReport(ctx, st, report.Query{Period: models.PeriodOf(2024, 0), AsOf: today, GroupBy: report.ByFundingLine})
	must(t, err)
	if len(b.Groups) != 1 || b.Groups[0].RAG != models.Red {
		t.Fatalf("report: %+v", b.Groups)
	}
	forecast := b.Groups[0].Forecast
	want := []string{
		"high red_line " + link + " FAST-1 Line FAST is red for 2024-25: forecast " + models.Pounds(forecast) +
			" against a budget of £10,000.00, " + models.Pounds(forecast.Sub(b.Groups[0].Budget)) + " over.",
		"medium decision_waiting /spend/" + itoa(pending.ID) + " Spend awaits your decision: Leaflets, £250.00 (proposed by maker@alerts.example on " +
			pending.RecordedAt.In(time.UTC).Format(models.DateLayout) + ").",
		"medium budget_used " + link + " FAST-1 Line FAST has spent £9,000.00 of its £10,000.00 budget for 2024-25 (90%).",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The dashboard's most urgent: the list's head, worded the same, with
	// the count of all; from the dashboard's own line figures when it shows
	// the current year as of today, else worked out afresh.
	current := report.Query{Period: models.PeriodOf(2024, 0), AsOf: today, GroupBy: report.ByProgramme}
	if !report.SharesAlertLines(current, today) {
		t.Fatal("the current year's dashboard should share the alerts' line figures")
	}
	lastYear := report.Query{Period: models.PeriodOf(2023, 0), AsOf: today, GroupBy: report.ByProgramme}
	if report.SharesAlertLines(lastYear, today) || report.SharesAlertLines(report.Query{Period: models.PeriodOf(2024, 1), AsOf: today}, today) {
		t.Fatal("another year's or a quarter's dashboard should not share the alerts' line figures")
	}
	for _, q := range []*report.Query{nil, &current, &lastYear} {
		var d *report.Dashboard
		if q != nil {
			d, err = report.DashboardReport(ctx, st, *q, 25, 10)
			must(t, err)
		}
		urgent, all, err := report.AlertsPage(ctx, st, officers[1].UserID, today, store.Page{Number: 1, PerPage: 2}, d)
		must(t, err)
		if all != 3 || len(urgent) != 2 || urgent[0].Message != alerts[0].Message || urgent[1].Message != alerts[1].Message {
			t.Fatalf("most urgent with dashboard %v: %d in all, %+v", q, all, urgent)
		}
		// The dashboard's own way: what the database finds, read
		// alongside it, with its lines added; refused for another year's.
		if d == nil {
			continue
		}
		found, err := report.FindAlerts(ctx, st, officers[1].UserID, today)
		must(t, err)
		urgent, all, err = found.DashboardPage(d, store.Page{Number: 1, PerPage: 2})
		if q == &lastYear {
			if err == nil {
				t.Fatal("last year's dashboard gave the alerts its lines")
			}
			continue
		}
		must(t, err)
		if all != 3 || len(urgent) != 2 || urgent[0].Message != alerts[0].Message || urgent[1].Message != alerts[1].Message {
			t.Fatalf("most urgent found alongside the dashboard: %d in all, %+v", all, urgent)
		}
	}
	second, all, err := report.AlertsPage(ctx, st, officers[1].UserID, today, store.Page{Number: 2, PerPage: 2}, nil)
	must(t, err)
	if all != 3 || len(second) != 1 || second[0].Message != alerts[2].Message {
		t.Fatalf("the second page of two: %d in all, %+v", all, second)
	}
	past, all, err := report.AlertsPage(ctx, st, officers[1].UserID, today, store.Page{Number: 3, PerPage: 2}, nil)
	must(t, err)
	if all != 3 || len(past) != 0 {
		t.Fatalf("a page past the end: %d in all, %+v", all, past)
	}
	// The proposer's list has no decision of theirs to take.
	mine, err := report.Alerts(ctx, st, officers[0].UserID, today)
	must(t, err)
	if len(mine) != 2 || mine[0].Kind != models.AlertRedLine || mine[1].Kind != models.AlertBudgetUsed {
		t.Fatalf("the proposer's alerts: %+v", mine)
	}
	// Budget used follows the threshold in alert_settings: 90 % is used at
	// 90 and not at 91; spending the whole budget makes it high.
	for _, c := range []struct {
		percent int
		spend   string
		want    string
	}{{91, "", ""}, {90, "", "medium"}, {90, "1000.00", "high"}} {
		_, err := st.UpdateAlertSettings(ctx, officers[0], models.AlertSettings{BudgetUsedPercent: c.percent, EndingWithinDays: 60, TrancheGraceDays: 0})
		must(t, err)
		if c.spend != "" {
			more, err := models.SpendInput{FundingLineID: l.ID, PayeeID: l.Payee.ID, Amount: c.spend, IncurredOn: "2024-05-03",
				Category: "services", Purpose: "Outreach", VFMReason: "Tendered"}.Validate()
			must(t, err)
			_, err = st.RecordSpend(ctx, officers[0], more, "", nil)
			must(t, err)
			_, err = st.ApproveSpend(ctx, officers[1], more.ID)
			must(t, err)
		}
		mine, err := report.Alerts(ctx, st, officers[0].UserID, today)
		must(t, err)
		got := ""
		for _, a := range mine {
			if a.Kind == models.AlertBudgetUsed {
				got = string(a.Severity)
			}
		}
		if got != c.want {
			t.Errorf("budget used at %d %% after %q more: %q, want %q", c.percent, c.spend, got, c.want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
