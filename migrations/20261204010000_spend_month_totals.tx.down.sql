DROP FUNCTION compact_spend_month_totals();
DROP TRIGGER spend_month_totals_move ON spend_entries;
DROP TRIGGER spend_month_totals_add ON spend_entries;
DROP FUNCTION spend_month_totals_move();
DROP FUNCTION spend_month_totals_add();
DROP TABLE spend_month_totals;
