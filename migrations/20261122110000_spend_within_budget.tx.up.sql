-- Approved spend never exceeds its line's budget, nor its award. The line row
-- is locked first, as the Go path does, so concurrent approvals queue and
-- each sees the others' committed spend.
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
-- WHEN keeps pending inserts (bulk imports) free of the check's cost.
CREATE TRIGGER spend_within_budget AFTER INSERT OR UPDATE OF status ON spend_entries
    FOR EACH ROW WHEN (NEW.status = 'approved' AND NEW.amount > 0) EXECUTE FUNCTION spend_within_budget();

-- An entry's award belongs to its line, and its tranche to its award.
ALTER TABLE awards ADD CONSTRAINT awards_id_line_key UNIQUE (id, funding_line_id);
ALTER TABLE tranches ADD CONSTRAINT tranches_id_award_key UNIQUE (id, award_id);
ALTER TABLE spend_entries ADD CONSTRAINT spend_entries_award_line_fkey
    FOREIGN KEY (award_id, funding_line_id) REFERENCES awards (id, funding_line_id);
ALTER TABLE spend_entries ADD CONSTRAINT spend_entries_tranche_award_fkey
    FOREIGN KEY (tranche_id, award_id) REFERENCES tranches (id, award_id);
-- A reversal undoes exactly its original: same line, opposite amount.
CREATE FUNCTION spend_reversal_matches() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orig spend_entries;
BEGIN
    IF NEW.reverses_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT * INTO orig FROM spend_entries WHERE id = NEW.reverses_id;
    IF orig.status <> 'approved' OR orig.reverses_id IS NOT NULL OR NEW.amount <> -orig.amount
       OR NEW.funding_line_id <> orig.funding_line_id OR NEW.award_id IS DISTINCT FROM orig.award_id THEN
        RAISE EXCEPTION 'spend entry %: a reversal must undo an approved entry exactly', NEW.reverses_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_reversal_matches';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER spend_reversal_matches BEFORE INSERT ON spend_entries
    FOR EACH ROW WHEN (NEW.reverses_id IS NOT NULL) EXECUTE FUNCTION spend_reversal_matches();
