DO $$
DECLARE
    t text;
    e text;
BEGIN
    FOREACH t IN ARRAY ARRAY['spend_entries', 'tranches', 'awards', 'reservations'] LOOP
        FOREACH e IN ARRAY ARRAY['inserted', 'updated', 'deleted', 'truncated'] LOOP
            EXECUTE format('DROP TRIGGER %s_money_%s ON %I', t, e, t);
        END LOOP;
    END LOOP;
END $$;
DROP FUNCTION prune_line_money_changes();
DROP FUNCTION line_money_changed();
DROP TABLE line_money_changes_pruned;
DROP TABLE line_money_changes;
