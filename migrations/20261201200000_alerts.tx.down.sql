DROP FUNCTION IF EXISTS measurement_due(text, date);
DROP FUNCTION IF EXISTS overdue_tranches(date);
DROP TABLE IF EXISTS alert_settings;
