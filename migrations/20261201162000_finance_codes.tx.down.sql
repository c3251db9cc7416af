ALTER TABLE funding_lines DROP COLUMN IF EXISTS cost_centre, DROP COLUMN IF EXISTS gl_account;
