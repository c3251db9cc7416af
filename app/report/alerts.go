package report

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Alerts is the user's alerts list on the day today, read in one snapshot:
// what the store finds (decisions waiting for them, lines ending with money
// unawarded, tranches and readings overdue, spend after a line's end) and,
// from the budget report's line figures for the current financial year, the
// lines it rates red and the lines that have spent the threshold share of
// the year's budget. Most urgent first, then by kind and line.
func Alerts(ctx context.Context, st *store.Store, userID int64, today time.Time) ([]models.Alert, error) {
	out, _, err := AlertsPage(ctx, st, userID, today, store.Page{}, nil)
	return out, err
}

// AlertsPage is one page of the user's alerts, most urgent first (all of
// them when pg has no size), worded, and how many there are in all. Only
// the alerts returned are made and worded: red lines and budget used come
// by the thousand. When d is the dashboard of the current financial year as
// of today, unscoped, its line figures are the red lines' own, so they are
// not worked out a second time.
func AlertsPage(ctx context.Context, st *store.Store, userID int64, today time.Time, pg store.Page, d *Dashboard) ([]models.Alert, int, error) {
	q := alertLinesQuery(today)
	ls := d.linesFor(q)
	var f *FoundAlerts
	find := func(ctx context.Context, st *store.Store) (err error) {
		f, err = findAlerts(ctx, st, userID, today)
		return err
	}
	var err error
	if ls != nil {
		err = st.Snapshot(ctx, find)
	} else {
		// The line figures are read alongside what the database finds, in
		// the same snapshot.
		err = st.SharedSnapshot(ctx, func(ctx context.Context, st *store.Store) error {
			rows, err := st.LineFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
			if err != nil {
				return err
			}
			ls, err = lines(rows, q, st.MovedLines)
			return err
		}, find)
	}
	if err != nil {
		return nil, 0, err
	}
	out, n := pageOf(f.with(q, ls), pg)
	return out, n, nil
}

// FoundAlerts are what the database finds of a user's alerts on a day
// (FindAlerts), before the red lines and budget used are added from the
// current year's line figures.
type FoundAlerts struct {
	today    time.Time
	rows     []store.AlertFigures
	settings models.AlertSettings
}

// FindAlerts reads what the database finds of the user's alerts on the day
// today, in one snapshot: the board's dashboard reads it alongside its own
// figures, then adds them (DashboardPage).
func FindAlerts(ctx context.Context, st *store.Store, userID int64, today time.Time) (*FoundAlerts, error) {
	var f *FoundAlerts
	err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) (err error) {
		f, err = findAlerts(ctx, st, userID, today)
		return err
	})
	return f, err
}

func findAlerts(ctx context.Context, st *store.Store, userID int64, today time.Time) (*FoundAlerts, error) {
	rows, err := st.Alerts(ctx, userID, today)
	if err != nil {
		return nil, err
	}
	settings, err := st.AlertSettings(ctx)
	if err != nil {
		return nil, err
	}
	return &FoundAlerts{today: today, rows: rows, settings: settings}, nil
}

// DashboardPage is AlertsPage for a dashboard that shares the alerts' line
// figures (SharesAlertLines), from what FindAlerts found alongside it.
func (f *FoundAlerts) DashboardPage(d *Dashboard, pg store.Page) ([]models.Alert, int, error) {
	q := alertLinesQuery(f.today)
	ls := d.linesFor(q)
	if ls == nil {
		return nil, 0, fmt.Errorf("report: the dashboard for %s as of %s is not the alerts' year", d.Query.Period, d.Query.AsOf.Format(models.DateLayout))
	}
	out, n := pageOf(f.with(q, ls), pg)
	return out, n, nil
}

// with is every alert: the ones found, and the lines' red lines and budget
// used.
func (f *FoundAlerts) with(q Query, ls []line) []found {
	red, used := redLines(q, ls), budgetUsed(q, ls, f.settings.BudgetUsedPercent)
	all := make([]found, 0, len(f.rows)+len(red)+len(used))
	for _, r := range f.rows {
		all = append(all, alertOf(r))
	}
	return append(append(all, red...), used...)
}

