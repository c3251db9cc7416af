-- spend_monthly rolls the ledger up by funding line, calendar month and
-- status, so that the board's reports read thousands of rows instead of
-- millions. Statement-level triggers keep it in step with spend_entries in
-- the same transaction (one set-based upsert per statement, so a bulk import
-- costs one upsert, not one per row); a test checks after random operations
-- that it always equals the GROUP BY of the ledger.
CREATE TABLE spend_monthly (
    funding_line_id bigint NOT NULL REFERENCES funding_lines (id),
    month           date NOT NULL CHECK (month = date_trunc('month', month)::date),
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    amount          numeric(17,2) NOT NULL,
    entries         bigint NOT NULL,
    PRIMARY KEY (funding_line_id, month, status)
);
CREATE INDEX spend_monthly_month_idx ON spend_monthly (month, status);

INSERT INTO spend_monthly (funding_line_id, month, status, amount, entries)
SELECT funding_line_id, date_trunc('month', incurred_on)::date, status, sum(amount), count(*)
FROM spend_entries GROUP BY 1, 2, 3;

CREATE FUNCTION spend_monthly_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spend_monthly AS m (funding_line_id, month, status, amount, entries)
    SELECT funding_line_id, date_trunc('month', incurred_on)::date, status, sum(amount), count(*)
    FROM new_rows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (funding_line_id, month, status)
    DO UPDATE SET amount = m.amount + EXCLUDED.amount, entries = m.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;

-- An update moves an entry from one status to another (pending → approved or
-- rejected); the append-only trigger refuses any other change.
CREATE FUNCTION spend_monthly_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO spend_monthly AS m (funding_line_id, month, status, amount, entries)
    SELECT funding_line_id, month, status, sum(amount), sum(entries) FROM (
        SELECT funding_line_id, date_trunc('month', incurred_on)::date AS month, status, -amount AS amount, -1 AS entries FROM old_rows
        UNION ALL
        SELECT funding_line_id, date_trunc('month', incurred_on)::date, status, amount, 1 FROM new_rows
    ) moved
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (funding_line_id, month, status)
    DO UPDATE SET amount = m.amount + EXCLUDED.amount, entries = m.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;

CREATE TRIGGER spend_monthly_add AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_monthly_add();
CREATE TRIGGER spend_monthly_move AFTER UPDATE ON spend_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_monthly_move();
