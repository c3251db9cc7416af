-- Verification as a background job: every run of the audit chain and ledger
-- check is kept, so that every app node (and /audit, /metrics) shows the
-- same last result and its age, and so that a run can start from where the
-- last good one stopped rather than from the first event.
CREATE TABLE verification_runs (
    id              bigserial PRIMARY KEY,
    scope           text NOT NULL CHECK (scope IN ('full', 'incremental')),
    trigger         text NOT NULL CHECK (trigger IN ('schedule', 'startup', 'demand')),
    requested_by    bigint REFERENCES users (id),
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL CHECK (finished_at >= started_at),
    -- The chain was checked from the event after from_seq up to head_seq.
    from_seq        bigint NOT NULL CHECK (from_seq >= 0),
    head_seq        bigint NOT NULL CHECK (head_seq >= 0),
    head_hash       bytea CHECK (length(head_hash) = 32),
    events          bigint NOT NULL CHECK (events >= 0),
    chain_ok        boolean NOT NULL,
    broken_seq      bigint,
    chain_reason    text NOT NULL DEFAULT '',
    -- The ledger was checked for the entries after from_entry_id.
    from_entry_id   bigint NOT NULL CHECK (from_entry_id >= 0),
    to_entry_id     bigint NOT NULL CHECK (to_entry_id >= 0),
    entries         bigint NOT NULL CHECK (entries >= 0),
    ledger_ok       boolean NOT NULL,
    ledger_findings bigint NOT NULL CHECK (ledger_findings >= 0),
    findings        jsonb NOT NULL DEFAULT '[]',
    CHECK (scope = 'incremental' OR (from_seq = 0 AND from_entry_id = 0)),
    CHECK (chain_ok = (broken_seq IS NULL)),
    CHECK (ledger_ok = (ledger_findings = 0))
);
CREATE INDEX verification_runs_scope_idx ON verification_runs (scope, id DESC);

--bun:split

-- The checkpoint: the last event and spend entry a passing run reached.
-- Incremental runs start after it; only a passing run moves it forward.
CREATE TABLE verification_checkpoint (
    id          integer PRIMARY KEY CHECK (id = 1),
    seq         bigint NOT NULL CHECK (seq >= 0),
    hash        bytea NOT NULL CHECK (length(hash) = 32),
    entry_id    bigint NOT NULL CHECK (entry_id >= 0),
    verified_at timestamptz
);
INSERT INTO verification_checkpoint (id, seq, hash, entry_id) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000', 0);
