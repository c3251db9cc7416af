DROP TRIGGER IF EXISTS tranches_paid_by_spend ON spend_entries;
DROP TRIGGER IF EXISTS tranches_paid_by_spend_on_decision ON spend_entries;
DROP FUNCTION IF EXISTS tranches_paid_by_spend();
DROP TRIGGER IF EXISTS spend_within_tranche ON spend_entries;
DROP TRIGGER IF EXISTS spend_within_tranche_on_decision ON spend_entries;
DROP FUNCTION IF EXISTS spend_within_tranche();
DROP TRIGGER IF EXISTS tranches_status_guard ON tranches;
DROP FUNCTION IF EXISTS tranches_status_guard();
DROP FUNCTION IF EXISTS tranche_paid(bigint);
DROP INDEX IF EXISTS spend_entries_tranche_idx;
ALTER TABLE tranches DROP COLUMN status, DROP COLUMN claimed_on, DROP COLUMN withheld_reason, DROP COLUMN paid_on,
    DROP COLUMN status_changed_at;
