ALTER TABLE spend_entries DROP COLUMN IF EXISTS import_id;
DROP TABLE IF EXISTS spend_imports;
