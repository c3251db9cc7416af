-- Payment runs: a finance officer proposes paying a set of due tranches on
-- a date; someone else approves the run under the scheme of delegation
-- (kind payment_run, weighed by the run's total), and the approval records
-- one approved spend entry per tranche, under every ledger rule, or none.

INSERT INTO delegation_kinds (decision_kind, citation_required_above, description) VALUES
    ('payment_run', NULL, 'Approve a payment run: the due tranches it pays, weighed by its total');
-- The migrations alone add kinds of decision; the rules for a new kind are
-- the roles that approve money today (finance officers up to their limit,
-- admins without one), which a delegation change can alter afterwards.
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
INSERT INTO delegation_rules (decision_kind, role, max_amount) VALUES
    ('payment_run', 'admin', NULL),
    ('payment_run', 'finance_officer', coalesce((SELECT max_amount FROM delegation_rules
        WHERE decision_kind = 'spend' AND role = 'finance_officer'), 100000.00));
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;

CREATE TABLE payment_runs (
    id              bigserial PRIMARY KEY,
    reference       text GENERATED ALWAYS AS ('PR-' || lpad(id::text, 5, '0')) STORED,
    pay_on          date NOT NULL,
    note            text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    proposed_by     bigint NOT NULL REFERENCES users (id),
    proposed_at     timestamptz NOT NULL DEFAULT now(),
    decided_by      bigint REFERENCES users (id),
    decided_at      timestamptz,
    decision_reason text,
    CONSTRAINT payment_runs_reference_key UNIQUE (reference),
    CONSTRAINT payment_runs_decision_check CHECK ((status = 'pending') = (decided_by IS NULL AND decided_at IS NULL)),
    CONSTRAINT payment_runs_maker_checker CHECK ((status = 'withdrawn') = (decided_by IS NOT DISTINCT FROM proposed_by)
        OR status = 'pending'),
    CONSTRAINT payment_runs_rejection_reason CHECK (status <> 'rejected' OR btrim(coalesce(decision_reason, '')) <> '')
);

-- One payment of a run: a tranche's whole outstanding amount. The
-- reference is what the remittance, the journal and the finance system's
-- export carry, and the spend entry's reference.
CREATE TABLE payment_run_items (
    id               bigserial PRIMARY KEY,
    payment_run_id   bigint NOT NULL REFERENCES payment_runs (id),
    tranche_id       bigint NOT NULL REFERENCES tranches (id),
    amount           numeric(15,2) NOT NULL CHECK (amount > 0 AND amount <> 'NaN'),
    reference        text GENERATED ALWAYS AS ('PR-' || lpad(payment_run_id::text, 5, '0') || '-' || id) STORED,
    spend_entry_id   bigint REFERENCES spend_entries (id),
    confirmed_on     date,
    confirmed_amount numeric(15,2) CHECK (confirmed_amount <> 'NaN'),
    CONSTRAINT payment_run_items_tranche_key UNIQUE (payment_run_id, tranche_id),
    CONSTRAINT payment_run_items_reference_key UNIQUE (reference),
    CONSTRAINT payment_run_items_entry_key UNIQUE (spend_entry_id),
    CONSTRAINT payment_run_items_confirmed CHECK ((confirmed_on IS NULL) = (confirmed_amount IS NULL))
);
CREATE INDEX payment_run_items_tranche_idx ON payment_run_items (tranche_id);

-- A run's total: what the decider's authority is weighed against.
CREATE FUNCTION payment_run_total(p_run bigint) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(amount), 0) FROM payment_run_items WHERE payment_run_id = p_run
$$;

-- payment_run_tranche_payable: a payment joins only a pending run, for a
-- tranche that is due or claimed, for exactly its outstanding amount, and
-- in no other pending or approved run.
-- payment_run_items_paid_by_entry: a payment names its spend entry once,
-- an approved entry of the same tranche and amount; the finance system's
-- confirmation is recorded once, on an approved run.
CREATE FUNCTION payment_run_items_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    run_status text;
    t record;
