DROP INDEX IF EXISTS spend_entries_idempotency_key;
ALTER TABLE spend_entries ADD CONSTRAINT spend_entries_idempotency_key UNIQUE (recorded_by, idempotency_key);
DROP INDEX IF EXISTS spend_entries_reversed_once;
ALTER TABLE spend_entries ADD CONSTRAINT spend_entries_reversed_once UNIQUE (reverses_id);
ALTER TABLE spend_entries ADD CONSTRAINT spend_entries_award_id_fkey FOREIGN KEY (award_id) REFERENCES awards (id),
    ADD CONSTRAINT spend_entries_tranche_id_fkey FOREIGN KEY (tranche_id) REFERENCES tranches (id);
ALTER TABLE spend_entries DROP CONSTRAINT IF EXISTS spend_entries_tranche_needs_award;
