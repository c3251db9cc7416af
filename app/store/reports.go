package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"golang.org/x/sync/errgroup"

	"granttrack/models"
)

// Snapshot runs fn with a store that reads one consistent REPEATABLE READ
// snapshot and cannot write, so that a report's several queries describe the
// same moment and its totals agree with each other.
func (s *Store) Snapshot(ctx context.Context, fn func(ctx context.Context, st *Store) error) error {
	return translate(s.bun.RunInTx(ctx, &sqlTxReadOnlySnapshot, func(ctx context.Context, tx bun.Tx) error {
		if err := reportSettings(ctx, tx); err != nil {
			return err
		}
		return fn(ctx, s.inside(tx))
	}))
}

// reportSettings tunes a report's transaction.
func reportSettings(ctx context.Context, tx bun.Tx) error {
	_, err := tx.ExecContext(ctx, reportSettingsSQL)
	return err
}

// reportSettingsSQL is sent as one message, which PostgreSQL runs in order
// within the transaction: a report's view opens up to four transactions,
// and each round trip counts on a busy machine.
//
// A report's queries each aggregate a few hundred thousand rollup rows at
// most; starting parallel workers for them costs more than it saves
// (measured: 199 ms against 62 ms on two cores). Nor does compiling them
// pay: the alerts query's estimate crosses jit_above_cost at a few hundred
// lines, and JIT then took 240 ms of a query that runs in 2.
const reportSettingsSQL = "SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off"

// SharedSnapshot runs fns at once, each in a read-only transaction of its
// own on a connection of its own, all reading the one snapshot: the first
// exports it (pg_export_snapshot) and the others import it (SET
// TRANSACTION SNAPSHOT) before anything else, so figures read side by side
// agree as if read one after another. The board's dashboard reads its line
// figures and its monthly chart this way; on a replica too (PostgreSQL 10
// and later export snapshots on a standby).
func (s *Store) SharedSnapshot(ctx context.Context, fns ...func(ctx context.Context, st *Store) error) error {
	if len(fns) == 0 {
		return nil
	}
	return s.Snapshot(ctx, func(ctx context.Context, first *Store) error {
		var id string
		if err := first.db.NewRaw("SELECT pg_export_snapshot()").Scan(ctx, &id); err != nil {
			return translate(err)
		}
		var others errgroup.Group
		for _, fn := range fns[1:] {
			others.Go(func() error {
				return translate(s.bun.RunInTx(ctx, &sqlTxReadOnlySnapshot, func(ctx context.Context, tx bun.Tx) error {
					// Before any other statement, as PostgreSQL requires;
					// the settings in the same message.
					if _, err := tx.NewRaw("SET TRANSACTION SNAPSHOT ?; "+reportSettingsSQL, id).Exec(ctx); err != nil {
						return err
					}
					return fn(ctx, s.inside(tx))
				}))
			})
		}
		// The exporting transaction stays open until every other has
		// imported its snapshot and finished.
		err := fns[0](ctx, first)
		return errors.Join(err, others.Wait())
	})
}

// ReportScope narrows a report; zero fields match all.
type ReportScope struct {
	ProgrammeID   int64
	FundingLineID int64
}

// ReportedLine is a funding line as a report describes it: its code, title,
// kind, status and programme, its whole budget, its dates and its profiled
// budget for the report's financial year (a report splits that into a
// quarter). The line catalogue keeps these between reports and every
// report of the year shares them: read only.
type ReportedLine struct {
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
}

