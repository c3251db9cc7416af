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
    END IF;
    RETURN NEW;
END $$;
DROP INDEX measurements_one_current_per_period;
ALTER TABLE indicators DROP COLUMN target_source, DROP COLUMN baseline_source;
