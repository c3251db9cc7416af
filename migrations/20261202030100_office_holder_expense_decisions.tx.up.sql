-- Office holders' expenses are public money paid to the people who run the
-- body, so, like spend, each is recorded by one person and approved (or
-- rejected) by another within the scheme of delegation: a new kind of
-- decision, office_holder_expense, with the rules spend has today (which a
-- delegation change can alter afterwards). Expenses recorded before this
-- migration stay approved, with no decider: they came in before the rule.
INSERT INTO delegation_kinds (decision_kind, citation_required_above, description) VALUES
    ('office_holder_expense', NULL, 'Approve an allowance paid to an office holder for expenses');
--bun:split
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
--bun:split
INSERT INTO delegation_rules (decision_kind, role, max_amount)
SELECT 'office_holder_expense', role, max_amount FROM delegation_rules WHERE decision_kind = 'spend';
--bun:split
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;
--bun:split
ALTER TABLE office_holder_expenses
    ADD COLUMN status text NOT NULL DEFAULT 'approved'
        CONSTRAINT office_holder_expenses_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    ADD COLUMN decided_by bigint REFERENCES users (id),
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN decision_reason text;
--bun:split
ALTER TABLE office_holder_expenses ALTER COLUMN status SET DEFAULT 'pending';
--bun:split
CREATE INDEX office_holder_expenses_pending_idx ON office_holder_expenses (id) WHERE status = 'pending';
--bun:split
-- An expense is inserted pending, then decided once: approved or rejected
-- (with a reason) by someone the scheme of delegation allows other than
-- its recorder (assert_decision_authority), or withdrawn by its recorder.
-- Nothing else about it ever changes, and it is never deleted.
CREATE OR REPLACE FUNCTION office_holder_expenses_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'pending' OR NEW.decided_by IS NOT NULL OR NEW.decided_at IS NOT NULL OR NEW.decision_reason IS NOT NULL THEN
            RAISE EXCEPTION 'office_holder_expenses_decided_once: an expense is recorded pending and decided afterwards by someone else'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'office_holder_expenses_decided_once';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected', 'withdrawn')
        AND NEW.decided_by IS NOT NULL AND NEW.decided_at = now()
        AND (NEW.id, NEW.office_holder, NEW.office, NEW.incurred_on, NEW.category, NEW.description, NEW.amount, NEW.recorded_by, NEW.recorded_at)
            IS NOT DISTINCT FROM (OLD.id, OLD.office_holder, OLD.office, OLD.incurred_on, OLD.category, OLD.description, OLD.amount, OLD.recorded_by, OLD.recorded_at) THEN
        IF NEW.status = 'withdrawn' THEN
            IF NEW.decided_by <> OLD.recorded_by THEN
                RAISE EXCEPTION 'decision_four_eyes: only the person who recorded an expense withdraws it'
                    USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_four_eyes';
            END IF;
            RETURN NEW;
        END IF;
        IF NEW.status = 'rejected' AND coalesce(btrim(NEW.decision_reason), '') = '' THEN
            RAISE EXCEPTION 'office_holder_expenses_decided_once: a rejection gives its reason'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'office_holder_expenses_decided_once';
        END IF;
        PERFORM assert_decision_authority('office_holder_expense',
            CASE WHEN NEW.status = 'approved' THEN NEW.amount END, NEW.decided_by, OLD.recorded_by);
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'office_holder_expenses_decided_once: an expense is decided once, and nothing else about it changes'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'office_holder_expenses_decided_once';
    END IF;
    RAISE EXCEPTION 'office holders'' expenses are recorded once and never deleted'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'office_holder_expenses_append_only';
END $$;
--bun:split
DROP TRIGGER office_holder_expenses_append_only ON office_holder_expenses;
--bun:split
CREATE TRIGGER office_holder_expenses_append_only BEFORE INSERT OR UPDATE OR DELETE ON office_holder_expenses
    FOR EACH ROW EXECUTE FUNCTION office_holder_expenses_append_only();
