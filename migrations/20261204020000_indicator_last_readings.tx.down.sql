DROP TRIGGER indicator_last_readings_add ON measurements;
DROP FUNCTION indicator_last_readings_add();
DROP TABLE indicator_last_readings;
