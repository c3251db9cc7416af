-- Idempotency keys for every API request that creates something (spend
-- keeps its own, in the ledger). The key row is written in the same
-- transaction as what the request creates, with the response, so a retry
-- (even a concurrent one, which waits on the row) replays the first answer
-- and a failed request leaves no key behind.
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL REFERENCES users (id),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    route        text NOT NULL,
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    status       int NOT NULL,
    location     text NOT NULL DEFAULT '',
    response     bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
