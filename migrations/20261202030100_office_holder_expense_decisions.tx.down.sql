DROP TRIGGER IF EXISTS office_holder_expenses_append_only ON office_holder_expenses;
--bun:split
CREATE OR REPLACE FUNCTION office_holder_expenses_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'office holders'' expenses are recorded once and never changed or deleted'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'office_holder_expenses_append_only';
END $$;
--bun:split
CREATE TRIGGER office_holder_expenses_append_only BEFORE UPDATE OR DELETE ON office_holder_expenses
    FOR EACH ROW EXECUTE FUNCTION office_holder_expenses_append_only();
--bun:split
DROP INDEX IF EXISTS office_holder_expenses_pending_idx;
--bun:split
ALTER TABLE office_holder_expenses DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS decided_by,
    DROP COLUMN IF EXISTS decided_at, DROP COLUMN IF EXISTS decision_reason;
--bun:split
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
--bun:split
DELETE FROM delegation_rules WHERE decision_kind = 'office_holder_expense';
--bun:split
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;
--bun:split
DELETE FROM delegation_kinds WHERE decision_kind = 'office_holder_expense';
