//! Retention: the rows that only record the past go once they are older than the retention
//! setting, a small batch at a time, so a check-in never waits behind one long delete.
//!
//! - the activity log, and the audit trail;
//! - alerts that have ended (resolved or closed), once their ticket is closed in ConnectWise or
//!   they have none;
//! - help requests, once their ticket is closed or they have none;
//! - tickets that are closed (or were deleted in ConnectWise) and that nothing points at any more;
//! - done jobs (their own, shorter setting).
//!
//! Open and acknowledged alerts, held ones, and tickets still open are never touched, however old.

use super::{Result, Store};

/// How many rows of each kind one [`Store::prune_batch`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub activity: u64,
    pub audit: u64,
    pub alerts: u64,
    pub help_requests: u64,
    pub tickets: u64,
    pub jobs: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.activity + self.audit + self.alerts + self.help_requests + self.tickets + self.jobs
    }

    /// Whether some kind filled its batch (more may be waiting).
    pub fn full(&self, batch: i64) -> bool {
        let batch = batch.max(0) as u64;
        [
            self.activity,
            self.audit,
            self.alerts,
            self.help_requests,
            self.tickets,
            self.jobs,
        ]
        .iter()
        .any(|n| *n >= batch)
    }

    fn add(&mut self, other: Pruned) {
        self.activity += other.activity;
        self.audit += other.audit;
        self.alerts += other.alerts;
        self.help_requests += other.help_requests;
        self.tickets += other.tickets;
        self.jobs += other.jobs;
    }
}

/// A ticket that is finished: closed by Bindery or a person, or deleted in ConnectWise.
const TICKET_FINISHED_BEFORE: &str = "(t.closed_ms IS NOT NULL AND t.closed_ms < $1) OR (t.deleted_ms IS NOT NULL AND t.deleted_ms < $1)";

impl Store {
    /// Removes at most `batch` rows of each kind: history older than `history_before_ms`, done
    /// jobs older than `jobs_before_ms`.
    pub async fn prune_batch(
        &self,
        history_before_ms: i64,
        jobs_before_ms: i64,
        batch: i64,
    ) -> Result<Pruned> {
        let run = async |sql: String, before: i64| -> Result<u64> {
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(before)
                .bind(batch)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        };
        let activity = run(
            "DELETE FROM activity WHERE id IN \
             (SELECT id FROM activity WHERE at_ms < $1 ORDER BY id LIMIT $2)"
                .into(),
            history_before_ms,
        )
        .await?;
        let audit = run(
            "DELETE FROM audit WHERE id IN \
             (SELECT id FROM audit WHERE at_ms < $1 ORDER BY id LIMIT $2)"
                .into(),
            history_before_ms,
        )
        .await?;
        let alerts = run(
            format!(
                "DELETE FROM alerts WHERE id IN (SELECT a.id FROM alerts a \
                 LEFT JOIN tickets t ON t.id = a.ticket_id \
                 WHERE a.ended_ms IS NOT NULL AND a.ended_ms < $1 \
                 AND a.state IN ('resolved', 'closed') \
                 AND (a.ticket_id IS NULL OR {TICKET_FINISHED_BEFORE}) \
                 ORDER BY a.id LIMIT $2)"
            ),
            history_before_ms,
        )
        .await?;
        let help_requests = run(
            format!(
                "DELETE FROM help_requests WHERE id IN (SELECT h.id FROM help_requests h \
                 LEFT JOIN tickets t ON t.id = h.ticket_id \
                 WHERE h.created_ms < $1 AND (h.ticket_id IS NULL OR {TICKET_FINISHED_BEFORE}) \
                 ORDER BY h.id LIMIT $2)"
            ),
            history_before_ms,
        )
        .await?;
        let tickets = run(
            format!(
                "DELETE FROM tickets WHERE id IN (SELECT t.id FROM tickets t \
                 WHERE ({TICKET_FINISHED_BEFORE}) \
                 AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.ticket_id = t.id) \
                 AND NOT EXISTS (SELECT 1 FROM help_requests h WHERE h.ticket_id = t.id) \
                 ORDER BY t.id LIMIT $2)"
            ),
            history_before_ms,
        )
        .await?;
        let jobs = run(
            "DELETE FROM jobs WHERE id IN \
             (SELECT id FROM jobs WHERE state = 'done' AND updated_ms < $1 ORDER BY id LIMIT $2)"
                .into(),
            jobs_before_ms,
        )
        .await?;
        Ok(Pruned {
            activity,
            audit,
            alerts,
            help_requests,
            tickets,
            jobs,
        })
    }

    /// Prunes batch after batch until nothing old is left, pausing between batches so that
    /// check-ins and jobs get the database in between.
    pub async fn prune(
        &self,
        history_before_ms: i64,
        jobs_before_ms: i64,
        batch: i64,
        pause: std::time::Duration,
    ) -> Result<Pruned> {
        let mut all = Pruned::default();
        loop {
            let one = self
                .prune_batch(history_before_ms, jobs_before_ms, batch)
                .await?;
            all.add(one);
            if !one.full(batch) {
                return Ok(all);
            }
            tokio::time::sleep(pause).await;
        }
    }
}
