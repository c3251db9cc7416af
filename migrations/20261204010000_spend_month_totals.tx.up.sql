-- spend_month_totals rolls the ledger up by month and status across every
-- funding line, so that the board's monthly spend chart reads a few rows a
-- month instead of every line's (120,000 spend_monthly rows a year at ten
-- thousand lines, 42–51 ms of the dashboard).
--
-- A single row per month would be updated by every approval and locked
-- until its commit, and two transactions that each touch several lines in
-- a different order could deadlock on such rows. So the triggers only ever
-- INSERT: each statement that adds or moves spend appends one row per
-- month and status it changed, with its net amount and count, and locks
-- nothing another writer needs. compact_spend_month_totals() folds the rows
-- of each month and status into one; the background verification job calls
-- it. A month's total is always the sum of its rows, compacted or not.
-- Only the owner writes the table: the triggers and the compaction run as
-- the owner (SECURITY DEFINER); the verification job compares it with the
-- ledger's own GROUP BY.
CREATE TABLE spend_month_totals (
    month   date NOT NULL CHECK (extract(day FROM month) = 1),
    status  text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    amount  numeric(19,2) NOT NULL,
    entries bigint NOT NULL
);
CREATE INDEX spend_month_totals_month_idx ON spend_month_totals (status, month) INCLUDE (amount);

INSERT INTO spend_month_totals (month, status, amount, entries)
SELECT date_trunc('month', incurred_on)::date, status, sum(amount), count(*)
FROM spend_entries GROUP BY 1, 2;

CREATE FUNCTION spend_month_totals_add() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO spend_month_totals (month, status, amount, entries)
    SELECT date_trunc('month', incurred_on)::date, status, sum(amount), count(*)
    FROM new_rows GROUP BY 1, 2;
    RETURN NULL;
END $$;

-- A status change (pending → approved or rejected) takes the old rows off
-- and puts the new ones on; a month and status it leaves unchanged gets no
-- row.
CREATE FUNCTION spend_month_totals_move() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO spend_month_totals (month, status, amount, entries)
    SELECT month, status, sum(amount), sum(entries) FROM (
        SELECT date_trunc('month', incurred_on)::date AS month, status, -amount AS amount, -1 AS entries FROM old_rows
        UNION ALL
        SELECT date_trunc('month', incurred_on)::date, status, amount, 1 FROM new_rows
    ) moved
    GROUP BY 1, 2 HAVING sum(amount) <> 0 OR sum(entries) <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER spend_month_totals_add AFTER INSERT ON spend_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_month_totals_add();
CREATE TRIGGER spend_month_totals_move AFTER UPDATE ON spend_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION spend_month_totals_move();

-- Folds each month's and status's rows into one, keeping every total: the
-- rows it deletes are exactly the ones it adds up (a DELETE sees only rows
-- committed before it began, so a row appended meanwhile is left for the
-- next run). Returns how many rows it removed.
CREATE FUNCTION compact_spend_month_totals() RETURNS bigint LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    WITH gone AS (
        DELETE FROM spend_month_totals RETURNING month, status, amount, entries
    ), folded AS (
        INSERT INTO spend_month_totals (month, status, amount, entries)
        SELECT month, status, sum(amount), sum(entries) FROM gone GROUP BY 1, 2
        HAVING sum(amount) <> 0 OR sum(entries) <> 0
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM folded) INTO removed;
    RETURN removed;
END $$;
