-- Budget rules, folded and completed.
--
-- 1. A budget increase is a budget change of its own kind: money added to
--    the years of one approved line, approved under the scheme's
--    budget_increase kind for the amount added.
-- 2. Rejecting a budget change, like approving it, needs a role the scheme
--    gives the change's kind (no amount limit applies to a rejection).
-- 3. A change's effective date lies within the dates of every line it
--    moves, and no year it moves ended before it (budget_change_effective_on).
-- 4. One floor rule for a line's budget: budget_above_floor over
--    budget_line_floor, which now counts only pending and approved awards
--    (a rejected, withdrawn or cancelled award holds nothing). The older
--    funding_lines_budget_covers_spend and the budget check of
--    awards_within_budget on funding_lines said the same and are dropped.

ALTER TABLE budget_changes DROP CONSTRAINT budget_changes_kind_check;
ALTER TABLE budget_changes ADD CONSTRAINT budget_changes_kind_check CHECK (kind IN ('reprofile', 'virement', 'increase'));

CREATE OR REPLACE FUNCTION budget_change_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c_id     bigint;
    c        budget_changes;
    total    numeric;
    lines    int;
    negative int;
    bad      record;
BEGIN
    IF TG_TABLE_NAME = 'budget_changes' THEN
        c_id := NEW.id;
    ELSE
        c_id := NEW.budget_change_id;
    END IF;
    SELECT * INTO c FROM budget_changes WHERE id = c_id;
    SELECT coalesce(sum(delta), 0), count(DISTINCT funding_line_id), count(*) FILTER (WHERE delta < 0) INTO total, lines, negative
    FROM budget_change_moves WHERE budget_change_id = c_id;
    IF lines = 0 OR (c.kind = 'reprofile' AND (total <> 0 OR lines <> 1)) OR (c.kind = 'virement' AND (total <> 0 OR lines < 2))
       OR (c.kind = 'increase' AND (lines <> 1 OR negative > 0)) THEN
        RAISE EXCEPTION 'budget change %: a re-profiling moves money between the years of one line and a virement between lines (moves adding up to zero); an increase adds money to the years of one line; this % moves % over % lines',
            c_id, c.kind, total, lines
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_change_balances';
    END IF;
    SELECT fl.code, fl.starts_on, fl.ends_on, m.financial_year INTO bad
    FROM budget_change_moves m JOIN funding_lines fl ON fl.id = m.funding_line_id
    WHERE m.budget_change_id = c_id
      AND (c.effective_on NOT BETWEEN fl.starts_on AND fl.ends_on OR make_date(m.financial_year + 1, 3, 31) < c.effective_on)
    ORDER BY fl.code, m.financial_year LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'budget change %: effective on %, which must fall within funding line %''s dates (% to %) and not after %-% ends, a year it moves',
            c_id, c.effective_on, bad.code, bad.starts_on, bad.ends_on, bad.financial_year, lpad(((bad.financial_year + 1) % 100)::text, 2, '0')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_change_effective_on';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION budget_change_decision(p_change bigint, OUT kind text, OUT amount numeric) LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN c.kind = 'reprofile' THEN 'budget_reprofile'
                WHEN c.kind = 'increase' THEN 'budget_increase'
                WHEN (SELECT count(DISTINCT fl.programme_id) FROM budget_change_moves m JOIN funding_lines fl ON fl.id = m.funding_line_id
                      WHERE m.budget_change_id = c.id) > 1 THEN 'budget_virement_across_programmes'
                ELSE 'budget_virement_within_programme' END,
           (SELECT coalesce(sum(delta), 0) FROM budget_change_moves WHERE budget_change_id = c.id AND delta > 0)
    FROM budget_changes c WHERE c.id = p_change
$$;

CREATE OR REPLACE FUNCTION budget_change_authority() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    SELECT * INTO d FROM budget_change_decision(NEW.id);
    PERFORM assert_decision_authority(d.kind, CASE WHEN NEW.status = 'approved' THEN d.amount END, NEW.decided_by, NEW.proposed_by);
    IF NEW.status = 'approved' THEN
        PERFORM assert_decision_citation(d.kind, d.amount, NEW.decision_record_id);
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER budget_change_authority ON budget_changes;
CREATE TRIGGER budget_change_authority BEFORE UPDATE OF status ON budget_changes
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status IN ('approved', 'rejected')) EXECUTE FUNCTION budget_change_authority();

CREATE OR REPLACE FUNCTION budget_line_floor(p_line bigint) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT sum(amount) FROM awards WHERE funding_line_id = p_line AND status IN ('pending', 'approved')), 0)
         + coalesce((SELECT sum(amount) FROM reservations WHERE funding_line_id = p_line AND status = 'held'), 0)
         + coalesce((SELECT sum(amount) FROM spend_entries WHERE funding_line_id = p_line AND status = 'approved' AND award_id IS NULL), 0)
$$;
DROP TRIGGER funding_lines_budget_covers_spend ON funding_lines;
DROP FUNCTION funding_lines_budget_covers_spend();
DROP TRIGGER funding_lines_budget_covers_awards ON funding_lines;
