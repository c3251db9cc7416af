-- Each CSV import of spend, kept so that a second import of the same file is
-- noticed (by its SHA-256) and refused unless forced.
CREATE TABLE spend_imports (
    id           bigserial PRIMARY KEY,
    file_name    text NOT NULL,
    file_sha256  bytea NOT NULL CHECK (length(file_sha256) = 32),
    rows         int NOT NULL CHECK (rows >= 0),
    total        numeric(15,2) NOT NULL,
    forced       boolean NOT NULL DEFAULT false,
    imported_by  bigint NOT NULL REFERENCES users (id),
    imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX spend_imports_sha_idx ON spend_imports (file_sha256);
ALTER TABLE spend_entries ADD COLUMN import_id bigint REFERENCES spend_imports (id);
