DROP TABLE IF EXISTS indicator_revisions;
DROP FUNCTION IF EXISTS indicators_follow_revision();
DROP FUNCTION IF EXISTS indicator_revisions_chain();
DROP FUNCTION IF EXISTS indicator_revisions_append_only();
