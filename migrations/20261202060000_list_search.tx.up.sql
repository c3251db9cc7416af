-- Search boxes on the spend ledger, the funding lines and the organisations:
-- substring search (ILIKE '%…%') served by trigram indexes, so a search of
-- a million entries reads the index, not the table. pg_trgm is a trusted
-- extension (the database's owner, who migrates, may create it); it lives
-- in a schema of its own so its functions stay out of public, whose every
-- object the privileges file names. The application role needs nothing on
-- it: the planner uses the operator classes, queries never name them.
CREATE SCHEMA IF NOT EXISTS search;
--bun:split
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA search;
--bun:split
CREATE INDEX spend_entries_description_trgm ON spend_entries USING gin (description search.gin_trgm_ops);
CREATE INDEX spend_entries_reference_trgm ON spend_entries USING gin (reference search.gin_trgm_ops);
CREATE INDEX organisations_name_trgm ON organisations USING gin (name search.gin_trgm_ops);
CREATE INDEX funding_lines_code_trgm ON funding_lines USING gin (code search.gin_trgm_ops);
CREATE INDEX funding_lines_title_trgm ON funding_lines USING gin (title search.gin_trgm_ops);
-- The ledger's order (newest first) and its keyset: the page after an
-- entry is read from this index, however deep.
CREATE INDEX spend_entries_ledger_order_idx ON spend_entries (incurred_on DESC, id DESC);
