-- Budgets by financial year. Each funding line has a budget profile: an
-- amount for each UK financial year (1 April to 31 March, named by the year
-- it starts in) that the line spans; the amounts add up to the line's budget
-- to the penny. Once a line is approved its profile and budget change only
-- through an approved budget change (re-profiling or virement), and never
-- below what is already spent and committed in a year or on the line.

-- The financial year containing d: 2024 for 2024-25.
CREATE FUNCTION financial_year_of(d date) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (extract(year FROM d) - CASE WHEN extract(month FROM d) < 4 THEN 1 ELSE 0 END)::int
$$;

-- The profile proposed for a line: its budget spread straight-line by day
-- over its life, split to the penny across the financial-year quarters by
-- largest remainder (ties to the earlier quarter) and summed by year, exactly
-- as models.ProfileBudget and the reports did before profiles were stored.
-- Financial quarters are calendar quarters, so date_trunc finds them.
CREATE FUNCTION straight_line_profile(p_budget numeric, p_starts date, p_ends date)
RETURNS TABLE (financial_year int, amount numeric) LANGUAGE sql IMMUTABLE AS $$
    WITH q AS (
        SELECT row_number() OVER (ORDER BY g) AS idx, financial_year_of(g::date) AS fy,
            (least((g + interval '3 months')::date - 1, p_ends) - greatest(g::date, p_starts) + 1)::numeric AS days
        FROM generate_series(date_trunc('quarter', p_starts), p_ends, interval '3 months') g),
    w AS (SELECT idx, fy, days, sum(days) OVER () AS total, round(p_budget * 100) AS pennies FROM q),
    s AS (SELECT idx, fy, pennies, div(pennies * days, total) AS base, mod(pennies * days, total) AS rem FROM w),
    r AS (SELECT fy, base, row_number() OVER (ORDER BY rem DESC, idx) AS rank, pennies - sum(base) OVER () AS left_over FROM s)
    SELECT fy, (sum(base + CASE WHEN rank <= left_over THEN 1 ELSE 0 END) / 100)::numeric(15,2)
    FROM r GROUP BY fy ORDER BY fy
$$;

CREATE TABLE budget_profiles (
    funding_line_id bigint NOT NULL REFERENCES funding_lines (id),
    financial_year  int NOT NULL CHECK (financial_year BETWEEN 1899 AND 9998),
    amount          numeric(15,2) NOT NULL CHECK (amount >= 0 AND amount <> 'NaN'),
    PRIMARY KEY (funding_line_id, financial_year)
);

-- Every existing line gets the profile the reports have been showing.
INSERT INTO budget_profiles (funding_line_id, financial_year, amount)
SELECT fl.id, p.financial_year, p.amount
FROM funding_lines fl, straight_line_profile(fl.budget, fl.starts_on, fl.ends_on) p;

-- A new line starts with the proposed profile, which the officer may edit
-- while the line is a draft.
CREATE FUNCTION funding_lines_proposed_profile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO budget_profiles (funding_line_id, financial_year, amount)
    SELECT NEW.id, p.financial_year, p.amount FROM straight_line_profile(NEW.budget, NEW.starts_on, NEW.ends_on) p;
    RETURN NULL;
END $$;
CREATE TRIGGER funding_lines_proposed_profile AFTER INSERT ON funding_lines
    FOR EACH ROW EXECUTE FUNCTION funding_lines_proposed_profile();

-- At commit, a line's profile adds up to its budget and lies within its
-- years.
CREATE FUNCTION budget_profile_sums_to_budget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_id bigint;
    fl      funding_lines;
    total   numeric;
    outside int;
BEGIN
    IF TG_TABLE_NAME = 'funding_lines' THEN
        line_id := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        line_id := OLD.funding_line_id;
    ELSE
        line_id := NEW.funding_line_id;
    END IF;
    SELECT * INTO fl FROM funding_lines WHERE id = line_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(amount), 0) INTO total FROM budget_profiles WHERE funding_line_id = line_id;
    IF total <> fl.budget THEN
        RAISE EXCEPTION 'funding line %: the budget profile adds up to % but the budget is %', fl.code, total, fl.budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_profile_sums_to_budget';
    END IF;
    SELECT min(financial_year) INTO outside FROM budget_profiles
    WHERE funding_line_id = line_id AND amount <> 0
      AND financial_year NOT BETWEEN financial_year_of(fl.starts_on) AND financial_year_of(fl.ends_on);
    IF outside IS NOT NULL THEN
        RAISE EXCEPTION 'funding line %: the budget profile has money in %-%, outside the line''s dates % to %',
            fl.code, outside, lpad(((outside + 1) % 100)::text, 2, '0'), fl.starts_on, fl.ends_on
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_profile_sums_to_budget';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER budget_profile_sums_to_budget AFTER INSERT OR UPDATE OR DELETE ON budget_profiles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION budget_profile_sums_to_budget();
CREATE CONSTRAINT TRIGGER funding_lines_budget_profiled AFTER INSERT OR UPDATE OF budget, starts_on, ends_on ON funding_lines
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION budget_profile_sums_to_budget();

