-- spend_yearly rolls the ledger up by funding line, financial year (the
-- year the entry was incurred in, as financial_year_of counts it), status and
-- whether the entry is a reversal, so that a year's budget report and the
-- board's dashboard read one row per line instead of a year of monthly rows
-- or the ledger itself. It is kept exact as spend_monthly is: statement-level
-- triggers with transition tables, one set-based upsert per statement, in the
-- same transaction. Rows are upserted in key order, so two statements that
-- touch the same lines lock their rows in the same order and neither
-- deadlocks nor loses the other's update (ON CONFLICT DO UPDATE adds to the
-- row as the committed one left it). Only the owner writes it: the trigger
-- functions run as the owner and the application role may only read.
-- The verification job compares it with the ledger's own GROUP BY.
CREATE TABLE spend_yearly (
    funding_line_id bigint NOT NULL REFERENCES funding_lines (id),
    financial_year  int NOT NULL CHECK (financial_year BETWEEN 1899 AND 9998),
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reversal        boolean NOT NULL,
    amount          numeric(17,2) NOT NULL,
    entries         bigint NOT NULL,
    PRIMARY KEY (funding_line_id, financial_year, status, reversal)
);
-- A year's report reads every line's row for the year.
CREATE INDEX spend_yearly_year_idx ON spend_yearly (financial_year, status) INCLUDE (funding_line_id, reversal, amount, entries);

INSERT INTO spend_yearly (funding_line_id, financial_year, status, reversal, amount, entries)
SELECT funding_line_id, financial_year_of(incurred_on), status, reverses_id IS NOT NULL, sum(amount), count(*)
FROM spend_entries GROUP BY 1, 2, 3, 4;

CREATE FUNCTION spend_yearly_add() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO spend_yearly AS y (funding_line_id, financial_year, status, reversal, amount, entries)
    SELECT funding_line_id, financial_year_of(incurred_on), status, reverses_id IS NOT NULL, sum(amount), count(*)
    FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (funding_line_id, financial_year, status, reversal)
    DO UPDATE SET amount = y.amount + EXCLUDED.amount, entries = y.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;

-- An update moves an entry from one status to another (pending → approved or
-- rejected); the append-only trigger refuses any other change, but the move
-- takes the old row off and puts the new one on, so it stays exact whatever
-- changed.
CREATE FUNCTION spend_yearly_move() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO spend_yearly AS y (funding_line_id, financial_year, status, reversal, amount, entries)
    SELECT funding_line_id, financial_year, status, reversal, sum(amount), sum(entries) FROM (
        SELECT funding_line_id, financial_year_of(incurred_on) AS financial_year, status, reverses_id IS NOT NULL AS reversal,
            -amount AS amount, -1 AS entries FROM old_rows
        UNION ALL
        SELECT funding_line_id, financial_year_of(incurred_on), status, reverses_id IS NOT NULL, amount, 1 FROM new_rows
    ) moved
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (funding_line_id, financial_year, status, reversal)
    DO UPDATE SET amount = y.amount + EXCLUDED.amount, entries = y.entries + EXCLUDED.entries;
    RETURN NULL;
END $$;

CREATE TRIGGER spend_yearly_add AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_yearly_add();
CREATE TRIGGER spend_yearly_move AFTER UPDATE ON spend_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_yearly_move();
