-- 100,000 devices (issue 19).
-- A lease reads each kind of due job in order straight from an index and stops at its limit
-- (store/jobs.rs): the ticket jobs first, whatever else is queued.
CREATE INDEX jobs_ready_kind ON jobs(state, kind, run_after_ms, id);
-- The device list's binding-state filter (store/device_list.rs).
CREATE INDEX bindings_state ON bindings(state);
-- The device list's search is a substring (`LIKE '%…%'`): trigram indexes serve it. pg_trgm ships
-- with PostgreSQL and a database owner may create it; where it is not allowed the search still
-- works, scanning, and the server says nothing more about it than this notice.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX devices_search_trgm ON devices USING gin (search_text gin_trgm_ops);
    CREATE INDEX devices_agent_trgm ON devices USING gin (agent_id gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): the device search scans', SQLERRM;
END
$$;
