package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"granttrack/models"
)

// CreateIndicator adds an outcome or output indicator to a funding line or
// a programme.
func (s *Store) CreateIndicator(ctx context.Context, actor models.Actor, ind *models.Indicator) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(ind).Returning("*").Exec(ctx); err != nil {
			return err
		}
		first := ind.FirstRevision()
		first.RecordedBy = actor.UserIDOrNil()
		if _, err := tx.NewInsert().Model(first).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "indicator.create", Entity: "indicator", EntityID: ind.ID, After: ind})
	})
}

// CorrectIndicator records a new revision of an indicator's definition,
// which must name the indicator's current revision; the old one is kept
// and the indicator reads as the new one from then on. ENOTFOUND when
// there is no such indicator; ECONFLICT when the revision named is not the
// current one (someone corrected it first).
func (s *Store) CorrectIndicator(ctx context.Context, actor models.Actor, r *models.IndicatorRevision) (*models.Indicator, error) {
	var out *models.Indicator
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		before := new(models.Indicator)
		if err := tx.NewSelect().Model(before).Where("id = ?", r.IndicatorID).Scan(ctx); err != nil {
			return notFound(err, "Indicator", r.IndicatorID)
		}
		// One writer per indicator, so two corrections of the same revision
		// cannot both pass the check below.
		if err := lockKey(ctx, tx, "indicators", r.IndicatorID); err != nil {
			return err
		}
		current := new(models.IndicatorRevision)
		if err := tx.NewSelect().Model(current).Where("indicator_id = ?", r.IndicatorID).
			OrderExpr("revision DESC").Limit(1).Scan(ctx); err != nil {
			return translate(err)
		}
		if r.SupersedesID == nil || *r.SupersedesID != current.ID {
			return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("Revision %d (id %d) is this indicator's current definition: a correction replaces it.",
				current.Revision, current.ID),
				Fields: []models.FieldError{{Field: "supersedes", Message: fmt.Sprintf("indicator_revisions_chain: give %d, the current revision", current.ID)}}}
		}
		r.Revision = current.Revision + 1
		r.RecordedBy = actor.UserIDOrNil()
		if _, err := tx.NewInsert().Model(r).Returning("*").Exec(ctx); err != nil {
			return err
		}
		out = new(models.Indicator)
		if err := tx.NewSelect().Model(out).Where("id = ?", r.IndicatorID).Scan(ctx); err != nil {
			return translate(err)
		}
		return s.audit(ctx, tx, actor, Change{Action: "indicator.correct", Entity: "indicator", EntityID: r.IndicatorID,
			Before: current, After: r})
	})
	return out, err
}

// IndicatorRevisions lists every revision of an indicator's definition,
// first to current; ENOTFOUND when there is no such indicator.
func (s *Store) IndicatorRevisions(ctx context.Context, indicatorID int64) ([]*models.IndicatorRevision, error) {
	if _, err := s.Indicator(ctx, indicatorID); err != nil {
		return nil, err
	}
	h, err := s.IndicatorHistories(ctx, indicatorID)
	return h[indicatorID], err
}

// IndicatorHistories returns every revision of each of the given
// indicators' definitions, first to current, in one query.
func (s *Store) IndicatorHistories(ctx context.Context, indicatorIDs ...int64) (map[int64][]*models.IndicatorRevision, error) {
	out := make(map[int64][]*models.IndicatorRevision, len(indicatorIDs))
	if len(indicatorIDs) == 0 {
		return out, nil
	}
	var revs []*models.IndicatorRevision
	err := s.db.NewSelect().Model(&revs).Where("indicator_id IN (?)", bun.In(indicatorIDs)).Order("indicator_id", "revision").Scan(ctx)
	for _, r := range revs {
		out[r.IndicatorID] = append(out[r.IndicatorID], r)
	}
	return out, translate(err)
}

// Indicator returns one indicator; ENOTFOUND if none.
func (s *Store) Indicator(ctx context.Context, id int64) (*models.Indicator, error) {
	ind := new(models.Indicator)
	if err := s.db.NewSelect().Model(ind).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Indicator", id)
	}
	return ind, nil
}

// IndicatorFilter narrows a list of indicators; zero fields match all.
type IndicatorFilter struct {
	FundingLineID int64
	ProgrammeID   int64 // the programme's own indicators and its lines'
}

// Indicators lists indicators, programme-level ones first.
func (s *Store) Indicators(ctx context.Context, f IndicatorFilter) ([]*models.Indicator, error) {
	var out []*models.Indicator
	return out, translate(f.apply(s.db.NewSelect().Model(&out)).Scan(ctx))
}

// IndicatorOwner is an indicator's id and what owns it: its funding line,
// or its programme.
type IndicatorOwner struct {
	ID            int64  `bun:"id"`
	FundingLineID *int64 `bun:"funding_line_id"`
	ProgrammeID   *int64 `bun:"programme_id"`
}