// pageOf sorts the alerts, most urgent first, then by kind, line and
// entity, and makes the page's (all of them when pg has no size).
func pageOf(all []found, pg store.Page) ([]models.Alert, int) {
	from, to := 0, len(all)
	if pg.PerPage > 0 {
		from = min((max(pg.Number, 1)-1)*pg.PerPage, len(all))
		to = min(from+pg.PerPage, len(all))
	}
	head := headOf(all, to, func(a, b found) int {
		return cmp.Or(cmp.Compare(a.severity, b.severity), cmp.Compare(a.kind, b.kind), cmp.Compare(a.code, b.code), cmp.Compare(a.entityID, b.entityID))
	})
	out := make([]models.Alert, 0, to-from)
	for _, f := range head[from:to] {
		out = append(out, f.alert())
	}
	return out, len(all)
}

// alertLinesQuery is the report the red lines come from: the current
// financial year by funding line, as of today.
func alertLinesQuery(today time.Time) Query {
	return Query{Period: models.PeriodOf(models.FinancialYearOf(today), 0), AsOf: today, GroupBy: ByFundingLine}
}

// found is an alert before it is shown: what orders it (its severity's
// rank, its kind's place in models.AlertKinds, the line's code and the
// entity's id), and what it is made from when shown: the store's figures,
// or a line of the current year's report (a red line, or budget used).
// Red lines and budget used come by the thousand, so they carry pointers,
// not alerts or closures.
type found struct {
	severity, kind int
	code           string
	entityID       int64
	figures        *store.AlertFigures
	line           *line
	period         *models.Period
}

// kindRank is each kind's place in models.AlertKinds.
var kindRank = func() map[models.AlertKind]int {
	m := map[models.AlertKind]int{}
	for i, k := range models.AlertKinds {
		m[k] = i
	}
	return m
}()

func foundOf(severity models.Severity, kind models.AlertKind, code string, entityID int64) found {
	return found{severity: severity.Rank(), kind: kindRank[kind], code: code, entityID: entityID}
}

// alert makes the alert, worded.
func (f found) alert() models.Alert {
	switch {
	case f.figures != nil:
		return storeAlert(*f.figures)
	case models.AlertKinds[f.kind] == models.AlertRedLine:
		return redLineAlert(*f.period, f.line)
	}
	return storeAlert(budgetUsedFigures(*f.period, f.line))
}

// redLines are the funding lines the budget report rates red for q, the
// current financial year, from the report's own line figures and ratings.
func redLines(q Query, ls []line) []found {
	n := 0
	for i := range ls {
		if ls[i].fig.RAG == models.Red {
			n++
		}
	}
	out := make([]found, 0, n)
	for i := range ls {
		if l := &ls[i]; l.fig.RAG == models.Red {
			f := foundOf(models.SeverityHigh, models.AlertRedLine, l.Code, l.LineID)
			f.line, f.period = l, &q.Period
			out = append(out, f)
		}
	}
	return out
}

func redLineAlert(p models.Period, l *line) models.Alert {
	g, id := l.fig, l.LineID // budget, forecast and variance
	way := "over"
	if g.Variance.IsNegative() {
		way = "under"
	}
	variance := g.Variance.Abs()
	return models.Alert{Kind: models.AlertRedLine, Severity: models.SeverityHigh, Link: lineLink(id), Entity: "funding_line",
		EntityID: id, FundingLineID: &id, FundingLineCode: l.Code, Amount: &variance,
		Message: fmt.Sprintf("%s %s is red for %s: forecast %s against a budget of %s, %s %s.",
			l.Code, l.Title, p, models.Pounds(g.Forecast), models.Pounds(g.Budget), models.Pounds(variance), way)}
}

// budgetUsed are the approved and active lines whose approved spend in q,
// the current financial year, has reached percent of the year's profiled
// budget (the line's budget for q).
func budgetUsed(q Query, ls []line, percent int) []found {
	var out []found
	for i := range ls {
		l := &ls[i]
		if (l.Status != models.StatusApproved && l.Status != models.StatusActive) || l.used < int64(percent) {
			continue
		}
		f := foundOf(severityOf(budgetUsedFigures(q.Period, l)), models.AlertBudgetUsed, l.Code, l.LineID)
		f.line, f.period = l, &q.Period
		out = append(out, f)
	}
	return out
}

