-- Allowances paid to the relevant office holders for expenses, which the
-- publishing pack lists by name (Specified Information Order 2011, Schedule
-- paragraph 1(d)). Recorded once and never changed: the application may
-- only insert and read them, and the trigger stops even the owner.
CREATE TABLE office_holder_expenses (
    id            bigserial PRIMARY KEY,
    office_holder text NOT NULL CHECK (btrim(office_holder) <> ''),
    office        text NOT NULL CHECK (btrim(office) <> ''),
    incurred_on   date NOT NULL,
    category      text NOT NULL CHECK (btrim(category) <> ''),
    description   text NOT NULL DEFAULT '',
    amount        numeric(15,2) NOT NULL CONSTRAINT office_holder_expenses_amount_check CHECK (amount > 0 AND amount <> 'NaN'),
    recorded_by   bigint NOT NULL REFERENCES users (id),
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
--bun:split
CREATE INDEX office_holder_expenses_incurred_idx ON office_holder_expenses (incurred_on);
--bun:split
CREATE FUNCTION office_holder_expenses_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'office holders'' expenses are recorded once and never changed or deleted'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'office_holder_expenses_append_only';
END $$;
--bun:split
CREATE TRIGGER office_holder_expenses_append_only BEFORE UPDATE OR DELETE ON office_holder_expenses
    FOR EACH ROW EXECUTE FUNCTION office_holder_expenses_append_only();
