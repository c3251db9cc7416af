-- An import's page counts its entries by status, decided ones too, which the
-- pending-only index cannot answer (it read the whole ledger). One index of
-- imported entries by import and status serves both that and finding what an
-- import still has pending. Entries recorded one by one are not in it.
DROP INDEX spend_entries_pending_import_idx;
CREATE INDEX spend_entries_import_status_idx ON spend_entries (import_id, status)
    WHERE import_id IS NOT NULL;
