-- An organisation that receives money has an org-id before its first award,
-- so every grant is published under its register's identifier (360Giving,
-- OCDS) rather than one made up for it. Organisations already awarded keep
-- what they have; the rule holds for every award from now on.
CREATE FUNCTION awards_recipient_org_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'awards' THEN
        IF NOT EXISTS (SELECT 1 FROM organisations WHERE id = NEW.recipient_id AND org_id IS NOT NULL) THEN
            RAISE EXCEPTION 'award %: its recipient (organisation %) has no org-id; give it its register identifier before its first award',
                NEW.reference, NEW.recipient_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_recipient_org_id';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM awards WHERE recipient_id = OLD.id) THEN
        -- organisations: an awarded recipient keeps an org-id.
        RAISE EXCEPTION 'organisation %: it has awards, so its org-id cannot be removed', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_recipient_org_id';
    END IF;
    RETURN NEW;
END $$;
--bun:split
CREATE TRIGGER awards_recipient_org_id BEFORE INSERT ON awards
    FOR EACH ROW EXECUTE FUNCTION awards_recipient_org_id();
--bun:split
CREATE TRIGGER organisations_keep_org_id BEFORE UPDATE OF org_id ON organisations
    FOR EACH ROW WHEN (OLD.org_id IS NOT NULL AND NEW.org_id IS NULL) EXECUTE FUNCTION awards_recipient_org_id();
