-- Every decision that commits public money is made by two people: one
-- proposes, another approves. A funding line is approved or activated only
-- through an approved line decision, and an award counts for spend only once
-- approved. Approval checks the scheme of delegation in the database
-- (assert_decision_authority, assert_decision_citation), whoever writes the row.

-- The decision states every proposal goes through: pending until another
-- person approves or rejects it, or its proposer withdraws it.
CREATE TABLE line_decisions (
    id                 bigserial PRIMARY KEY,
    funding_line_id    bigint NOT NULL REFERENCES funding_lines (id),
    decision_kind      text NOT NULL CHECK (decision_kind IN ('line_approval', 'line_activation')),
    to_status          text NOT NULL CHECK (to_status IN ('approved', 'active')),
    decision_record_id bigint REFERENCES decision_records (id),
    reason             text NOT NULL DEFAULT '',
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    proposed_by        bigint NOT NULL REFERENCES users (id),
    proposed_at        timestamptz NOT NULL DEFAULT now(),
    decided_by         bigint REFERENCES users (id),
    decided_at         timestamptz,
    decision_reason    text,
    CONSTRAINT line_decisions_kind_check CHECK ((decision_kind = 'line_approval') = (to_status = 'approved')),
    CONSTRAINT line_decisions_decided_check CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT line_decisions_four_eyes CHECK (status NOT IN ('approved', 'rejected') OR decided_by <> proposed_by),
    CONSTRAINT line_decisions_withdrawn_by_proposer CHECK (status <> 'withdrawn' OR decided_by = proposed_by),
    CONSTRAINT line_decisions_rejection_reason CHECK (status <> 'rejected' OR btrim(coalesce(decision_reason, '')) <> '')
);
-- One open proposal per line at a time.
CREATE UNIQUE INDEX line_decisions_one_pending ON line_decisions (funding_line_id) WHERE status = 'pending';

-- A proposal is inserted pending, is decided once, and is never deleted; an
-- approval must come from someone the scheme allows for the line's budget,
-- citing a decision record above the kind's threshold.
CREATE FUNCTION line_decisions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fl funding_lines;
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'INSERT' AND NEW.status <> 'pending')
       OR (TG_OP = 'UPDATE' AND (OLD.status <> 'pending' OR NEW.status = 'pending'
           OR (NEW.id, NEW.funding_line_id, NEW.decision_kind, NEW.to_status, NEW.decision_record_id, NEW.reason, NEW.proposed_by, NEW.proposed_at)
              IS DISTINCT FROM (OLD.id, OLD.funding_line_id, OLD.decision_kind, OLD.to_status, OLD.decision_record_id, OLD.reason, OLD.proposed_by, OLD.proposed_at))) THEN
        RAISE EXCEPTION 'line decision %: a proposal is made pending and decided once; nothing else changes', coalesce(OLD.id, NEW.id)
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'line_decisions_decided_once';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ('approved', 'rejected') THEN
        SELECT * INTO fl FROM funding_lines WHERE id = NEW.funding_line_id;
        PERFORM assert_decision_authority(NEW.decision_kind, CASE WHEN NEW.status = 'approved' THEN fl.budget END,
            NEW.decided_by, NEW.proposed_by);
        IF NEW.status = 'approved' THEN
            PERFORM assert_decision_citation(NEW.decision_kind, fl.budget, NEW.decision_record_id);
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER line_decisions_guard BEFORE INSERT OR UPDATE OR DELETE ON line_decisions
    FOR EACH ROW EXECUTE FUNCTION line_decisions_guard();

-- Only legal status transitions, and approval and activation only through a
-- line decision approved in the same transaction.
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
    IF NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('approved', 'active') AND NOT EXISTS (
        SELECT 1 FROM line_decisions d WHERE d.funding_line_id = NEW.id AND d.to_status = NEW.status
            AND d.status = 'approved' AND d.decided_at = now()) THEN
        RAISE EXCEPTION 'funding line %: moving to % needs a line decision proposed by one person and approved by another', OLD.code, NEW.status
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'funding_lines_status_decision';
    END IF;
    RETURN NEW;
END $$;

-- A line is created in draft; only a decision moves it on.
CREATE FUNCTION funding_lines_born_draft() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'funding line %: a line is created in draft and moves to % only by a line decision', NEW.code, NEW.status
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'funding_lines_status_decision';
END $$;
CREATE TRIGGER funding_lines_born_draft BEFORE INSERT ON funding_lines
    FOR EACH ROW WHEN (NEW.status <> 'draft') EXECUTE FUNCTION funding_lines_born_draft();

