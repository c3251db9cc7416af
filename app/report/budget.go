// Package report answers the board's question, what did the money buy:
// budget against reserved, committed, pending and spent for a financial year
// or quarter, with a straight-line forecast, variance and RAG rating, and
// cost per outcome from the real ledger. Every figure is exact decimal
// arithmetic; group figures are sums of line figures, so groups always add up
// to the total to the penny.
package report

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Ways a budget report can be grouped.
const (
	ByProgramme   = "programme"
	ByFundingLine = "funding_line"
	ByRecipient   = "recipient"
)

// Query asks for a report.
type Query struct {
	Period  models.Period
	AsOf    time.Time // the day the forecast projects from
	GroupBy string
	Scope   store.ReportScope
}

// ParseQuery reads a report's query from its text parameters: fy (default:
// the year containing today), quarter (Q1-Q4, optional), group_by (default
// programme), as_of (default today). Every bad parameter is named.
func ParseQuery(fy, quarter, groupBy, asOf string, today time.Time) (Query, error) {
	var p models.Problems
	q := Query{GroupBy: groupBy, AsOf: today}
	year := models.FinancialYearOf(today)
	if fy != "" {
		y, err := models.ParseFinancialYear(fy)
		if err != nil {
			p.Add("fy", "%s", models.ErrorMessage(err))
		}
		year = y
	}
	var qtr models.Quarter
	if quarter != "" {
		v, err := models.ParseQuarter(quarter)
		if err != nil {
			p.Add("quarter", "%s", models.ErrorMessage(err))
		}
		qtr = v
	}
	q.Period = models.PeriodOf(year, qtr)
	switch groupBy {
	case "":
		q.GroupBy = ByProgramme
	case ByProgramme, ByFundingLine, ByRecipient:
	default:
		p.Add("group_by", "must be programme, funding_line or recipient")
	}
	if asOf != "" {
		t, err := models.ParseDate(asOf)
		if err != nil {
			p.Add("as_of", "%s", models.ErrorMessage(err))
		}
		q.AsOf = t
	}
	return q, p.Err()
}

// Figures are one row of a budget report. Reserved counts budget earmarked
// for awards expected in the period; Committed is award tranches due in it;
// Pending is spend awaiting approval and PendingReversals the reversals
// awaiting approval (as a positive amount to be taken off), both incurred in
// it, so neither is ever netted against the other; Spent is approved spend
// incurred in it, net of approved reversals, which count on the day they were
// recorded. Remaining is budget less spent; Uncommitted is budget less
// reserved and committed. Forecast projects spent straight-line to the
// period's end, line by line; Variance is forecast less budget (positive
// means overspend). RAG rates a line's own forecast; a group's RAG is the
// worst of its parts' and RollUp says how it was made.
type Figures struct {
	Budget           decimal.Decimal
	Reserved         decimal.Decimal
	Committed        decimal.Decimal
	Pending          decimal.Decimal
	PendingReversals decimal.Decimal
	Spent            decimal.Decimal
	Remaining        decimal.Decimal
	Uncommitted      decimal.Decimal
	Forecast         decimal.Decimal
	Variance         decimal.Decimal
	BurnRate         decimal.Decimal // average spend per month so far
	RAG              models.RAG
	RollUp           *models.RollUp // nil for a rating of its own (a line)
}

func (f *Figures) add(o Figures) {
	mine, theirs := f.sums(), o.sums()
	for i := range mine {
		models.AddTo(mine[i], *theirs[i])
	}
}

// sub takes o's sums off f: a line's old figures off its programme's when
// its money moved.
func (f *Figures) sub(o Figures) {
	mine, theirs := f.sums(), o.sums()
	for i := range mine {
		*mine[i] = mine[i].Sub(*theirs[i])
	}
}

// sums are the figures that add up from parts to groups.
func (f *Figures) sums() [7]*decimal.Decimal {
	return [7]*decimal.Decimal{&f.Budget, &f.Reserved, &f.Committed, &f.Pending, &f.PendingReversals, &f.Spent, &f.Forecast}
}

// finish derives the figures that are not sums.
func (f *Figures) finish(p models.Period, asOf time.Time) {
	f.Remaining = f.Budget.Sub(f.Spent)
	f.Uncommitted = f.Budget.Sub(f.Reserved).Sub(f.Committed)
	f.Variance = f.Forecast.Sub(f.Budget)
	f.BurnRate = models.MonthlyBurn(f.Spent, p, asOf)
}

