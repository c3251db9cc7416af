DROP TRIGGER IF EXISTS org_id_registered ON organisations;
DROP FUNCTION IF EXISTS org_id_registered();
DROP TABLE IF EXISTS local_authority_eng;
