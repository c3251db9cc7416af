package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// AlertFigures are one alert as the database finds it: its kind, what it
// is about and its figures. The report package words it.
type AlertFigures struct {
	Kind     models.AlertKind
	Entity   string
	EntityID int64
	LineID   *int64
	Code     string // the funding line's code (a programme's, for a programme's indicator)
	Title    string // the line's title, the decision's, the indicator's name, or the award's reference
	Detail   string // a decision's kind; a tranche's recipient
	Who      string // who proposed a decision
	Amount   *decimal.Decimal
	Total    *decimal.Decimal
	On       *time.Time `bun:"on_date"`
	Count    int
}

// decisionsWaiting are the decisions waiting for me: the approvals list
// itself.
var decisionsWaiting = `SELECT 'decision_waiting' AS kind, a.entity, a.id AS entity_id, a.funding_line_id AS line_id,
		a.funding_line_code AS code, a.title, a.kind AS detail, a.proposed_by_name AS who, a.amount, NULL::numeric AS total,
		a.proposed_at::date AS on_date, a.entries AS count
	FROM (` + approvalsFor + `) a`

// alertSources are the kinds of alert the database finds, one SELECT each
// with the columns of AlertFigures, reading the thresholds from s and the
// day from today (d). Each is one set-based query over its tables, never a
// query per line.
var alertSources = []string{
	decisionsWaiting,
	// Lines ending within the threshold with budget neither awarded (pending
	// or approved awards) nor held in reservations.
	`SELECT 'line_ending', 'funding_line', fl.id, fl.id, fl.code, fl.title, '', '', fl.budget - coalesce(a.awarded, 0) - coalesce(r.reserved, 0),
		fl.budget, fl.ends_on, (fl.ends_on - today.d)::int
	FROM today CROSS JOIN s
	JOIN funding_lines fl ON fl.status IN ('approved', 'active') AND fl.ends_on BETWEEN today.d AND today.d + s.ending_within_days
	LEFT JOIN LATERAL (SELECT sum(amount) AS awarded FROM awards WHERE funding_line_id = fl.id AND status IN ('pending', 'approved')) a ON true
	LEFT JOIN LATERAL (SELECT sum(amount) AS reserved FROM reservations WHERE funding_line_id = fl.id AND status = 'held') r ON true
	WHERE fl.budget - coalesce(a.awarded, 0) - coalesce(r.reserved, 0) > 0`,
	// Tranches overdue: the rule is overdue_tranches, given the day the
	// grace period runs back to.
	`SELECT 'tranche_overdue', 'tranche', t.tranche_id, fl.id, fl.code, aw.reference, o.name, '', t.amount - t.paid, t.amount, t.due_on, t.seq
	FROM today CROSS JOIN s
	CROSS JOIN LATERAL overdue_tranches(today.d - s.tranche_grace_days) t
	JOIN awards aw ON aw.id = t.award_id
	JOIN funding_lines fl ON fl.id = aw.funding_line_id AND fl.status <> 'cancelled'
	JOIN organisations o ON o.id = aw.recipient_id`,
	// Indicators whose next reading is overdue: one reporting period after
	// the last reading's period (or the baseline, before any reading), as
	// the value-for-money report's overdue flag. The last reading's period
	// is kept by indicator_last_readings' trigger.
	`SELECT 'reading_overdue', 'indicator', i.id, i.funding_line_id, coalesce(fl.code, pr.code), i.name,
		coalesce(fl.title, pr.name), '', NULL::numeric, NULL::numeric, measurement_due(i.frequency, coalesce(m.last_end, i.baseline_on)), 0
	FROM today
	CROSS JOIN indicators i
	LEFT JOIN funding_lines fl ON fl.id = i.funding_line_id
	LEFT JOIN programmes pr ON pr.id = i.programme_id
	LEFT JOIN indicator_last_readings m ON m.indicator_id = i.id
	WHERE (fl.status IN ('approved', 'active') OR i.programme_id IS NOT NULL)
	  AND measurement_due(i.frequency, coalesce(m.last_end, i.baseline_on)) < today.d`,
	// Spend (pending or approved, reversals included) dated after its line
	// ended. The rollup's key (line, month) finds the candidate lines with
	// one index probe each: spend in a month that ends after the line does.
	// Only their entries are read.
	`SELECT 'spend_after_end', 'funding_line', fl.id, fl.id, fl.code, fl.title, '', '', late.amount, NULL::numeric, late.last_on, late.entries
	FROM funding_lines fl
	-- Only a line that ended before the last month any spend is dated in
	-- can have spend after its end: running lines, most of them, are not
	-- probed at all.
	JOIN (SELECT (max(month) + interval '1 month - 1 day')::date AS last_day FROM spend_monthly) latest ON fl.ends_on < latest.last_day
	JOIN LATERAL (SELECT 1 FROM spend_monthly m WHERE m.funding_line_id = fl.id AND m.month > fl.ends_on - 31
		AND (m.month + interval '1 month')::date > fl.ends_on + 1 AND m.status <> 'rejected' AND m.entries > 0
		LIMIT 1) candidate ON true -- LIMIT keeps it one probe per line, not a join over the whole rollup
	JOIN LATERAL (SELECT count(*)::int AS entries, sum(e.amount) AS amount, max(e.incurred_on) AS last_on FROM spend_entries e
		WHERE e.funding_line_id = fl.id AND e.status IN ('pending', 'approved') AND e.incurred_on > fl.ends_on) late ON late.entries > 0`,
}

