DROP INDEX spend_entries_ledger_order_idx;
DROP INDEX funding_lines_title_trgm;
DROP INDEX funding_lines_code_trgm;
DROP INDEX organisations_name_trgm;
DROP INDEX spend_entries_reference_trgm;
DROP INDEX spend_entries_description_trgm;
--bun:split
DROP EXTENSION pg_trgm;
--bun:split
DROP SCHEMA search;
