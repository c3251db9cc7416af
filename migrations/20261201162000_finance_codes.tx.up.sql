-- The finance system's codes for a funding line, for the journal of each
-- payment run: a cost centre (2 to 10 capital letters or digits, e.g.
-- VRU410) and a general-ledger account code (4 to 8 digits, e.g. 54100).
-- Lines made before have none until someone enters them.
ALTER TABLE funding_lines
    ADD COLUMN cost_centre text CONSTRAINT funding_lines_cost_centre_format CHECK (cost_centre ~ '^[A-Z0-9]{2,10}$'),
    ADD COLUMN gl_account text CONSTRAINT funding_lines_gl_account_format CHECK (gl_account ~ '^[0-9]{4,8}$');
