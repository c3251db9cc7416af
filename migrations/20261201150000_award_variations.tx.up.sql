-- Award variations and cancellations: two-person decisions like the award
-- itself. One person proposes changing an approved award's amount, dates or
-- tranche schedule (a variation) or ending it (a cancellation); someone else
-- the scheme of delegation allows approves or rejects it (kinds
-- award_variation, weighed by the increase, and award_cancellation, weighed
-- by the award's amount), or the proposer withdraws it. Approving applies it
-- here, in award_variation_apply; nothing else changes a decided award.

ALTER TABLE awards DROP CONSTRAINT awards_status_check;
ALTER TABLE awards ADD CONSTRAINT awards_status_check
    CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn', 'cancelled'));

CREATE TABLE award_variations (
    id                 bigserial PRIMARY KEY,
    award_id           bigint NOT NULL REFERENCES awards (id),
    kind               text NOT NULL CHECK (kind IN ('variation', 'cancellation')),
    -- The award as it stood when proposed (filled in by the guard).
    amount_before      numeric(15,2) NOT NULL,
    starts_on_before   date NOT NULL,
    ends_on_before     date NOT NULL,
    -- The award as varied; NULL for a cancellation.
    amount             numeric(15,2) CHECK (amount > 0 AND amount <> 'NaN'),
    starts_on          date,
    ends_on            date,
    reason             text NOT NULL CHECK (btrim(reason) <> ''),
    decision_record_id bigint REFERENCES decision_records (id),
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    proposed_by        bigint NOT NULL REFERENCES users (id),
    proposed_at        timestamptz NOT NULL DEFAULT now(),
    decided_by         bigint REFERENCES users (id),
    decided_at         timestamptz,
    decision_reason    text,
    CONSTRAINT award_variations_kind_fields CHECK ((kind = 'cancellation') = (amount IS NULL AND starts_on IS NULL AND ends_on IS NULL)
        AND (kind = 'cancellation' OR (amount IS NOT NULL AND starts_on IS NOT NULL AND ends_on IS NOT NULL))),
    CONSTRAINT award_variations_dates_check CHECK (starts_on <= ends_on),
    CONSTRAINT award_variations_decided_check CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT award_variations_four_eyes CHECK (status NOT IN ('approved', 'rejected') OR decided_by <> proposed_by),
    CONSTRAINT award_variations_withdrawn_by_proposer CHECK (status <> 'withdrawn' OR decided_by = proposed_by),
    CONSTRAINT award_variations_rejection_reason CHECK (status <> 'rejected' OR btrim(coalesce(decision_reason, '')) <> '')
);
-- One open proposal per award at a time.
CREATE UNIQUE INDEX award_variations_one_pending ON award_variations (award_id) WHERE status = 'pending';

-- A variation's whole tranche schedule, which replaces the award's.
CREATE TABLE award_variation_tranches (
    award_variation_id bigint NOT NULL REFERENCES award_variations (id),
    seq                int NOT NULL CHECK (seq > 0),
    due_on             date NOT NULL,
    amount             numeric(15,2) NOT NULL CHECK (amount > 0 AND amount <> 'NaN'),
    PRIMARY KEY (award_variation_id, seq)
);

CREATE FUNCTION award_variation_tranches_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a variation''s tranches are never edited or deleted; withdraw it and propose another'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'award_variations_decided_once';
END $$;
CREATE TRIGGER award_variation_tranches_append_only BEFORE UPDATE OR DELETE ON award_variation_tranches
    FOR EACH ROW EXECUTE FUNCTION award_variation_tranches_append_only();

-- The kind of decision approving a variation is, and the amount weighed
-- against the decider's limit: a variation's increase (nothing for a
-- decrease), a cancellation's award.
CREATE FUNCTION award_variation_decision(p_variation bigint, OUT kind text, OUT amount numeric) LANGUAGE sql STABLE AS $$
    SELECT CASE v.kind WHEN 'variation' THEN 'award_variation' ELSE 'award_cancellation' END,
           CASE v.kind WHEN 'variation' THEN greatest(v.amount - a.amount, 0) ELSE a.amount END
    FROM award_variations v JOIN awards a ON a.id = v.award_id WHERE v.id = p_variation
$$;

-- A variation is proposed pending on an approved award (recording the award
-- as it stands), decided once, and never deleted; approving or rejecting it
-- needs authority under the scheme of delegation, and an approval above the
-- kind's threshold a decision record.
CREATE FUNCTION award_variations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a awards;
    d record;
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'INSERT' AND (NEW.status <> 'pending' OR NEW.decided_by IS NOT NULL))
       OR (TG_OP = 'UPDATE' AND (OLD.status <> 'pending' OR NEW.status = 'pending'
           OR (to_jsonb(NEW) - ARRAY['status', 'decided_by', 'decided_at', 'decision_reason'])
              IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'decided_by', 'decided_at', 'decision_reason']))) THEN
        RAISE EXCEPTION 'award variation %: a proposal is made pending and decided once; nothing else changes', coalesce(OLD.id, NEW.id)
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'award_variations_decided_once';
    END IF;
    SELECT * INTO a FROM awards WHERE id = NEW.award_id;
    IF TG_OP = 'INSERT' THEN
        IF a.status <> 'approved' THEN
            RAISE EXCEPTION 'award %: only an approved award is varied or cancelled; it is %', a.reference, a.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_variations_award_approved';
        END IF;
        NEW.amount_before := a.amount;
        NEW.starts_on_before := a.starts_on;
        NEW.ends_on_before := a.ends_on;
        RETURN NEW;
    END IF;
    IF NEW.status IN ('approved', 'rejected') THEN
        SELECT * INTO d FROM award_variation_decision(NEW.id);
        PERFORM assert_decision_authority(d.kind, CASE WHEN NEW.status = 'approved' THEN d.amount END, NEW.decided_by, NEW.proposed_by);
        IF NEW.status = 'approved' THEN
            PERFORM assert_decision_citation(d.kind, d.amount, NEW.decision_record_id);
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER award_variations_guard BEFORE INSERT OR UPDATE OR DELETE ON award_variations
    FOR EACH ROW EXECUTE FUNCTION award_variations_guard();

