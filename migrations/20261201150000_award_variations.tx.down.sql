DROP INDEX IF EXISTS awards_reservation_key;
ALTER TABLE awards ADD CONSTRAINT awards_reservation_key UNIQUE (reservation_id);
DROP TRIGGER IF EXISTS reservations_restored_within_budget ON reservations;
CREATE OR REPLACE FUNCTION reservations_close_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.status <> 'held' OR NEW.status = 'held'
       OR (NEW.id, NEW.funding_line_id, NEW.amount, NEW.purpose, NEW.reference, NEW.expected_on, NEW.created_by, NEW.created_at)
          IS DISTINCT FROM (OLD.id, OLD.funding_line_id, OLD.amount, OLD.purpose, OLD.reference, OLD.expected_on, OLD.created_by, OLD.created_at) THEN
        RAISE EXCEPTION 'reservation %: only a held reservation may be released or converted, and nothing else changed', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'reservations_close_once';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS award_covers_spend ON awards;
DROP FUNCTION IF EXISTS award_covers_spend();
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
DROP TRIGGER IF EXISTS award_variation_apply ON award_variations;
DROP FUNCTION IF EXISTS award_variation_apply();
DROP TRIGGER IF EXISTS award_variations_guard ON award_variations;
DROP FUNCTION IF EXISTS award_variations_guard();
DROP FUNCTION IF EXISTS award_variation_decision(bigint);
DROP TABLE IF EXISTS award_variation_tranches;
DROP FUNCTION IF EXISTS award_variation_tranches_append_only();
DROP TABLE IF EXISTS award_variations;
ALTER TABLE awards DROP CONSTRAINT awards_status_check;
ALTER TABLE awards ADD CONSTRAINT awards_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn'));
