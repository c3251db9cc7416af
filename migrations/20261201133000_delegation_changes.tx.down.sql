DROP TRIGGER IF EXISTS delegation_rules_guard ON delegation_rules;
DROP FUNCTION IF EXISTS delegation_rules_guard();
DROP TABLE IF EXISTS delegation_changes;
DROP FUNCTION IF EXISTS delegation_changes_guard();
