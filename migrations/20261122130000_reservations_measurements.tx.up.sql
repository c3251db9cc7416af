-- Reservations earmark part of a funding line's budget before any award (a
-- tender in progress, reserved at its upper value). A held reservation counts
-- against what can still be awarded or reserved; it ends either released
-- (with a reason) or converted into an award, which then points back at it.
CREATE TABLE reservations (
    id              bigserial PRIMARY KEY,
    funding_line_id bigint NOT NULL REFERENCES funding_lines (id),
    amount          numeric(15,2) NOT NULL CHECK (amount > 0 AND amount <> 'NaN'),
    purpose         text NOT NULL CHECK (btrim(purpose) <> ''),
    reference       text NOT NULL DEFAULT '',
    expected_on     date NOT NULL,
    status          text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released', 'converted')),
    release_reason  text,
    created_by      bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    closed_by       bigint REFERENCES users (id),
    closed_at       timestamptz,
    CONSTRAINT reservations_closed_check CHECK ((status = 'held') = (closed_at IS NULL AND closed_by IS NULL)),
    CONSTRAINT reservations_release_reason_check CHECK ((status = 'released') = (release_reason IS NOT NULL AND btrim(release_reason) <> ''))
);
CREATE INDEX reservations_line_idx ON reservations (funding_line_id) WHERE status = 'held';

ALTER TABLE awards ADD COLUMN reservation_id bigint REFERENCES reservations (id);
ALTER TABLE awards ADD CONSTRAINT awards_reservation_key UNIQUE (reservation_id);

-- A reservation only ever leaves 'held', once, and is never deleted: its
-- history is part of the line's story.
CREATE FUNCTION reservations_close_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.status <> 'held' OR NEW.status = 'held'
       OR (NEW.id, NEW.funding_line_id, NEW.amount, NEW.purpose, NEW.reference, NEW.expected_on, NEW.created_by, NEW.created_at)
          IS DISTINCT FROM (OLD.id, OLD.funding_line_id, OLD.amount, OLD.purpose, OLD.reference, OLD.expected_on, OLD.created_by, OLD.created_at) THEN
        RAISE EXCEPTION 'reservation %: only a held reservation may be released or converted, and nothing else changed', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'reservations_close_once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER reservations_close_once BEFORE UPDATE OR DELETE ON reservations
    FOR EACH ROW EXECUTE FUNCTION reservations_close_once();

-- An award made from a reservation needs the reservation converted first, on
-- the same line.
CREATE FUNCTION awards_from_converted_reservation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = NEW.reservation_id
                   AND r.status = 'converted' AND r.funding_line_id = NEW.funding_line_id) THEN
        RAISE EXCEPTION 'award %: reservation % is not a converted reservation of the same line', NEW.id, NEW.reservation_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_from_converted_reservation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER awards_from_converted_reservation AFTER INSERT OR UPDATE OF reservation_id ON awards
    FOR EACH ROW WHEN (NEW.reservation_id IS NOT NULL) EXECUTE FUNCTION awards_from_converted_reservation();

-- Awards and held reservations together never exceed the line's budget.
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
    SELECT coalesce(sum(amount), 0) INTO committed FROM awards WHERE funding_line_id = line_id;
    SELECT coalesce(sum(amount), 0) INTO reserved FROM reservations WHERE funding_line_id = line_id AND status = 'held';
    IF committed + reserved > line_budget THEN
        RAISE EXCEPTION 'funding line %: awards % and reservations % exceed the budget %', line_id, committed, reserved, line_budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_within_budget';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reservations_within_budget AFTER INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION awards_within_budget();

-- Measurements are never rewritten: a correction is a new revision that
-- supersedes the old, which stays visible. A revision is one more than the
-- one it corrects, of the same indicator.
CREATE FUNCTION measurements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'measurements are append-only; record a correction as a new revision'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'measurements_append_only';
END $$;
CREATE TRIGGER measurements_append_only BEFORE UPDATE OR DELETE ON measurements
    FOR EACH ROW EXECUTE FUNCTION measurements_append_only();

CREATE FUNCTION measurements_revision_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.supersedes_id IS NULL THEN
        IF NEW.revision <> 1 THEN
            RAISE EXCEPTION 'a first measurement is revision 1' USING ERRCODE = 'check_violation', CONSTRAINT = 'measurements_revision_chain';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM measurements m WHERE m.id = NEW.supersedes_id
                      AND m.indicator_id = NEW.indicator_id AND m.revision = NEW.revision - 1) THEN
        RAISE EXCEPTION 'measurement % does not correct revision % of the same indicator', NEW.id, NEW.revision - 1
            USING ERRCODE = 'check_violation', CONSTRAINT = 'measurements_revision_chain';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER measurements_revision_chain BEFORE INSERT ON measurements
    FOR EACH ROW EXECUTE FUNCTION measurements_revision_chain();
-- The latest reading of an indicator, for the reports.
CREATE INDEX measurements_latest_idx ON measurements (indicator_id, period_end DESC, period_start DESC);
