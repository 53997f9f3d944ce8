-- 100,000 devices (issue 19).
-- A lease reads each kind of due job in order straight from an index and stops at its limit
-- (store/jobs.rs): the ticket jobs first, whatever else is queued.
CREATE INDEX jobs_ready_kind ON jobs(state, kind, run_after_ms, id);
-- The device list's binding-state filter (store/device_list.rs).
CREATE INDEX bindings_state ON bindings(state);
