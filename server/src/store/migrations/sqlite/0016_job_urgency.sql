-- A job's urgency is a column its kind sets when it is queued (reconcile/jobs/), not a kind
-- name written into the lease query: ticket jobs (a person waits for them) are leased before
-- bulk work. The index serves the lease's two branches as jobs_ready_kind did.
ALTER TABLE jobs ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET urgent = 1 WHERE kind = 'cw.ticket';
DROP INDEX jobs_ready_kind;
CREATE INDEX jobs_ready_urgent ON jobs(state, urgent, run_after_ms, id);
