//! The activity log: every ConnectWise write the job runner made, when, on what, and whether
//! ConnectWise took it (with its words when not). Kept for the retention setting (retention.rs).

use super::{Result, Store, now_ms};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub id: i64,
    pub at_ms: i64,
    /// `configuration.create`, `configuration.update`, `configuration.adopt`,
    /// `configuration.deactivate`,
    /// `ticket.create`, `ticket.attach`, `ticket.note`, `ticket.close`.
    pub action: String,
    /// What it was about, for people: a device's name and agent id, a ticket's summary.
    pub subject: String,
    /// The ConnectWise record's id, when known.
    pub cw_id: Option<i64>,
    pub ok: bool,
    /// ConnectWise's error, when it refused; for an adoption, each field before and after.
    pub detail: Option<String>,
}

impl Store {
    /// Records one write. A failure to record is logged, never fails the write itself.
    pub async fn record_activity(
        &self,
        action: &str,
        subject: &str,
        cw_id: Option<i64>,
        outcome: std::result::Result<(), &str>,
    ) {
        self.record_activity_detail(action, subject, cw_id, outcome.is_ok(), outcome.err())
            .await;
    }

    /// Records one write with its detail: ConnectWise's refusal, or (for an adoption) what
    /// changed.
    pub async fn record_activity_detail(
        &self,
        action: &str,
        subject: &str,
        cw_id: Option<i64>,
        ok: bool,
        detail: Option<&str>,
    ) {
        let subject: String = subject.chars().take(200).collect();
        let detail = detail.map(|d| d.chars().take(2000).collect::<String>());
        let done = sqlx::query(
            "INSERT INTO activity (at_ms, action, subject, cw_id, ok, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now_ms())
        .bind(action)
        .bind(&subject)
        .bind(cw_id)
        .bind(i64::from(ok))
        .bind(&detail)
        .execute(&self.pool)
        .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, action, "cannot record activity");
        }
    }

    /// A page of the log, newest first, and how many entries match in all. `action` filters by
    /// prefix (`ticket.`), `failed_only` keeps refusals.
    pub async fn activity(
        &self,
        action: &str,
        failed_only: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Activity>, i64)> {
        let filter = "WHERE action LIKE $1 AND ($2 = 0 OR ok = 0)";
        // LIKE's own characters are taken out: the filter is a plain prefix.
        let pattern = format!("{}%", action.replace(['\\', '%', '_'], ""));
        let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM activity {filter}"
        )))
        .bind(&pattern)
        .bind(i64::from(failed_only))
        .fetch_one(&self.pool)
        .await?;
        type Row = (i64, i64, String, String, Option<i64>, i64, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, at_ms, action, subject, cw_id, ok, detail FROM activity {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
        )))
        .bind(&pattern)
        .bind(i64::from(failed_only))
        .bind(limit.clamp(1, 500))
        .bind(offset.max(0))
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.into_iter()
                .map(|(id, at_ms, action, subject, cw_id, ok, detail)| Activity {
                    id,
                    at_ms,
                    action,
                    subject,
                    cw_id,
                    ok: ok != 0,
                    detail,
                })
                .collect(),
            total,
        ))
    }
}