-- A line's approved spend in a financial year, net of reversals. A reversal
-- gives back the budget of the year its original was incurred in (the
-- reports count it on the day it was recorded, as the money moves then).
CREATE FUNCTION year_spent(p_line bigint, p_fy int) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT sum(amount) FROM spend_entries
            WHERE funding_line_id = p_line AND status = 'approved' AND reverses_id IS NULL
              AND incurred_on BETWEEN make_date(p_fy, 4, 1) AND make_date(p_fy + 1, 3, 31)), 0)
         + coalesce((SELECT sum(r.amount) FROM spend_entries r JOIN spend_entries o ON o.id = r.reverses_id
            WHERE r.funding_line_id = p_line AND r.status = 'approved' AND r.reverses_id IS NOT NULL
              AND o.incurred_on BETWEEN make_date(p_fy, 4, 1) AND make_date(p_fy + 1, 3, 31)), 0)
$$;

-- What a year of a line cannot do without: the approved spend incurred in it
-- (net of reversals, as year_spent counts them) outside awards, plus for each award the larger of what
-- its tranches due in the year commit and what was spent on it in the year.
CREATE FUNCTION budget_year_floors(p_line bigint) RETURNS TABLE (financial_year int, floor numeric) LANGUAGE sql STABLE AS $$
    WITH spend AS (
        SELECT financial_year_of(coalesce(o.incurred_on, e.incurred_on)) AS fy, e.award_id, sum(e.amount) AS spent
        FROM spend_entries e LEFT JOIN spend_entries o ON o.id = e.reverses_id
        WHERE e.funding_line_id = p_line AND e.status = 'approved' GROUP BY 1, 2),
    due AS (
        SELECT financial_year_of(t.due_on) AS fy, t.award_id, sum(t.amount) AS due
        FROM tranches t JOIN awards a ON a.id = t.award_id WHERE a.funding_line_id = p_line GROUP BY 1, 2)
    SELECT coalesce(s.fy, d.fy), sum(CASE WHEN s.award_id IS NULL AND d.award_id IS NULL THEN s.spent
                                          ELSE greatest(coalesce(s.spent, 0), coalesce(d.due, 0)) END)
    FROM spend s FULL JOIN due d ON d.fy = s.fy AND d.award_id = s.award_id
    GROUP BY 1 ORDER BY 1
$$;

-- What the whole line cannot do without: its awards, its held reservations
-- and its approved spend outside awards.
CREATE FUNCTION budget_line_floor(p_line bigint) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT sum(amount) FROM awards WHERE funding_line_id = p_line), 0)
         + coalesce((SELECT sum(amount) FROM reservations WHERE funding_line_id = p_line AND status = 'held'), 0)
         + coalesce((SELECT sum(amount) FROM spend_entries WHERE funding_line_id = p_line AND status = 'approved' AND award_id IS NULL), 0)
$$;

-- No budget change leaves a year, or the line, below its floor. Only a
-- decrease is checked: a year already short is not made worse by money
-- arriving in it.
CREATE FUNCTION budget_above_floor() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_id  bigint;
    fy       int;
    new_amt  numeric;
    floor_at numeric;
    code     text;
BEGIN
    IF TG_TABLE_NAME = 'funding_lines' THEN
        IF NEW.budget >= OLD.budget THEN
            RETURN NULL;
        END IF;
        floor_at := budget_line_floor(NEW.id);
        IF NEW.budget < floor_at THEN
            RAISE EXCEPTION 'funding line %: the budget would be % but % is already awarded, reserved and spent on it (short by %)',
                NEW.code, NEW.budget, floor_at, floor_at - NEW.budget
                USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_above_floor';
        END IF;
        RETURN NULL;
    END IF;
    line_id := OLD.funding_line_id;
    fy := OLD.financial_year;
    new_amt := CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE NEW.amount END;
    IF new_amt >= OLD.amount THEN
        RETURN NULL;
    END IF;
    SELECT f.floor INTO floor_at FROM budget_year_floors(line_id) f WHERE f.financial_year = fy;
    IF coalesce(floor_at, 0) > new_amt THEN
        SELECT fl.code INTO code FROM funding_lines fl WHERE fl.id = line_id;
        RAISE EXCEPTION 'funding line %, %-%: the year''s budget would be % but % is already approved and committed in it (short by %)',
            code, fy, lpad(((fy + 1) % 100)::text, 2, '0'), new_amt, floor_at, floor_at - new_amt
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_above_floor';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER budget_profiles_above_floor AFTER UPDATE OF amount OR DELETE ON budget_profiles
    FOR EACH ROW EXECUTE FUNCTION budget_above_floor();
