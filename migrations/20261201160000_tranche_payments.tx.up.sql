-- Tranche payment state. A tranche is due on its date; the recipient may
-- claim it; it is paid when the approved spend naming it reaches its
-- amount (the ledger decides, never a person: tranches_paid_by_spend), or
-- withheld with a reason until it is released back to due.
ALTER TABLE tranches
    ADD COLUMN status text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'claimed', 'paid', 'withheld')),
    ADD COLUMN claimed_on date,
    ADD COLUMN withheld_reason text CHECK (withheld_reason IS NULL OR btrim(withheld_reason) <> ''),
    ADD COLUMN paid_on date,
    ADD COLUMN status_changed_at timestamptz,
    ADD CONSTRAINT tranches_withheld_reason CHECK ((status = 'withheld') = (withheld_reason IS NOT NULL)),
    ADD CONSTRAINT tranches_claimed_on CHECK (status <> 'claimed' OR claimed_on IS NOT NULL),
    ADD CONSTRAINT tranches_paid_on CHECK ((status = 'paid') = (paid_on IS NOT NULL));

CREATE INDEX spend_entries_tranche_idx ON spend_entries (tranche_id) WHERE tranche_id IS NOT NULL;

-- What the approved spend naming a tranche adds up to (reversals included).
CREATE FUNCTION tranche_paid(p_tranche bigint) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(amount), 0) FROM spend_entries WHERE tranche_id = p_tranche AND status = 'approved'
$$;

-- Tranches already paid in full by the ledger are paid (legacy spend above
-- a tranche stays as it was: the ledger is never rewritten).
UPDATE tranches t SET status = 'paid', status_changed_at = now(),
    paid_on = (SELECT max(incurred_on) FROM spend_entries e WHERE e.tranche_id = t.id AND e.status = 'approved')
WHERE tranche_paid(t.id) >= t.amount;

-- tranche_status_transition: due -> claimed | withheld | paid, claimed ->
-- withheld | paid, withheld -> due (released), paid -> due (a reversal took
-- it below its amount). tranche_paid_by_spend: a tranche is paid exactly
-- when its approved spend reaches its amount. Its amount, date and award
-- never change (the application role may not update them at all).
CREATE FUNCTION tranches_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    paid numeric;
BEGIN
    IF NEW.status <> OLD.status AND NOT (
        (OLD.status = 'due' AND NEW.status IN ('claimed', 'withheld', 'paid')) OR
        (OLD.status = 'claimed' AND NEW.status IN ('withheld', 'paid')) OR
        (OLD.status = 'withheld' AND NEW.status = 'due') OR
        (OLD.status = 'paid' AND NEW.status = 'due')) THEN
        RAISE EXCEPTION 'tranche %: a tranche cannot go from % to %', NEW.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tranche_status_transition';
    END IF;
    paid := tranche_paid(NEW.id);
    IF (NEW.status = 'paid') <> (paid >= NEW.amount) THEN
        RAISE EXCEPTION 'tranche %: approved spend naming it is % of %, so it % paid', NEW.id, paid, NEW.amount,
            CASE WHEN paid >= NEW.amount THEN 'is' ELSE 'is not' END
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tranche_paid_by_spend';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER tranches_status_guard BEFORE UPDATE ON tranches
    FOR EACH ROW EXECUTE FUNCTION tranches_status_guard();

-- spend_within_tranche: approved spend naming a tranche never exceeds the
-- tranche (the award's own limit is spend_within_award). Spend naming a
-- withheld tranche is neither recorded nor approved
-- (spend_tranche_withheld). Statement-level, after spend_within_budget
-- (trigger names sort), which has locked the lines these tranches are on.
CREATE FUNCTION spend_within_tranche() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, t.seq, a.reference INTO bad
    FROM new_rows n JOIN tranches t ON t.id = n.tranche_id JOIN awards a ON a.id = t.award_id
    WHERE n.reverses_id IS NULL AND (TG_OP = 'INSERT' OR n.status = 'approved') AND t.status = 'withheld'
    ORDER BY n.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'spend entry %: tranche % of award % is withheld; release it before paying it', bad.id, bad.seq, bad.reference
            USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_tranche_withheld';
    END IF;
    SELECT t.id, t.seq, a.reference, t.amount, tranche_paid(t.id) AS paid INTO bad
    FROM tranches t JOIN awards a ON a.id = t.award_id
    WHERE t.id IN (SELECT tranche_id FROM new_rows WHERE status = 'approved' AND amount > 0 AND tranche_id IS NOT NULL)
      AND tranche_paid(t.id) > t.amount
    ORDER BY t.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'tranche % of award %: approved spend % exceeds the tranche % by %', bad.seq, bad.reference, bad.paid, bad.amount,
            bad.paid - bad.amount
            USING ERRCODE = 'check_violation', CONSTRAINT = 'spend_within_tranche';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER spend_within_tranche AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_within_tranche();
CREATE TRIGGER spend_within_tranche_on_decision AFTER UPDATE ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_within_tranche();

-- tranches_paid_by_spend: after the checks (the name sorts after theirs),
-- a tranche whose approved spend reaches its amount becomes paid, dated
-- the last payment's day; one a reversal took below it is due again. It
-- runs as the owner, so that "paid" is the ledger's word, not a person's.
CREATE FUNCTION tranches_paid_by_spend() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE tranches t SET status = CASE WHEN s.paid >= t.amount THEN 'paid' ELSE 'due' END,
        paid_on = CASE WHEN s.paid >= t.amount THEN s.last_on END,
        status_changed_at = now()
    FROM (SELECT e.tranche_id, sum(e.amount) AS paid, max(e.incurred_on) AS last_on FROM spend_entries e
          WHERE e.tranche_id IN (SELECT tranche_id FROM new_rows WHERE status = 'approved' AND tranche_id IS NOT NULL)
            AND e.status = 'approved' GROUP BY e.tranche_id) s
    WHERE t.id = s.tranche_id AND t.status <> 'withheld'
      AND (t.status = 'paid') <> (s.paid >= t.amount);
    RETURN NULL;
END $$;
CREATE TRIGGER tranches_paid_by_spend AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tranches_paid_by_spend();
CREATE TRIGGER tranches_paid_by_spend_on_decision AFTER UPDATE ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tranches_paid_by_spend();
