-- Two-factor sign-in (TOTP, RFC 6238). An account's authenticator secret is
-- one row, unconfirmed until the user types a current code from it; the
-- last time step used is kept so a code cannot be replayed in its window.
CREATE TABLE user_totp (
    user_id      bigint PRIMARY KEY REFERENCES users (id),
    secret       text NOT NULL CONSTRAINT user_totp_secret CHECK (secret ~ '^[A-Z2-7]{16,128}$'),
    confirmed_at timestamptz,
    last_step    bigint,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes: ten per enrolment, stored as password hashes, each used
-- once (used_at is set once and never cleared: two_factor_recovery_once).
CREATE TABLE two_factor_recovery_codes (
    id        bigserial PRIMARY KEY,
    user_id   bigint NOT NULL REFERENCES users (id),
    code_hash text NOT NULL,
    used_at   timestamptz
);
CREATE INDEX two_factor_recovery_codes_user ON two_factor_recovery_codes (user_id);

CREATE FUNCTION two_factor_recovery_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.used_at IS NOT NULL THEN
        RAISE EXCEPTION 'two_factor_recovery_once: recovery code % was already used', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'two_factor_recovery_once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER two_factor_recovery_once BEFORE UPDATE ON two_factor_recovery_codes
    FOR EACH ROW EXECUTE FUNCTION two_factor_recovery_once();

-- Which roles must sign in with a second factor: one row, changed by admins
-- (audited). By default every role that approves money or exports.
CREATE TABLE two_factor_settings (
    id             boolean PRIMARY KEY DEFAULT true CONSTRAINT two_factor_settings_one_row CHECK (id),
    required_roles text[] NOT NULL DEFAULT ARRAY['admin', 'finance_officer', 'finance_manager', 'auditor']
        CONSTRAINT two_factor_settings_roles CHECK (required_roles <@ ARRAY['admin', 'finance_officer', 'finance_manager', 'board_member', 'auditor']),
    updated_by     bigint REFERENCES users (id),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO two_factor_settings DEFAULT VALUES;

-- A sign-in whose password was right and whose code is still awaited:
-- tied to a cookie by the hash of its random token, lasting minutes, and
-- granting nothing (no session is made until the code is right).
CREATE TABLE sign_in_pending (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    next       text NOT NULL,
    expires_at timestamptz NOT NULL
);
