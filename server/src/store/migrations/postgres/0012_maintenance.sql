-- Maintenance windows: each policy's schedule (JSON, see monitoring/maintenance.rs), and the
-- alerts a window held back from opening a ticket.
ALTER TABLE policies ADD COLUMN maintenance_json TEXT;
-- Held until then (NULL: not held, or released); when it was held (kept, for the console).
ALTER TABLE alerts ADD COLUMN held_until_ms BIGINT;
ALTER TABLE alerts ADD COLUMN held_ms BIGINT;
CREATE INDEX alerts_held ON alerts(held_until_ms) WHERE held_until_ms IS NOT NULL;
