-- A service desk is a team (issue 34): each account has a role (every account made before roles
-- existed keeps all it could do: owner), personal API tokens (kept only as SHA-256 hashes, with
-- their own role, never above their account's), and the audit trail of every change made
-- through the operations layer.
ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'owner';

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    admin_id BIGINT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    last_used_ms BIGINT,
    revoked_ms BIGINT
);
CREATE INDEX api_tokens_of ON api_tokens(admin_id);

CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    via TEXT NOT NULL,
    address TEXT,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_at ON audit(at_ms);
