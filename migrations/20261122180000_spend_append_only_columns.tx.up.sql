-- The append-only guard compared each updated entry with its old version as
-- JSON (to_jsonb of both rows), which is most of the cost of approving a
-- large import at once. It now compares the columns a decision must not
-- touch directly. A test checks that every column of spend_entries but the
-- four a decision sets is in this list, so a new column cannot slip past.
CREATE OR REPLACE FUNCTION spend_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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
       OR (NEW.id, NEW.funding_line_id, NEW.award_id, NEW.tranche_id, NEW.payee_id, NEW.amount, NEW.incurred_on,
           NEW.category, NEW.reference, NEW.description, NEW.purpose, NEW.vfm_reason, NEW.recorded_by,
           NEW.recorded_at, NEW.reverses_id, NEW.reversal_reason, NEW.idempotency_key, NEW.request_hash,
           NEW.import_id)
          IS DISTINCT FROM
          (OLD.id, OLD.funding_line_id, OLD.award_id, OLD.tranche_id, OLD.payee_id, OLD.amount, OLD.incurred_on,
           OLD.category, OLD.reference, OLD.description, OLD.purpose, OLD.vfm_reason, OLD.recorded_by,
           OLD.recorded_at, OLD.reverses_id, OLD.reversal_reason, OLD.idempotency_key, OLD.request_hash,
           OLD.import_id) THEN
        RAISE EXCEPTION 'spend entry %: the ledger is append-only; only a pending entry may be approved or rejected', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'spend_entries_append_only';
    END IF;
    RETURN NEW;
END $$;
