//! Alerts: a monitor's finding on a device, open until it resolves on the device or a person
//! closes it. At most one alert is open per device, monitor and subject; a raise while one is
//! open is counted on it. Events from an agent carry its sequence number, and a replay (a batch
//! sent again after a lost reply) is dropped by it.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::alert_events::AlertInput;
use super::conditions::{Arg, Conditions};
use super::tickets::{self, BRIEF_COLUMNS, TicketBrief, brief_from_row};
use super::{NewJob, Result, Store, StoreError, now_ms};
use crate::ids::{AlertId, DeviceId, PolicyId, TicketId};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum AlertState {
    Open,
    /// Its ticket was closed by a person in ConnectWise: still shown until the device resolves
    /// it, and its repeats open no ticket.
    Acknowledged,
    /// It resolved on the device (or the device came back, for "offline").
    Resolved,
    /// A person closed it.
    Closed,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
            AlertState::Closed => "closed",
        }
    }

    fn parse(s: &str) -> AlertState {
        match s {
            "resolved" => AlertState::Resolved,
            "acknowledged" => AlertState::Acknowledged,
            "closed" => AlertState::Closed,
            _ => AlertState::Open,
        }
    }
}

/// An alert as lists show it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: AlertId,
    pub device_id: DeviceId,
    pub agent_id: String,
    pub monitor_id: String,
    /// What the monitor looked at when it watches several things (a mount point); "" otherwise.
    pub subject: String,
    pub state: AlertState,
    pub summary: String,
    pub detail: Option<String>,
    pub value: Option<f64>,
    pub raised_ms: i64,
    pub ended_ms: Option<i64>,
    pub end_note: Option<String>,
    /// Raises seen while it was already open.
    pub repeats: i64,
    pub ticket: Option<TicketBrief>,
    /// Why no ticket was opened (the device's policy is not linked).
    pub no_ticket_reason: Option<String>,
    /// Raised inside a maintenance window: no ticket until then (`None` once released).
    pub held_until_ms: Option<i64>,
    /// When a maintenance window held it (kept after the release).
    pub held_ms: Option<i64>,
}

const COLUMNS: &str = "a.id, a.device_id, d.agent_id, a.monitor_id, a.subject, a.state, a.summary, a.detail, a.value, \
     a.raised_ms, a.ended_ms, a.end_note, a.repeats, a.no_ticket_reason, a.held_until_ms, a.held_ms";
const FROM: &str =
    "FROM alerts a JOIN devices d ON d.id = a.device_id LEFT JOIN tickets t ON t.id = a.ticket_id";

fn from_row(r: &AnyRow) -> std::result::Result<Alert, sqlx::Error> {
    Ok(Alert {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        agent_id: r.try_get("agent_id")?,
        monitor_id: r.try_get("monitor_id")?,
        subject: r.try_get("subject")?,
        state: AlertState::parse(&r.try_get::<String, _>("state")?),
        summary: r.try_get("summary")?,
        detail: r.try_get("detail")?,
        value: r.try_get("value")?,
        raised_ms: r.try_get("raised_ms")?,
        ended_ms: r.try_get("ended_ms")?,
        end_note: r.try_get("end_note")?,
        repeats: r.try_get("repeats")?,
        ticket: brief_from_row(r)?,
        no_ticket_reason: r.try_get("no_ticket_reason")?,
        held_until_ms: r.try_get("held_until_ms")?,
        held_ms: r.try_get("held_ms")?,
    })
}

/// What a batch of events did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertIntake {
    pub accepted: u32,
    pub duplicates: u32,
    /// The highest sequence number taken from the device so far.
    pub acked_through: i64,
}

/// Which alerts a list shows.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    pub device_id: Option<DeviceId>,
    pub policy_id: Option<PolicyId>,
    /// Only alerts a maintenance window held.
    pub held_only: bool,
    pub limit: i64,
    pub offset: i64,
}

impl Store {
    /// Records a device's alert events in order, in one transaction with the ticket jobs they
    /// ask for. Events at or below the device's last sequence number are replays and dropped.
    pub async fn record_alert_events(
        &self,
        device_id: DeviceId,
        events: &[AlertInput],
        job: &(dyn Fn(TicketId) -> NewJob + Sync),
    ) -> Result<AlertIntake> {
        let mut tx = self.begin_write().await?;
        // The no-op update locks the device's row on PostgreSQL: one batch per device at a time.
        let (mut last,): (i64,) = sqlx::query_as(
            "UPDATE devices SET alert_seq = alert_seq WHERE id = $1 RETURNING alert_seq",
        )
        .bind(device_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("device"))?;
        let mut intake = AlertIntake::default();
        for e in events {
            if let Some(seq) = e.seq {
                if seq <= last {
                    intake.duplicates += 1;
                    continue;
                }
                last = seq;
            }
            intake.accepted += 1;
            super::alert_events::apply_event(&mut tx, device_id, e, job).await?;
        }
        sqlx::query("UPDATE devices SET alert_seq = $1 WHERE id = $2")
            .bind(last)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        intake.acked_through = last;
        Ok(intake)
    }