CREATE TRIGGER funding_lines_budget_above_floor AFTER UPDATE OF budget ON funding_lines
    FOR EACH ROW EXECUTE FUNCTION budget_above_floor();

-- Approved spend never exceeds the profiled budget of the year it was
-- incurred in (year_spent). Checked once per statement over the (line, year) pairs it
-- approved spend in, the lines locked in id order as every Go path locks
-- them.
CREATE FUNCTION spend_within_year_budget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    PERFORM 1 FROM funding_lines
        WHERE id IN (SELECT funding_line_id FROM new_rows WHERE status = 'approved' AND amount > 0)
        ORDER BY id FOR UPDATE;
    SELECT fl.code, k.fy, coalesce(bp.amount, 0) AS budget, s.spent INTO bad
    FROM (SELECT DISTINCT funding_line_id, financial_year_of(incurred_on) AS fy FROM new_rows
          WHERE status = 'approved' AND amount > 0) k
    JOIN funding_lines fl ON fl.id = k.funding_line_id
    LEFT JOIN budget_profiles bp ON bp.funding_line_id = k.funding_line_id AND bp.financial_year = k.fy,
    LATERAL (SELECT year_spent(k.funding_line_id, k.fy) AS spent) s
    WHERE s.spent > coalesce(bp.amount, 0)
    ORDER BY fl.id, k.fy LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'funding line %, %-%: approved spend % exceeds the year''s budget %',
            bad.code, bad.fy, lpad(((bad.fy + 1) % 100)::text, 2, '0'), bad.spent, bad.budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_within_year_budget';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER spend_within_year_budget AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_within_year_budget();
CREATE TRIGGER spend_within_year_budget_on_decision AFTER UPDATE ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_within_year_budget();

-- Budget changes: re-profiling (between the years of one line) and virements
-- (between lines). Each moves money, so its moves add up to zero; each is
-- proposed, then approved or rejected by someone else, or withdrawn.
CREATE TABLE budget_changes (
    id                 bigserial PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('reprofile', 'virement')),
    reason             text NOT NULL CHECK (btrim(reason) <> ''),
    effective_on       date NOT NULL,
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    proposed_by        bigint NOT NULL REFERENCES users (id),
    proposed_at        timestamptz NOT NULL DEFAULT now(),
    decided_by         bigint REFERENCES users (id),
    decided_at         timestamptz,
    rejection_reason   text,
    decision_record_id bigint,
    idempotency_key    text,
    request_hash       bytea,
    CONSTRAINT budget_changes_maker_checker CHECK (decided_by IS NULL OR decided_by <> proposed_by),
    CONSTRAINT budget_changes_decision_check CHECK (
        (status = 'pending' AND decided_by IS NULL AND decided_at IS NULL) OR
        (status = 'withdrawn' AND decided_by IS NULL AND decided_at IS NOT NULL) OR
        (status IN ('approved', 'rejected') AND decided_by IS NOT NULL AND decided_at IS NOT NULL)),
    CONSTRAINT budget_changes_rejection_check CHECK ((status = 'rejected') = (btrim(coalesce(rejection_reason, '')) <> '')),
    CONSTRAINT budget_changes_idempotency_key UNIQUE (proposed_by, idempotency_key)
);
CREATE INDEX budget_changes_pending_idx ON budget_changes (id) WHERE status = 'pending';

CREATE TABLE budget_change_moves (
    budget_change_id bigint NOT NULL REFERENCES budget_changes (id),
    funding_line_id  bigint NOT NULL REFERENCES funding_lines (id),
    financial_year   int NOT NULL CHECK (financial_year BETWEEN 1899 AND 9998),
    delta            numeric(15,2) NOT NULL CHECK (delta <> 0 AND delta <> 'NaN'),
    PRIMARY KEY (budget_change_id, funding_line_id, financial_year)
);
CREATE INDEX budget_change_moves_line_idx ON budget_change_moves (funding_line_id);

-- At commit, a change's moves add up to zero; a re-profiling stays on one
-- line and a virement reaches at least two.
CREATE FUNCTION budget_change_balances() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE CONSTRAINT TRIGGER budget_change_balances AFTER INSERT ON budget_change_moves
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION budget_change_balances();
CREATE CONSTRAINT TRIGGER budget_changes_balanced AFTER INSERT ON budget_changes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION budget_change_balances();

