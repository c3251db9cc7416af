-- line_catalogue_version counts the changes to what reports read about the
-- funding lines themselves: their codes, titles, kinds, statuses, dates,
-- budgets and contract figures, their budget profiles and their programmes.
-- Statement-level triggers bump it in the same transaction as any such
-- change, so a process may keep the lines it read together with a version
-- for as long as the database still shows that version (the store's line
-- catalogue): at ten thousand lines, reading them is most of a report's
-- time, and they change a few times a day while money moves all day. The
-- money itself (spend, commitments, reservations) is never kept; reports
-- read it afresh every time. Only the owner writes the version: the trigger
-- function runs as the owner, and the application role may only read it,
-- so no session can wind it back to make a process serve old lines.
CREATE TABLE line_catalogue_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO line_catalogue_version (singleton, version) VALUES (true, 1);

CREATE FUNCTION line_catalogue_changed() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE line_catalogue_version SET version = version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER funding_lines_catalogue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON funding_lines
    FOR EACH STATEMENT EXECUTE FUNCTION line_catalogue_changed();
CREATE TRIGGER budget_profiles_catalogue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON budget_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION line_catalogue_changed();
CREATE TRIGGER programmes_catalogue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON programmes
    FOR EACH STATEMENT EXECUTE FUNCTION line_catalogue_changed();