// budgetUsedFigures are a line's budget used as the store would find them.
func budgetUsedFigures(p models.Period, l *line) store.AlertFigures {
	return store.AlertFigures{Kind: models.AlertBudgetUsed, Entity: "funding_line", EntityID: l.LineID,
		LineID: &l.LineID, Code: l.Code, Title: l.Title, Detail: p.Year.String(), Amount: &l.Spent, Total: &l.YearBudget}
}

func lineLink(id int64) string { return "/funding-lines/" + strconv.FormatInt(id, 10) }

// alertOf is one alert the store found, made and worded only when shown.
func alertOf(r store.AlertFigures) found {
	code := ""
	if r.LineID != nil {
		code = r.Code
	}
	f := foundOf(severityOf(r), r.Kind, code, r.EntityID)
	f.figures = &r
	return f
}

// severityOf is how urgent an alert the store found is.
func severityOf(r store.AlertFigures) models.Severity {
	switch r.Kind {
	case models.AlertBudgetUsed:
		if r.Total != nil && r.Amount != nil && r.Total.IsPositive() && r.Amount.GreaterThanOrEqual(*r.Total) {
			return models.SeverityHigh
		}
	case models.AlertTrancheOverdue, models.AlertSpendAfterEnd:
		return models.SeverityHigh
	case models.AlertReadingOverdue:
		return models.SeverityLow
	}
	return models.SeverityMedium
}

// storeAlert makes an alert the store found, worded.
func storeAlert(r store.AlertFigures) models.Alert {
	code := ""
	if r.LineID != nil {
		code = r.Code
	}
	a := models.Alert{Kind: r.Kind, Severity: severityOf(r), Entity: r.Entity, EntityID: r.EntityID, FundingLineID: r.LineID,
		FundingLineCode: code, Amount: r.Amount, On: r.On, Message: messageOf(r)}
	switch {
	case r.Kind == models.AlertDecisionWaiting:
		a.Link, a.On = decisionLink(r), nil
	case r.LineID != nil:
		a.Link = lineLink(*r.LineID)
	case r.Kind == models.AlertReadingOverdue:
		a.Link = "/dashboard"
	}
	return a
}

// messageOf words an alert the store found.
func messageOf(r store.AlertFigures) string {
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
		what := strings.ReplaceAll(r.Detail, "_", " ")
		m := fmt.Sprintf("%s awaits your decision: %s", upperFirst(what), r.Title)
		if r.Amount != nil && !r.Amount.IsZero() {
			m += ", " + amount(r.Amount)
		}
		return m + fmt.Sprintf(" (proposed by %s on %s).", r.Who, day(r.On))
	case models.AlertBudgetUsed:
		share := decimal.Zero
		if r.Total != nil && r.Amount != nil && r.Total.IsPositive() {
			share = r.Amount.Mul(decimal.NewFromInt(100)).Div(*r.Total).Floor()
		}
		return fmt.Sprintf("%s %s has spent %s of its %s budget for %s (%s%%).",
			r.Code, r.Title, amount(r.Amount), amount(r.Total), r.Detail, share)
	case models.AlertLineEnding:
		return fmt.Sprintf("%s %s ends on %s (in %s) with %s of its %s budget neither awarded nor reserved.",
			r.Code, r.Title, day(r.On), days(r.Count), amount(r.Amount), amount(r.Total))
	case models.AlertTrancheOverdue:
		return fmt.Sprintf("Tranche %d of award %s to %s on %s, %s due on %s, is overdue: %s of it is unpaid.",
			r.Count, r.Title, r.Detail, r.Code, amount(r.Total), day(r.On), amount(r.Amount))
	case models.AlertReadingOverdue:
		return fmt.Sprintf("A reading of %q (%s %s) was due by %s and has not been recorded.", r.Title, r.Code, r.Detail, day(r.On))
	case models.AlertSpendAfterEnd:
		entries := "1 spend entry"
		if r.Count != 1 {
			entries = strconv.Itoa(r.Count) + " spend entries"
		}
		return fmt.Sprintf("%s of %s on %s %s dated after the line ended (the latest on %s).",
			entries, amount(r.Amount), r.Code, map[bool]string{true: "is", false: "are"}[r.Count == 1], day(r.On))
	}
	return ""
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
