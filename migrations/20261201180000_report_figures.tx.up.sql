-- The reports read pending spend apart from pending reversals straight from
-- the ledger (few entries wait at any time), and the spend a line incurred
-- after its last day, by line and day.
CREATE INDEX spend_entries_pending_day_idx ON spend_entries (incurred_on) WHERE status = 'pending';
CREATE INDEX spend_entries_line_day_idx ON spend_entries (funding_line_id, incurred_on);
