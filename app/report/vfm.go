package report

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Attribution is printed beside every cost per outcome.
const Attribution = "Contribution, not attribution: other causes move these indicators too."

// CostMethod says on every page how cost per outcome is worked out.
const CostMethod = "Cost per outcome divides spend by improvement over the same window. In the period: the approved spend (net of reversals) " +
	"incurred in the period, divided by the change from the reading that opens the period (the latest reading dated on or before its first " +
	"day, a reading being dated by its own period's last day; failing one, the baseline if dated on or before that day) to the latest reading " +
	"dated inside the period. Life to date: the approved spend from the baseline's date to the period's last day, divided by the change from " +
	"the baseline to the latest reading after it. The change counts in the indicator's better direction. Without a reading inside the window, " +
	"something to open it, a change the right way or spend, it says not computable and why."

// Outcome is one indicator's value for money in a period.
type Outcome struct {
	Indicator *models.Indicator
	OwnerCode string // the funding line's or programme's code
	OwnerName string
	Latest    *models.Measurement   // the latest reading up to the period's end
	Cost      models.CostPerOutcome // over the period (models.CostInPeriod)
	ToDate    models.CostPerOutcome // since the baseline, to the period's end (models.CostToDate)
	Progress  *decimal.Decimal      // percent of the way from baseline to target
	Overdue   bool                  // no reading for longer than the reporting frequency
	DueOn     *time.Time            // when the next reading was (or is) due
	Series    []*models.Measurement
}

// Contract is a contract line's value against its tender's band
// (models.ContractBand), and its spend against its value.
type Contract struct {
	LineID        int64
	Code          string
	Title         string
	TenderMin     *decimal.Decimal
	TenderMax     *decimal.Decimal
	ContractValue *decimal.Decimal
	Committed     decimal.Decimal // awarded, all time
	Spent         decimal.Decimal // approved, all time
	BandPosition  string
	SpendText     string          // "£19,700.00 spent of £18,500.00 contracted"
	Overspend     decimal.Decimal // spend beyond the contract's value
}

// ValueForMoney is the value-for-money report for a period.
type ValueForMoney struct {
	Query       Query
	Outcomes    []Outcome
	AllOutcomes int // how many outcomes the report has, when Outcomes holds only the first
	Contracts   []Contract
}

// ValueForMoneyReport builds the report in one snapshot of the database.
func ValueForMoneyReport(ctx context.Context, st *store.Store, q Query) (*ValueForMoney, error) {
	var v *ValueForMoney
	err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) error {
		rows, err := st.LineFiguresFor(ctx, q.Period.Start, q.Period.End, q.Scope)
		if err != nil {
			return err
		}
		v, err = valueForMoneyIn(ctx, st, q, rows, -1, -1)
		return err
	})
	return v, err
}

