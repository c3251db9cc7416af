-- The foundation schema. Every rule that protects money is a constraint or a
-- trigger here as well as Go code, so a bug or a stray SQL session cannot
-- break it. Amounts are numeric(15,2): 13 integer digits and pence. numeric
-- admits 'NaN', which compares greater than every number, so each check
-- refuses it explicitly.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name          text NOT NULL CHECK (btrim(name) <> ''),
    role          text NOT NULL CHECK (role IN ('admin', 'finance_officer', 'board_member', 'auditor')),
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    name         text NOT NULL DEFAULT '',
    token_hash   bytea NOT NULL CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);

-- Web sessions, stored by Fiber's session middleware through our storage.
CREATE TABLE sessions (
    key        text PRIMARY KEY,
    data       bytea NOT NULL,
    expires_at timestamptz
);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE organisations (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL CHECK (btrim(name) <> ''),
    org_id         text CHECK (org_id ~ '^[A-Z]{2}-[A-Z0-9]+-\S+$'),
    charity_number text,
    company_number text,
    borough        text,
    is_funder      boolean NOT NULL DEFAULT false,
    is_recipient   boolean NOT NULL DEFAULT false,
    is_supplier    boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organisations_org_id_key UNIQUE (org_id),
    CONSTRAINT organisations_name_key UNIQUE (name)
);

CREATE TABLE programmes (
    id          bigserial PRIMARY KEY,
    code        text NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9-]*$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    description text NOT NULL DEFAULT '',
    plan        text NOT NULL CHECK (btrim(plan) <> ''),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT programmes_code_key UNIQUE (code)
);

CREATE TABLE funding_lines (
    id                  bigserial PRIMARY KEY,
    code                text NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9-]*$'),
    title               text NOT NULL CHECK (btrim(title) <> ''),
    description         text NOT NULL DEFAULT '',
    kind                text NOT NULL CHECK (kind IN ('grant', 'contract', 'allocation')),
    programme_id        bigint NOT NULL REFERENCES programmes (id),
    funder_id           bigint NOT NULL REFERENCES organisations (id),
    budget              numeric(15,2) NOT NULL CHECK (budget >= 0 AND budget <> 'NaN'),
    currency            text NOT NULL DEFAULT 'GBP' CHECK (currency = 'GBP'),
    starts_on           date NOT NULL,
    ends_on             date NOT NULL,
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'active', 'closed', 'cancelled')),
    tender_reference    text,
    tender_min_value    numeric(15,2) CHECK (tender_min_value >= 0 AND tender_min_value <> 'NaN'),
    tender_max_value    numeric(15,2) CHECK (tender_max_value >= 0 AND tender_max_value <> 'NaN'),
    tender_closes_on    date,
    awarded_supplier_id bigint REFERENCES organisations (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT funding_lines_code_key UNIQUE (code),
    CONSTRAINT funding_lines_dates_check CHECK (ends_on >= starts_on),
    CONSTRAINT funding_lines_tender_band_check CHECK (tender_min_value <= tender_max_value),
    CONSTRAINT funding_lines_tender_kind_check CHECK (kind = 'contract' OR (
        tender_reference IS NULL AND tender_min_value IS NULL AND tender_max_value IS NULL
        AND tender_closes_on IS NULL AND awarded_supplier_id IS NULL))
);
CREATE INDEX funding_lines_programme_idx ON funding_lines (programme_id);
CREATE INDEX funding_lines_dates_idx ON funding_lines (starts_on, ends_on);

-- Only legal status transitions, whoever writes the row.
CREATE FUNCTION funding_line_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'draft' AND NEW.status IN ('approved', 'cancelled')) OR
        (OLD.status = 'approved' AND NEW.status IN ('active', 'cancelled')) OR
        (OLD.status = 'active' AND NEW.status IN ('closed', 'cancelled'))
    ) THEN
        RAISE EXCEPTION 'funding line %: status cannot change from % to %', OLD.code, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'funding_lines_status_transition';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER funding_lines_status_guard BEFORE UPDATE ON funding_lines
    FOR EACH ROW EXECUTE FUNCTION funding_line_status_guard();

