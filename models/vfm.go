package models

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Period is a reporting period: a financial year or one of its quarters,
// first and last day inclusive.
type Period struct {
	Year    FinancialYear
	Quarter Quarter // 0 for the whole year
	Start   time.Time
	End     time.Time
}

// PeriodOf is the financial year, or the quarter of it when q is not zero.
func PeriodOf(fy FinancialYear, q Quarter) Period {
	p := Period{Year: fy, Quarter: q, Start: fy.Start(), End: fy.End()}
	if q != 0 {
		p.Start, p.End = fy.QuarterRange(q)
	}
	return p
}

// String is "2024-25" or "2024-25 Q2".
func (p Period) String() string {
	if p.Quarter == 0 {
		return p.Year.String()
	}
	return p.Year.String() + " " + p.Quarter.String()
}

// Days is the number of days in the period.
func (p Period) Days() int { return daysBetween(p.Start, p.End) }

// ElapsedDays is how many of the period's days have passed by asOf,
// counting asOf itself.
func (p Period) ElapsedDays(asOf time.Time) int { return elapsed(p.Start, p.End, asOf) }

func daysBetween(from, to time.Time) int {
	if to.Before(from) {
		return 0
	}
	return int(to.Sub(from).Hours()/24+0.5) + 1
}

func elapsed(from, to, asOf time.Time) int {
	switch {
	case asOf.Before(from):
		return 0
	case asOf.After(to):
		return daysBetween(from, to)
	default:
		return daysBetween(from, asOf)
	}
}

// QuarterAmount is part of a sum falling in one quarter of a financial year.
type QuarterAmount struct {
	Year    FinancialYear
	Quarter Quarter
	Amount  decimal.Decimal
}

// ProfileBudget spreads a funding line's budget straight-line by day over
// the line's life and returns the part in each financial-year quarter it
// touches, to the penny; the parts add up to the budget exactly. Summed by
// year, it is the profile a new line is proposed (the database's
// straight_line_profile, which a store test keeps equal to it).
func ProfileBudget(budget decimal.Decimal, startsOn, endsOn time.Time) ([]QuarterAmount, error) {
	if endsOn.Before(startsOn) {
		return nil, Errorf(EINVALID, "the line ends before it starts")
	}
	var parts []QuarterAmount
	var weights []int64
	fy, q := QuarterOf(startsOn)
	for {
		qs, qe := fy.QuarterRange(q)
		if qs.After(endsOn) {
			break
		}
		from, to := laterOf(qs, startsOn), earlierOf(qe, endsOn)
		parts = append(parts, QuarterAmount{Year: fy, Quarter: q})
		weights = append(weights, int64(daysBetween(from, to)))
		if q == 4 {
			fy, q = fy+1, 1
		} else {
			q++
		}
	}
	amounts, err := SplitByWholeWeights(budget, weights)
	if err != nil {
		return nil, err
	}
	for i := range parts {
		parts[i].Amount = amounts[i]
	}
	return parts, nil
}

