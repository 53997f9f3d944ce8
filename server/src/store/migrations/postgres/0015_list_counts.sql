-- Counts that stay fast at 100,000 devices and 1,000,000 activity rows (issue 19).
--
-- Each device carries its binding's state, kept by a trigger whatever writes the binding, so the
-- policies page's tally and the device list's state filter read one table through an index
-- instead of joining 100,000 bindings (store/bindings.rs, store/device_list.rs).
ALTER TABLE devices ADD COLUMN binding_state TEXT;
UPDATE devices SET binding_state = b.state FROM bindings b WHERE b.device_id = devices.id;
CREATE FUNCTION bindery_binding_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE devices SET binding_state = NULL
            WHERE id = OLD.device_id AND (TG_OP = 'DELETE' OR OLD.device_id <> NEW.device_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE devices SET binding_state = NEW.state
            WHERE id = NEW.device_id AND binding_state IS DISTINCT FROM NEW.state;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER bindings_state AFTER INSERT OR DELETE OR UPDATE OF state, device_id ON bindings
    FOR EACH ROW EXECUTE FUNCTION bindery_binding_state();
CREATE INDEX devices_policy_state ON devices(policy_id, retired_ms, binding_state);
CREATE INDEX devices_state ON devices(binding_state, id);
-- The activity log's filters: a kind of action (a prefix, compared byte by byte whatever the
-- database's collation) and the refused writes, each from its own index.
CREATE INDEX activity_action ON activity(action COLLATE "C", id);
CREATE INDEX activity_refused ON activity(id) WHERE ok = 0;
-- The start-up fill of search text written before it existed finds the devices without one
-- from this index instead of reading every device (a restart at 100,000 devices).
CREATE INDEX devices_search_text_missing ON devices(id) WHERE search_text IS NULL;
-- The alerts a maintenance window held, listed apart (store/alerts.rs).
CREATE INDEX alerts_held_list ON alerts(id) WHERE held_ms IS NOT NULL;