CREATE TABLE awards (
    id              bigserial PRIMARY KEY,
    funding_line_id bigint NOT NULL REFERENCES funding_lines (id),
    recipient_id    bigint NOT NULL REFERENCES organisations (id),
    reference       text NOT NULL CHECK (btrim(reference) <> ''),
    purpose         text NOT NULL DEFAULT '',
    amount          numeric(15,2) NOT NULL CHECK (amount > 0 AND amount <> 'NaN'),
    awarded_on      date NOT NULL,
    starts_on       date NOT NULL,
    ends_on         date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT awards_reference_key UNIQUE (reference),
    CONSTRAINT awards_dates_check CHECK (ends_on >= starts_on)
);
CREATE INDEX awards_funding_line_idx ON awards (funding_line_id);
CREATE INDEX awards_recipient_idx ON awards (recipient_id);

-- The awards on a line never exceed its budget. The line row is locked first
-- so that two concurrent awards cannot both see the old total.
CREATE FUNCTION awards_within_budget() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_budget numeric;
    committed   numeric;
    line_id     bigint;
    line_status text;
BEGIN
    IF TG_TABLE_NAME = 'awards' THEN
        line_id := NEW.funding_line_id;
    ELSE
        line_id := NEW.id;
    END IF;
    SELECT budget, status INTO line_budget, line_status FROM funding_lines WHERE id = line_id FOR UPDATE;
    IF TG_TABLE_NAME = 'awards' AND TG_OP = 'INSERT' AND line_status NOT IN ('approved', 'active') THEN
        RAISE EXCEPTION 'funding line %: awards need an approved or active line, not %', line_id, line_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_line_open';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO committed FROM awards WHERE funding_line_id = line_id;
    IF committed > line_budget THEN
        RAISE EXCEPTION 'funding line %: awards total % exceeds the budget %', line_id, committed, line_budget
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_within_budget';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER awards_within_budget AFTER INSERT OR UPDATE OF amount, funding_line_id ON awards
    FOR EACH ROW EXECUTE FUNCTION awards_within_budget();
CREATE TRIGGER funding_lines_budget_covers_awards AFTER UPDATE OF budget ON funding_lines
    FOR EACH ROW EXECUTE FUNCTION awards_within_budget();

CREATE TABLE tranches (
    id       bigserial PRIMARY KEY,
    award_id bigint NOT NULL REFERENCES awards (id),
    seq      int NOT NULL CHECK (seq >= 1),
    due_on   date NOT NULL,
    amount   numeric(15,2) NOT NULL CHECK (amount > 0 AND amount <> 'NaN'),
    CONSTRAINT tranches_award_seq_key UNIQUE (award_id, seq)
);

-- At commit, every award's tranches add up to the award to the penny.
CREATE FUNCTION tranches_sum_to_award() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a_id      bigint;
    a_amount  numeric;
    t_total   numeric;
BEGIN
    IF TG_TABLE_NAME = 'awards' THEN
        a_id := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        a_id := OLD.award_id;
    ELSE
        a_id := NEW.award_id;
    END IF;
    SELECT amount INTO a_amount FROM awards WHERE id = a_id;
    SELECT coalesce(sum(amount), 0) INTO t_total FROM tranches WHERE award_id = a_id;
    IF a_amount IS NOT NULL AND t_total <> a_amount THEN
        RAISE EXCEPTION 'award %: tranches total % but the award is %', a_id, t_total, a_amount
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_sum_to_award';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER tranches_sum_to_award AFTER INSERT OR UPDATE OR DELETE ON tranches
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tranches_sum_to_award();
CREATE CONSTRAINT TRIGGER awards_sum_of_tranches AFTER INSERT OR UPDATE OF amount ON awards
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tranches_sum_to_award();

-- The spend ledger. Rows are append-only once decided: see the guard below.
CREATE TABLE spend_entries (
    id               bigserial PRIMARY KEY,
    funding_line_id  bigint NOT NULL REFERENCES funding_lines (id),
    award_id         bigint REFERENCES awards (id),
    tranche_id       bigint REFERENCES tranches (id),
    payee_id         bigint NOT NULL REFERENCES organisations (id),
    amount           numeric(15,2) NOT NULL CHECK (amount <> 0 AND amount <> 'NaN'),
    incurred_on      date NOT NULL,
    category         text NOT NULL CHECK (category IN ('staff', 'services', 'equipment', 'training', 'research', 'grant_payment', 'other')),
    reference        text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    purpose          text NOT NULL DEFAULT '',
    vfm_reason       text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    recorded_by      bigint NOT NULL REFERENCES users (id),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    decided_by       bigint REFERENCES users (id),
    decided_at       timestamptz,
    rejection_reason text,
    reverses_id      bigint REFERENCES spend_entries (id),
    reversal_reason  text,
    idempotency_key  text,
    request_hash     bytea,
    CONSTRAINT spend_entries_maker_checker CHECK (decided_by IS NULL OR decided_by <> recorded_by),
    CONSTRAINT spend_entries_decision_check CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT spend_entries_rejection_check CHECK ((status = 'rejected') = (rejection_reason IS NOT NULL)),
    CONSTRAINT spend_entries_sign_check CHECK (
        (reverses_id IS NULL AND amount > 0 AND reversal_reason IS NULL) OR
        (reverses_id IS NOT NULL AND amount < 0 AND btrim(coalesce(reversal_reason, '')) <> '')),
    CONSTRAINT spend_entries_reversed_once UNIQUE (reverses_id),
    CONSTRAINT spend_entries_idempotency_key UNIQUE (recorded_by, idempotency_key)
);
CREATE INDEX spend_entries_line_idx ON spend_entries (funding_line_id, status);
CREATE INDEX spend_entries_award_idx ON spend_entries (award_id) WHERE award_id IS NOT NULL;
CREATE INDEX spend_entries_payee_idx ON spend_entries (payee_id);
CREATE INDEX spend_entries_incurred_idx ON spend_entries (incurred_on);

