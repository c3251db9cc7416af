-- Publisher identity for the open-data packages: one row, edited by admins.
-- An empty setting falls back to its environment variable (see README,
-- "Open data"); the prefixes' formats are held here as well as in Go
-- (models.Publisher.Check).
CREATE TABLE publisher_settings (
    id                        boolean PRIMARY KEY DEFAULT true CONSTRAINT publisher_settings_one_row CHECK (id),
    name                      text NOT NULL DEFAULT '',
    uri                       text NOT NULL DEFAULT '',
    org_id                    text NOT NULL DEFAULT '',
    three_sixty_giving_prefix text NOT NULL DEFAULT ''
        CONSTRAINT publisher_settings_360_prefix CHECK (three_sixty_giving_prefix = '' OR three_sixty_giving_prefix ~ '^360G-[A-Za-z0-9_-]+$'),
    ocid_prefix               text NOT NULL DEFAULT ''
        CONSTRAINT publisher_settings_ocid_prefix CHECK (ocid_prefix = '' OR ocid_prefix ~ '^ocds-[a-z0-9]{6}$'),
    licence                   text NOT NULL DEFAULT '',
    updated_by                bigint REFERENCES users (id),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
INSERT INTO publisher_settings DEFAULT VALUES;
