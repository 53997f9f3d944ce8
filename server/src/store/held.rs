//! Alerts a maintenance window held back from opening a ticket, and their release when it ends:
//! one still raised opens its ticket then; one resolved meanwhile is only recorded.

use super::tickets::{self, NewTicket};
use super::{NewJob, Result, Store, now_ms};
use crate::ids::{AlertId, DeviceId, PolicyId, TicketId};

/// What a resolved held alert says instead of a ticket.
pub const RESOLVED_IN_WINDOW: &str = "resolved inside a maintenance window";

/// A held alert whose window has ended, with what its ticket needs.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldAlert {
    pub id: AlertId,
    pub device_id: DeviceId,
    pub policy_id: Option<PolicyId>,
    pub state: String,
    pub monitor_id: String,
    pub subject: String,
    pub summary: String,
    pub detail: Option<String>,
    pub value: Option<f64>,
    pub raised_ms: i64,
}

/// What to do with a held alert whose window ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Release {
    /// Another window holds it on: until then.
    HoldUntil(i64),
    /// Still raised: open this ticket (or record why there is none).
    Ticket(std::result::Result<Box<NewTicket>, String>),
}

impl Store {
    /// Held alerts whose window has ended by `now_ms`, oldest first, at most `limit`.
    pub async fn held_alerts_due(&self, now_ms: i64, limit: i64) -> Result<Vec<HeldAlert>> {
        type Row = (
            AlertId,
            DeviceId,
            Option<PolicyId>,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<f64>,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.id, a.device_id, d.policy_id, a.state, a.monitor_id, a.subject, a.summary, \
             a.detail, a.value, a.raised_ms FROM alerts a JOIN devices d ON d.id = a.device_id \
             WHERE a.held_until_ms IS NOT NULL AND a.held_until_ms <= $1 ORDER BY a.held_until_ms, a.id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| HeldAlert {
                id: r.0,
                device_id: r.1,
                policy_id: r.2,
                state: r.3,
                monitor_id: r.4,
                subject: r.5,
                summary: r.6,
                detail: r.7,
                value: r.8,
                raised_ms: r.9,
            })
            .collect())
    }

    /// Releases one held alert. An alert no longer raised (resolved, or closed by a person) is
    /// recorded as resolved inside the window and nothing else, whatever `release` says. Another
    /// server releasing it first makes this a no-op. True when a ticket was asked for.
    pub async fn release_held(
        &self,
        id: AlertId,
        release: &Release,
        job: &(dyn Fn(TicketId) -> NewJob + Sync),
    ) -> Result<bool> {
        // Immediate on SQLite: it reads, then writes; a deferred transaction fails with
        // "database is locked" when the engine commits in between.
        let mut tx = self.begin_write().await?;
        let row: Option<(String,)> =
            sqlx::query_as("SELECT state FROM alerts WHERE id = $1 AND held_until_ms IS NOT NULL")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((state,)) = row else {
            return Ok(false);
        };
        let now = now_ms();
        let still_raised = state == "open";
        let (ticket_id, reason, until) = match release {
            _ if !still_raised => (None, Some(RESOLVED_IN_WINDOW.to_owned()), None),
            Release::HoldUntil(t) => (None, None, Some(*t)),
            Release::Ticket(Ok(t)) => (
                Some(tickets::insert_ticket(&mut tx, t, job).await?),
                None,
                None,
            ),
            Release::Ticket(Err(why)) => (None, Some(why.clone()), None),
        };
        sqlx::query(
            "UPDATE alerts SET held_until_ms = $1, ticket_id = COALESCE($2, ticket_id), \
             no_ticket_reason = COALESCE($3, no_ticket_reason), updated_ms = $4 WHERE id = $5",
        )
        .bind(until)
        .bind(ticket_id)
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ticket_id.is_some())
    }

    /// The policy's maintenance windows as stored (`None`: none).
    pub async fn policy_maintenance(&self, id: PolicyId) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT maintenance_json FROM policies WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(json,)| json)
            .ok_or(super::StoreError::NotFound("policy"))
    }

    /// Replaces the policy's maintenance windows (`None`: no windows).
    pub async fn set_policy_maintenance(&self, id: PolicyId, json: Option<&str>) -> Result<()> {
        let done =
            sqlx::query("UPDATE policies SET maintenance_json = $1, updated_ms = $2 WHERE id = $3")
                .bind(json)
                .bind(now_ms())
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(super::StoreError::NotFound("policy"));
        }
        Ok(())
    }
}

impl Store {
    /// How many of the policy's devices' alerts a window holds now.
    pub async fn held_alert_count(&self, policy: PolicyId) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM alerts a JOIN devices d ON d.id = a.device_id \
             WHERE a.held_until_ms IS NOT NULL AND d.policy_id = $1",
        )
        .bind(policy)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }
}
