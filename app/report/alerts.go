package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
	out, _, err := AlertsPage(ctx, st, userID, today, store.Page{}, nil)
	return out, err
}

// AlertsPage is one page of the user's alerts, most urgent first (all of
// them when pg has no size), worded, and how many there are in all. Only
// the alerts returned are worded: at ten thousand red lines the wording
// cost more than finding them. When d is the dashboard of the current
// financial year as of today, unscoped, its line figures are the red
// lines' own, so they are not worked out a second time.
func AlertsPage(ctx context.Context, st *store.Store, userID int64, today time.Time, pg store.Page, d *Dashboard) ([]models.Alert, int, error) {
	var all []found
	err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) error {
		rows, err := st.Alerts(ctx, userID, today)
		if err != nil {
			return err
		}
		for _, r := range rows {
			all = append(all, alertOf(r))
		}
		q := alertLinesQuery(today)
		ls := d.linesFor(q)
		if ls == nil {
			rows, err := st.LineFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
			if err != nil {
				return err
			}
			if ls, err = lines(rows, q); err != nil {
				return err
			}
		}
		all = append(all, redLines(q, ls)...)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	rank := map[models.AlertKind]int{}
	for i, k := range models.AlertKinds {
		rank[k] = i
	}
	slices.SortStableFunc(all, func(x, y found) int {
		a, b := x.Alert, y.Alert
		return cmp.Or(cmp.Compare(a.Severity.Rank(), b.Severity.Rank()), cmp.Compare(rank[a.Kind], rank[b.Kind]),
			cmp.Compare(a.FundingLineCode, b.FundingLineCode), cmp.Compare(a.EntityID, b.EntityID))
	})
	from, to := 0, len(all)
	if pg.PerPage > 0 {
		from = min((max(pg.Number, 1)-1)*pg.PerPage, len(all))
		to = min(from+pg.PerPage, len(all))
	}
	out := make([]models.Alert, 0, to-from)
	for _, f := range all[from:to] {
		a := f.Alert
		a.Message = f.word()
		out = append(out, a)
	}
	return out, len(all), nil
}

// alertLinesQuery is the report the red lines come from: the current
// financial year by funding line, as of today.
func alertLinesQuery(today time.Time) Query {
	return Query{Period: models.PeriodOf(models.FinancialYearOf(today), 0), AsOf: today, GroupBy: ByFundingLine}
}

// found is an alert before it is worded.
type found struct {
	models.Alert
	word func() string
}

// redLines are the funding lines the budget report rates red for q, the
// current financial year, from the report's own line figures and ratings.
func redLines(q Query, ls []line) []found {
	var out []found
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
		out = append(out, found{Alert: models.Alert{Kind: models.AlertRedLine, Severity: models.SeverityHigh,
			Link: lineLink(id), Entity: "funding_line", EntityID: id, FundingLineID: &id, FundingLineCode: l.Code, Amount: &variance},
			word: func() string {
				return fmt.Sprintf("%s %s is red for %s: forecast %s against a budget of %s, %s %s.",
					l.Code, l.Title, q.Period, models.Pounds(g.Forecast), models.Pounds(g.Budget), models.Pounds(variance), way)
			}})
	}
	return out
}

func lineLink(id int64) string { return "/funding-lines/" + strconv.FormatInt(id, 10) }

// alertOf is one alert the store found, with its wording.
func alertOf(r store.AlertFigures) found {
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
	// The store finds few alerts; only red lines come by the thousand.
	return found{Alert: a, word: func() string { return a.Message }}
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