    /// A person closes an open alert; its ticket closes with `note`. `None` when there is no
    /// such alert; a conflict when it is not open.
    pub async fn close_alert(
        &self,
        id: AlertId,
        note: &str,
        job: &(dyn Fn(TicketId) -> NewJob + Sync),
    ) -> Result<Option<Alert>> {
        let mut tx = self.begin_write().await?;
        let row: Option<(String, Option<TicketId>)> =
            sqlx::query_as("SELECT state, ticket_id FROM alerts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((state, ticket_id)) = row else {
            return Ok(None);
        };
        if state != "open" && state != "acknowledged" {
            return Err(StoreError::Conflict(format!(
                "the alert is already {state}"
            )));
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE alerts SET state = 'closed', ended_ms = $1, end_note = $2, updated_ms = $1 WHERE id = $3",
        )
        .bind(now)
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(t) = ticket_id {
            tickets::want_closed(&mut tx, t, note, job).await?;
        }
        tx.commit().await?;
        self.alert(id).await
    }

    pub async fn alert(&self, id: AlertId) -> Result<Option<Alert>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {BRIEF_COLUMNS} {FROM} WHERE a.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// A page of alerts, newest first, and how many match in all. Only the filters in use are
    /// asked for; the count and the page's ids read the alerts alone (the devices too for a
    /// policy), and only the page's rows are joined.
    pub async fn alerts(&self, f: &AlertFilter) -> Result<(Vec<Alert>, i64)> {
        let mut c = Conditions::default();
        if let Some(state) = f.state {
            let n = c.param(Arg::Text(state.as_str().to_owned()));
            c.push(format!("a.state = {n}"));
        }
        if let Some(device) = f.device_id {
            let n = c.param(Arg::Int(device.into()));
            c.push(format!("a.device_id = {n}"));
        }
        if let Some(policy) = f.policy_id {
            let n = c.param(Arg::Int(policy.into()));
            c.push(format!(
                "a.device_id IN (SELECT id FROM devices WHERE policy_id = {n})"
            ));
        }
        if f.held_only {
            c.push("a.held_ms IS NOT NULL");
        }
        let (rows, total) = c
            .newest_page(
                &self.pool,
                ("alerts", "a"),
                &format!("{COLUMNS}, {BRIEF_COLUMNS}"),
                "JOIN devices d ON d.id = a.device_id LEFT JOIN tickets t ON t.id = a.ticket_id",
                (f.limit, f.offset),
            )
            .await?;
        let alerts = rows
            .iter()
            .map(from_row)
            .collect::<std::result::Result<_, _>>()?;
        Ok((alerts, total))
    }

    /// Devices not seen since before `cutoff_ms` with no open alert of `monitor_id`: (device,
    /// policy, last seen). The caller applies each policy's own limit.
    pub async fn silent_devices(
        &self,
        cutoff_ms: i64,
        monitor_id: &str,
    ) -> Result<Vec<(DeviceId, Option<PolicyId>, i64)>> {
        Ok(sqlx::query_as(
            "SELECT d.id, d.policy_id, d.last_seen_ms FROM devices d WHERE d.retired_ms IS NULL AND d.last_seen_ms < $1 \
             AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = d.id AND a.monitor_id = $2 AND a.state IN ('open', 'acknowledged')) \
             ORDER BY d.id",
        )
        .bind(cutoff_ms)
        .bind(monitor_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The (monitor, subject) of every alert active on a device (open or acknowledged).
    pub async fn active_alert_keys(&self, device_id: DeviceId) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT monitor_id, subject FROM alerts WHERE device_id = $1 AND state IN ('open', 'acknowledged')",
        )
        .bind(device_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Devices with an open alert of `monitor_id` that were seen after it was raised.
    pub async fn seen_since_alert(&self, monitor_id: &str) -> Result<Vec<(DeviceId, i64)>> {
        Ok(sqlx::query_as(
            "SELECT d.id, d.last_seen_ms FROM alerts a JOIN devices d ON d.id = a.device_id \
             WHERE a.monitor_id = $1 AND a.state IN ('open', 'acknowledged') AND d.last_seen_ms > a.raised_ms ORDER BY d.id",
        )
        .bind(monitor_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
