DROP TABLE IF EXISTS spend_evidence;
DROP FUNCTION IF EXISTS spend_evidence_append_only();