-- Awards: proposed pending, approved by another person. Pending and approved
-- awards both count against the line's budget, so two proposals cannot
-- oversubscribe it; only an approved award may carry spend.
ALTER TABLE awards
    ADD COLUMN status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    ADD COLUMN proposed_by        bigint REFERENCES users (id),
    ADD COLUMN decided_by         bigint REFERENCES users (id),
    ADD COLUMN decided_at         timestamptz,
    ADD COLUMN decision_reason    text,
    ADD COLUMN decision_record_id bigint REFERENCES decision_records (id);
-- Awards made before two-person decisions were approved when made.
UPDATE awards SET status = 'approved', decided_at = created_at;
ALTER TABLE awards
    ADD CONSTRAINT awards_decided_check CHECK ((status = 'pending') = (decided_at IS NULL)),
    ADD CONSTRAINT awards_four_eyes CHECK (status NOT IN ('approved', 'rejected') OR proposed_by IS NULL OR decided_by <> proposed_by),
    ADD CONSTRAINT awards_withdrawn_by_proposer CHECK (status <> 'withdrawn' OR decided_by = proposed_by);
CREATE INDEX awards_pending_idx ON awards (funding_line_id) WHERE status = 'pending';

CREATE FUNCTION awards_decision_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'pending' OR NEW.proposed_by IS NULL OR NEW.decided_by IS NOT NULL THEN
            RAISE EXCEPTION 'award %: an award is proposed pending by a user and approved by another', NEW.reference
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'awards_decided_once';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'award %: awards are never deleted; reject or withdraw a proposal instead', OLD.reference
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'awards_decided_once';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF OLD.status <> 'pending' THEN
            RAISE EXCEPTION 'award %: already %', OLD.reference, OLD.status
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'awards_decided_once';
        END IF;
        IF NEW.status IN ('approved', 'rejected') THEN
            PERFORM assert_decision_authority(
                CASE WHEN NEW.reservation_id IS NULL THEN 'award' ELSE 'reservation_conversion' END,
                CASE WHEN NEW.status = 'approved' THEN NEW.amount END, NEW.decided_by, NEW.proposed_by);
        END IF;
        IF NEW.status = 'approved' THEN
            PERFORM assert_decision_citation(CASE WHEN NEW.reservation_id IS NULL THEN 'award' ELSE 'reservation_conversion' END,
                NEW.amount, NEW.decision_record_id);
        END IF;
    ELSIF OLD.status <> 'pending' AND (NEW.amount, NEW.recipient_id, NEW.decided_by, NEW.decided_at, NEW.decision_record_id)
          IS DISTINCT FROM (OLD.amount, OLD.recipient_id, OLD.decided_by, OLD.decided_at, OLD.decision_record_id) THEN
        RAISE EXCEPTION 'award %: a decided award does not change', OLD.reference
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'awards_decided_once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER awards_decision_guard BEFORE INSERT OR UPDATE OR DELETE ON awards
    FOR EACH ROW EXECUTE FUNCTION awards_decision_guard();

-- Rejected and withdrawn awards hold nothing: the budget check counts
-- pending and approved awards and held reservations.
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
    SELECT coalesce(sum(amount), 0) INTO committed FROM awards WHERE funding_line_id = line_id AND status IN ('pending', 'approved');
    SELECT coalesce(sum(amount), 0) INTO reserved FROM reservations WHERE funding_line_id = line_id AND status = 'held';
    IF committed + reserved > line_budget THEN
        RAISE EXCEPTION 'funding line %: awards % and reservations % exceed the budget %', line_id, committed, reserved, line_budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_within_budget';
    END IF;
    RETURN NULL;
END $$;

-- Spend names only an approved award (a reversal follows its original).
CREATE FUNCTION spend_award_approved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, a.reference, a.status INTO bad
    FROM new_rows n JOIN awards a ON a.id = n.award_id
    WHERE n.reverses_id IS NULL AND (TG_OP = 'INSERT' OR n.status = 'approved') AND a.status <> 'approved'
    ORDER BY n.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'spend entry %: award % is %; spend is recorded and approved only against an approved award', bad.id, bad.reference, bad.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_award_approved';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER spend_award_approved AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_award_approved();
