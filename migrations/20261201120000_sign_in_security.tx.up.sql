-- Secrets the app nodes share, such as the key that signs CSRF tokens: kept
-- here so that every node behind a load balancer signs and checks alike.
CREATE TABLE server_keys (
    name       text PRIMARY KEY,
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- Failed sign-ins by client address and by account (the email typed, whether
-- or not it has an account), so that several app nodes share one count. A
-- subject that reaches its limit is locked until locked_until, for a time
-- that doubles with every further failure.
CREATE TABLE sign_in_throttles (
    scope           text NOT NULL CHECK (scope IN ('address', 'account')),
    subject         text NOT NULL CHECK (subject <> ''),
    failures        integer NOT NULL CHECK (failures >= 0),
    last_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX sign_in_throttles_last_attempt_idx ON sign_in_throttles (last_attempt_at);
