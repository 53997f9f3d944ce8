//! The durable job queue (outbox): every ConnectWise write is a row here before it is tried.
//! Workers lease jobs for a while; a lease that runs out (a crashed worker) makes the job
//! available again. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several servers lease from one
//! queue without ever handing the same job to two of them.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Result, Store, now_ms};

#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    /// At most one live job per key (a device's binding, an alert's ticket): enqueueing again
    /// while one is queued or running adds nothing; a failed one is queued again.
    pub dedupe_key: Option<String>,
    pub payload: String,
    pub run_after_ms: i64,
    /// Leased before every job that is not (a ticket: a person waits for it).
    pub urgent: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: Option<String>,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub run_after_ms: i64,
    pub lease_owner: Option<String>,
    pub lease_until_ms: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

const COLUMNS: &str = "id, kind, dedupe_key, payload, state, attempts, run_after_ms, lease_owner, lease_until_ms, last_error";

fn from_row(r: &AnyRow) -> std::result::Result<Job, sqlx::Error> {
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        dedupe_key: r.try_get("dedupe_key")?,
        payload: r.try_get("payload")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        run_after_ms: r.try_get("run_after_ms")?,
        lease_owner: r.try_get("lease_owner")?,
        lease_until_ms: r.try_get("lease_until_ms")?,
        last_error: r.try_get("last_error")?,
    })
}

/// The jobs a lease may take, best first: urgent jobs that are due, other jobs that are due,
/// then jobs whose lease ran out. Each branch walks an index (`jobs_ready_urgent`, migration 16)
/// and stops at the limit, so a lease costs the same with 100,000 jobs queued as with ten;
/// sorting every due job by priority took 50 ms and more there, under the write lock. `{lock}`
/// is PostgreSQL's row lock (SQLite has one writer at a time, so its statement is already
/// exclusive).
const LEASE: &str = "WITH due AS (\
     SELECT id, 0 AS rank, run_after_ms AS at FROM (SELECT id, run_after_ms FROM jobs \
       WHERE state = 'queued' AND urgent = 1 AND run_after_ms <= $3 \
       ORDER BY run_after_ms, id LIMIT $4{lock}) tickets \
     UNION ALL SELECT id, 1, run_after_ms FROM (SELECT id, run_after_ms FROM jobs \
       WHERE state = 'queued' AND urgent = 0 AND run_after_ms <= $3 \
       ORDER BY run_after_ms, id LIMIT $4{lock}) others \
     UNION ALL SELECT id, 2, lease_until_ms FROM (SELECT id, lease_until_ms FROM jobs \
       WHERE state = 'running' AND lease_until_ms < $3 ORDER BY lease_until_ms, id LIMIT $4{lock}) lapsed) \
     UPDATE jobs SET state = 'running', lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1, updated_ms = $3 \
     WHERE id IN (SELECT id FROM due ORDER BY rank, at, id LIMIT $4) \
     RETURNING id, kind, dedupe_key, payload, state, attempts, run_after_ms, lease_owner, lease_until_ms, last_error";

const ENQUEUE: &str = "INSERT INTO jobs (kind, dedupe_key, payload, state, run_after_ms, created_ms, updated_ms, urgent) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $5, $6) \
             ON CONFLICT (dedupe_key) DO UPDATE SET payload = excluded.payload, \
             rerun = CASE WHEN jobs.state = 'running' THEN 1 ELSE 0 END, \
             attempts = CASE WHEN jobs.state = 'failed' THEN 0 ELSE jobs.attempts END, \
             run_after_ms = CASE WHEN jobs.state = 'running' THEN jobs.run_after_ms \
                 WHEN jobs.state = 'failed' OR excluded.run_after_ms < jobs.run_after_ms THEN excluded.run_after_ms \
                 ELSE jobs.run_after_ms END, \
             state = CASE WHEN jobs.state = 'running' THEN 'running' ELSE 'queued' END, \
             updated_ms = excluded.updated_ms \
             RETURNING id";

/// The insert of `job` queued at `now` ([`ENQUEUE`]), answering its id.
fn enqueue_query(
    job: &NewJob,
    now: i64,
) -> sqlx::query::QueryAs<'_, sqlx::Any, (i64,), sqlx::any::AnyArguments> {
    sqlx::query_as(ENQUEUE)
        .bind(&job.kind)
        .bind(&job.dedupe_key)
        .bind(&job.payload)
        .bind(job.run_after_ms)
        .bind(now)
        .bind(i32::from(job.urgent))
}

/// Queues a job inside the caller's transaction (with the change that asks for it), as
/// [`Store::enqueue`] would.
pub(crate) async fn enqueue_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    job: &NewJob,
) -> Result<i64> {
    let (id,): (i64,) = enqueue_query(job, now_ms()).fetch_one(&mut **tx).await?;
    Ok(id)
}