CREATE TRIGGER spend_award_approved_on_decision AFTER UPDATE ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_award_approved();

-- Rules that guarded money only in Go, now held by the database too.

-- Spend: on an active line, incurred within the line's dates and the
-- award's, and decided only by someone the scheme of delegation allows
-- (assert_decision_authority, kind 'spend'). Statement-level, like the
-- budget check, so a whole import costs one pass, not one lookup per row.
-- A reversal undoes approved spend and may come after the line has ended
-- or closed, so the line and date rules do not apply to it.
CREATE FUNCTION spend_entries_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, fl.code, fl.status INTO bad
    FROM new_rows n JOIN funding_lines fl ON fl.id = n.funding_line_id
    WHERE n.reverses_id IS NULL AND (TG_OP = 'INSERT' OR n.status = 'approved') AND fl.status <> 'active'
    ORDER BY n.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'spend entry %: funding line % is %; spend is recorded and approved only on an active line', bad.id, bad.code, bad.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_line_active';
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT n.id, n.incurred_on, fl.code, fl.starts_on, fl.ends_on INTO bad
        FROM new_rows n JOIN funding_lines fl ON fl.id = n.funding_line_id
        WHERE n.reverses_id IS NULL AND (n.incurred_on < fl.starts_on OR n.incurred_on > fl.ends_on)
        ORDER BY n.id LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'spend entry %: incurred on %, outside funding line %''s dates % to %', bad.id, bad.incurred_on, bad.code, bad.starts_on, bad.ends_on
                USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_within_line_dates';
        END IF;
        SELECT n.id, n.incurred_on, a.reference, a.starts_on, a.ends_on INTO bad
        FROM new_rows n JOIN awards a ON a.id = n.award_id
        WHERE n.reverses_id IS NULL AND (n.incurred_on < a.starts_on OR n.incurred_on > a.ends_on)
        ORDER BY n.id LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'spend entry %: incurred on %, outside award %''s dates % to %', bad.id, bad.incurred_on, bad.reference, bad.starts_on, bad.ends_on
                USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_within_award_dates';
        END IF;
    END IF;
    -- Who decides: one check per decider, recorder and outcome, with the
    -- largest amount among their approvals.
    FOR bad IN SELECT n.decided_by, n.recorded_by, n.status, max(abs(n.amount)) AS amount
               FROM new_rows n WHERE n.decided_by IS NOT NULL
               GROUP BY n.decided_by, n.recorded_by, n.status LOOP
        PERFORM assert_decision_authority('spend', CASE WHEN bad.status = 'approved' THEN bad.amount END,
            bad.decided_by, bad.recorded_by);
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER spend_entries_rules AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_entries_rules();
CREATE TRIGGER spend_entries_rules_on_decision AFTER UPDATE ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_entries_rules();

-- A line's budget never drops below what it already holds: its pending and
-- approved awards and
-- held reservations, plus approved spend outside any award (spend under an
-- award is within the award already), and never below its approved spend.
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

-- An award runs within its line's dates and goes to an organisation that can
-- receive it: a recipient, or a supplier when the line is a contract.
CREATE FUNCTION awards_line_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fl funding_lines;
    o  organisations;
BEGIN
    SELECT * INTO fl FROM funding_lines WHERE id = NEW.funding_line_id;
    SELECT * INTO o FROM organisations WHERE id = NEW.recipient_id;
    IF NEW.starts_on < fl.starts_on OR NEW.ends_on > fl.ends_on THEN
        RAISE EXCEPTION 'award %: runs % to %, outside funding line %''s dates % to %', NEW.reference, NEW.starts_on, NEW.ends_on,
            fl.code, fl.starts_on, fl.ends_on
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_within_line_dates';
    END IF;
    IF NOT (o.is_recipient OR (fl.kind = 'contract' AND o.is_supplier)) THEN
        RAISE EXCEPTION 'award %: % is not a recipient%', NEW.reference, o.name,
            CASE WHEN fl.kind = 'contract' THEN ' or a supplier' ELSE '' END
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_recipient_can_receive';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER awards_line_rules BEFORE INSERT OR UPDATE OF funding_line_id, recipient_id, starts_on, ends_on ON awards
    FOR EACH ROW EXECUTE FUNCTION awards_line_rules();
