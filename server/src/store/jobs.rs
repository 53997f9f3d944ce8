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

const LEASE_POSTGRES: &str = "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1, updated_ms = $3 \
     WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_after_ms <= $3) OR (state = 'running' AND lease_until_ms < $3) \
     ORDER BY run_after_ms, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, dedupe_key, payload, state, attempts, run_after_ms, lease_owner, lease_until_ms, last_error";

// SQLite has one writer at a time, so the same statement without row locks is already exclusive.
const LEASE_SQLITE: &str = "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until_ms = $2, attempts = attempts + 1, updated_ms = $3 \
     WHERE id IN (SELECT id FROM jobs WHERE (state = 'queued' AND run_after_ms <= $3) OR (state = 'running' AND lease_until_ms < $3) \
     ORDER BY run_after_ms, id LIMIT $4) \
     RETURNING id, kind, dedupe_key, payload, state, attempts, run_after_ms, lease_owner, lease_until_ms, last_error";

impl Store {
    /// Queues a job; `None` when a live job with the same key already exists.
    pub async fn enqueue(&self, job: &NewJob) -> Result<Option<i64>> {
        let now = now_ms();
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO jobs (kind, dedupe_key, payload, state, run_after_ms, created_ms, updated_ms) \
             VALUES ($1, $2, $3, 'queued', $4, $5, $5) \
             ON CONFLICT (dedupe_key) DO UPDATE SET state = 'queued', payload = excluded.payload, \
             run_after_ms = excluded.run_after_ms, attempts = 0, updated_ms = excluded.updated_ms \
             WHERE jobs.state = 'failed' RETURNING id",
        )
        .bind(&job.kind)
        .bind(&job.dedupe_key)
        .bind(&job.payload)
        .bind(job.run_after_ms)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Leases up to `limit` jobs that are due (or whose lease ran out) to `owner` until
    /// `now + lease_ms`.
    pub async fn lease_jobs(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let sql = match self.backend {
            Backend::Postgres => LEASE_POSTGRES,
            Backend::Sqlite => LEASE_SQLITE,
        };
        let rows = sqlx::query(sql)
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

    /// Marks a leased job done; false when the lease was lost meanwhile (another worker owns it).
    pub async fn complete_job(&self, id: i64, owner: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', dedupe_key = NULL, lease_owner = NULL, lease_until_ms = NULL, \
             last_error = NULL, updated_ms = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a failed attempt: queued again at `retry_at`, or failed for good (`None`: it
    /// waits for a person or a settings change).
    pub async fn fail_job(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool> {
        let error: String = error.chars().take(2000).collect();
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, run_after_ms = COALESCE($2, run_after_ms), last_error = $3, lease_owner = NULL, \
             lease_until_ms = NULL, updated_ms = $4 WHERE id = $5 AND lease_owner = $6 AND state = 'running'",
        )
        .bind(if retry_at.is_some() { "queued" } else { "failed" })
        .bind(retry_at)
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
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
