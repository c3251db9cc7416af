-- Cheaper writes to the spend ledger, with the same guarantees.
--
-- A tranche needs its award (SpendInput says so; now the table does too).
-- With that, the composite keys (award_id, funding_line_id) and (tranche_id,
-- award_id) check everything the single-column keys on award_id and
-- tranche_id did, so those go: every foreign key is a trigger fired for each
-- inserted row, even when the column is NULL.
ALTER TABLE spend_entries ADD CONSTRAINT spend_entries_tranche_needs_award
    CHECK (tranche_id IS NULL OR award_id IS NOT NULL);
ALTER TABLE spend_entries DROP CONSTRAINT spend_entries_award_id_fkey,
    DROP CONSTRAINT spend_entries_tranche_id_fkey;

-- Reversals and idempotency keys are rare; a partial unique index enforces
-- the same rule without an index entry for every other row.
ALTER TABLE spend_entries DROP CONSTRAINT spend_entries_reversed_once;
CREATE UNIQUE INDEX spend_entries_reversed_once ON spend_entries (reverses_id) WHERE reverses_id IS NOT NULL;
ALTER TABLE spend_entries DROP CONSTRAINT spend_entries_idempotency_key;
CREATE UNIQUE INDEX spend_entries_idempotency_key ON spend_entries (recorded_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
