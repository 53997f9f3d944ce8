-- When a configuration's attach to a ticket was first sent: a retry (its reply may have been lost)
-- lists the ticket's configurations before sending another.
ALTER TABLE tickets ADD COLUMN attach_started_ms BIGINT;
