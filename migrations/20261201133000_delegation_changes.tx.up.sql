-- The scheme of delegation changes only through a delegation_change
-- decision: one admin proposes, another approves (assert_decision_authority
-- gives the kind to admins alone). The rules table refuses any other write,
-- except while the database has no users (a new install, seeded from
-- GRANTTRACK_APPROVAL_LIMIT before anyone can sign in).
CREATE TABLE delegation_changes (
    id              bigserial PRIMARY KEY,
    decision_kind   text NOT NULL REFERENCES delegation_kinds (decision_kind),
    role            text NOT NULL CHECK (role IN ('admin', 'finance_officer', 'board_member', 'auditor')),
    remove          boolean NOT NULL DEFAULT false,
    max_amount      numeric(15,2) CHECK (max_amount >= 0 AND max_amount <> 'NaN'),
    reason          text NOT NULL CHECK (btrim(reason) <> ''),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    proposed_by     bigint NOT NULL REFERENCES users (id),
    proposed_at     timestamptz NOT NULL DEFAULT now(),
    decided_by      bigint REFERENCES users (id),
    decided_at      timestamptz,
    decision_reason text,
    CONSTRAINT delegation_changes_remove_check CHECK (NOT remove OR max_amount IS NULL),
    CONSTRAINT delegation_changes_decided_check CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT delegation_changes_withdrawn_by_proposer CHECK (status <> 'withdrawn' OR decided_by = proposed_by)
);

CREATE FUNCTION delegation_changes_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'INSERT' AND NEW.status <> 'pending')
       OR (TG_OP = 'UPDATE' AND (OLD.status <> 'pending' OR NEW.status = 'pending'
           OR (NEW.id, NEW.decision_kind, NEW.role, NEW.remove, NEW.max_amount, NEW.reason, NEW.proposed_by, NEW.proposed_at)
              IS DISTINCT FROM (OLD.id, OLD.decision_kind, OLD.role, OLD.remove, OLD.max_amount, OLD.reason, OLD.proposed_by, OLD.proposed_at))) THEN
        RAISE EXCEPTION 'delegation change %: a proposal is made pending and decided once; nothing else changes', coalesce(OLD.id, NEW.id)
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'delegation_changes_decided_once';
    END IF;
    IF TG_OP = 'INSERT' AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.proposed_by AND role = 'admin' AND active) THEN
        RAISE EXCEPTION 'delegation change: only an admin proposes a change to the scheme of delegation'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'decision_role_authority';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ('approved', 'rejected') THEN
        PERFORM assert_decision_authority('delegation_change', NULL, NEW.decided_by, NEW.proposed_by);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER delegation_changes_guard BEFORE INSERT OR UPDATE OR DELETE ON delegation_changes
    FOR EACH ROW EXECUTE FUNCTION delegation_changes_guard();

CREATE FUNCTION delegation_rules_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r delegation_rules;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users) THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF NOT EXISTS (SELECT 1 FROM delegation_changes c WHERE c.status = 'approved' AND c.decided_at = now()
                   AND c.decision_kind = r.decision_kind AND c.role = r.role
                   AND c.remove = (TG_OP = 'DELETE') AND (TG_OP = 'DELETE' OR c.max_amount IS NOT DISTINCT FROM r.max_amount)) THEN
        RAISE EXCEPTION 'the scheme of delegation (% for %) changes only through a delegation change one admin proposes and another approves',
            r.decision_kind, r.role
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'delegation_rules_by_decision';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER delegation_rules_guard BEFORE INSERT OR UPDATE OR DELETE ON delegation_rules
    FOR EACH ROW EXECUTE FUNCTION delegation_rules_guard();