// valueForMoneyIn works out the outcome of each indicator whose line or
// programme is in the report, the first outcomes of them (all when
// negative), from the lines' figures; AllOutcomes counts them all. The
// first seriesFor indicators (all when negative) carry their trend of
// readings, the others only the latest.
func valueForMoneyIn(ctx context.Context, st *store.Store, q Query, rows []store.LineFigures, seriesFor, outcomes int) (*ValueForMoney, error) {
	v := &ValueForMoney{Query: q}
	lineOf := make(map[int64]*store.LineFigures, len(rows))
	programmeOf := map[int64]*store.LineFigures{}
	var contractIDs []int64
	for i := range rows {
		r := &rows[i]
		lineOf[r.LineID], programmeOf[r.ProgrammeID] = r, r
		if r.Kind == models.KindContract {
			contractIDs = append(contractIDs, r.LineID)
		}
	}
	owners, err := st.IndicatorOwners(ctx, store.IndicatorFilter{FundingLineID: q.Scope.FundingLineID, ProgrammeID: q.Scope.ProgrammeID})
	if err != nil {
		return nil, err
	}
	// Only the indicators shown are read and worked out; a line outside
	// the report (draft, cancelled, or not running) shows none.
	var ids []int64
	for _, o := range owners {
		in := false
		if o.FundingLineID != nil {
			_, in = lineOf[*o.FundingLineID]
		} else {
			_, in = programmeOf[*o.ProgrammeID]
		}
		if in {
			v.AllOutcomes++
			if outcomes < 0 || len(ids) < outcomes {
				ids = append(ids, o.ID)
			}
		}
	}
	inds, err := st.IndicatorsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	// A programme's own indicators divide the spend of all its lines.
	programmeSpend := map[int64]decimal.Decimal{}
	for _, ind := range inds {
		if ind.FundingLineID == nil {
			programmeSpend[*ind.ProgrammeID] = decimal.Zero
		}
	}
	if len(programmeSpend) > 0 {
		for i := range rows {
			if sum, ok := programmeSpend[rows[i].ProgrammeID]; ok {
				programmeSpend[rows[i].ProgrammeID] = sum.Add(rows[i].Spent)
			}
		}
	}
	// The readings that open and close the period, and the spend since
	// each baseline: one set-based query each, however many indicators.
	opening, err := st.LatestMeasurements(ctx, q.Period.Start, ids...)
	if err != nil {
		return nil, err
	}
	closing, err := st.LatestMeasurementsAfter(ctx, q.Period.Start, q.Period.End, ids...)
	if err != nil {
		return nil, err
	}
	sinceBaseline, err := st.SpendSinceBaselines(ctx, q.Period.End, ids...)
	if err != nil {
		return nil, err
	}
	// The trends are of the first seriesFor indicators of them all, as
	// the dashboard's charts have always drawn them.
	withSeries := owners
	if seriesFor >= 0 {
		withSeries = owners[:min(seriesFor, len(owners))]
	}
	ids = make([]int64, 0, len(withSeries))
	for _, o := range withSeries {
		ids = append(ids, o.ID)
	}
	current, err := st.CurrentMeasurementsBy(ctx, q.Period.End, ids...)
	if err != nil {
		return nil, err
	}
	series := map[int64][]*models.Measurement{}
	for _, m := range current {
		if !m.PeriodEnd.After(q.Period.End) {
			series[m.IndicatorID] = append(series[m.IndicatorID], m)
		}
	}
	for _, ind := range inds {
		o := Outcome{Indicator: ind, Series: series[ind.ID], Latest: closing[ind.ID]}
		if o.Latest == nil {
			o.Latest = opening[ind.ID]
		}
		var spend decimal.Decimal
		switch {
		case ind.FundingLineID != nil:
			l, ok := lineOf[*ind.FundingLineID]
			if !ok {
				continue // the line is outside the report (draft, cancelled, or not running)
			}
			o.OwnerCode, o.OwnerName, spend = l.Code, l.Title, l.Spent
		default:
			p, ok := programmeOf[*ind.ProgrammeID]
			if !ok {
				continue
			}
			o.OwnerCode, o.OwnerName, spend = p.ProgrammeCode, p.ProgrammeName, programmeSpend[p.ProgrammeID]
		}
		var actual *decimal.Decimal
		if o.Latest != nil {
			actual = &o.Latest.Value
			due := models.MeasurementDue(ind.Frequency, o.Latest.PeriodEnd)
			o.DueOn, o.Overdue = &due, q.AsOf.After(due)
		} else if ind.BaselineOn != nil {
			due := models.MeasurementDue(ind.Frequency, *ind.BaselineOn)
			o.DueOn, o.Overdue = &due, q.AsOf.After(due)
		}
		o.Cost = models.CostInPeriod(q.Period, spend, ind, opening[ind.ID], closing[ind.ID])
		o.ToDate = models.CostToDate(q.Period.End, sinceBaseline[ind.ID], ind, o.Latest)
		if p, ok := models.ProgressToTarget(ind.BaselineValue, ind.TargetValue, actual); ok {
			o.Progress = &p
		}
		v.Outcomes = append(v.Outcomes, o)
	}
	totals, err := st.LineTotals(ctx, contractIDs...)
	if err != nil {
		return nil, err
	}
	for _, id := range contractIDs {
		l, t := lineOf[id], totals[id]
		c := Contract{LineID: id, Code: l.Code, Title: l.Title, TenderMin: l.TenderMin, TenderMax: l.TenderMax, ContractValue: l.ContractValue,
			Committed: t.Committed, Spent: t.Spent, BandPosition: models.ContractBand(l.ContractValue, l.TenderMin, l.TenderMax)}
		c.SpendText, c.Overspend = models.ContractSpend(t.Spent, l.ContractValue)
		v.Contracts = append(v.Contracts, c)
	}
	return v, nil
}
