-- The application role may only read spend_monthly, so the triggers that
-- keep the rollup in step with the ledger run as the owner (SECURITY
-- DEFINER), with a fixed search_path so that nobody can slip in a table of
-- the same name ahead of it.
ALTER FUNCTION spend_monthly_add() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION spend_monthly_move() SECURITY DEFINER SET search_path = public, pg_temp;