// BudgetIn is the part of a profiled budget that falls in p.
func BudgetIn(profile []QuarterAmount, p Period) decimal.Decimal {
	sum := decimal.Zero
	for _, qa := range profile {
		if qa.Year == p.Year && (p.Quarter == 0 || qa.Quarter == p.Quarter) {
			sum = sum.Add(qa.Amount)
		}
	}
	return sum
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlierOf(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// RAG is a red/amber/green rating of a forecast against budget.
type RAG string

// RAG ratings. NotStarted is for a line whose part of the period has not
// begun, so there is no spend to project from.
const (
	Green      RAG = "green"
	Amber      RAG = "amber"
	Red        RAG = "red"
	NotStarted RAG = "not_started"
)

// RAG thresholds: a forecast more than RedThreshold away from budget (over or
// under) is red, more than AmberThreshold is amber, otherwise green.
var (
	AmberThreshold = decimal.RequireFromString("0.05")
	RedThreshold   = decimal.RequireFromString("0.10")
)

// Forecast projects spent straight-line to the end of the days a line runs
// inside a period: spent ÷ days elapsed × days in all, to the penny. Before
// the line's part of the period starts there is nothing to project from
// (started is false); once it has ended the forecast is what was spent.
func Forecast(spent decimal.Decimal, p Period, lineStarts, lineEnds, asOf time.Time) (forecast decimal.Decimal, started bool) {
	from, to := laterOf(p.Start, lineStarts), earlierOf(p.End, lineEnds)
	total := daysBetween(from, to)
	done := elapsed(from, to, asOf)
	switch {
	case total == 0 || done == 0:
		return spent, false
	case done == total:
		return spent, true
	}
	return spent.Mul(decimal.NewFromInt(int64(total))).DivRound(decimal.NewFromInt(int64(done)), 2), true
}

// RateForecast rates a forecast against a budget.
func RateForecast(budget, forecast decimal.Decimal) RAG {
	variance := forecast.Sub(budget).Abs()
	if budget.IsZero() {
		if variance.IsZero() {
			return Green
		}
		return Red
	}
	// variance/budget against each threshold, multiplied out: exact, and
	// a report rates ten thousand lines.
	switch {
	case variance.GreaterThan(budget.Mul(RedThreshold)):
		return Red
	case variance.GreaterThan(budget.Mul(AmberThreshold)):
		return Amber
	}
	return Green
}

// MonthlyBurn is the average spend per month over the days elapsed, a month
// being a twelfth of the financial year; zero before the period starts.
func MonthlyBurn(spent decimal.Decimal, p Period, asOf time.Time) decimal.Decimal {
	done := p.ElapsedDays(asOf)
	if done == 0 {
		return decimal.Zero
	}
	yearDays := decimal.NewFromInt(int64(PeriodOf(p.Year, 0).Days()))
	return spent.Mul(yearDays).DivRound(decimal.NewFromInt(int64(done*12)), 2)
}

// Improvement is how far an indicator moved from its baseline in the
// direction that is better: positive is better, negative is worse.
func Improvement(d Direction, baseline, actual decimal.Decimal) decimal.Decimal {
	if d == LowerIsBetter {
		return baseline.Sub(actual)
	}
	return actual.Sub(baseline)
}

// CostPerOutcome is the spend in a period divided by the change an
// indicator shows against its baseline. It measures contribution, not
// attribution: other causes move the indicator too. When it cannot be
// computed Cost is nil and Reason says why.
type CostPerOutcome struct {
	Method      string    // MethodPeriod or MethodLifeToDate; "" for the bare arithmetic
	From, To    time.Time // the window spend and improvement are both measured over
	Opening     *OutcomePoint
	Closing     *OutcomePoint
	Spend       decimal.Decimal
	Improvement *decimal.Decimal // the denominator, in the indicator's unit
	Cost        *decimal.Decimal // spend per unit of improvement, to the penny
	Reason      string
}

// ComputeCostPerOutcome divides spend by the improvement from baseline to
// actual. It never divides by zero and never reports a number for a change
// in the wrong direction: those cases come back with a reason instead.
func ComputeCostPerOutcome(spend decimal.Decimal, d Direction, baseline, actual *decimal.Decimal) CostPerOutcome {
	c := CostPerOutcome{Spend: spend}
	switch {
	case baseline == nil:
		c.Reason = "not computable: the indicator has no baseline"
		return c
	case actual == nil:
		c.Reason = "not computable: no measurement up to the end of the period"
		return c
	}
	imp := Improvement(d, *baseline, *actual)
	c.Improvement = &imp
	switch {
	case imp.IsZero():
		c.Reason = "not computable: no change from the baseline"
	case imp.IsNegative():
		c.Reason = fmt.Sprintf("not computable: the indicator moved the wrong way (%s worse than the baseline)", imp.Neg().String())
	case !spend.IsPositive():
		c.Reason = "not computable: no approved spend in the period"
	default:
		cost := spend.DivRound(imp, 2)
		c.Cost = &cost
	}
	return c
}

// ProgressToTarget is how much of the way from baseline to target the
// actual has come, in percent to one decimal place (over 100 when the target
// is beaten, negative when the indicator moved away). ok is false when a
// value is missing or the target equals the baseline.
func ProgressToTarget(baseline, target, actual *decimal.Decimal) (percent decimal.Decimal, ok bool) {
	if baseline == nil || target == nil || actual == nil || target.Equal(*baseline) {
		return decimal.Zero, false
	}
	return actual.Sub(*baseline).Mul(decimal.NewFromInt(100)).DivRound(target.Sub(*baseline), 1), true
}

// MeasurementDue is the day after which an indicator whose last
// measurement period ended on lastEnd is overdue: one reporting period later.
func MeasurementDue(f Frequency, lastEnd time.Time) time.Time {
	return AddMonthsClamped(lastEnd, f.Months())
}

// Ways a cost per outcome is measured.
const (
	MethodPeriod     = "period"
	MethodLifeToDate = "life_to_date"
)

// OutcomePoint is an indicator's value on a day: a reading (dated by the
// last day of its period) or the indicator's baseline.
type OutcomePoint struct {
	Value         decimal.Decimal
	On            time.Time
	Baseline      bool  // the indicator's baseline, not a reading
	MeasurementID int64 // the reading's id; 0 for the baseline
	Source        string
}

func readingPoint(m *Measurement) *OutcomePoint {
	return &OutcomePoint{Value: m.Value, On: m.PeriodEnd, MeasurementID: m.ID, Source: m.Source}
}

func baselinePoint(ind *Indicator) *OutcomePoint {
	if ind.BaselineValue == nil || ind.BaselineOn == nil {
		return nil
	}
	return &OutcomePoint{Value: *ind.BaselineValue, On: *ind.BaselineOn, Baseline: true, Source: ind.BaselineSource}
}

// windowed divides spend over a window by the improvement from opening to
// closing, keeping both ends beside the figure.
func windowed(c CostPerOutcome, d Direction, opening, closing *OutcomePoint) CostPerOutcome {
	w := ComputeCostPerOutcome(c.Spend, d, &opening.Value, &closing.Value)
	w.Method, w.From, w.To, w.Opening, w.Closing = c.Method, c.From, c.To, opening, closing
	return w
}

// CostInPeriod is the cost per outcome over a report's period (a financial
// year or a quarter): the approved spend incurred in the period, divided by
// the improvement from the reading that opens the period to the last
// reading inside it. A reading is dated by its period's last day; it is
// inside the period when that day is after the period's first day and on or
// before its last. The reading that opens the period is the latest reading
// dated on or before the period's first day; failing one, the baseline if
// it is dated on or before that day. opening and closing are those readings
// (nil when there is none). With no reading inside the period, or nothing
// to open it, the cost is not computable and Reason says why.
func CostInPeriod(p Period, spend decimal.Decimal, ind *Indicator, opening, closing *Measurement) CostPerOutcome {
	c := CostPerOutcome{Method: MethodPeriod, From: p.Start, To: p.End, Spend: spend}
	var open *OutcomePoint
	if opening != nil {
		open = readingPoint(opening)
	} else if b := baselinePoint(ind); b != nil && !b.On.After(p.Start) {
		open = b
	}
	switch {
	case closing == nil:
		c.Opening = open
		c.Reason = fmt.Sprintf("not computable: no reading inside %s (none dated %s to %s)", p, p.Start.AddDate(0, 0, 1).Format(DateLayout), p.End.Format(DateLayout))
		return c
	case open == nil && ind.BaselineOn == nil:
		c.Closing = readingPoint(closing)
		c.Reason = fmt.Sprintf("not computable: nothing opens %s (no reading dated on or before %s, and no baseline)", p, p.Start.Format(DateLayout))
		return c
	case open == nil:
		c.Closing = readingPoint(closing)
		c.Reason = fmt.Sprintf("not computable: nothing opens %s (no reading dated on or before %s, and the baseline is dated %s)",
			p, p.Start.Format(DateLayout), ind.BaselineOn.Format(DateLayout))
		return c
	}
	return windowed(c, ind.Direction, open, readingPoint(closing))
}

// CostToDate is the life-to-date cost per outcome up to end: the approved
// spend incurred from the baseline's date to end, divided by the
// improvement from the baseline to the latest reading dated after the
// baseline and on or before end (latest). Without a baseline, or a reading
// after it, the cost is not computable and Reason says why.
func CostToDate(end time.Time, spend decimal.Decimal, ind *Indicator, latest *Measurement) CostPerOutcome {
	c := CostPerOutcome{Method: MethodLifeToDate, To: end, Spend: spend}
	b := baselinePoint(ind)
	switch {
	case b == nil:
		c.Reason = "not computable: the indicator has no baseline"
		return c
	case b.On.After(end):
		c.From, c.Opening = b.On, b
		c.Reason = fmt.Sprintf("not computable: the baseline is dated %s, after %s", b.On.Format(DateLayout), end.Format(DateLayout))
		return c
	case latest == nil || !latest.PeriodEnd.After(b.On):
		c.From, c.Opening = b.On, b
		c.Reason = fmt.Sprintf("not computable: no reading dated after the baseline (%s) and on or before %s", b.On.Format(DateLayout), end.Format(DateLayout))
		return c
	}
	c.From = b.On
	return windowed(c, ind.Direction, b, readingPoint(latest))
}
