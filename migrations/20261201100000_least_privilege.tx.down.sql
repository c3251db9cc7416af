ALTER FUNCTION spend_monthly_move() SECURITY INVOKER RESET search_path;
ALTER FUNCTION spend_monthly_add() SECURITY INVOKER RESET search_path;