// rate rates figures of their own (a line, or a line's part paid to one
// recipient) from their forecast: not_started before any of the line's days
// in the period has passed, not_rated when the line has none in it.
func (f *Figures) rate(p models.Period, startsOn, endsOn, asOf time.Time) {
	var started bool
	f.Forecast, started = models.Forecast(f.Spent, p, startsOn, endsOn, asOf)
	switch {
	case startsOn.After(p.End) || endsOn.Before(p.Start):
		f.RAG = models.NotRated
	case !started:
		f.RAG = models.NotStarted
		// Nothing to project from yet: assume the line will spend its
		// budget, so that it adds no variance of its own.
		f.Forecast = f.Budget.Add(f.Spent)
	default:
		f.RAG = models.RateForecast(f.Budget, f.Forecast)
	}
}

// rollUp rates a group as the worst of its parts' ratings, counting each.
func (f *Figures) rollUp(of string, parts ...models.RAG) {
	u := &models.RollUp{Of: of}
	for _, r := range parts {
		u.Add(r)
	}
	f.RollUp, f.RAG = u, u.Worst()
}

// Group is one group of a report: a programme, a funding line or a
// recipient (or the budget not yet awarded to anyone).
type Group struct {
	Key  string // the programme, line or organisation id; "unawarded" for budget no recipient holds
	Code string
	Name string
	Figures
	// For a funding line: its kind and, for contracts, the tender's band,
	// the contract's value and where it sits in the band
	// (models.ContractBand).
	Kind          models.FundingLineKind
	TenderMin     *decimal.Decimal
	TenderMax     *decimal.Decimal
	ContractValue *decimal.Decimal
	BandPosition  string
	// For a funding line: its state on the report's day (models.StateDay),
	// and the spend (pending or approved) incurred in the period after
	// its last day, an exception the board should see.
	State         models.LineState
	AfterEnd      decimal.Decimal
	AfterEndCount int
}

// Budget is the budget report for a period.
type Budget struct {
	Query  Query
	Groups []Group
	Total  Figures
}

// UnawardedKey names the recipient group holding budget no award covers.
const UnawardedKey = "unawarded"

// line is a funding line's figures worked out for the period: its money
// (shared with the rows it came from) and its rating.
type line struct {
	*store.LineFigures
	fig   rating
	state models.LineState
	used  int64 // the whole percentage of its budget for the period spent (usedPercent)
}

// rating is a line's budget for the period and its forecast, variance and
// RAG rating: what lines works out for each of ten thousand lines, kept
// small; the rest of its Figures are sums or wait until it is shown.
type rating struct {
	Budget, Forecast, Variance decimal.Decimal
	RAG                        models.RAG
}

// figures are the line's Figures as a report by funding line shows them,
// before the figures that are not sums (Figures.finish).
func (l *line) figures() Figures {
	return Figures{Budget: l.fig.Budget, Reserved: l.Reserved, Committed: l.Committed, Pending: l.Pending,
		PendingReversals: l.PendingReversals, Spent: l.Spent, Forecast: l.fig.Forecast, Variance: l.fig.Variance, RAG: l.fig.RAG}
}

// lines works out each line's figures for the period: its budget from its
// stored profile (the year's amount, split by days for a quarter) and its
// forecast against it. The lines are read only. The same rows as of the
// same moment give the very same lines (worked); rows that differ from the
// last ones worked out for q only in the money of a few lines (as moved,
// the store's MovedLines, says; nil when not known) have just those lines
// worked out again.
func lines(rows []store.LineFigures, q Query, moved movedLines) ([]line, error) {
	w := worked.find(q, func(*workedLines) bool { return true })
	if w != nil && sameSlice(w.rows, rows) {
		return w.ls, nil
	}
	next := &workedLines{rows: rows}
	var at []int
	var ok bool
	if w != nil && moved != nil {
		at, ok = moved(w.rows, rows)
	}
	if ok && len(w.ls) == len(rows) {
		next.ls = slices.Clone(w.ls)
		for i := range next.ls {
			// Equal figures, but the old rows need not be kept alive.
			next.ls[i].LineFigures = &rows[i]
		}
		if err := workOutAt(rows, q, next.ls, at); err != nil {
			return nil, err
		}
		worked.follow(next, w, at)
	} else {
		var err error
		if next.ls, err = workOut(rows, q); err != nil {
			return nil, err
		}
	}
	worked.put(q, next)
	return next.ls, nil
}

// movedLines is store.Store.MovedLines.
type movedLines func(before, after []store.LineFigures) ([]int, bool)

func workOut(rows []store.LineFigures, q Query) ([]line, error) {
	out := make([]line, len(rows))
	return out, workOutAt(rows, q, out, nil)
}

