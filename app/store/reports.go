package store

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// Snapshot runs fn with a store that reads one consistent REPEATABLE READ
// snapshot and cannot write, so that a report's several queries describe the
// same moment and its totals agree with each other.
func (s *Store) Snapshot(ctx context.Context, fn func(ctx context.Context, st *Store) error) error {
	return translate(s.bun.RunInTx(ctx, &sqlTxReadOnlySnapshot, func(ctx context.Context, tx bun.Tx) error {
		// A report's queries each aggregate a few hundred thousand rollup
		// rows at most; starting parallel workers for them costs more than
		// it saves (measured: 199 ms against 62 ms on two cores).
		if _, err := tx.ExecContext(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
			return err
		}
		// Nor does compiling them: the alerts query's estimate crosses
		// jit_above_cost at a few hundred lines, and JIT then took 240 ms of
		// a query that runs in 2.
		if _, err := tx.ExecContext(ctx, "SET LOCAL jit = off"); err != nil {
			return err
		}
		return fn(ctx, s.inside(tx))
	}))
}

// ReportScope narrows a report; zero fields match all.
type ReportScope struct {
	ProgrammeID   int64
	FundingLineID int64
}

// LineFigures are one funding line's money figures for a period: its whole
// budget, its dates and its profiled budget for the period's financial year
// (a report splits that into a quarter), and what
// was reserved (expected in the period), committed (tranches due in the
// period), pending, pending reversals and spent (incurred in the period), and
// the spend incurred in the period after the line's last day.
type LineFigures struct {
	LineID        int64
	Code          string
	Title         string
	Kind          models.FundingLineKind
	Status        models.FundingLineStatus
	ProgrammeID   int64
	ProgrammeCode string
	ProgrammeName string
	Budget        decimal.Decimal
	YearBudget    decimal.Decimal // the line's profiled budget for the period's financial year
	StartsOn      time.Time
	EndsOn        time.Time
	TenderMin     *decimal.Decimal
	TenderMax     *decimal.Decimal
	ContractValue *decimal.Decimal // a contract line's contract, once recorded
	Reserved      decimal.Decimal
	Committed     decimal.Decimal
	Pending       decimal.Decimal // spend awaiting approval, reversals left out
	// PendingReversals is what reversals awaiting approval would take off,
	// as a positive amount.
	PendingReversals decimal.Decimal
	Spent            decimal.Decimal
	// AfterEnd sums the pending and approved entries incurred in the period
	// after the line's last day (reversals recorded after it ended, or a
	// line whose dates were shortened); AfterEndCount counts them.
	AfterEnd      decimal.Decimal
	AfterEndCount int
}

// reportedStatuses are the lines whose budgets are real: a draft's budget is
// not yet approved and a cancelled line's is gone.
var reportedStatuses = []models.FundingLineStatus{models.StatusApproved, models.StatusActive, models.StatusClosed}