BEGIN
    SELECT status INTO run_status FROM payment_runs WHERE id = NEW.payment_run_id;
    IF TG_OP = 'INSERT' THEN
        SELECT tr.status, tr.amount, tr.seq, a.reference INTO t FROM tranches tr JOIN awards a ON a.id = tr.award_id WHERE tr.id = NEW.tranche_id;
        IF run_status IS DISTINCT FROM 'pending' OR t.status NOT IN ('due', 'claimed')
           OR NEW.amount <> t.amount - tranche_paid(NEW.tranche_id)
           OR EXISTS (SELECT 1 FROM payment_run_items i JOIN payment_runs r ON r.id = i.payment_run_id
                      WHERE i.tranche_id = NEW.tranche_id AND i.id <> NEW.id AND r.status IN ('pending', 'approved')) THEN
            RAISE EXCEPTION 'tranche % of award % (%) cannot join payment run %: a run pays a due or claimed tranche''s outstanding amount, once',
                t.seq, t.reference, t.status, NEW.payment_run_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_run_tranche_payable';
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.payment_run_id, NEW.tranche_id, NEW.amount) IS DISTINCT FROM (OLD.id, OLD.payment_run_id, OLD.tranche_id, OLD.amount)
       OR (OLD.spend_entry_id IS NOT NULL AND NEW.spend_entry_id IS DISTINCT FROM OLD.spend_entry_id)
       OR (NEW.spend_entry_id IS DISTINCT FROM OLD.spend_entry_id AND (run_status <> 'pending' OR NOT EXISTS (
            SELECT 1 FROM spend_entries e WHERE e.id = NEW.spend_entry_id AND e.status = 'approved'
              AND e.tranche_id = NEW.tranche_id AND e.amount = NEW.amount)))
       OR (OLD.confirmed_on IS NOT NULL AND (NEW.confirmed_on, NEW.confirmed_amount) IS DISTINCT FROM (OLD.confirmed_on, OLD.confirmed_amount))
       OR (NEW.confirmed_on IS DISTINCT FROM OLD.confirmed_on AND run_status <> 'approved') THEN
        RAISE EXCEPTION 'payment % of run %: a payment names its approved spend entry once, and its confirmation once after approval',
            NEW.id, NEW.payment_run_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_run_items_paid_by_entry';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payment_run_items_guard BEFORE INSERT OR UPDATE ON payment_run_items
    FOR EACH ROW EXECUTE FUNCTION payment_run_items_guard();

-- payment_runs_decided_once: a run is proposed pending and decided once
-- (approved or rejected by someone the scheme of delegation allows, or
-- withdrawn by its proposer); an approved run has paid every payment in it
-- (payment_run_paid_in_full). Nothing is ever deleted.
CREATE FUNCTION payment_runs_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'pending' THEN
            RAISE EXCEPTION 'payment run %: a run is proposed pending', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_runs_decided_once';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'payment run %: a run is decided once and never changed or deleted', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_runs_decided_once';
    END IF;
    IF OLD.status <> 'pending' OR NEW.status = 'pending'
       OR (NEW.id, NEW.pay_on, NEW.note, NEW.proposed_by, NEW.proposed_at) IS DISTINCT FROM (OLD.id, OLD.pay_on, OLD.note, OLD.proposed_by, OLD.proposed_at) THEN
        RAISE EXCEPTION 'payment run %: a run is decided once and never changed or deleted', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_runs_decided_once';
    END IF;
    IF NEW.status = 'approved' THEN
        PERFORM assert_decision_authority('payment_run', payment_run_total(NEW.id), NEW.decided_by, NEW.proposed_by);
        IF NOT EXISTS (SELECT 1 FROM payment_run_items WHERE payment_run_id = NEW.id)
           OR EXISTS (SELECT 1 FROM payment_run_items WHERE payment_run_id = NEW.id AND spend_entry_id IS NULL) THEN
            RAISE EXCEPTION 'payment run %: approving a run records an approved spend entry for every payment in it', NEW.id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payment_run_paid_in_full';
        END IF;
    ELSIF NEW.status = 'rejected' THEN
        PERFORM assert_decision_authority('payment_run', NULL, NEW.decided_by, NEW.proposed_by);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER payment_runs_guard BEFORE INSERT OR UPDATE OR DELETE ON payment_runs
    FOR EACH ROW EXECUTE FUNCTION payment_runs_guard();