// workOutAt works out out[i] from rows[i] for each place i in at (every
// place when at is nil).
func workOutAt(rows []store.LineFigures, q Query, out []line, at []int) error {
	remembered := ratings.of(q.Period, q.AsOf)
	remembered.mu.Lock()
	defer remembered.mu.Unlock()
	day := models.StateDay(q.Period, q.AsOf)
	one := func(i int) error {
		r := &rows[i]
		budget, err := budgetIn(r.YearBudget, q.Period, r.StartsOn, r.EndsOn)
		if err != nil {
			return err
		}
		l := &out[i]
		l.LineFigures, l.state = r, models.LineStateOn(r.Status, r.StartsOn, r.EndsOn, day)
		l.fig, l.used = remembered.rate(r.LineID, budget, r.Spent, q.Period, r.StartsOn, r.EndsOn, q.AsOf)
		return nil
	}
	if at == nil {
		for i := range rows {
			if err := one(i); err != nil {
				return err
			}
		}
		return nil
	}
	for _, i := range at {
		if err := one(i); err != nil {
			return err
		}
	}
	return nil
}

// BudgetReport builds the budget report in one snapshot of the database.
func BudgetReport(ctx context.Context, st *store.Store, q Query) (*Budget, error) {
	var b *Budget
	err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) error {
		var err error
		b, err = budgetOf(ctx, st, q)
		return err
	})
	return b, err
}

func budgetOf(ctx context.Context, st *store.Store, q Query) (*Budget, error) {
	rows, err := st.LineFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
	if err != nil {
		return nil, err
	}
	ls, err := lines(rows, q, st.MovedLines)
	if err != nil {
		return nil, err
	}
	return budgetFrom(ctx, st, q, ls)
}

// budgetFrom groups the lines' figures for the period into the report.
func budgetFrom(ctx context.Context, st *store.Store, q Query, ls []line) (*Budget, error) {
	var err error
	b := &Budget{Query: q}
	switch q.GroupBy {
	case ByFundingLine:
		b.Groups = make([]Group, 0, len(ls))
		for _, l := range ls {
			g := Group{Key: strconv.FormatInt(l.LineID, 10), Code: l.Code, Name: l.Title, Figures: l.figures(), Kind: l.Kind,
				TenderMin: l.TenderMin, TenderMax: l.TenderMax, ContractValue: l.ContractValue,
				BandPosition: models.ContractBand(l.ContractValue, l.TenderMin, l.TenderMax),
				State:        l.state, AfterEnd: l.AfterEnd, AfterEndCount: l.AfterEndCount}
			g.finish(q.Period, q.AsOf)
			b.Groups = append(b.Groups, g)
		}
	case ByRecipient:
		if b.Groups, err = byRecipient(ctx, st, q, ls); err != nil {
			return nil, err
		}
	default:
		b.Groups = byProgramme(q, ls)
	}
	b.Total = totalOf(q, len(b.Groups), func(i int) Figures { return b.Groups[i].Figures })
	return b, nil
}

// totalOf is the total of n groups' figures, part(i) being the i-th: the
// sum of the groups, so they always reconcile; its rating is the worst of
// theirs, never the rating of the netted sum.
func totalOf(q Query, n int, part func(i int) Figures) Figures {
	var t Figures
	ratings := make([]models.RAG, 0, n)
	for i := range n {
		f := part(i)
		t.add(f)
		ratings = append(ratings, f.RAG)
	}
	t.finish(q.Period, q.AsOf)
	t.rollUp(partsOf[q.GroupBy], ratings...)
	return t
}

// partsOf names what a report's groups are, for the total's roll-up.
var partsOf = map[string]string{ByProgramme: "programmes", ByFundingLine: "funding lines", ByRecipient: "recipients"}

// byProgramme groups the lines by programme; lines worked out for q (lines)
// are grouped once.
func byProgramme(q Query, ls []line) []Group {
	w := worked.find(q, func(w *workedLines) bool { return sameSlice(w.ls, ls) })
	if w == nil {
		return groupByProgramme(q, ls).groups
	}
	sums, prev, base := worked.programmesOf(w)
	if sums == nil {
		if base != nil {
			sums = base.moved(q, prev.ls, ls, w.moved)
		}
		if sums == nil {
			sums = groupByProgramme(q, ls)
		}
		sums = worked.keepProgrammes(w, sums)
	}
	return slices.Clone(sums.groups)
}

// programmeSums are lines grouped by programme: the groups, their
// roll-ups (which the groups point at), and each programme's group.
type programmeSums struct {
	groups  []Group
	rollUps []models.RollUp
	at      map[int64]int
}

