DROP TRIGGER IF EXISTS organisations_keep_org_id ON organisations;
DROP TRIGGER IF EXISTS awards_recipient_org_id ON awards;
DROP FUNCTION IF EXISTS awards_recipient_org_id();
