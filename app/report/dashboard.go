package report

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// MonthPoint is one month of the cumulative spend chart.
type MonthPoint struct {
	Month      time.Time
	Spent      decimal.Decimal // approved spend incurred in the month
	Cumulative decimal.Decimal // approved spend from the period's start to the month's end
	Plan       decimal.Decimal // the period's profiled budget straight-line to the month's end
}

// DashboardSeries is how many indicators' trends the dashboard reads.
const DashboardSeries = 24

// Dashboard is everything on the board's dashboard, read in one snapshot so
// that every figure on the page agrees with every other and with the API's
// reports for the same query.
type Dashboard struct {
	Query      Query
	Programmes *Budget // grouped by programme
	// Lines are the funding lines by variance, largest overspend first:
	// all of them, or the first few the dashboard asked for; the total is
	// always over all of them, and AllLines counts them.
	Lines    *Budget
	AllLines int
	Months   []MonthPoint
	VFM      *ValueForMoney

	lines []line // every line's figures, for linesFor
}

// linesFor is the dashboard's line figures when they are q's own (see
// SharesAlertLines); nil otherwise, and for a nil dashboard.
func (d *Dashboard) linesFor(q Query) []line {
	if d == nil || !d.Query.sameLines(q) {
		return nil
	}
	return d.lines
}

// SharesAlertLines says whether the dashboard for q works out the very line
// figures the alerts' red lines on the day today come from: the current
// financial year's whole year, as of today, over every programme. Then
// AlertsPage takes them from the dashboard; otherwise the two are
// independent reads.
func SharesAlertLines(q Query, today time.Time) bool { return q.sameLines(alertLinesQuery(today)) }

func (q Query) sameLines(o Query) bool {
	return q.Scope == o.Scope && q.Period.Year == o.Period.Year && q.Period.Quarter == o.Period.Quarter && q.AsOf.Equal(o.AsOf)
}

// DashboardReport builds the dashboard for q's period and scope, with the
// topLines funding lines furthest over budget and the first outcomes
// indicators' outcomes (all of either when negative); the first
// DashboardSeries indicators carry their trends.
func DashboardReport(ctx context.Context, st *store.Store, q Query, topLines, outcomes int) (*Dashboard, error) {
	d := &Dashboard{Query: q}
	var months []store.MonthAmount
	// Three connections read one snapshot (store.SharedSnapshot): the line
	// figures, the monthly chart, and the outcomes, which wait for the
	// line figures and then read their indicators while the first works
	// out the lines' ratings and groups.
	figures := make(chan []store.LineFigures, 1)
	err := st.SharedSnapshot(ctx, func(ctx context.Context, st *store.Store) error {
		rows, err := st.LineFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
		if err != nil {
			close(figures)
			return err
		}
		figures <- rows // read only from here on, by both
		ls, err := lines(rows, q, st.MovedLines)
		if err != nil {
			return err
		}
		byProg, byLine := q, q
		byProg.GroupBy, byLine.GroupBy = ByProgramme, ByFundingLine
		if d.Programmes, err = budgetFrom(ctx, st, byProg, ls); err != nil {
			return err
		}
		if d.Lines, err = budgetFrom(ctx, st, byLine, byVariance(ls, topLines)); err != nil {
			return err
		}
		d.AllLines, d.lines = len(ls), ls
		d.Lines.Total = linesTotal(d.Programmes)
		return nil
	}, func(ctx context.Context, st *store.Store) (err error) {
		months, err = st.ApprovedSpendByMonth(ctx, q.Period.Start, q.Period.End, q.Scope)
		return err
	}, func(ctx context.Context, st *store.Store) (err error) {
		rows, ok := <-figures
		if !ok {
			return nil // the line figures' error is the one reported
		}
		d.VFM, err = valueForMoneyIn(ctx, st, q, rows, DashboardSeries, outcomes)
		return err
	})
	if err != nil {
		return nil, err
	}
	d.Months = cumulative(q.Period, months, d.Programmes.Total.Budget)
	return d, nil
}

// linesTotal is the total over every line of a report by programme: the
// programmes' total, whose figures are the sums of the lines' (exact
// decimal sums, in any order), rated from the lines' ratings, which the
// programmes' roll-ups count, rather than from the programmes'.
func linesTotal(byProgramme *Budget) Figures {
	t := byProgramme.Total
	u := models.RollUp{Of: partsOf[ByFundingLine]}
	for _, g := range byProgramme.Groups {
		u.Red, u.Amber, u.Green, u.NotRated = u.Red+g.RollUp.Red, u.Amber+g.RollUp.Amber, u.Green+g.RollUp.Green, u.NotRated+g.RollUp.NotRated
	}
	t.RollUp, t.RAG = &u, u.Worst()
	return t
}

// byVariance is the n lines with the largest variance (all when n is
// negative), largest first, lines of equal variance in their given order.
func byVariance(ls []line, n int) []line {
	return headOf(ls, n, func(a, b line) int { return b.fig.Variance.Cmp(a.fig.Variance) })
}

// headOf is the first n of s (all when n is negative) as a stable sort by
// cmp would order them, without sorting ten thousand lines or alerts to
// show twenty-five.
func headOf[T any](s []T, n int, cmp func(a, b T) int) []T {
	// Kept in order by insertion, which beats a sort only for a short head.
	if n < 0 || n >= len(s) || n > 100 {
		out := slices.Clone(s)
		slices.SortStableFunc(out, cmp)
		if n >= 0 && n < len(out) {
			out = out[:n]
		}
		return out
	}
	top := make([]T, 0, n+1)
	for _, x := range s {
		if n == 0 || (len(top) == n && cmp(x, top[n-1]) >= 0) {
			continue
		}
		// After every one that sorts before it or equal.
		i := sort.Search(len(top), func(i int) bool { return cmp(x, top[i]) < 0 })
		top = slices.Insert(top, i, x)
		top = top[:min(len(top), n)]
	}
	return top
}

// cumulative lays the period's months out with running totals of spend and
// of the period's profiled budget spread evenly by day.
func cumulative(p models.Period, spent []store.MonthAmount, budget decimal.Decimal) []MonthPoint {
	byMonth := map[string]decimal.Decimal{}
	for _, m := range spent {
		byMonth[m.Month.Format("2006-01")] = m.Amount
	}
	days := decimal.NewFromInt(int64(p.Days()))
	var out []MonthPoint
	running := decimal.Zero
	for m := p.Start; !m.After(p.End); m = m.AddDate(0, 1, 0) {
		end := m.AddDate(0, 1, -1)
		month := byMonth[m.Format("2006-01")]
		running = running.Add(month)
		plan := budget.Mul(decimal.NewFromInt(int64(p.ElapsedDays(end)))).DivRound(days, 2)
		out = append(out, MonthPoint{Month: m, Spent: month, Cumulative: running, Plan: plan})
	}
	return out
}
