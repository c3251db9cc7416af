DROP TRIGGER IF EXISTS budget_change_authority ON budget_changes;
DROP FUNCTION IF EXISTS budget_change_authority();
DROP FUNCTION IF EXISTS budget_change_decision(bigint);
ALTER TABLE budget_changes DROP CONSTRAINT IF EXISTS budget_changes_decision_record_id_fkey;
