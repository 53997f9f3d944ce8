-- A job asked for again while it runs is run once more after it finishes (what it read may be
-- stale), rather than dropped or run twice at once.
ALTER TABLE jobs ADD COLUMN rerun BIGINT NOT NULL DEFAULT 0;
-- When a ConnectWise write for the device last started: a list read before then may not show it,
-- so it cannot stand in for a fresh lookup.
ALTER TABLE bindings ADD COLUMN write_started_ms BIGINT;
CREATE INDEX bindings_company ON bindings(company_id);