impl Store {
    /// Queues a job and returns its id. At most one live job per key: asking again for a queued
    /// job replaces its payload (and brings it forward); asking for a running one makes it run
    /// once more after it finishes (what it read may already be stale); a failed one is queued
    /// afresh.
    pub async fn enqueue(&self, job: &NewJob) -> Result<i64> {
        let now = now_ms();
        let (id,): (i64,) = enqueue_query(job, now).fetch_one(&self.pool).await?;
        Ok(id)
    }

    /// Queues many jobs in one transaction (a sync's writes), each as `enqueue` would.
    pub async fn enqueue_many(&self, jobs: &[NewJob]) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for job in jobs {
            enqueue_query(job, now).fetch_one(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues `jobs` only if the setting `key` still holds `seen` (`None`: not set yet), and
    /// sets it to `value` in the same transaction; false when another server got there first.
    /// Two servers seeing the same periodic work due thus queue it once between them.
    pub async fn enqueue_many_claiming(
        &self,
        jobs: &[NewJob],
        key: &str,
        seen: Option<&str>,
        value: &str,
    ) -> Result<bool> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let claimed = match seen {
            Some(seen) => sqlx::query(
                "UPDATE settings SET value = $1, updated_ms = $2 WHERE key = $3 AND value = $4",
            )
            .bind(value)
            .bind(now)
            .bind(key)
            .bind(seen),
            None => sqlx::query(
                "INSERT INTO settings (key, value, updated_ms) VALUES ($3, $1, $2) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(value)
            .bind(now)
            .bind(key),
        }
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            tx.rollback().await?;
            return Ok(false);
        }
        for job in jobs {
            enqueue_query(job, now).fetch_one(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Leases up to `limit` jobs that are due (or whose lease ran out) to `owner` until
    /// `now + lease_ms`. Ticket jobs go first: a person waits for a ticket, while bindings are
    /// bulk work that a few seconds' delay does not hurt.
    pub async fn lease_jobs(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(LEASE.replace("{lock}", lock)))
            .bind(owner)
            .bind(now + lease_ms)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Marks a leased job done (or queues it once more if it was asked for while it ran); false
    /// when the lease was lost meanwhile (another worker owns it).
    pub async fn complete_job(&self, id: i64, owner: &str) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET state = CASE WHEN rerun = 1 THEN 'queued' ELSE 'done' END, \
             dedupe_key = CASE WHEN rerun = 1 THEN dedupe_key ELSE NULL END, \
             attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END, \
             run_after_ms = CASE WHEN rerun = 1 THEN $1 ELSE run_after_ms END, \
             rerun = 0, lease_owner = NULL, lease_until_ms = NULL, last_error = NULL, updated_ms = $1 \
             WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a failed attempt: queued again at `retry_at`, or failed for good (`None`: it
    /// waits for a person or a settings change) unless it was asked for again while it ran.
    pub async fn fail_job(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool> {
        let error: String = error.chars().take(2000).collect();
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE jobs SET state = CASE WHEN $1 >= 0 OR rerun = 1 THEN 'queued' ELSE 'failed' END, \
             run_after_ms = CASE WHEN $1 >= 0 THEN $1 ELSE $2 END, rerun = 0, last_error = $3, \
             lease_owner = NULL, lease_until_ms = NULL, updated_ms = $2 \
             WHERE id = $4 AND lease_owner = $5 AND state = 'running'",
        )
        .bind(retry_at.unwrap_or(-1))
        .bind(now)
        .bind(error)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Extends the lease of a job still running under `owner`; false when it is no longer ours.
    pub async fn renew_lease(&self, id: i64, owner: &str, until_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(until_ms)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Hands every running job back to the queue: for a server that owns its database alone
    /// (SQLite), at start, since no one else can be running them. Attempts are kept, so a write
    /// that may have happened is looked up before it is tried again.
    pub async fn requeue_running(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until_ms = NULL, \
             run_after_ms = $1, updated_ms = $1 WHERE state = 'running'",
        )
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The job holding this key (queued, running or failed), if any.
    pub async fn keyed_job(&self, dedupe_key: &str) -> Result<Option<Job>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM jobs WHERE dedupe_key = $1"
        )))
        .bind(dedupe_key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    pub async fn job(&self, id: i64) -> Result<Option<Job>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM jobs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    pub async fn job_counts(&self) -> Result<JobCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let mut c = JobCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "queued" => c.queued = n,
                "running" => c.running = n,
                "done" => c.done = n,
                "failed" => c.failed = n,
                _ => {}
            }
        }
        Ok(c)
    }
}
