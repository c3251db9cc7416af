-- The award on a contract line is the contract. Its value lies inside the
-- tender's band unless a band exception, with its reason, was proposed by
-- one person and approved by another under the scheme of delegation
-- (contract_within_band); every award goes to the tender's winner
-- (award_to_winning_supplier), and the awards add up to no more than the
-- contract's value (award_within_contract).

INSERT INTO delegation_kinds (decision_kind, citation_required_above, description) VALUES
    ('contract_band_exception', NULL, 'Approve a contract whose value lies outside its tender''s band');
--bun:split
-- The rules for the roles that approve today; delegation_rules_guard lets
-- the scheme change only by a decision once there are users, so this
-- migration, run by the owner, steps around it for the new kind alone.
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
--bun:split
INSERT INTO delegation_rules (decision_kind, role, max_amount) VALUES
    ('contract_band_exception', 'finance_officer', 100000.00),
    ('contract_band_exception', 'admin', NULL);
--bun:split
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;
--bun:split
CREATE TABLE contract_band_exceptions (
    id                 bigserial PRIMARY KEY,
    funding_line_id    bigint NOT NULL REFERENCES funding_lines (id),
    contract_value     numeric(15,2) NOT NULL CHECK (contract_value > 0 AND contract_value <> 'NaN'),
    reason             text NOT NULL CHECK (btrim(reason) <> ''),
    decision_record_id bigint REFERENCES decision_records (id),
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    proposed_by        bigint NOT NULL REFERENCES users (id),
    proposed_at        timestamptz NOT NULL DEFAULT now(),
    decided_by         bigint REFERENCES users (id),
    decided_at         timestamptz,
    decision_reason    text,
    CONSTRAINT contract_band_exceptions_decided_check CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT contract_band_exceptions_four_eyes CHECK (status NOT IN ('approved', 'rejected') OR decided_by <> proposed_by),
    CONSTRAINT contract_band_exceptions_withdrawn_by_proposer CHECK (status <> 'withdrawn' OR decided_by = proposed_by),
    CONSTRAINT contract_band_exceptions_rejection_reason CHECK (status <> 'rejected' OR btrim(coalesce(decision_reason, '')) <> '')
);
CREATE UNIQUE INDEX contract_band_exceptions_one_pending ON contract_band_exceptions (funding_line_id) WHERE status = 'pending';
--bun:split
-- Proposed pending, decided once, never deleted; approved only by someone
-- the scheme allows for the contract's value.
CREATE FUNCTION contract_band_exceptions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'INSERT' AND NEW.status <> 'pending')
       OR (TG_OP = 'UPDATE' AND (OLD.status <> 'pending' OR NEW.status = 'pending'
           OR (NEW.id, NEW.funding_line_id, NEW.contract_value, NEW.reason, NEW.decision_record_id, NEW.proposed_by, NEW.proposed_at)
              IS DISTINCT FROM (OLD.id, OLD.funding_line_id, OLD.contract_value, OLD.reason, OLD.decision_record_id, OLD.proposed_by, OLD.proposed_at))) THEN
        RAISE EXCEPTION 'band exception %: a proposal is made pending and decided once; nothing else changes', coalesce(OLD.id, NEW.id)
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'contract_band_exceptions_decided_once';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ('approved', 'rejected') THEN
        PERFORM assert_decision_authority('contract_band_exception', CASE WHEN NEW.status = 'approved' THEN NEW.contract_value END,
            NEW.decided_by, NEW.proposed_by);
        IF NEW.status = 'approved' THEN
            PERFORM assert_decision_citation('contract_band_exception', NEW.contract_value, NEW.decision_record_id);
        END IF;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER contract_band_exceptions_guard BEFORE INSERT OR UPDATE OR DELETE ON contract_band_exceptions
    FOR EACH ROW EXECUTE FUNCTION contract_band_exceptions_guard();
--bun:split
-- A contract's value lies in its tender's band, or an approved exception
-- names exactly that value for the line; and it never drops below the
-- awards already made on it.
CREATE FUNCTION contract_within_band() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    awarded numeric;
BEGIN
    IF NEW.contract_value IS NOT NULL AND NEW.tender_min_value IS NOT NULL AND NEW.tender_max_value IS NOT NULL
       AND (NEW.contract_value < NEW.tender_min_value OR NEW.contract_value > NEW.tender_max_value)
       AND NOT EXISTS (SELECT 1 FROM contract_band_exceptions x WHERE x.funding_line_id = NEW.id AND x.status = 'approved'
                       AND x.contract_value = NEW.contract_value) THEN
        RAISE EXCEPTION 'contract_within_band: funding line %''s contract of % lies outside its tender''s band % to % with no approved band exception',
            NEW.code, NEW.contract_value, NEW.tender_min_value, NEW.tender_max_value
            USING ERRCODE = 'check_violation', CONSTRAINT = 'contract_within_band';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.kind = 'contract' THEN
        SELECT coalesce(sum(amount), 0) INTO awarded FROM awards WHERE funding_line_id = NEW.id AND status IN ('pending', 'approved');
        IF awarded > 0 AND (NEW.contract_value IS NULL OR awarded > NEW.contract_value) THEN
            RAISE EXCEPTION 'award_within_contract: funding line % has awards of % but its contract would be %', NEW.code, awarded, NEW.contract_value
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_within_contract';
        END IF;
        IF awarded > 0 AND NEW.awarded_supplier_id IS DISTINCT FROM OLD.awarded_supplier_id THEN
            RAISE EXCEPTION 'award_to_winning_supplier: funding line % has awards to its winning supplier, who cannot change', NEW.code
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_to_winning_supplier';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER contract_within_band BEFORE INSERT OR UPDATE OF contract_value, tender_min_value, tender_max_value, awarded_supplier_id, kind
    ON funding_lines FOR EACH ROW EXECUTE FUNCTION contract_within_band();
--bun:split
-- An award on a contract line goes to the tender's winner and, with the
-- line's other live awards, adds up to no more than the contract's value.
CREATE FUNCTION awards_match_contract() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    fl      funding_lines;
    awarded numeric;
BEGIN
    IF NEW.status NOT IN ('pending', 'approved') THEN
        RETURN NEW;
    END IF;
    SELECT * INTO fl FROM funding_lines WHERE id = NEW.funding_line_id;
    IF fl.kind <> 'contract' THEN
        RETURN NEW;
    END IF;
    IF fl.awarded_supplier_id IS NULL OR NEW.recipient_id <> fl.awarded_supplier_id THEN
        RAISE EXCEPTION 'award_to_winning_supplier: award % on contract line % must go to the tender''s winner (organisation %)',
            NEW.reference, fl.code, coalesce(fl.awarded_supplier_id::text, 'not recorded')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_to_winning_supplier';
    END IF;
    SELECT coalesce(sum(amount), 0) INTO awarded FROM awards
    WHERE funding_line_id = fl.id AND status IN ('pending', 'approved') AND id <> NEW.id;
    IF fl.contract_value IS NULL OR awarded + NEW.amount > fl.contract_value THEN
        RAISE EXCEPTION 'award_within_contract: award % of % on contract line % would take its awards to %, beyond the contract''s value %',
            NEW.reference, NEW.amount, fl.code, awarded + NEW.amount, coalesce(fl.contract_value::text, 'not recorded')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_within_contract';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER awards_match_contract BEFORE INSERT OR UPDATE OF funding_line_id, recipient_id, amount, status ON awards
    FOR EACH ROW EXECUTE FUNCTION awards_match_contract();
