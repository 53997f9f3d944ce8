//! The audit trail: every change made through the operations layer, once, with who made it
//! (account, API token or the command line), how, from which address, and what: the act, its
//! object and a short account of the change (never a secret). Kept by the retention setting.

use super::{Result, Store, now_ms};

/// One change.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    /// The account's name, or `cli:<user>` for the command line.
    pub actor: String,
    /// `session`, `token 4` or `cli`.
    pub via: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// `policy.link`, `account.role`, …
    pub action: String,
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What a page of the trail is filtered by.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// An action, or a prefix of one ending in `.` (`policy.`).
    pub action: Option<String>,
    pub since_ms: Option<i64>,
    /// Entries older than this id (the next page).
    pub before_id: Option<i64>,
    pub limit: i64,
}

type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
);

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn record_audit(
        &self,
        actor: &str,
        via: &str,
        address: Option<&str>,
        action: &str,
        object: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        let bounded = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        sqlx::query(
            "INSERT INTO audit (at_ms, actor, via, address, action, object, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now_ms())
        .bind(bounded(actor, 100))
        .bind(via)
        .bind(address)
        .bind(action)
        .bind(bounded(object, 300))
        .bind(detail.map(|d| bounded(d, 2000)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A page of the trail, newest first.
    pub async fn audit(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let action = f.action.as_deref().map(|a| match a.strip_suffix('.') {
            Some(prefix) => format!("{prefix}.%"),
            None => a.to_owned(),
        });
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at_ms, actor, via, address, action, object, detail FROM audit \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action LIKE $2) \
             AND ($3 IS NULL OR at_ms >= $3) AND ($4 IS NULL OR id < $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(f.actor.as_deref())
        .bind(action)
        .bind(f.since_ms)
        .bind(f.before_id)
        .bind(f.limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.0,
                at_ms: r.1,
                actor: r.2,
                via: r.3,
                address: r.4,
                action: r.5,
                object: r.6,
                detail: r.7,
            })
            .collect())
    }
}
