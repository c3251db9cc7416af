ALTER TABLE awards DROP COLUMN crime_reduction_reason, DROP COLUMN conditions;
ALTER TABLE organisations DROP COLUMN gss_code;
