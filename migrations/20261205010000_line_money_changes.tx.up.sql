-- line_money_changes names, for each transaction that moved a funding
-- line's money, the lines it moved: spend entries (spent, pending, pending
-- reversals, spend after the line's end), tranches and awards (committed)
-- and reservations (reserved). A process that read every line's money in a
-- snapshot may keep it, and in a later snapshot read again only the lines
-- of the changes that snapshot sees and the first did not
-- (pg_visible_in_snapshot on the change's transaction id): exact, however
-- transactions interleave and in whatever order they commit. At ten
-- thousand lines, reading all of their money was most of a dashboard's
-- time, though between two views few lines' money moves.
--
-- Like spend_month_totals, the triggers only ever INSERT, so no writer
-- waits for another's row: a single version row would be locked by every
-- approval until its commit. funding_line_id NULL means every line (a
-- TRUNCATE). prune_line_money_changes() removes the rows of transactions
-- every current snapshot already sees and raises line_money_changes_pruned
-- past them; a process whose kept snapshot is older than that reads all of
-- the money again. Only the owner writes either table: the triggers and the
-- pruning run as the owner (SECURITY DEFINER), and the application role
-- may only read them, so no session can hide a change from a process.
CREATE TABLE line_money_changes (
    xid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    funding_line_id bigint
);
CREATE INDEX line_money_changes_xid_idx ON line_money_changes (xid) INCLUDE (funding_line_id);

CREATE TABLE line_money_changes_pruned (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    below     xid8 NOT NULL
);
INSERT INTO line_money_changes_pruned (singleton, below) VALUES (true, '0');

-- The lines a statement moved, from its transition tables: the old rows'
-- and the new rows' lines (an update may move a row between lines). A
-- tranche's line is its award's. PL/pgSQL plans each statement when it
-- first runs it, so each branch reads only the transition tables its event
-- has.
CREATE FUNCTION line_money_changed() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO line_money_changes (funding_line_id) VALUES (NULL);
    ELSIF TG_TABLE_NAME = 'tranches' AND TG_OP = 'INSERT' THEN
        INSERT INTO line_money_changes (funding_line_id)
        SELECT a.funding_line_id FROM awards a WHERE a.id IN (SELECT award_id FROM new_rows) GROUP BY 1;
    ELSIF TG_TABLE_NAME = 'tranches' AND TG_OP = 'DELETE' THEN
        INSERT INTO line_money_changes (funding_line_id)
        SELECT a.funding_line_id FROM awards a WHERE a.id IN (SELECT award_id FROM old_rows) GROUP BY 1;
    ELSIF TG_TABLE_NAME = 'tranches' THEN
        INSERT INTO line_money_changes (funding_line_id)
        SELECT a.funding_line_id FROM awards a
        WHERE a.id IN (SELECT award_id FROM old_rows UNION SELECT award_id FROM new_rows) GROUP BY 1;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO line_money_changes (funding_line_id) SELECT DISTINCT funding_line_id FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO line_money_changes (funding_line_id) SELECT DISTINCT funding_line_id FROM old_rows;
    ELSE
        INSERT INTO line_money_changes (funding_line_id)
        SELECT funding_line_id FROM old_rows UNION SELECT funding_line_id FROM new_rows;
    END IF;
    RETURN NULL;
END $$;

-- PostgreSQL gives transition tables only to triggers of one event each.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['spend_entries', 'tranches', 'awards', 'reservations'] LOOP
        EXECUTE format('CREATE TRIGGER %1$s_money_inserted AFTER INSERT ON %1$I
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION line_money_changed()', t);
        EXECUTE format('CREATE TRIGGER %1$s_money_updated AFTER UPDATE ON %1$I
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION line_money_changed()', t);
        EXECUTE format('CREATE TRIGGER %1$s_money_deleted AFTER DELETE ON %1$I
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION line_money_changed()', t);
        EXECUTE format('CREATE TRIGGER %1$s_money_truncated AFTER TRUNCATE ON %1$I
            FOR EACH STATEMENT EXECUTE FUNCTION line_money_changed()', t);
    END LOOP;
END $$;

-- Removes the changes of transactions that every snapshot taken from now
-- on sees (those below the oldest transaction still running), and raises
-- line_money_changes_pruned to that point in the same transaction: a
-- process reading the mark and the changes in one snapshot sees both as
-- they were, or both as they are. Returns how many rows it removed.
CREATE FUNCTION prune_line_money_changes() RETURNS bigint LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
    removed bigint;
BEGIN
    UPDATE line_money_changes_pruned SET below = greatest(below, horizon);
    DELETE FROM line_money_changes WHERE xid < horizon;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END $$;
