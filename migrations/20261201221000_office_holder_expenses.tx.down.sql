DROP TABLE IF EXISTS office_holder_expenses;
DROP FUNCTION IF EXISTS office_holder_expenses_append_only();