-- A change's moves are never altered; a change is decided once, and only
-- its decision columns change.
CREATE FUNCTION budget_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'budget_change_moves' OR TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'budget changes are never edited or deleted; withdraw a pending change and propose another'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'budget_changes_append_only';
    END IF;
    IF OLD.status <> 'pending' OR NEW.status NOT IN ('approved', 'rejected', 'withdrawn')
       OR (to_jsonb(NEW) - ARRAY['status', 'decided_by', 'decided_at', 'rejection_reason'])
          IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'decided_by', 'decided_at', 'rejection_reason']) THEN
        RAISE EXCEPTION 'budget change %: only a pending change may be approved, rejected or withdrawn', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'budget_changes_append_only';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER budget_changes_append_only BEFORE UPDATE OR DELETE ON budget_changes
    FOR EACH ROW EXECUTE FUNCTION budget_changes_append_only();
CREATE TRIGGER budget_change_moves_append_only BEFORE UPDATE OR DELETE ON budget_change_moves
    FOR EACH ROW EXECUTE FUNCTION budget_changes_append_only();
CREATE TRIGGER budget_changes_no_truncate BEFORE TRUNCATE ON budget_changes
    FOR EACH STATEMENT EXECUTE FUNCTION budget_changes_append_only();
CREATE TRIGGER budget_change_moves_no_truncate BEFORE TRUNCATE ON budget_change_moves
    FOR EACH STATEMENT EXECUTE FUNCTION budget_changes_append_only();

-- Approving a change applies it, here and nowhere else: its moves go into
-- the profiles and the lines' budgets in the approving statement, on open
-- lines only. The floor and sum triggers then check the result.
CREATE FUNCTION budget_change_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    closed text;
BEGIN
    PERFORM 1 FROM funding_lines WHERE id IN (SELECT funding_line_id FROM budget_change_moves WHERE budget_change_id = NEW.id)
        ORDER BY id FOR UPDATE;
    SELECT string_agg(code || ' (' || status || ')', ', ' ORDER BY code) INTO closed FROM funding_lines
    WHERE id IN (SELECT funding_line_id FROM budget_change_moves WHERE budget_change_id = NEW.id) AND status NOT IN ('approved', 'active');
    IF closed IS NOT NULL THEN
        RAISE EXCEPTION 'budget change %: budget changes apply to approved or active lines only, not %', NEW.id, closed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'budget_change_line_open';
    END IF;
    -- The lines are locked, so no profile row appears between these two.
    UPDATE budget_profiles bp SET amount = bp.amount + m.delta
    FROM budget_change_moves m
    WHERE m.budget_change_id = NEW.id AND bp.funding_line_id = m.funding_line_id AND bp.financial_year = m.financial_year;
    INSERT INTO budget_profiles (funding_line_id, financial_year, amount)
    SELECT m.funding_line_id, m.financial_year, m.delta FROM budget_change_moves m
    WHERE m.budget_change_id = NEW.id AND NOT EXISTS (SELECT 1 FROM budget_profiles bp
        WHERE bp.funding_line_id = m.funding_line_id AND bp.financial_year = m.financial_year)
    ORDER BY 1, 2;
    UPDATE funding_lines fl SET budget = fl.budget + m.delta, updated_at = now()
    FROM (SELECT funding_line_id, sum(delta) AS delta FROM budget_change_moves WHERE budget_change_id = NEW.id GROUP BY 1) m
    WHERE fl.id = m.funding_line_id AND m.delta <> 0;
    RETURN NULL;
END $$;
CREATE TRIGGER budget_change_apply AFTER UPDATE OF status ON budget_changes
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'approved') EXECUTE FUNCTION budget_change_apply();

-- Once a line is approved, its profile and budget change only by approving
-- a budget change (the trigger above, one level down); a draft's profile is
-- edited directly, and a new line's proposed profile is written by its
-- insert trigger.
CREATE FUNCTION budget_changed_by_budget_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_id     bigint;
    line_status text;
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_TABLE_NAME = 'funding_lines' THEN
        -- NaN is left to the budget's own CHECK, which names it.
        IF NEW.budget = OLD.budget OR OLD.status = 'draft' OR NEW.budget = 'NaN' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'funding line %: an approved line''s budget changes only through an approved budget change', OLD.code
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'budget_changed_by_budget_change';
    END IF;
    line_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.funding_line_id ELSE NEW.funding_line_id END;
    SELECT status INTO line_status FROM funding_lines WHERE id = line_id;
    IF line_status IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION 'funding line %: an approved line''s budget profile changes only through an approved budget change', line_id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'budget_changed_by_budget_change';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER budget_profiles_changed_by_budget_change BEFORE INSERT OR UPDATE OR DELETE ON budget_profiles
    FOR EACH ROW EXECUTE FUNCTION budget_changed_by_budget_change();
CREATE TRIGGER funding_lines_budget_changed_by_budget_change BEFORE UPDATE OF budget ON funding_lines
    FOR EACH ROW EXECUTE FUNCTION budget_changed_by_budget_change();
