-- Alerts: what needs someone's attention, computed when asked (nothing is
-- stored but the thresholds). The thresholds live in one row that admins
-- change; each is checked here and, with the same words, in Go
-- (models.AlertSettings.Validate).
CREATE TABLE alert_settings (
    id                  boolean PRIMARY KEY DEFAULT true CONSTRAINT alert_settings_one_row CHECK (id),
    budget_used_percent int NOT NULL DEFAULT 90
        CONSTRAINT alert_settings_budget_used_percent CHECK (budget_used_percent BETWEEN 1 AND 100),
    ending_within_days  int NOT NULL DEFAULT 60
        CONSTRAINT alert_settings_ending_within_days CHECK (ending_within_days BETWEEN 1 AND 366),
    tranche_grace_days  int NOT NULL DEFAULT 0
        CONSTRAINT alert_settings_tranche_grace_days CHECK (tranche_grace_days BETWEEN 0 AND 90),
    updated_by          bigint REFERENCES users (id),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
INSERT INTO alert_settings DEFAULT VALUES;

-- The tranches overdue on p_as_of: due before that day, on an approved
-- award, and not yet paid in full by approved spend naming the tranche
-- (reversals count against what was paid). This is the one place the rule
-- lives: when tranches get a payment state of their own, only this function
-- changes. A plain SQL function, so the planner inlines it into the query
-- that calls it.
CREATE FUNCTION overdue_tranches(p_as_of date)
RETURNS TABLE (tranche_id bigint, award_id bigint, seq int, due_on date, amount numeric, paid numeric)
LANGUAGE sql STABLE AS $$
    SELECT t.id, t.award_id, t.seq, t.due_on, t.amount, coalesce(p.paid, 0)
    FROM tranches t
    JOIN awards a ON a.id = t.award_id AND a.status = 'approved'
    LEFT JOIN LATERAL (
        SELECT sum(e.amount) AS paid FROM spend_entries e
        WHERE e.award_id = t.award_id AND e.tranche_id = t.id AND e.status = 'approved') p ON true
    WHERE t.due_on < p_as_of AND coalesce(p.paid, 0) < t.amount
$$;

-- The day after which an indicator whose last reading's period ended on
-- p_last_end is overdue: one reporting period later, the day clamped to the
-- month's end (31 January + 1 month is 28 or 29 February). The twin of
-- models.MeasurementDue; a test holds them equal.
CREATE FUNCTION measurement_due(p_frequency text, p_last_end date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_last_end + make_interval(months => CASE p_frequency WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 ELSE 12 END))::date
$$;
