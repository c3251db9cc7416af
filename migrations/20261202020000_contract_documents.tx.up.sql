-- Contract documents: the invitation to tender (dated the day it was
-- published), the contract document (dated the day it was signed) and other
-- tender documents of a contract line, kept in the database beside the
-- ledger as spend evidence is. The server checks the type from the bytes;
-- the checks here stop anything that bypasses it from storing nonsense.
-- A replaced document is a new row naming the one it supersedes: nothing is
-- changed or deleted (contract_document_append_only).
CREATE TABLE contract_documents (
    id              bigserial PRIMARY KEY,
    funding_line_id bigint NOT NULL REFERENCES funding_lines (id),
    kind            text NOT NULL CHECK (kind IN ('invitation_to_tender', 'contract', 'tender_document')),
    title           text NOT NULL CHECK (btrim(title) <> '' AND char_length(title) <= 200 AND title !~ '[[:cntrl:]]'),
    document_date   date NOT NULL,
    supersedes_id   bigint REFERENCES contract_documents (id),
    personal_data   boolean NOT NULL DEFAULT false,
    file_name       text NOT NULL CHECK (btrim(file_name) <> '' AND octet_length(file_name) <= 200 AND file_name !~ '[[:cntrl:]"\\/]'),
    content_type    text NOT NULL CHECK (content_type IN ('application/pdf',
                        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                        'application/vnd.oasis.opendocument.text')),
    size            bigint NOT NULL CHECK (size > 0 AND size <= 10485760),
    sha256          bytea NOT NULL CHECK (length(sha256) = 32),
    content         bytea NOT NULL,
    uploaded_by     bigint NOT NULL REFERENCES users (id),
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contract_documents_size_matches CHECK (octet_length(content) = size),
    CONSTRAINT contract_documents_hash_matches CHECK (sha256 = sha256(content)),
    -- A document is superseded once; a later correction names the latest.
    CONSTRAINT contract_documents_superseded_once UNIQUE (supersedes_id)
);
CREATE INDEX contract_documents_line_idx ON contract_documents (funding_line_id, id);
CREATE INDEX contract_documents_date_idx ON contract_documents (kind, document_date);
ALTER TABLE contract_documents ALTER COLUMN content SET STORAGE EXTERNAL;
--bun:split
CREATE FUNCTION contract_document_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'contract documents are append-only; upload the replacement as a new document that supersedes the old one'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'contract_document_append_only';
END $$;
--bun:split
CREATE TRIGGER contract_document_append_only BEFORE UPDATE OR DELETE ON contract_documents
    FOR EACH ROW EXECUTE FUNCTION contract_document_append_only();
--bun:split
CREATE TRIGGER contract_document_no_truncate BEFORE TRUNCATE ON contract_documents
    FOR EACH STATEMENT EXECUTE FUNCTION contract_document_append_only();
--bun:split
-- A document belongs to a contract line (contract_document_on_contract_line),
-- and a replacement supersedes a document of the same line and kind
-- (contract_document_supersedes_same_kind).
CREATE FUNCTION contract_document_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_kind text;
    old_doc   contract_documents;
BEGIN
    SELECT kind INTO line_kind FROM funding_lines WHERE id = NEW.funding_line_id;
    IF line_kind IS DISTINCT FROM 'contract' THEN
        RAISE EXCEPTION 'contract_document_on_contract_line: funding line % is not a contract line', NEW.funding_line_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'contract_document_on_contract_line';
    END IF;
    IF NEW.supersedes_id IS NOT NULL THEN
        SELECT * INTO old_doc FROM contract_documents WHERE id = NEW.supersedes_id;
        IF old_doc.funding_line_id IS DISTINCT FROM NEW.funding_line_id OR old_doc.kind IS DISTINCT FROM NEW.kind THEN
            RAISE EXCEPTION 'contract_document_supersedes_same_kind: document % may supersede only a % of the same funding line', NEW.id, NEW.kind
                USING ERRCODE = 'check_violation', CONSTRAINT = 'contract_document_supersedes_same_kind';
        END IF;
    END IF;
    RETURN NEW;
END $$;
--bun:split
CREATE TRIGGER contract_document_rules BEFORE INSERT ON contract_documents
    FOR EACH ROW EXECUTE FUNCTION contract_document_rules();
