DROP INDEX IF EXISTS measurements_latest_idx;
DROP TRIGGER IF EXISTS measurements_revision_chain ON measurements;
DROP FUNCTION IF EXISTS measurements_revision_chain();
DROP TRIGGER IF EXISTS measurements_append_only ON measurements;
DROP FUNCTION IF EXISTS measurements_append_only();
DROP TRIGGER IF EXISTS reservations_within_budget ON reservations;
CREATE OR REPLACE FUNCTION awards_within_budget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_budget numeric;
    committed   numeric;
    line_id     bigint;
    line_status text;
BEGIN
    IF TG_TABLE_NAME = 'awards' THEN
        line_id := NEW.funding_line_id;
    ELSE
        line_id := NEW.id;
    END IF;
    SELECT budget, status INTO line_budget, line_status FROM funding_lines WHERE id = line_id FOR UPDATE;
    IF TG_TABLE_NAME = 'awards' AND TG_OP = 'INSERT' AND line_status NOT IN ('approved', 'active') THEN
        RAISE EXCEPTION 'funding line %: awards need an approved or active line, not %', line_id, line_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_line_open';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO committed FROM awards WHERE funding_line_id = line_id;
    IF committed > line_budget THEN
        RAISE EXCEPTION 'funding line %: awards total % exceeds the budget %', line_id, committed, line_budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_within_budget';
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS awards_from_converted_reservation ON awards;
DROP FUNCTION IF EXISTS awards_from_converted_reservation();
ALTER TABLE awards DROP COLUMN IF EXISTS reservation_id;
DROP TABLE IF EXISTS reservations;
DROP FUNCTION IF EXISTS reservations_close_once();