func groupByProgramme(q Query, ls []line) *programmeSums {
	s := &programmeSums{at: map[int64]int{}}
	for i := range ls {
		l := &ls[i]
		g, ok := s.at[l.ProgrammeID]
		if !ok {
			g = len(s.groups)
			s.at[l.ProgrammeID] = g
			s.groups = append(s.groups, Group{Key: strconv.FormatInt(l.ProgrammeID, 10), Code: l.ProgrammeCode, Name: l.ProgrammeName})
			s.rollUps = append(s.rollUps, models.RollUp{Of: "funding lines"})
		}
		s.groups[g].add(l.figures())
		s.rollUps[g].Add(l.fig.RAG)
	}
	s.finish(q)
	return s
}

// moved is s with the lines at the places at, as before, taken off their
// programmes and put back as after: exact decimal sums, so the same as
// grouping after afresh. nil if a line moved programme, which the store's
// MovedLines never reports.
func (s *programmeSums) moved(q Query, before, after []line, at []int) *programmeSums {
	out := &programmeSums{groups: slices.Clone(s.groups), rollUps: slices.Clone(s.rollUps), at: s.at}
	for _, i := range at {
		g, ok := s.at[after[i].ProgrammeID]
		if !ok || before[i].ProgrammeID != after[i].ProgrammeID {
			return nil
		}
		out.groups[g].sub(before[i].figures())
		out.groups[g].add(after[i].figures())
		out.rollUps[g].Remove(before[i].fig.RAG)
		out.rollUps[g].Add(after[i].fig.RAG)
	}
	out.finish(q)
	return out
}

func (s *programmeSums) finish(q Query) {
	for g := range s.groups {
		s.groups[g].finish(q.Period, q.AsOf)
		s.groups[g].RollUp, s.groups[g].RAG = &s.rollUps[g], s.rollUps[g].Worst()
	}
}

// byRecipient gives each organisation the budget its awards hold in the
// period (its commitments) and the spend paid to it; the budget no award
// holds, and the reservations, form the "unawarded" group, which is forecast
// to spend its budget. Forecasts are projected per line and recipient.
func byRecipient(ctx context.Context, st *store.Store, q Query, ls []line) ([]Group, error) {
	parts, err := st.RecipientFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
	if err != nil {
		return nil, err
	}
	byLine := make(map[int64]line, len(ls))
	for _, l := range ls {
		byLine[l.LineID] = l
	}
	var out []Group
	index := map[int64]int{}
	ratings := map[int64][]models.RAG{}
	unawarded := Group{Key: UnawardedKey, Name: "Budget not yet awarded"}
	var unawardedRatings []models.RAG
	awardedOf := map[int64]decimal.Decimal{}
	for _, p := range parts {
		l, ok := byLine[p.LineID]
		if !ok {
			continue // money on a line the report leaves out
		}
		i, ok := index[p.RecipientID]
		if !ok {
			i = len(out)
			index[p.RecipientID] = i
			code := ""
			if p.OrgID != nil {
				code = *p.OrgID
			}
			out = append(out, Group{Key: strconv.FormatInt(p.RecipientID, 10), Code: code, Name: p.Name})
		}
		f := Figures{Budget: p.Committed, Committed: p.Committed, Pending: p.Pending, PendingReversals: p.PendingReversals, Spent: p.Spent}
		f.rate(q.Period, l.StartsOn, l.EndsOn, q.AsOf)
		out[i].add(f)
		ratings[p.RecipientID] = append(ratings[p.RecipientID], f.RAG)
		awardedOf[p.LineID] = awardedOf[p.LineID].Add(p.Committed)
	}
	for _, l := range ls {
		rest := l.fig.Budget.Sub(awardedOf[l.LineID])
		// Unawarded budget is forecast to be spent only once it is
		// awarded, so each line's part is on budget once the line runs.
		part := Figures{Budget: rest, Reserved: l.Reserved, Forecast: rest}
		part.RAG = models.Green
		if l.fig.RAG == models.NotStarted || l.fig.RAG == models.NotRated {
			part.RAG = l.fig.RAG
		}
		unawarded.add(part)
		unawardedRatings = append(unawardedRatings, part.RAG)
	}
	for id, i := range index {
		out[i].finish(q.Period, q.AsOf)
		out[i].rollUp("funding lines paid to it", ratings[id]...)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	unawarded.finish(q.Period, q.AsOf)
	unawarded.rollUp("funding lines", unawardedRatings...)
	return append(out, unawarded), nil
}
