-- Monitoring: what each policy's agents watch (NULL: the defaults), the last alert event taken
-- from each device (replays at or below it are dropped), the alerts themselves, the help
-- requests of machines' users, and the ConnectWise tickets Bindery opens for both.
ALTER TABLE policies ADD COLUMN monitors_json TEXT;
ALTER TABLE devices ADD COLUMN alert_seq BIGINT NOT NULL DEFAULT 0;
-- Alert events the device's agent had to drop from its full spool (reported in check-ins).
ALTER TABLE devices ADD COLUMN alert_events_dropped BIGINT NOT NULL DEFAULT 0;

-- A ticket as the job runner last recorded it. `board` names which chosen board it goes on
-- ('monitoring' or 'self_service'); the board and statuses themselves are read from the settings
-- when the ticket is written. `want_closed` is what Bindery wants; `state` is what ConnectWise has.
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT REFERENCES devices(id) ON DELETE SET NULL,
    board TEXT NOT NULL,
    company_id BIGINT NOT NULL,
    summary TEXT NOT NULL,
    description TEXT NOT NULL,
    contact_name TEXT,
    want_closed BIGINT NOT NULL DEFAULT 0,
    close_note TEXT,
    state TEXT NOT NULL,
    error TEXT,
    cw_ticket_id BIGINT,
    attached_configuration_id BIGINT,
    create_started_ms BIGINT,
    close_started_ms BIGINT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX tickets_device ON tickets(device_id);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    monitor_id TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    summary TEXT NOT NULL,
    detail TEXT,
    value DOUBLE PRECISION,
    raised_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    end_note TEXT,
    repeats BIGINT NOT NULL DEFAULT 0,
    ticket_id BIGINT REFERENCES tickets(id) ON DELETE SET NULL,
    no_ticket_reason TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
-- One open alert per device, monitor and subject: a repeat is counted, never a second alert.
CREATE UNIQUE INDEX alerts_one_open ON alerts(device_id, monitor_id, subject) WHERE state = 'open';
CREATE INDEX alerts_state ON alerts(state, id);
CREATE INDEX alerts_device ON alerts(device_id, id);

CREATE TABLE help_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    request_id TEXT NOT NULL,
    user_name TEXT,
    summary TEXT NOT NULL,
    details TEXT,
    ticket_id BIGINT REFERENCES tickets(id) ON DELETE SET NULL,
    no_ticket_reason TEXT,
    created_ms BIGINT NOT NULL,
    UNIQUE (device_id, request_id)
);
