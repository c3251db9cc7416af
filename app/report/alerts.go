package report

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Alerts is the user's alerts list on the day today, read in one snapshot:
// what the store finds (decisions waiting for them, budget used, lines
// ending with money unawarded, tranches and readings overdue, spend after a
// line's end) and the lines the budget report rates red for the current
// financial year. Most urgent first, then by kind and line.
func Alerts(ctx context.Context, st *store.Store, userID int64, today time.Time) ([]models.Alert, error) {
	var out []models.Alert
	err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) error {
		rows, err := st.Alerts(ctx, userID, today)
		if err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, alertOf(r))
		}
		red, err := redLines(ctx, st, today)
		out = append(out, red...)
		return err
	})
	if err != nil {
		return nil, err
	}
	rank := map[models.AlertKind]int{}
	for i, k := range models.AlertKinds {
		rank[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity.Rank() < b.Severity.Rank()
		}
		if a.Kind != b.Kind {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.FundingLineCode != b.FundingLineCode {
			return a.FundingLineCode < b.FundingLineCode
		}
		return a.EntityID < b.EntityID
	})
	return out, nil
}

// redLines are the funding lines the budget report rates red for the
// current financial year: the report's own figures and RAG rating.
func redLines(ctx context.Context, st *store.Store, today time.Time) ([]models.Alert, error) {
	q := Query{Period: models.PeriodOf(models.FinancialYearOf(today), 0), AsOf: today, GroupBy: ByFundingLine}
	rows, err := st.LineFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
	if err != nil {
		return nil, err
	}
	// A line's own figures are its group's in the report by funding line.
	ls, err := lines(rows, q)
	if err != nil {
		return nil, err
	}
	var out []models.Alert
	for _, l := range ls {
		g := l.fig
		if g.RAG != models.Red {
			continue
		}
		id := l.LineID
		way := "over"
		if g.Variance.IsNegative() {
			way = "under"
		}
		variance := g.Variance.Abs()
		out = append(out, models.Alert{Kind: models.AlertRedLine, Severity: models.SeverityHigh,
			Message: fmt.Sprintf("%s %s is red for %s: forecast %s against a budget of %s, %s %s.",
				l.Code, l.Title, q.Period, models.Pounds(g.Forecast), models.Pounds(g.Budget), models.Pounds(variance), way),
			Link: lineLink(id), Entity: "funding_line", EntityID: id, FundingLineID: &id, FundingLineCode: l.Code, Amount: &variance})
	}
	return out, nil
}

func lineLink(id int64) string { return "/funding-lines/" + strconv.FormatInt(id, 10) }

// alertOf words one alert the store found.
func alertOf(r store.AlertFigures) models.Alert {
	a := models.Alert{Kind: r.Kind, Entity: r.Entity, EntityID: r.EntityID, FundingLineID: r.LineID, Amount: r.Amount, On: r.On}
	if r.LineID != nil {
		a.FundingLineCode = r.Code
		a.Link = lineLink(*r.LineID)
	}
	amount := func(d *decimal.Decimal) string {
		if d == nil {
			return models.Pounds(decimal.Zero)
		}
		return models.Pounds(*d)
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(models.DateLayout)
	}
	switch r.Kind {
	case models.AlertDecisionWaiting:
		a.Severity = models.SeverityMedium
		a.Link = decisionLink(r)
		a.On = nil
		what := strings.ReplaceAll(r.Detail, "_", " ")
		a.Message = fmt.Sprintf("%s awaits your decision: %s", upperFirst(what), r.Title)
		if r.Amount != nil && !r.Amount.IsZero() {
			a.Message += ", " + amount(r.Amount)
		}
		a.Message += fmt.Sprintf(" (proposed by %s on %s).", r.Who, day(r.On))
	case models.AlertBudgetUsed:
		a.Severity = models.SeverityMedium
		share := decimal.Zero
		if r.Total != nil && r.Amount != nil && r.Total.IsPositive() {
			share = r.Amount.Mul(decimal.NewFromInt(100)).Div(*r.Total).Floor()
			if r.Amount.GreaterThanOrEqual(*r.Total) {
				a.Severity = models.SeverityHigh
			}
		}
		a.Message = fmt.Sprintf("%s %s has spent %s of its %s budget for %s (%s%%).",
			r.Code, r.Title, amount(r.Amount), amount(r.Total), r.Detail, share)
	case models.AlertLineEnding:
		a.Severity = models.SeverityMedium
		a.Message = fmt.Sprintf("%s %s ends on %s (in %s) with %s of its %s budget neither awarded nor reserved.",
			r.Code, r.Title, day(r.On), days(r.Count), amount(r.Amount), amount(r.Total))
	case models.AlertTrancheOverdue:
		a.Severity = models.SeverityHigh
		a.Message = fmt.Sprintf("Tranche %d of award %s to %s on %s, %s due on %s, is overdue: %s of it is unpaid.",
			r.Count, r.Title, r.Detail, r.Code, amount(r.Total), day(r.On), amount(r.Amount))
	case models.AlertReadingOverdue:
		a.Severity = models.SeverityLow
		if a.Link == "" {
			a.Link = "/dashboard"
		}
		a.Message = fmt.Sprintf("A reading of %q (%s %s) was due by %s and has not been recorded.", r.Title, r.Code, r.Detail, day(r.On))
	case models.AlertSpendAfterEnd:
		a.Severity = models.SeverityHigh
		entries := "1 spend entry"
		if r.Count != 1 {
			entries = strconv.Itoa(r.Count) + " spend entries"
		}
		a.Message = fmt.Sprintf("%s of %s on %s %s dated after the line ended (the latest on %s).",
			entries, amount(r.Amount), r.Code, map[bool]string{true: "is", false: "are"}[r.Count == 1], day(r.On))
	}
	return a
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// decisionLink is the page a waiting decision is decided from.
func decisionLink(r store.AlertFigures) string {
	id := strconv.FormatInt(r.EntityID, 10)
	switch r.Entity {
	case "spend_entry":
		return "/spend/" + id
	case "spend_import":
		return "/spend/imports/" + id
	case "budget_change":
		return "/budget-changes/" + id
	}
	return "/approvals"
}
