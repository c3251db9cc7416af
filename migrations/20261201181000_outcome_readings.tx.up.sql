-- A baseline and a target carry their source, as readings do (their dates
-- are baseline_on and target_on).
ALTER TABLE indicators
    ADD COLUMN baseline_source text NOT NULL DEFAULT '' CHECK (length(baseline_source) <= 300),
    ADD COLUMN target_source text NOT NULL DEFAULT '' CHECK (length(target_source) <= 300);

-- measurements_one_current_per_period: an indicator has one current
-- reading for a period. The first reading of a period is the only one that
-- supersedes nothing; every later one is a correction naming the reading it
-- replaces (the foreign key), of the same indicator and period, as its next
-- revision (the trigger), and each reading is corrected at most once
-- (measurements_superseded_once), so the corrections form one chain whose
-- end is the current reading.
CREATE UNIQUE INDEX measurements_one_current_per_period ON measurements (indicator_id, period_start, period_end)
    WHERE supersedes_id IS NULL;

CREATE OR REPLACE FUNCTION measurements_revision_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.supersedes_id IS NULL THEN
        IF NEW.revision <> 1 THEN
            RAISE EXCEPTION 'a first measurement is revision 1' USING ERRCODE = 'check_violation', CONSTRAINT = 'measurements_revision_chain';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM measurements m WHERE m.id = NEW.supersedes_id
                      AND m.indicator_id = NEW.indicator_id AND m.revision = NEW.revision - 1) THEN
        RAISE EXCEPTION 'measurement % does not correct revision % of the same indicator', NEW.id, NEW.revision - 1
            USING ERRCODE = 'check_violation', CONSTRAINT = 'measurements_revision_chain';
    ELSIF NOT EXISTS (SELECT 1 FROM measurements m WHERE m.id = NEW.supersedes_id
                      AND m.period_start = NEW.period_start AND m.period_end = NEW.period_end) THEN
        RAISE EXCEPTION 'measurement % corrects a reading of another period; a correction keeps the period of the reading it replaces', NEW.id
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'measurements_one_current_per_period';
    END IF;
    RETURN NEW;
END $$;
