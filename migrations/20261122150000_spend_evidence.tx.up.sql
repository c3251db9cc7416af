-- Evidence for spend entries (invoices, receipts, timesheets), kept in the
-- database beside the ledger so that a backup of one is a backup of both.
-- The server checks the type from the bytes and the count per entry; the
-- checks here stop anything that bypasses it from storing nonsense.
CREATE TABLE spend_evidence (
    id             bigserial PRIMARY KEY,
    spend_entry_id bigint NOT NULL REFERENCES spend_entries (id),
    file_name      text NOT NULL CHECK (btrim(file_name) <> '' AND octet_length(file_name) <= 200),
    content_type   text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg',
                       'text/csv; charset=utf-8', 'text/plain; charset=utf-8',
                       'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')),
    size           bigint NOT NULL CHECK (size > 0 AND size <= 5242880),
    sha256         bytea NOT NULL CHECK (length(sha256) = 32),
    content        bytea NOT NULL,
    uploaded_by    bigint NOT NULL REFERENCES users (id),
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT spend_evidence_size_matches CHECK (octet_length(content) = size),
    CONSTRAINT spend_evidence_hash_matches CHECK (sha256 = sha256(content))
);
CREATE INDEX spend_evidence_entry_idx ON spend_evidence (spend_entry_id, id);
-- Files are large and never compressible much (PDF, PNG, JPEG, XLSX are
-- already compressed): keep them out of line without trying.
ALTER TABLE spend_evidence ALTER COLUMN content SET STORAGE EXTERNAL;

-- Evidence is append-only, as the ledger is: a wrong file stays, and the
-- right one is added beside it.
CREATE FUNCTION spend_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'spend evidence is append-only; add the right file beside a wrong one'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'spend_evidence_append_only';
END $$;
CREATE TRIGGER spend_evidence_append_only BEFORE UPDATE OR DELETE ON spend_evidence
    FOR EACH ROW EXECUTE FUNCTION spend_evidence_append_only();
CREATE TRIGGER spend_evidence_no_truncate BEFORE TRUNCATE ON spend_evidence
    FOR EACH STATEMENT EXECUTE FUNCTION spend_evidence_append_only();
