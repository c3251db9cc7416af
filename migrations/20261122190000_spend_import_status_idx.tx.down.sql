DROP INDEX spend_entries_import_status_idx;
CREATE INDEX spend_entries_pending_import_idx ON spend_entries (import_id)
    WHERE status = 'pending' AND import_id IS NOT NULL;
