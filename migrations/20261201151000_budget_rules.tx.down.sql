CREATE TRIGGER funding_lines_budget_covers_awards AFTER UPDATE OF budget ON funding_lines
    FOR EACH ROW EXECUTE FUNCTION awards_within_budget();
CREATE FUNCTION funding_lines_budget_covers_spend() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    awarded   numeric;
    reserved  numeric;
    unawarded numeric;
    spent     numeric;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO awarded FROM awards WHERE funding_line_id = NEW.id AND status IN ('pending', 'approved');
    SELECT coalesce(sum(amount), 0) INTO reserved FROM reservations WHERE funding_line_id = NEW.id AND status = 'held';
    SELECT coalesce(sum(amount) FILTER (WHERE award_id IS NULL), 0), coalesce(sum(amount), 0) INTO unawarded, spent
        FROM spend_entries WHERE funding_line_id = NEW.id AND status = 'approved';
    IF NEW.budget < awarded + reserved + unawarded OR NEW.budget < spent THEN
        RAISE EXCEPTION 'funding line %: a budget of % is below what it holds: approved spend %, of which % outside awards, awards %, reservations %',
            NEW.code, NEW.budget, spent, unawarded, awarded, reserved
            USING ERRCODE = 'check_violation', CONSTRAINT = 'funding_lines_budget_covers_spend';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER funding_lines_budget_covers_spend AFTER UPDATE OF budget ON funding_lines
    FOR EACH ROW WHEN (NEW.budget < OLD.budget) EXECUTE FUNCTION funding_lines_budget_covers_spend();
CREATE OR REPLACE FUNCTION budget_line_floor(p_line bigint) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT sum(amount) FROM awards WHERE funding_line_id = p_line), 0)
         + coalesce((SELECT sum(amount) FROM reservations WHERE funding_line_id = p_line AND status = 'held'), 0)
         + coalesce((SELECT sum(amount) FROM spend_entries WHERE funding_line_id = p_line AND status = 'approved' AND award_id IS NULL), 0)
$$;
DROP TRIGGER budget_change_authority ON budget_changes;
CREATE TRIGGER budget_change_authority BEFORE UPDATE OF status ON budget_changes
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'approved') EXECUTE FUNCTION budget_change_authority();
CREATE OR REPLACE FUNCTION budget_change_decision(p_change bigint, OUT kind text, OUT amount numeric) LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN c.kind = 'reprofile' THEN 'budget_reprofile'
                WHEN (SELECT count(DISTINCT fl.programme_id) FROM budget_change_moves m JOIN funding_lines fl ON fl.id = m.funding_line_id
                      WHERE m.budget_change_id = c.id) > 1 THEN 'budget_virement_across_programmes'
                ELSE 'budget_virement_within_programme' END,
           (SELECT coalesce(sum(delta), 0) FROM budget_change_moves WHERE budget_change_id = c.id AND delta > 0)
    FROM budget_changes c WHERE c.id = p_change
$$;
CREATE OR REPLACE FUNCTION budget_change_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c_id  bigint;
    c     budget_changes;
    total numeric;
    lines int;
BEGIN
    IF TG_TABLE_NAME = 'budget_changes' THEN
        c_id := NEW.id;
    ELSE
        c_id := NEW.budget_change_id;
    END IF;
    SELECT * INTO c FROM budget_changes WHERE id = c_id;
    SELECT coalesce(sum(delta), 0), count(DISTINCT funding_line_id) INTO total, lines FROM budget_change_moves WHERE budget_change_id = c_id;
    IF total <> 0 OR lines = 0 OR (c.kind = 'reprofile' AND lines <> 1) OR (c.kind = 'virement' AND lines < 2) THEN
        RAISE EXCEPTION 'budget change %: a % must move money (moves adding up to zero) within one line (re-profiling) or between lines (virement); its moves add up to % over % lines',
            c_id, c.kind, total, lines
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_change_balances';
    END IF;
    RETURN NULL;
END $$;
ALTER TABLE budget_changes DROP CONSTRAINT budget_changes_kind_check;
ALTER TABLE budget_changes ADD CONSTRAINT budget_changes_kind_check CHECK (kind IN ('reprofile', 'virement'));
