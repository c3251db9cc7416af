DROP INDEX spend_entries_pending_import_idx;
DROP TRIGGER spend_within_budget_on_decision ON spend_entries;
DROP TRIGGER spend_within_budget ON spend_entries;
DROP FUNCTION spend_within_budget();

CREATE FUNCTION spend_within_budget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_budget  numeric;
    line_spent   numeric;
    award_amount numeric;
    award_spent  numeric;
BEGIN
    IF NEW.status <> 'approved' OR NEW.amount < 0 THEN
        RETURN NULL;
    END IF;
    SELECT budget INTO line_budget FROM funding_lines WHERE id = NEW.funding_line_id FOR UPDATE;
    SELECT coalesce(sum(amount), 0) INTO line_spent FROM spend_entries
        WHERE funding_line_id = NEW.funding_line_id AND status = 'approved';
    IF line_spent > line_budget THEN
        RAISE EXCEPTION 'funding line %: approved spend % exceeds the budget %', NEW.funding_line_id, line_spent, line_budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_within_budget';
    END IF;
    IF NEW.award_id IS NOT NULL THEN
        SELECT amount INTO award_amount FROM awards WHERE id = NEW.award_id;
        SELECT coalesce(sum(amount), 0) INTO award_spent FROM spend_entries
            WHERE award_id = NEW.award_id AND status = 'approved';
        IF award_spent > award_amount THEN
            RAISE EXCEPTION 'award %: approved spend % exceeds the award %', NEW.award_id, award_spent, award_amount
                USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_within_award';
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER spend_within_budget AFTER INSERT OR UPDATE OF status ON spend_entries
    FOR EACH ROW WHEN (NEW.status = 'approved' AND NEW.amount > 0) EXECUTE FUNCTION spend_within_budget();
