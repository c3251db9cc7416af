package report

import (
	"context"
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
	Lines      *Budget // grouped by funding line, sorted by variance, largest overspend first
	Months     []MonthPoint
	VFM        *ValueForMoney
}

// DashboardReport builds the dashboard for q's period and scope.
func DashboardReport(ctx context.Context, st *store.Store, q Query) (*Dashboard, error) {
	d := &Dashboard{Query: q}
	err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) error {
		rows, err := st.LineFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
		if err != nil {
			return err
		}
		ls, err := lines(rows, q)
		if err != nil {
			return err
		}
		byProg, byLine := q, q
		byProg.GroupBy, byLine.GroupBy = ByProgramme, ByFundingLine
		if d.Programmes, err = budgetFrom(ctx, st, byProg, ls); err != nil {
			return err
		}
		if d.Lines, err = budgetFrom(ctx, st, byLine, ls); err != nil {
			return err
		}
		sort.SliceStable(d.Lines.Groups, func(i, j int) bool {
			return d.Lines.Groups[i].Variance.GreaterThan(d.Lines.Groups[j].Variance)
		})
		months, err := st.ApprovedSpendByMonth(ctx, q.Period.Start, q.Period.End, q.Scope)
		if err != nil {
			return err
		}
		d.Months = cumulative(q.Period, months, d.Programmes.Total.Budget)
		d.VFM, err = valueForMoneyIn(ctx, st, q, rows, DashboardSeries)
		return err
	})
	return d, err
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