// LineFigures are one funding line's money figures for a period: what was
// reserved (expected in the period), committed (tranches due in the
// period), pending, pending reversals and spent (incurred in the period),
// and the spend incurred in the period after the line's last day.
type LineFigures struct {
	*ReportedLine
	Reserved  decimal.Decimal
	Committed decimal.Decimal
	Pending   decimal.Decimal // spend awaiting approval, reversals left out
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
// from and to must be a first and a last day of a month, as every financial
// year and quarter are, because spend comes from the rollups (lineMoneyIn).
//
// It reads the lines and their money as plain rows and joins them here: at
// ten thousand lines PostgreSQL's GROUP BY of numeric sums, its sort on two
// text keys and the decoding of a dozen mostly-zero numerics per line cost
// more than the rest of the report (measured with granttrack bench report).
func (s *Store) LineFiguresFor(ctx context.Context, from, to time.Time, scope ReportScope) ([]LineFigures, error) {
	if err := wholeMonths(from, to); err != nil {
		return nil, err
	}
	if models.FinancialYearOf(from) != models.FinancialYearOf(to) {
		return nil, models.Errorf(models.EINVALID, "A report period lies within one financial year, not %s to %s.",
			from.Format(models.DateLayout), to.Format(models.DateLayout))
	}
	if scope == (ReportScope{}) {
		return s.allLineFigures(ctx, from, to)
	}
	out, index, err := s.reportedLines(ctx, from, scope)
	if err != nil {
		return nil, err
	}
	hasMoney := make([]bool, len(out))
	if err := s.addMoney(ctx, from, to, scope, nil, index, out, hasMoney); err != nil {
		return nil, err
	}
	return runningOrWithMoney(out, hasMoney, from, to), nil
}

// addMoney adds the money in [from, to] of the lines in scope (of the lines
// ids only, when not nil) to their figures in out, index giving each line's
// place, and marks in hasMoney the lines that have any.
func (s *Store) addMoney(ctx context.Context, from, to time.Time, scope ReportScope, ids []int64, index map[int64]int, out []LineFigures, hasMoney []bool) error {
	return s.lineMoneyIn(ctx, from, to, scope, ids, func(lineID int64, figure []byte, amount decimal.Decimal, count int) {
		i, ok := index[lineID]
		if !ok {
			return // a draft or cancelled line's money is not reported
		}
		f := &out[i]
		switch string(figure) { // compared without a copy
		case "spent":
			models.AddTo(&f.Spent, amount)
		case "pending":
			models.AddTo(&f.Pending, amount)
		case "pending_reversals":
			models.AddTo(&f.PendingReversals, amount)
		case "committed":
			models.AddTo(&f.Committed, amount)
		case "reserved":
			models.AddTo(&f.Reserved, amount)
		case "after_end":
			models.AddTo(&f.AfterEnd, amount)
			f.AfterEndCount += count
			return // spend after the end is also in spent or pending
		}
		hasMoney[i] = true
	})
}

// lineMoneyIn calls add for each part of each line's money in [from, to],
// in scope, as rows to be summed by line and figure: "spent" (approved
// spend, reversals netted), "pending" (spend awaiting approval, reversals
// left out), "pending_reversals" (what reversals awaiting approval would
// take off, as a positive amount), "committed" (tranches due), "reserved"
// (held reservations expected) and "after_end" (pending and approved spend
// incurred after the line's last day, with its count). A whole financial
// year reads the yearly rollup's rows as they are, one or two a line; a
// quarter sums the monthly rollup and the pending entries, which are few at
// any time (a partial index finds them).
func (s *Store) lineMoneyIn(ctx context.Context, from, to time.Time, scope ReportScope, ids []int64,
	add func(lineID int64, figure []byte, amount decimal.Decimal, count int)) error {
	spend := `SELECT m.funding_line_id, 'spent' AS figure, sum(m.amount) AS amount, 0 AS count
			FROM spend_monthly m WHERE m.month BETWEEN ?0 AND ?1 AND m.status = 'approved' AND m.entries > 0
				AND (NOT ?5 OR m.funding_line_id = ANY(?6)) GROUP BY 1
		UNION ALL
		SELECT e.funding_line_id, CASE WHEN e.reverses_id IS NULL THEN 'pending' ELSE 'pending_reversals' END,
				CASE WHEN e.reverses_id IS NULL THEN sum(e.amount) ELSE -sum(e.amount) END, 0
			FROM spend_entries e WHERE e.status = 'pending' AND e.incurred_on BETWEEN ?0 AND ?1
				AND (NOT ?5 OR e.funding_line_id = ANY(?6)) GROUP BY 1, e.reverses_id IS NULL`
	year := models.PeriodOf(models.FinancialYearOf(from), 0)
	if from.Equal(year.Start) && to.Equal(year.End) {
		spend = `SELECT y.funding_line_id,
				CASE WHEN y.status = 'approved' THEN 'spent' WHEN y.reversal THEN 'pending_reversals' ELSE 'pending' END AS figure,
				CASE WHEN y.status = 'pending' AND y.reversal THEN -y.amount ELSE y.amount END AS amount, 0 AS count
			FROM spend_yearly y WHERE y.financial_year = financial_year_of(?0) AND y.status IN ('approved', 'pending') AND y.entries > 0
				AND (NOT ?5 OR y.funding_line_id = ANY(?6))`
	}
	// Inlined where it is used, so that the few tranches and reservations
	// in the period find their lines by key rather than joining them all.
	// A few lines' money (ids) is found by key throughout.
	rows, err := s.db.QueryContext(ctx, `
		WITH lines AS NOT MATERIALIZED (
			SELECT id, ends_on FROM funding_lines WHERE status IN (?2) AND (?3 = 0 OR programme_id = ?3) AND (?4 = 0 OR id = ?4)
				AND (NOT ?5 OR id = ANY(?6)))
		SELECT * FROM (`+spend+`) spend WHERE (?3 = 0 AND ?4 = 0 AND NOT ?5) OR spend.funding_line_id IN (SELECT id FROM lines)
		UNION ALL
		SELECT a.funding_line_id, 'committed', sum(t.amount), 0
		FROM tranches t JOIN awards a ON a.id = t.award_id JOIN lines ON lines.id = a.funding_line_id
		WHERE t.due_on BETWEEN ?0 AND ?1 GROUP BY 1
		UNION ALL
		SELECT r.funding_line_id, 'reserved', sum(r.amount), 0
		FROM reservations r JOIN lines ON lines.id = r.funding_line_id
		WHERE r.status = 'held' AND r.expected_on BETWEEN ?0 AND ?1 GROUP BY 1
		UNION ALL
		SELECT se.funding_line_id, 'after_end', sum(se.amount), count(*)
		FROM lines JOIN spend_entries se ON se.funding_line_id = lines.id
		WHERE lines.ends_on < ?1 AND se.incurred_on > lines.ends_on AND se.incurred_on BETWEEN ?0 AND ?1
		  AND se.status IN ('pending', 'approved')
		GROUP BY 1`, from, to, bun.In(reportedStatuses), scope.ProgrammeID, scope.FundingLineID, ids != nil, pgdialect.Array(ids))
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var lineID int64
		var figure sql.RawBytes // valid until the next row: ten thousand rows need no string of their own
		var amount decimal.Decimal
		var count int
		if err := rows.Scan(&lineID, &figure, &amount, &count); err != nil {
			return translate(err)
		}
		add(lineID, figure, amount, count)
	}
	return translate(rows.Err())
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
// from..to by month. Over every programme it reads the monthly totals (a
// few rows a month) less the spend of lines the reports leave out (draft or
// cancelled: seldom any); for one programme or line, the monthly rollup of
// its lines.
func (s *Store) ApprovedSpendByMonth(ctx context.Context, from, to time.Time, scope ReportScope) ([]MonthAmount, error) {
	if err := wholeMonths(from, to); err != nil {
		return nil, err
	}
	var out []MonthAmount
	q := `SELECT m.month, sum(m.amount) AS amount
		FROM spend_monthly m JOIN funding_lines fl ON fl.id = m.funding_line_id
		WHERE m.status = 'approved' AND m.month BETWEEN ?0 AND ?1 AND fl.status IN (?2)
		  AND (?3 = 0 OR fl.programme_id = ?3) AND (?4 = 0 OR fl.id = ?4)
		GROUP BY 1 ORDER BY 1`
	if scope == (ReportScope{}) {
		q = `SELECT month, sum(amount) AS amount FROM (
			SELECT month, amount FROM spend_month_totals WHERE status = 'approved' AND month BETWEEN ?0 AND ?1
			UNION ALL
			SELECT m.month, -m.amount FROM funding_lines fl JOIN spend_monthly m ON m.funding_line_id = fl.id
			WHERE fl.status NOT IN (?2) AND m.status = 'approved' AND m.month BETWEEN ?0 AND ?1) parts
		GROUP BY 1 ORDER BY 1`
	}
	err := s.db.NewRaw(q, from, to, bun.In(reportedStatuses), scope.ProgrammeID, scope.FundingLineID).Scan(ctx, &out)
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
