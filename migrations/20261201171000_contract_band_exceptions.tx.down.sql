DROP TRIGGER awards_match_contract ON awards;
--bun:split
DROP FUNCTION awards_match_contract();
--bun:split
DROP TRIGGER contract_within_band ON funding_lines;
--bun:split
DROP FUNCTION contract_within_band();
--bun:split
DROP TABLE contract_band_exceptions;
--bun:split
DROP FUNCTION contract_band_exceptions_guard();
--bun:split
ALTER TABLE delegation_rules DISABLE TRIGGER delegation_rules_guard;
--bun:split
DELETE FROM delegation_rules WHERE decision_kind = 'contract_band_exception';
--bun:split
ALTER TABLE delegation_rules ENABLE TRIGGER delegation_rules_guard;
--bun:split
DELETE FROM delegation_kinds WHERE decision_kind = 'contract_band_exception';