-- A spend entry may change only once: pending to approved or rejected, by a
-- different user. Nothing else is ever updated, and nothing is deleted.
CREATE FUNCTION spend_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'the spend ledger is append-only; it cannot be truncated'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'spend_entries_append_only';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'spend entry %: the ledger is append-only; record a reversal instead', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'spend_entries_append_only';
    END IF;
    IF OLD.status <> 'pending' OR NEW.status NOT IN ('approved', 'rejected')
       OR (to_jsonb(NEW) - ARRAY['status', 'decided_by', 'decided_at', 'rejection_reason'])
          IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'decided_by', 'decided_at', 'rejection_reason']) THEN
        RAISE EXCEPTION 'spend entry %: the ledger is append-only; only a pending entry may be approved or rejected', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'spend_entries_append_only';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER spend_entries_append_only BEFORE UPDATE OR DELETE ON spend_entries
    FOR EACH ROW EXECUTE FUNCTION spend_entries_append_only();
CREATE TRIGGER spend_entries_no_truncate BEFORE TRUNCATE ON spend_entries
    FOR EACH STATEMENT EXECUTE FUNCTION spend_entries_append_only();

CREATE TABLE indicators (
    id              bigserial PRIMARY KEY,
    funding_line_id bigint REFERENCES funding_lines (id),
    programme_id    bigint REFERENCES programmes (id),
    name            text NOT NULL CHECK (btrim(name) <> ''),
    unit            text NOT NULL CHECK (unit IN ('count', 'percent', 'gbp', 'rate_per_1000')),
    direction       text NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    baseline_value  numeric(20,4) CHECK (baseline_value <> 'NaN'),
    baseline_on     date,
    target_value    numeric(20,4) CHECK (target_value <> 'NaN'),
    target_on       date,
    frequency       text NOT NULL CHECK (frequency IN ('monthly', 'quarterly', 'annual')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT indicators_one_owner CHECK ((funding_line_id IS NULL) <> (programme_id IS NULL))
);

CREATE TABLE measurements (
    id            bigserial PRIMARY KEY,
    indicator_id  bigint NOT NULL REFERENCES indicators (id),
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    value         numeric(20,4) NOT NULL CHECK (value <> 'NaN'),
    source        text NOT NULL DEFAULT '',
    extracted_on  date,
    method_note   text NOT NULL DEFAULT '',
    revision      int NOT NULL DEFAULT 1 CHECK (revision >= 1),
    supersedes_id bigint REFERENCES measurements (id),
    recorded_by   bigint REFERENCES users (id),
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT measurements_period_check CHECK (period_end >= period_start),
    CONSTRAINT measurements_superseded_once UNIQUE (supersedes_id)
);
CREATE INDEX measurements_indicator_idx ON measurements (indicator_id, period_start);

-- The audit trail: one gapless, hash-chained sequence. audit_head holds the
-- last sequence number and hash; locking it orders every writer.
CREATE TABLE audit_events (
    seq         bigint PRIMARY KEY CHECK (seq >= 1),
    occurred_at timestamptz NOT NULL,
    actor_id    bigint REFERENCES users (id),
    actor       text NOT NULL,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    before      jsonb,
    after       jsonb,
    request_id  text NOT NULL DEFAULT '',
    prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash        bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity, entity_id);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);

CREATE TABLE audit_head (
    id   int PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash bytea NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'audit_events_append_only';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
