DROP TRIGGER IF EXISTS spend_monthly_move ON spend_entries;
DROP TRIGGER IF EXISTS spend_monthly_add ON spend_entries;
DROP FUNCTION IF EXISTS spend_monthly_move();
DROP FUNCTION IF EXISTS spend_monthly_add();
DROP TABLE IF EXISTS spend_monthly;