// LineFiguresFor returns the figures of every approved, active or closed
// line that runs in [from, to] or has money in it, by programme and code.
// Each sum is one GROUP BY over its table, joined once to the lines; spend
// comes from a rollup (spendIn), so from and to must be a first and a last
// day of a month, as every financial year and quarter are.
func (s *Store) LineFiguresFor(ctx context.Context, from, to time.Time, scope ReportScope) ([]LineFigures, error) {
	if err := wholeMonths(from, to); err != nil {
		return nil, err
	}
	if models.FinancialYearOf(from) != models.FinancialYearOf(to) {
		return nil, models.Errorf(models.EINVALID, "A report period lies within one financial year, not %s to %s.",
			from.Format(models.DateLayout), to.Format(models.DateLayout))
	}
	// Scanned by hand: ten thousand lines through Bun's reflection took a
	// third of a large report's own time.
	rows, err := s.db.QueryContext(ctx, `
		WITH `+spendIn(from, to)+`,
		after_end AS (
			SELECT se.funding_line_id, sum(se.amount) AS after_end, count(*) AS after_end_count
			FROM funding_lines fl JOIN spend_entries se ON se.funding_line_id = fl.id
			WHERE fl.ends_on < ?1 AND se.incurred_on > fl.ends_on AND se.incurred_on BETWEEN ?0 AND ?1
			  AND se.status IN ('pending', 'approved')
			GROUP BY se.funding_line_id),
		committed AS (
			SELECT a.funding_line_id, sum(t.amount) AS committed
			FROM tranches t JOIN awards a ON a.id = t.award_id
			WHERE t.due_on BETWEEN ?0 AND ?1 GROUP BY a.funding_line_id),
		reserved AS (
			SELECT funding_line_id, sum(amount) AS reserved
			FROM reservations WHERE status = 'held' AND expected_on BETWEEN ?0 AND ?1 GROUP BY funding_line_id)
		SELECT fl.id AS line_id, fl.code, fl.title, fl.kind, fl.status, fl.programme_id, p.code AS programme_code, p.name AS programme_name,
			fl.budget, coalesce(bp.amount, 0) AS year_budget, fl.starts_on, fl.ends_on, fl.tender_min_value AS tender_min, fl.tender_max_value AS tender_max,
			fl.contract_value,
			coalesce(r.reserved, 0) AS reserved, coalesce(c.committed, 0) AS committed,
			coalesce(sp.pending, 0) AS pending, coalesce(sp.pending_reversals, 0) AS pending_reversals, coalesce(sp.spent, 0) AS spent,
			coalesce(ae.after_end, 0) AS after_end, coalesce(ae.after_end_count, 0) AS after_end_count
		FROM funding_lines fl
		JOIN programmes p ON p.id = fl.programme_id
		LEFT JOIN spend sp ON sp.funding_line_id = fl.id
		LEFT JOIN after_end ae ON ae.funding_line_id = fl.id
		LEFT JOIN committed c ON c.funding_line_id = fl.id
		LEFT JOIN reserved r ON r.funding_line_id = fl.id
		LEFT JOIN budget_profiles bp ON bp.funding_line_id = fl.id AND bp.financial_year = financial_year_of(?0)
		WHERE fl.status IN (?2)
		  AND ((fl.starts_on <= ?1 AND fl.ends_on >= ?0) OR sp.funding_line_id IS NOT NULL
		       OR c.funding_line_id IS NOT NULL OR r.funding_line_id IS NOT NULL)
		  AND (?3 = 0 OR fl.programme_id = ?3)
		  AND (?4 = 0 OR fl.id = ?4)
		ORDER BY p.code, fl.code`, from, to, bun.In(reportedStatuses), scope.ProgrammeID, scope.FundingLineID)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []LineFigures
	for rows.Next() {
		var f LineFigures
		if err := rows.Scan(&f.LineID, &f.Code, &f.Title, &f.Kind, &f.Status, &f.ProgrammeID, &f.ProgrammeCode, &f.ProgrammeName,
			&f.Budget, &f.YearBudget, &f.StartsOn, &f.EndsOn, &f.TenderMin, &f.TenderMax, &f.ContractValue,
			&f.Reserved, &f.Committed, &f.Pending, &f.PendingReversals, &f.Spent, &f.AfterEnd, &f.AfterEndCount); err != nil {
			return nil, translate(err)
		}
		out = append(out, f)
	}
	return out, translate(rows.Err())
}

// spendIn is the CTE "spend": each line's approved spend, pending spend and
// pending reversals (as a positive amount) incurred in [from, to], with a
// row only for a line with approved or pending entries there. A whole
// financial year reads one yearly rollup row per line and status; a part of
// one reads the monthly rollup for approved spend and the pending entries
// themselves, which are few at any time (a partial index finds them).
func spendIn(from, to time.Time) string {
	year := models.PeriodOf(models.FinancialYearOf(from), 0)
	if from.Format(models.DateLayout) == year.Start.Format(models.DateLayout) && to.Format(models.DateLayout) == year.End.Format(models.DateLayout) {
		return `spend AS (
			SELECT funding_line_id,
				coalesce(sum(amount) FILTER (WHERE status = 'approved'), 0) AS spent,
				coalesce(sum(amount) FILTER (WHERE status = 'pending' AND NOT reversal), 0) AS pending,
				coalesce(-sum(amount) FILTER (WHERE status = 'pending' AND reversal), 0) AS pending_reversals
			FROM spend_yearly WHERE financial_year = financial_year_of(?0) AND status IN ('approved', 'pending') AND entries > 0
			GROUP BY funding_line_id)`
	}
	return `approved AS (
			SELECT funding_line_id, sum(amount) AS spent
			FROM spend_monthly WHERE month BETWEEN ?0 AND ?1 AND status = 'approved' AND entries > 0 GROUP BY funding_line_id),
		pending AS (
			SELECT funding_line_id,
				coalesce(sum(amount) FILTER (WHERE reverses_id IS NULL), 0) AS pending,
				coalesce(-sum(amount) FILTER (WHERE reverses_id IS NOT NULL), 0) AS pending_reversals
			FROM spend_entries WHERE status = 'pending' AND incurred_on BETWEEN ?0 AND ?1 GROUP BY funding_line_id),
		spend AS (
			SELECT funding_line_id, coalesce(a.spent, 0) AS spent, coalesce(p.pending, 0) AS pending,
				coalesce(p.pending_reversals, 0) AS pending_reversals
			FROM approved a FULL JOIN pending p USING (funding_line_id))`
}

// RecipientFigures are what one funding line committed to and paid one
// organisation in a period.
type RecipientFigures struct {
	LineID      int64
	RecipientID int64
	Name        string
	OrgID       *string
	Committed   decimal.Decimal
	Pending     decimal.Decimal // as LineFigures.Pending
	// PendingReversals is as LineFigures.PendingReversals.
	PendingReversals decimal.Decimal
	Spent            decimal.Decimal
}

