DROP TABLE contract_documents;
--bun:split
DROP FUNCTION contract_document_rules();
--bun:split
DROP FUNCTION contract_document_append_only();