// IndicatorOwners lists the indicators Indicators lists, in its order, with
// only what owns them: a report picks the few it shows from thousands.
func (s *Store) IndicatorOwners(ctx context.Context, f IndicatorFilter) ([]IndicatorOwner, error) {
	var out []IndicatorOwner
	err := f.apply(s.db.NewSelect().Model((*models.Indicator)(nil)).Column("id", "funding_line_id", "programme_id")).Scan(ctx, &out)
	return out, translate(err)
}

// IndicatorsByID returns the indicators with the ids given, in that order.
func (s *Store) IndicatorsByID(ctx context.Context, ids []int64) ([]*models.Indicator, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []*models.Indicator
	err := s.db.NewSelect().Model(&out).Where("id IN (?)", bun.In(ids)).OrderExpr("array_position(?::bigint[], id)", pgdialect.Array(ids)).Scan(ctx)
	return out, translate(err)
}

func (f IndicatorFilter) apply(q *bun.SelectQuery) *bun.SelectQuery {
	q = q.OrderExpr("funding_line_id NULLS FIRST, id")
	if f.FundingLineID != 0 {
		q = q.Where("funding_line_id = ?", f.FundingLineID)
	}
	if f.ProgrammeID != 0 {
		q = q.Where("programme_id = ? OR funding_line_id IN (SELECT id FROM funding_lines WHERE programme_id = ?)", f.ProgrammeID, f.ProgrammeID)
	}
	return q
}

// RecordMeasurement stores a reading of an indicator. A correction names
// the reading it supersedes, which must be the latest revision of the same
// indicator; it becomes the next revision and the old one stays visible.
func (s *Store) RecordMeasurement(ctx context.Context, actor models.Actor, m *models.Measurement) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model((*models.Indicator)(nil)).Column("id").Where("id = ?", m.IndicatorID).
			Scan(ctx, new(int64)); err != nil {
			return notFound(err, "Indicator", m.IndicatorID)
		}
		// One writer per indicator at a time, so two corrections of the same
		// reading cannot both pass the checks below.
		if err := lockKey(ctx, tx, "indicators", m.IndicatorID); err != nil {
			return err
		}
		var before *models.Measurement
		if m.SupersedesID != nil {
			before = new(models.Measurement)
			if err := tx.NewSelect().Model(before).Where("id = ? AND indicator_id = ?", *m.SupersedesID, m.IndicatorID).Scan(ctx); err != nil {
				return &models.Error{Code: models.EINVALID, Message: "The measurement to correct is not one of this indicator's.",
					Fields: []models.FieldError{{Field: "supersedes", Message: "no such measurement of this indicator"}}}
			}
			m.Revision = before.Revision + 1
			if !before.PeriodStart.Equal(m.PeriodStart) || !before.PeriodEnd.Equal(m.PeriodEnd) {
				return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("A correction keeps the period of the reading it replaces (%s to %s).",
					before.PeriodStart.Format(models.DateLayout), before.PeriodEnd.Format(models.DateLayout)),
					Fields: []models.FieldError{{Field: "supersedes", Message: "measurements_one_current_per_period: a correction is for the same period as the reading it replaces"}}}
			}
		} else {
			// measurements_one_current_per_period: a second reading of a
			// period is a correction of the first.
			var current int64
			err := tx.NewRaw(`SELECT m.id FROM measurements m WHERE m.indicator_id = ? AND m.period_start = ? AND m.period_end = ?
				AND NOT EXISTS (SELECT 1 FROM measurements later WHERE later.supersedes_id = m.id)`, m.IndicatorID, m.PeriodStart, m.PeriodEnd).Scan(ctx, &current)
			if err == nil {
				return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("There is already a reading for %s to %s (measurement %d): record a correction that names it.",
					m.PeriodStart.Format(models.DateLayout), m.PeriodEnd.Format(models.DateLayout), current),
					Fields: []models.FieldError{{Field: "supersedes", Message: fmt.Sprintf("measurements_one_current_per_period: give %d, the reading this corrects", current)}}}
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		m.RecordedBy = &actor.UserID
		if _, err := tx.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
			return err
		}
		action := "measurement.record"
		if before != nil {
			action = "measurement.correct"
		}
		return s.audit(ctx, tx, actor, Change{Action: action, Entity: "measurement", EntityID: m.ID, Before: before, After: m})
	})
}

// Measurements lists every revision of an indicator's readings, by period
// and then revision, so corrections sit beside what they corrected.
func (s *Store) Measurements(ctx context.Context, indicatorID int64) ([]*models.Measurement, error) {
	var out []*models.Measurement
	err := s.db.NewSelect().Model(&out).Where("indicator_id = ?", indicatorID).
		Order("period_start", "period_end", "revision").Scan(ctx)
	return out, translate(err)
}

// CurrentMeasurements lists the readings of the given indicators that no
// later revision supersedes, oldest period first.
func (s *Store) CurrentMeasurements(ctx context.Context, indicatorIDs ...int64) ([]*models.Measurement, error) {
	return s.CurrentMeasurementsBy(ctx, time.Time{}, indicatorIDs...)
}

