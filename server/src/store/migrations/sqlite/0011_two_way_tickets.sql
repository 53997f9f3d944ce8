-- Tickets both ways: what ConnectWise people did to Bindery's tickets, and one thread per
-- incident (repeat notes, reopening).
-- When Bindery finished closing a ticket, and whether its board's close rule left it open with
-- a note instead (a person had worked it).
ALTER TABLE tickets ADD COLUMN closed_ms BIGINT;
ALTER TABLE tickets ADD COLUMN left_open BIGINT NOT NULL DEFAULT 0;
-- A person closed it in ConnectWise (their member identifier), or deleted it.
ALTER TABLE tickets ADD COLUMN closed_by TEXT;
ALTER TABLE tickets ADD COLUMN deleted_ms BIGINT;
-- A "still failing" note waiting to be added, and when the last one was asked for (at most
-- one an hour).
ALTER TABLE tickets ADD COLUMN repeat_note TEXT;
ALTER TABLE tickets ADD COLUMN repeat_noted_ms BIGINT;
-- The alert came back after the ticket was closed: reopen it with this note.
ALTER TABLE tickets ADD COLUMN reopen_note TEXT;
CREATE INDEX tickets_open_in_cw ON tickets(state, cw_ticket_id);
CREATE INDEX tickets_cw_id ON tickets(cw_ticket_id);

-- An acknowledged alert (its ticket closed by a person) is still the one active alert of its
-- monitor: a repeat counts on it, never opens another.
DROP INDEX alerts_one_open;
CREATE UNIQUE INDEX alerts_one_active ON alerts(device_id, monitor_id, subject) WHERE state IN ('open', 'acknowledged');

-- Callback messages already taken (ConnectWise may send one twice): dropped by MessageId.
CREATE TABLE callback_messages (
    message_id TEXT PRIMARY KEY,
    received_ms BIGINT NOT NULL
);
CREATE INDEX callback_messages_age ON callback_messages(received_ms);
