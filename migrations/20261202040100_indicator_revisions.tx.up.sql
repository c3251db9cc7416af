-- An indicator's definition (name, unit, direction, baseline and target,
-- each with its value, date and source) is corrected, never edited: each
-- correction is a new revision naming the one it replaces, and every
-- revision is kept. The indicators row always holds the current revision
-- (indicators_follow_revision copies it), so reports, cost per outcome and
-- alerts read the current definition without knowing about revisions; the
-- application role cannot update indicators itself.
CREATE TABLE indicator_revisions (
    id              bigserial PRIMARY KEY,
    indicator_id    bigint NOT NULL REFERENCES indicators (id),
    revision        int NOT NULL CHECK (revision >= 1),
    supersedes_id   bigint REFERENCES indicator_revisions (id),
    name            text NOT NULL CHECK (btrim(name) <> ''),
    unit            text NOT NULL CHECK (unit IN ('count', 'percent', 'gbp', 'rate_per_1000')),
    direction       text NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    baseline_value  numeric(20,4) CHECK (baseline_value <> 'NaN'),
    baseline_on     date,
    baseline_source text NOT NULL DEFAULT '' CHECK (length(baseline_source) <= 300),
    target_value    numeric(20,4) CHECK (target_value <> 'NaN'),
    target_on       date,
    target_source   text NOT NULL DEFAULT '' CHECK (length(target_source) <= 300),
    -- Why the definition changed; empty only for the first revision.
    reason          text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    recorded_by     bigint REFERENCES users (id),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT indicator_revisions_reason CHECK ((supersedes_id IS NULL) = (btrim(reason) = '')),
    -- A correction's baseline and target each carry a date and a source
    -- (first revisions copy indicators as they were, which may predate it).
    CONSTRAINT indicator_revisions_baseline_sourced CHECK (supersedes_id IS NULL OR
        (baseline_value IS NULL) = (baseline_on IS NULL) AND (baseline_value IS NULL OR btrim(baseline_source) <> '')),
    CONSTRAINT indicator_revisions_target_sourced CHECK (supersedes_id IS NULL OR
        (target_value IS NULL) = (target_on IS NULL) AND (target_value IS NULL OR btrim(target_source) <> '')),
    CONSTRAINT indicator_revisions_one_per_number UNIQUE (indicator_id, revision),
    -- Each revision is replaced at most once, so the revisions form one
    -- chain whose end is the current definition.
    CONSTRAINT indicator_revisions_superseded_once UNIQUE (supersedes_id)
);
CREATE UNIQUE INDEX indicator_revisions_one_first ON indicator_revisions (indicator_id) WHERE supersedes_id IS NULL;

-- indicator_revisions_append_only: a revision is never changed or removed,
-- even by the owner; a correction is a new revision.
CREATE FUNCTION indicator_revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- No OLD.id: the same function refuses a TRUNCATE, which has no row.
    RAISE EXCEPTION 'indicator revisions are never changed or removed (%); record a correction that names the current one', TG_OP
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'indicator_revisions_append_only';
END $$;
CREATE TRIGGER indicator_revisions_append_only BEFORE UPDATE OR DELETE ON indicator_revisions
    FOR EACH ROW EXECUTE FUNCTION indicator_revisions_append_only();
CREATE TRIGGER indicator_revisions_no_truncate BEFORE TRUNCATE ON indicator_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION indicator_revisions_append_only();

-- indicator_revisions_chain: the first revision supersedes nothing; every
-- later one names the latest revision of the same indicator and is the
-- next number.
CREATE FUNCTION indicator_revisions_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.supersedes_id IS NULL THEN
        IF NEW.revision <> 1 THEN
            RAISE EXCEPTION 'a first indicator revision is revision 1' USING ERRCODE = 'check_violation', CONSTRAINT = 'indicator_revisions_chain';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM indicator_revisions r WHERE r.id = NEW.supersedes_id
                      AND r.indicator_id = NEW.indicator_id AND r.revision = NEW.revision - 1) THEN
        RAISE EXCEPTION 'indicator revision % does not replace revision % of the same indicator', NEW.revision, NEW.revision - 1
            USING ERRCODE = 'check_violation', CONSTRAINT = 'indicator_revisions_chain';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER indicator_revisions_chain BEFORE INSERT ON indicator_revisions
    FOR EACH ROW EXECUTE FUNCTION indicator_revisions_chain();

-- The indicators row follows its newest revision. It runs as the owner, so
-- the application role changes an indicator only by recording a revision.
CREATE FUNCTION indicators_follow_revision() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE indicators SET name = NEW.name, unit = NEW.unit, direction = NEW.direction,
        baseline_value = NEW.baseline_value, baseline_on = NEW.baseline_on, baseline_source = NEW.baseline_source,
        target_value = NEW.target_value, target_on = NEW.target_on, target_source = NEW.target_source
    WHERE id = NEW.indicator_id;
    RETURN NULL;
END $$;
CREATE TRIGGER indicators_follow_revision AFTER INSERT ON indicator_revisions
    FOR EACH ROW EXECUTE FUNCTION indicators_follow_revision();

-- Every indicator so far is its own first revision.
INSERT INTO indicator_revisions (indicator_id, revision, name, unit, direction, baseline_value, baseline_on, baseline_source,
    target_value, target_on, target_source, recorded_at)
SELECT id, 1, name, unit, direction, baseline_value, baseline_on, baseline_source, target_value, target_on, target_source, created_at
FROM indicators ORDER BY id;
