-- Account administration: deactivating an account, changing its role, ending
-- its sessions, resetting its password; and granting money authority as a
-- two-person decision.

-- A web session knows whose it is once someone signs in, so that an
-- account's sessions can be listed and ended at once.
ALTER TABLE sessions
    ADD COLUMN user_id      bigint REFERENCES users (id),
    ADD COLUMN signed_in_at timestamptz,
    ADD COLUMN address      text NOT NULL DEFAULT '';
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- A token may expire.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- A password reset is a one-time link an admin hands on: only its SHA-256 is
-- kept, it expires within hours and is used once.
CREATE TABLE password_resets (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    created_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT password_resets_token_hash_key UNIQUE (token_hash),
    CONSTRAINT password_resets_expiry_check CHECK (expires_at > created_at AND expires_at <= created_at + interval '24 hours')
);
CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);

-- Money authority is granted by two admins: creating an account with a role
-- that approves money, or raising an account to one, makes a pending grant
-- that another admin approves (or rejects, and the account goes back to its
-- old role, or is deactivated if it is new). Until then the account's role
-- says finance_* but assert_decision_authority refuses its decisions.
INSERT INTO delegation_kinds (decision_kind, citation_required_above, description) VALUES
    ('account_grant', NULL, 'Approve an account''s authority over money (a new account, or a role raised to one that approves money)');
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
INSERT INTO delegation_rules (decision_kind, role, max_amount) VALUES ('account_grant', 'admin', NULL);
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;

CREATE TABLE account_grants (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id),
    role            text NOT NULL CHECK (role IN ('finance_officer', 'finance_manager')),
    from_role       text CHECK (from_role IN ('admin', 'finance_officer', 'finance_manager', 'board_member', 'auditor')),
    reason          text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    proposed_by     bigint NOT NULL REFERENCES users (id),
    proposed_at     timestamptz NOT NULL DEFAULT now(),
    decided_by      bigint REFERENCES users (id),
    decided_at      timestamptz,
    decision_reason text,
    CONSTRAINT account_grants_decided_check CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT account_grants_withdrawn_by_proposer CHECK (status <> 'withdrawn' OR decided_by = proposed_by)
);
-- One open grant per account.
CREATE UNIQUE INDEX account_grants_one_pending ON account_grants (user_id) WHERE status = 'pending';

-- account_grants_guard: a grant is made pending and decided once; an
-- approval or rejection is another admin's (assert_decision_authority, kind
-- account_grant), never the grantee's own.
CREATE FUNCTION account_grants_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'INSERT' AND NEW.status <> 'pending')
       OR (TG_OP = 'UPDATE' AND (OLD.status <> 'pending' OR NEW.status = 'pending'
           OR (NEW.id, NEW.user_id, NEW.role, NEW.from_role, NEW.reason, NEW.proposed_by, NEW.proposed_at)
              IS DISTINCT FROM (OLD.id, OLD.user_id, OLD.role, OLD.from_role, OLD.reason, OLD.proposed_by, OLD.proposed_at))) THEN
        RAISE EXCEPTION 'account grant %: a grant is made pending and decided once; nothing else changes', coalesce(OLD.id, NEW.id)
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'account_grants_decided_once';
    END IF;
    IF TG_OP = 'INSERT' AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.proposed_by AND role = 'admin' AND active) THEN
        RAISE EXCEPTION 'decision_role_authority: only an admin proposes an account''s authority over money'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_role_authority';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ('approved', 'rejected') THEN
        IF NEW.decided_by = NEW.user_id THEN
            RAISE EXCEPTION 'decision_four_eyes: user % cannot decide the grant of their own authority', NEW.user_id
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_four_eyes';
        END IF;
        PERFORM assert_decision_authority('account_grant', NULL, NEW.decided_by, NEW.proposed_by);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER account_grants_guard BEFORE INSERT OR UPDATE OR DELETE ON account_grants
    FOR EACH ROW EXECUTE FUNCTION account_grants_guard();

-- users_role_guard: an account's role becomes one that approves money only
-- with a grant proposed in the same transaction, and goes back only as its
-- grant is rejected or withdrawn; so a role written any other way (raw SQL
-- as the application) is refused. Accounts made at the command line by
-- whoever holds the database's credentials are not guarded here.
CREATE FUNCTION users_role_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role IN ('finance_officer', 'finance_manager') AND NEW.role IS DISTINCT FROM OLD.role
       AND NOT EXISTS (SELECT 1 FROM account_grants g WHERE g.user_id = NEW.id AND (
           (g.status = 'pending' AND g.role = NEW.role AND g.proposed_at = now())
           OR (g.status IN ('rejected', 'withdrawn') AND g.decided_at = now() AND g.from_role = NEW.role))) THEN
        RAISE EXCEPTION 'account_grant_required: % becomes % only through an account grant one admin proposes and another approves',
            OLD.email, NEW.role
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'account_grant_required';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_role_guard BEFORE UPDATE OF role ON users
    FOR EACH ROW EXECUTE FUNCTION users_role_guard();

-- assert_decision_authority, as before, and one rule more:
--   decision_authority_pending  the decider's authority over money awaits a
--                               second admin's approval (account_grants)
CREATE OR REPLACE FUNCTION assert_decision_authority(p_kind text, p_amount numeric, p_decider bigint, p_proposer bigint)
RETURNS void LANGUAGE plpgsql STABLE AS $$
DECLARE
    d_role   text;
    d_active boolean;
    d_email  text;
    rule     delegation_rules;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM delegation_kinds WHERE decision_kind = p_kind) THEN
        RAISE EXCEPTION 'decision_kind_unknown: the scheme of delegation has no kind of decision "%"', p_kind
            USING ERRCODE = 'check_violation', CONSTRAINT = 'decision_kind_unknown';
    END IF;
    IF p_decider IS NULL OR p_decider IS NOT DISTINCT FROM p_proposer THEN
        RAISE EXCEPTION 'decision_four_eyes: this % decision must be approved by someone other than the user who proposed it (user %)',
            p_kind, p_proposer
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_four_eyes';
    END IF;
    SELECT role, active, email INTO d_role, d_active, d_email FROM users WHERE id = p_decider;
    IF NOT FOUND OR NOT d_active THEN
        RAISE EXCEPTION 'decision_role_authority: user % is not an active user and cannot approve % decisions', p_decider, p_kind
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_role_authority';
    END IF;
    IF EXISTS (SELECT 1 FROM account_grants WHERE user_id = p_decider AND status = 'pending') THEN
        RAISE EXCEPTION 'decision_authority_pending: % (%) cannot approve % decisions until a second admin approves the account''s authority',
            d_email, d_role, p_kind
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_authority_pending';
    END IF;
    SELECT * INTO rule FROM delegation_rules WHERE decision_kind = p_kind AND role = d_role;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'decision_role_authority: % (%) cannot approve % decisions: the scheme of delegation gives the % role no authority for it',
            d_email, d_role, p_kind, d_role
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_role_authority';
    END IF;
    IF p_amount IS NOT NULL AND rule.max_amount IS NOT NULL AND abs(p_amount) > rule.max_amount THEN
        RAISE EXCEPTION 'decision_amount_authority: % (%) may approve % decisions up to %, not %',
            d_email, d_role, p_kind, rule.max_amount, abs(p_amount)
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_amount_authority';
    END IF;
END $$;