-- Approving a variation applies it, here and nowhere else: the award's
-- amount and dates and its tranche schedule (kept tranches are updated in
-- place, by number, so spend naming them still does), or the award's
-- cancellation. It runs as the schema's owner: the application may not
-- write these columns itself. The award's own triggers then check the
-- result (awards_within_budget, awards_within_line_dates,
-- award_covers_spend, award_dates_cover_spend, and tranches_sum_to_award at
-- commit).
CREATE FUNCTION award_variation_apply() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.kind = 'cancellation' THEN
        UPDATE awards SET status = 'cancelled' WHERE id = NEW.award_id;
        RETURN NULL;
    END IF;
    UPDATE awards SET amount = NEW.amount, starts_on = NEW.starts_on, ends_on = NEW.ends_on WHERE id = NEW.award_id;
    DELETE FROM tranches t WHERE t.award_id = NEW.award_id
        AND NOT EXISTS (SELECT 1 FROM award_variation_tranches v WHERE v.award_variation_id = NEW.id AND v.seq = t.seq);
    UPDATE tranches t SET due_on = v.due_on, amount = v.amount
    FROM award_variation_tranches v
    WHERE v.award_variation_id = NEW.id AND t.award_id = NEW.award_id AND t.seq = v.seq;
    INSERT INTO tranches (award_id, seq, due_on, amount)
    SELECT NEW.award_id, v.seq, v.due_on, v.amount FROM award_variation_tranches v
    WHERE v.award_variation_id = NEW.id AND NOT EXISTS (SELECT 1 FROM tranches t WHERE t.award_id = NEW.award_id AND t.seq = v.seq)
    ORDER BY v.seq;
    RETURN NULL;
END $$;
CREATE TRIGGER award_variation_apply AFTER UPDATE OF status ON award_variations
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'approved') EXECUTE FUNCTION award_variation_apply();

-- A decided award changes only by an approved variation or cancellation
-- decided in this transaction (awards_varied_by_decision); otherwise as
-- before: decided once, never deleted.
CREATE OR REPLACE FUNCTION awards_decision_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF OLD.status = 'approved' AND NEW.status = 'cancelled' THEN
        IF (NEW.amount, NEW.starts_on, NEW.ends_on, NEW.recipient_id, NEW.decided_by, NEW.decided_at, NEW.decision_record_id)
           IS DISTINCT FROM (OLD.amount, OLD.starts_on, OLD.ends_on, OLD.recipient_id, OLD.decided_by, OLD.decided_at, OLD.decision_record_id)
           OR NOT EXISTS (SELECT 1 FROM award_variations v WHERE v.award_id = NEW.id AND v.kind = 'cancellation'
                          AND v.status = 'approved' AND v.decided_at = now()) THEN
            RAISE EXCEPTION 'award %: an award is cancelled only by a cancellation one person proposes and another approves', OLD.reference
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'awards_varied_by_decision';
        END IF;
        RETURN NEW;
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
    ELSIF OLD.status <> 'pending' AND (NEW.recipient_id, NEW.decided_by, NEW.decided_at, NEW.decision_record_id)
          IS DISTINCT FROM (OLD.recipient_id, OLD.decided_by, OLD.decided_at, OLD.decision_record_id) THEN
        RAISE EXCEPTION 'award %: a decided award does not change', OLD.reference
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'awards_decided_once';
    ELSIF OLD.status <> 'pending' AND (NEW.amount, NEW.starts_on, NEW.ends_on) IS DISTINCT FROM (OLD.amount, OLD.starts_on, OLD.ends_on)
          AND (OLD.status <> 'approved' OR NOT EXISTS (SELECT 1 FROM award_variations v WHERE v.award_id = NEW.id AND v.kind = 'variation'
               AND v.status = 'approved' AND v.decided_at = now()
               AND (v.amount, v.starts_on, v.ends_on) = (NEW.amount, NEW.starts_on, NEW.ends_on))) THEN
        RAISE EXCEPTION 'award %: an award''s amount and dates change only by a variation one person proposes and another approves', OLD.reference
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'awards_varied_by_decision';
    END IF;
    RETURN NEW;
