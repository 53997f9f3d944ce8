-- Bindery's desired state and its record of ConnectWise. Times are milliseconds since the epoch.
CREATE TABLE policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    cw_company_id BIGINT,
    cw_company_name TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE enrollment_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_id BIGINT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    revoked_ms BIGINT,
    uses BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    policy_id BIGINT REFERENCES policies(id) ON DELETE SET NULL,
    serial TEXT,
    facts_json TEXT NOT NULL,
    facts_hash TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    enrolled_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    retired_ms BIGINT
);
CREATE INDEX devices_serial ON devices(serial);
CREATE INDEX devices_policy ON devices(policy_id);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_after_ms BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(state, run_after_ms);
