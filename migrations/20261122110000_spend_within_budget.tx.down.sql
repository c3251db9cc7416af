DROP TRIGGER IF EXISTS spend_reversal_matches ON spend_entries;
DROP FUNCTION IF EXISTS spend_reversal_matches();
ALTER TABLE spend_entries DROP CONSTRAINT IF EXISTS spend_entries_tranche_award_fkey;
ALTER TABLE spend_entries DROP CONSTRAINT IF EXISTS spend_entries_award_line_fkey;
ALTER TABLE tranches DROP CONSTRAINT IF EXISTS tranches_id_award_key;
ALTER TABLE awards DROP CONSTRAINT IF EXISTS awards_id_line_key;
DROP TRIGGER IF EXISTS spend_within_budget ON spend_entries;
DROP FUNCTION IF EXISTS spend_within_budget();
