DROP TABLE IF EXISTS payment_run_items;
DROP TABLE IF EXISTS payment_runs;
DROP FUNCTION IF EXISTS payment_runs_guard();
DROP FUNCTION IF EXISTS payment_run_items_guard();
DROP FUNCTION IF EXISTS payment_run_total(bigint);
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
DELETE FROM delegation_rules WHERE decision_kind = 'payment_run';
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;
DELETE FROM delegation_kinds WHERE decision_kind = 'payment_run';
