DROP FUNCTION IF EXISTS assert_decision_citation(text, numeric, bigint);
DROP FUNCTION IF EXISTS assert_decision_authority(text, numeric, bigint, bigint);
DROP TABLE IF EXISTS delegation_rules;
DROP TABLE IF EXISTS delegation_kinds;
DROP TABLE IF EXISTS decision_records;
