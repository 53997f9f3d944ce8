//! What the dashboard counts, each in one grouped query: the fleet and how much of it is online,
//! binding states per instance, open alerts, recent help requests, and tickets opened per day.

use super::{Result, Store};
use crate::ids::IntegrationId;

/// The fleet at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dashboard {
    /// Devices not retired, and those seen since the online cutoff.
    pub devices: i64,
    pub online: i64,
    /// Devices of linked policies by instance and binding state (`pending` without a record).
    pub bindings: Vec<(IntegrationId, String, i64)>,
    pub open_alerts: i64,
    pub help_requests: i64,
    /// Tickets opened per UTC day (days since the epoch), oldest first; days without are absent.
    pub tickets_per_day: Vec<(i64, i64)>,
}

impl Store {
    /// The counts: online means seen at or after `online_since_ms`; help requests and tickets
    /// since `since_ms`.
    pub async fn dashboard(&self, online_since_ms: i64, since_ms: i64) -> Result<Dashboard> {
        let (devices, online): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN last_seen_ms >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM devices WHERE retired_ms IS NULL AND merged_into IS NULL",
        )
        .bind(online_since_ms)
        .fetch_one(&self.pool)
        .await?;
        let bindings: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT p.cw_integration_id, COALESCE(b.state, 'pending'), COUNT(*) FROM devices d \
             JOIN policies p ON p.id = d.policy_id LEFT JOIN bindings b ON b.device_id = d.id \
             WHERE d.retired_ms IS NULL AND d.merged_into IS NULL AND p.cw_company_id IS NOT NULL \
             GROUP BY p.cw_integration_id, COALESCE(b.state, 'pending') \
             ORDER BY p.cw_integration_id, COALESCE(b.state, 'pending')",
        )
        .fetch_all(&self.pool)
        .await?;
        let (open_alerts,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM alerts WHERE state IN ('open', 'acknowledged')")
                .fetch_one(&self.pool)
                .await?;
        let (help_requests,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM help_requests WHERE created_ms >= $1")
                .bind(since_ms)
                .fetch_one(&self.pool)
                .await?;
        let tickets_per_day: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT created_ms / 86400000, COUNT(*) FROM tickets WHERE created_ms >= $1 \
             GROUP BY created_ms / 86400000 ORDER BY created_ms / 86400000",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(Dashboard {
            devices,
            online,
            bindings: bindings
                .into_iter()
                .map(|(i, s, n)| (IntegrationId(i), s, n))
                .collect(),
            open_alerts,
            help_requests,
            tickets_per_day,
        })
    }
}