// CurrentMeasurementsBy is CurrentMeasurements of the readings whose period
// ended on or before by (all when by is zero). Scanned by hand: the
// dashboard's two dozen trends are over a thousand readings, which Bun's
// reflection took a quarter of a dashboard view's own time to scan.
func (s *Store) CurrentMeasurementsBy(ctx context.Context, by time.Time, indicatorIDs ...int64) ([]*models.Measurement, error) {
	out := []*models.Measurement{}
	if len(indicatorIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, m.indicator_id, m.period_start, m.period_end, m.value, m.source, m.extracted_on,
			m.method_note, m.revision, m.supersedes_id, m.recorded_by, m.recorded_at
		FROM measurements m
		WHERE m.indicator_id IN (?) AND (?::date IS NULL OR m.period_end <= ?::date)
		  AND NOT EXISTS (SELECT 1 FROM measurements later WHERE later.supersedes_id = m.id)
		ORDER BY m.indicator_id, m.period_end, m.period_start`, bun.In(indicatorIDs), nullDate(by), nullDate(by))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		m := &models.Measurement{}
		if err := rows.Scan(&m.ID, &m.IndicatorID, &m.PeriodStart, &m.PeriodEnd, &m.Value, &m.Source, &m.ExtractedOn,
			&m.MethodNote, &m.Revision, &m.SupersedesID, &m.RecordedBy, &m.RecordedAt); err != nil {
			return nil, translate(err)
		}
		out = append(out, m)
	}
	return out, translate(rows.Err())
}

// nullDate is a day for a query, or NULL for the zero time.
func nullDate(d time.Time) *time.Time {
	if d.IsZero() {
		return nil
	}
	return &d
}

// LatestMeasurements returns, for each of the given indicators, its latest
// current reading whose period ended by the given day.
func (s *Store) LatestMeasurements(ctx context.Context, by time.Time, indicatorIDs ...int64) (map[int64]*models.Measurement, error) {
	return s.LatestMeasurementsAfter(ctx, time.Time{}, by, indicatorIDs...)
}

// LatestMeasurementsAfter returns, for each of the given indicators, its
// latest current reading whose period ended after the day after (none when
// after is zero) and on or before by: the reading that closes a window.
func (s *Store) LatestMeasurementsAfter(ctx context.Context, after, by time.Time, indicatorIDs ...int64) (map[int64]*models.Measurement, error) {
	out := make(map[int64]*models.Measurement, len(indicatorIDs))
	if len(indicatorIDs) == 0 {
		return out, nil
	}
	var from *time.Time
	if !after.IsZero() {
		from = &after
	}
	// One index probe per indicator, newest first, stopping at the first
	// reading no correction supersedes.
	var ms []*models.Measurement
	err := s.db.NewRaw(`
		SELECT m.* FROM unnest(?::bigint[]) AS wanted(id)
		CROSS JOIN LATERAL (
			SELECT * FROM measurements m
			WHERE m.indicator_id = wanted.id AND m.period_end <= ? AND (?::date IS NULL OR m.period_end > ?::date)
			  AND NOT EXISTS (SELECT 1 FROM measurements later WHERE later.supersedes_id = m.id)
			ORDER BY m.period_end DESC, m.period_start DESC LIMIT 1) m`, pgdialect.Array(indicatorIDs), by, from, from).Scan(ctx, &ms)
	for _, m := range ms {
		out[m.IndicatorID] = m
	}
	return out, translate(err)
}

// SpendSinceBaselines returns, for each of the given indicators that has a
// baseline dated on or before to, the approved spend (net of reversals)
// incurred from the baseline's date to to, both included, on its funding
// line or on its programme's reported lines. Whole months come from the
// monthly rollup and the baseline's own month from the ledger, so it is one
// query however many indicators there are; to must be a month's last day.
func (s *Store) SpendSinceBaselines(ctx context.Context, to time.Time, indicatorIDs ...int64) (map[int64]decimal.Decimal, error) {
	out := make(map[int64]decimal.Decimal, len(indicatorIDs))
	if len(indicatorIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ID    int64
		Spent decimal.Decimal
	}
	err := s.db.NewRaw(`
		WITH owned AS (
			SELECT i.id, i.baseline_on, fl.id AS line_id
			FROM indicators i
			JOIN funding_lines fl ON fl.id = i.funding_line_id OR fl.programme_id = i.programme_id
			WHERE i.id = ANY(?0::bigint[]) AND i.baseline_on <= ?1 AND fl.status IN (?2))
		SELECT owned.id,
			coalesce(sum((SELECT sum(m.amount) FROM spend_monthly m
				WHERE m.funding_line_id = owned.line_id AND m.status = 'approved'
				  AND m.month > date_trunc('month', owned.baseline_on) AND m.month <= ?1)), 0)
			+ coalesce(sum((SELECT sum(e.amount) FROM spend_entries e
				WHERE e.funding_line_id = owned.line_id AND e.status = 'approved' AND e.incurred_on >= owned.baseline_on
				  AND e.incurred_on < date_trunc('month', owned.baseline_on) + interval '1 month' AND e.incurred_on <= ?1)), 0) AS spent
		FROM owned GROUP BY owned.id`, pgdialect.Array(indicatorIDs), to, bun.In(reportedStatuses)).Scan(ctx, &rows)
	for _, r := range rows {
		out[r.ID] = r.Spent
	}
	return out, translate(err)
}
