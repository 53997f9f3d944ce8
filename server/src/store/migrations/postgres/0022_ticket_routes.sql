-- Ticket routing rules (issue 33): the route a ticket was opened with (board and statuses, type,
-- subtype, item, priority, source, severity, impact, and the rule's name) as JSON; none: the
-- kind's board from the choices, as before there were rules. A rule change leaves it alone.
ALTER TABLE tickets ADD COLUMN route_json TEXT;
