DROP TRIGGER IF EXISTS awards_line_rules ON awards;
DROP FUNCTION IF EXISTS awards_line_rules();
DROP TRIGGER IF EXISTS funding_lines_budget_covers_spend ON funding_lines;
DROP FUNCTION IF EXISTS funding_lines_budget_covers_spend();
DROP TRIGGER IF EXISTS spend_entries_rules_on_decision ON spend_entries;
DROP TRIGGER IF EXISTS spend_entries_rules ON spend_entries;
DROP FUNCTION IF EXISTS spend_entries_rules();
DROP TRIGGER IF EXISTS spend_award_approved_on_decision ON spend_entries;
DROP TRIGGER IF EXISTS spend_award_approved ON spend_entries;
DROP FUNCTION IF EXISTS spend_award_approved();
DROP TRIGGER IF EXISTS awards_decision_guard ON awards;
DROP FUNCTION IF EXISTS awards_decision_guard();
DROP INDEX IF EXISTS awards_pending_idx;
ALTER TABLE awards DROP CONSTRAINT IF EXISTS awards_decided_check, DROP CONSTRAINT IF EXISTS awards_four_eyes,
    DROP CONSTRAINT IF EXISTS awards_withdrawn_by_proposer;
ALTER TABLE awards DROP COLUMN IF EXISTS decision_record_id, DROP COLUMN IF EXISTS decision_reason, DROP COLUMN IF EXISTS decided_at,
    DROP COLUMN IF EXISTS decided_by, DROP COLUMN IF EXISTS proposed_by, DROP COLUMN IF EXISTS status;
DROP TRIGGER IF EXISTS funding_lines_born_draft ON funding_lines;
DROP FUNCTION IF EXISTS funding_lines_born_draft();
CREATE OR REPLACE FUNCTION funding_line_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'draft' AND NEW.status IN ('approved', 'cancelled')) OR
        (OLD.status = 'approved' AND NEW.status IN ('active', 'cancelled')) OR
        (OLD.status = 'active' AND NEW.status IN ('closed', 'cancelled'))
    ) THEN
        RAISE EXCEPTION 'funding line %: status cannot change from % to %', OLD.code, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'funding_lines_status_transition';
    END IF;
    RETURN NEW;
END $$;
DROP TABLE IF EXISTS line_decisions;
DROP FUNCTION IF EXISTS line_decisions_guard();
CREATE OR REPLACE FUNCTION awards_within_budget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_budget numeric;
    committed   numeric;
    reserved    numeric;
    line_id     bigint;
    line_status text;
BEGIN
    IF TG_TABLE_NAME = 'funding_lines' THEN
        line_id := NEW.id;
    ELSE
        line_id := NEW.funding_line_id;
    END IF;
    SELECT budget, status INTO line_budget, line_status FROM funding_lines WHERE id = line_id FOR UPDATE;
    IF TG_TABLE_NAME IN ('awards', 'reservations') AND TG_OP = 'INSERT' AND line_status NOT IN ('approved', 'active') THEN
        RAISE EXCEPTION 'funding line %: awards and reservations need an approved or active line, not %', line_id, line_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_line_open';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO committed FROM awards WHERE funding_line_id = line_id;
    SELECT coalesce(sum(amount), 0) INTO reserved FROM reservations WHERE funding_line_id = line_id AND status = 'held';
    IF committed + reserved > line_budget THEN
        RAISE EXCEPTION 'funding line %: awards % and reservations % exceed the budget %', line_id, committed, reserved, line_budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_within_budget';
    END IF;
    RETURN NULL;
END $$;