// Alerts finds every alert the database holds for the user on the day
// today (a London date): the decisions waiting for them and, for everyone,
// the lines, tranches, indicators and spend that need attention, with the
// thresholds in alert_settings. Red lines and budget used come from the
// current year's line figures, which the report has already (see
// report.Alerts). One statement; the order is the caller's.
func (s *Store) Alerts(ctx context.Context, userID int64, today time.Time) ([]AlertFigures, error) {
	// Someone whose role the scheme of delegation gives no decision (the
	// board, auditors) has none waiting: their alerts leave out the
	// approvals list, whose eleven kinds of decision cost most of the
	// statement's planning.
	var decides bool
	if err := s.db.NewRaw(`SELECT EXISTS (SELECT 1 FROM users u JOIN delegation_rules dr ON dr.role = u.role WHERE u.id = ? AND u.active)`,
		userID).Scan(ctx, &decides); err != nil {
		return nil, translate(err)
	}
	sources := alertSources
	if !decides {
		sources = slices.DeleteFunc(slices.Clone(sources), func(src string) bool { return src == decisionsWaiting })
	}
	out := []AlertFigures{}
	q := `WITH s AS (SELECT * FROM alert_settings),
		today AS (SELECT ?1::date AS d)
		SELECT kind, entity, entity_id, line_id, code, title, detail, who, amount, total, on_date, count FROM (
		` + strings.Join(sources, "\n\tUNION ALL\n\t") + `) a (kind, entity, entity_id, line_id, code, title, detail, who, amount, total, on_date, count)`
	err := s.db.NewRaw(q, userID, today.Format(models.DateLayout)).Scan(ctx, &out)
	return out, translate(err)
}

// AlertSettings returns the alert thresholds.
func (s *Store) AlertSettings(ctx context.Context) (models.AlertSettings, error) {
	var out models.AlertSettings
	err := s.db.NewRaw(`SELECT budget_used_percent, ending_within_days, tranche_grace_days FROM alert_settings`).
		Scan(ctx, &out.BudgetUsedPercent, &out.EndingWithinDays, &out.TrancheGraceDays)
	return out, translate(err)
}

// UpdateAlertSettings replaces the alert thresholds and records the change
// in the audit trail; EINVALID naming each threshold out of range.
func (s *Store) UpdateAlertSettings(ctx context.Context, actor models.Actor, in models.AlertSettings) (models.AlertSettings, error) {
	if err := in.Validate(); err != nil {
		return models.AlertSettings{}, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var before models.AlertSettings
		if err := tx.NewRaw(`SELECT budget_used_percent, ending_within_days, tranche_grace_days FROM alert_settings FOR UPDATE`).
			Scan(ctx, &before.BudgetUsedPercent, &before.EndingWithinDays, &before.TrancheGraceDays); err != nil {
			return err
		}
		by := actor.UserIDOrNil()
		if _, err := tx.NewRaw(`UPDATE alert_settings SET budget_used_percent = ?, ending_within_days = ?, tranche_grace_days = ?,
				updated_by = ?, updated_at = now()`, in.BudgetUsedPercent, in.EndingWithinDays, in.TrancheGraceDays, by).Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "alert_settings.update", Entity: "alert_settings", EntityID: 1, Before: before, After: in})
	})
	if err != nil {
		return models.AlertSettings{}, err
	}
	return in, nil
}