END $$;

-- An award never drops below the approved spend against it (net of
-- reversals), is never cancelled with any, and its dates always cover the
-- spend recorded against it that stands (pending or approved, not reversed).
CREATE FUNCTION award_covers_spend() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    spent numeric;
    bad   record;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO spent FROM spend_entries WHERE award_id = NEW.id AND status = 'approved';
    IF spent > 0 AND (NEW.status = 'cancelled' OR NEW.amount < spent) THEN
        RAISE EXCEPTION 'award %: % is already approved as spend against it; it cannot be % (short by %)', NEW.reference, spent,
            CASE WHEN NEW.status = 'cancelled' THEN 'cancelled' ELSE 'reduced to ' || NEW.amount END,
            spent - CASE WHEN NEW.status = 'cancelled' THEN 0 ELSE NEW.amount END
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_covers_spend';
    END IF;
    SELECT e.id, e.incurred_on INTO bad FROM spend_entries e
    WHERE e.award_id = NEW.id AND e.status IN ('pending', 'approved') AND e.reverses_id IS NULL
      AND (e.incurred_on < NEW.starts_on OR e.incurred_on > NEW.ends_on)
      AND NOT EXISTS (SELECT 1 FROM spend_entries r WHERE r.reverses_id = e.id AND r.status = 'approved')
    ORDER BY e.incurred_on, e.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'award %: spend entry % was incurred on %, outside the dates % to %', NEW.reference, bad.id, bad.incurred_on,
            NEW.starts_on, NEW.ends_on
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_dates_cover_spend';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER award_covers_spend AFTER UPDATE OF amount, starts_on, ends_on, status ON awards
    FOR EACH ROW WHEN (OLD.status IN ('approved', 'cancelled')) EXECUTE FUNCTION award_covers_spend();

-- A reservation converted into an award that is then rejected or withdrawn
-- is held again, or released with a reason when the line can no longer
-- hold it; only in the transaction deciding that award. Otherwise a
-- reservation still leaves 'held' once.
CREATE OR REPLACE FUNCTION reservations_close_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'converted' AND NEW.status IN ('held', 'released')
       AND (NEW.id, NEW.funding_line_id, NEW.amount, NEW.purpose, NEW.reference, NEW.expected_on, NEW.created_by, NEW.created_at)
           IS NOT DISTINCT FROM (OLD.id, OLD.funding_line_id, OLD.amount, OLD.purpose, OLD.reference, OLD.expected_on, OLD.created_by, OLD.created_at)
       AND EXISTS (SELECT 1 FROM awards a WHERE a.reservation_id = OLD.id AND a.status IN ('rejected', 'withdrawn') AND a.decided_at = now())
       AND NOT EXISTS (SELECT 1 FROM awards a WHERE a.reservation_id = OLD.id AND a.status IN ('pending', 'approved', 'cancelled')) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' OR OLD.status <> 'held' OR NEW.status = 'held'
       OR (NEW.id, NEW.funding_line_id, NEW.amount, NEW.purpose, NEW.reference, NEW.expected_on, NEW.created_by, NEW.created_at)
          IS DISTINCT FROM (OLD.id, OLD.funding_line_id, OLD.amount, OLD.purpose, OLD.reference, OLD.expected_on, OLD.created_by, OLD.created_at) THEN
        RAISE EXCEPTION 'reservation %: only a held reservation may be released or converted, and nothing else changed', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'reservations_close_once';
    END IF;
    RETURN NEW;
END $$;
-- A restored reservation counts against the budget again.
CREATE TRIGGER reservations_restored_within_budget AFTER UPDATE OF status ON reservations
    FOR EACH ROW WHEN (NEW.status = 'held') EXECUTE FUNCTION awards_within_budget();
-- A reservation may be converted again once its award was rejected or
-- withdrawn: one live award per reservation.
ALTER TABLE awards DROP CONSTRAINT awards_reservation_key;
CREATE UNIQUE INDEX awards_reservation_key ON awards (reservation_id) WHERE status IN ('pending', 'approved', 'cancelled');
