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
       OR (to_jsonb(NEW) - ARRAY['status', 'decided_by', 'decided_at', 'rejection_reason'])
          IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'decided_by', 'decided_at', 'rejection_reason']) THEN
        RAISE EXCEPTION 'spend entry %: the ledger is append-only; only a pending entry may be approved or rejected', OLD.id
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'spend_entries_append_only';
    END IF;
    RETURN NEW;
END $$;