// RecipientFiguresFor splits the period's commitments (award tranches, by
// the award's recipient) and spend (by payee) by organisation and line, for
// the same lines as LineFiguresFor.
func (s *Store) RecipientFiguresFor(ctx context.Context, from, to time.Time, scope ReportScope) ([]RecipientFigures, error) {
	var out []RecipientFigures
	err := s.db.NewRaw(`
		WITH lines AS (
			SELECT id FROM funding_lines
			WHERE status IN (?2) AND (?3 = 0 OR programme_id = ?3) AND (?4 = 0 OR id = ?4)),
		parts AS (
			SELECT a.funding_line_id AS line_id, a.recipient_id, sum(t.amount) AS committed, 0 AS pending, 0 AS pending_reversals, 0 AS spent
			FROM tranches t JOIN awards a ON a.id = t.award_id
			WHERE t.due_on BETWEEN ?0 AND ?1 AND a.funding_line_id IN (SELECT id FROM lines)
			GROUP BY 1, 2
			UNION ALL
			SELECT funding_line_id, payee_id, 0, sum(amount) FILTER (WHERE status = 'pending' AND reverses_id IS NULL),
				-sum(amount) FILTER (WHERE status = 'pending' AND reverses_id IS NOT NULL), sum(amount) FILTER (WHERE status = 'approved')
			FROM spend_entries
			WHERE incurred_on BETWEEN ?0 AND ?1 AND funding_line_id IN (SELECT id FROM lines)
			GROUP BY 1, 2)
		SELECT parts.line_id, parts.recipient_id, o.name, o.org_id,
			sum(parts.committed) AS committed, coalesce(sum(parts.pending), 0) AS pending,
			coalesce(sum(parts.pending_reversals), 0) AS pending_reversals, coalesce(sum(parts.spent), 0) AS spent
		FROM parts JOIN organisations o ON o.id = parts.recipient_id
		GROUP BY parts.line_id, parts.recipient_id, o.name, o.org_id
		ORDER BY o.name, parts.recipient_id, parts.line_id`, from, to, bun.In(reportedStatuses), scope.ProgrammeID, scope.FundingLineID).Scan(ctx, &out)
	return out, translate(err)
}

// MonthAmount is a sum for one calendar month.
type MonthAmount struct {
	Month  time.Time
	Amount decimal.Decimal
}

// ApprovedSpendByMonth sums approved spend incurred in the whole months
// from..to by month, from the monthly rollup.
func (s *Store) ApprovedSpendByMonth(ctx context.Context, from, to time.Time, scope ReportScope) ([]MonthAmount, error) {
	if err := wholeMonths(from, to); err != nil {
		return nil, err
	}
	var out []MonthAmount
	err := s.db.NewRaw(`
		SELECT m.month, sum(m.amount) AS amount
		FROM spend_monthly m JOIN funding_lines fl ON fl.id = m.funding_line_id
		WHERE m.status = 'approved' AND m.month BETWEEN ?0 AND ?1 AND fl.status IN (?2)
		  AND (?3 = 0 OR fl.programme_id = ?3) AND (?4 = 0 OR fl.id = ?4)
		GROUP BY 1 ORDER BY 1`, from, to, bun.In(reportedStatuses), scope.ProgrammeID, scope.FundingLineID).Scan(ctx, &out)
	return out, translate(err)
}

// wholeMonths checks a period starts on a month's first day and ends on a
// month's last, as the monthly rollup needs.
func wholeMonths(from, to time.Time) error {
	if from.Day() != 1 || to.AddDate(0, 0, 1).Day() != 1 {
		return models.Errorf(models.EINVALID, "A report period must run from the first of a month to the last of a month, not %s to %s.",
			from.Format(models.DateLayout), to.Format(models.DateLayout))
	}
	return nil
}

// MonthlyRollupDrift lists the (line, month, status) keys where the monthly
// rollup differs from the ledger's own GROUP BY; empty when they agree.
func (s *Store) MonthlyRollupDrift(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.NewRaw(`
		SELECT concat_ws(' ', coalesce(r.funding_line_id, l.funding_line_id), coalesce(r.month, l.month), coalesce(r.status, l.status),
			'rollup', coalesce(r.amount, 0), coalesce(r.entries, 0), 'ledger', coalesce(l.amount, 0), coalesce(l.entries, 0))
		FROM (SELECT * FROM spend_monthly WHERE entries <> 0 OR amount <> 0) r
		FULL JOIN (SELECT funding_line_id, date_trunc('month', incurred_on)::date AS month, status, sum(amount) AS amount, count(*) AS entries
			FROM spend_entries GROUP BY 1, 2, 3) l USING (funding_line_id, month, status)
		WHERE r.amount IS DISTINCT FROM l.amount OR r.entries IS DISTINCT FROM l.entries
		ORDER BY 1`).Scan(ctx, &out)
	return out, translate(err)
}
