//! Integrations: the ConnectWise instances this server talks to, each a named record. What each
//! one holds (site, keys, boards, statuses) is kept in `settings` under names of its own
//! (`integration::setting_name`); removing one removes them too.

use serde::Serialize;

use super::{Result, Store, StoreError, is_unique_violation, now_ms};
use crate::ids::IntegrationId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub id: IntegrationId,
    pub name: String,
    pub created_ms: i64,
    /// Its own ConnectWise request budget a minute; none: the server's.
    pub requests_per_minute: Option<i64>,
    /// Policies linked to one of its companies (it cannot be removed while any are).
    pub linked_policies: i64,
}

/// Integration names: 1–100 characters after trimming, no control characters.
fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StoreError::Conflict(
            "an integration name must be 1-100 characters without control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

fn named_twice(e: sqlx::Error, name: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(format!("an integration named {name:?} exists already"))
    } else {
        e.into()
    }
}

const SELECT: &str = "SELECT i.id, i.name, i.created_ms, i.requests_per_minute, \
     (SELECT COUNT(*) FROM policies p WHERE p.cw_integration_id = i.id AND p.cw_company_id IS NOT NULL) AS linked \
     FROM integrations i";

type Row = (IntegrationId, String, i64, Option<i64>, i64);

fn from_row((id, name, created_ms, requests_per_minute, linked_policies): Row) -> Integration {
    Integration {
        id,
        name,
        created_ms,
        requests_per_minute,
        linked_policies,
    }
}

impl Store {
    /// Every integration, oldest first.
    pub async fn integrations(&self) -> Result<Vec<Integration>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY i.id")))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    pub async fn integration(&self, id: IntegrationId) -> Result<Integration> {
        let row: Option<Row> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE i.id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(from_row).ok_or(StoreError::NotFound("integration"))
    }

    pub async fn create_integration(&self, name: &str) -> Result<Integration> {
        let name = check_name(name)?;
        let (id,): (IntegrationId,) = sqlx::query_as(
            "INSERT INTO integrations (name, created_ms) VALUES ($1, $2) RETURNING id",
        )
        .bind(&name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| named_twice(e, &name))?;
        self.integration(id).await
    }

    pub async fn rename_integration(&self, id: IntegrationId, name: &str) -> Result<Integration> {
        let name = check_name(name)?;
        let done = sqlx::query("UPDATE integrations SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| named_twice(e, &name))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("integration"));
        }
        self.integration(id).await
    }

    /// Sets its own request budget a minute (`None`: the server's).
    pub async fn set_integration_budget(
        &self,
        id: IntegrationId,
        requests_per_minute: Option<i64>,
    ) -> Result<Integration> {
        let done = sqlx::query("UPDATE integrations SET requests_per_minute = $1 WHERE id = $2")
            .bind(requests_per_minute)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("integration"));
        }
        self.integration(id).await
    }

    /// Removes the integration and its settings (`settings`: their names), in one transaction;
    /// refused while a policy links to one of its companies or a configuration there is active.
    pub async fn delete_integration(&self, id: IntegrationId, settings: &[String]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let (linked,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM policies WHERE cw_integration_id = $1 AND cw_company_id IS NOT NULL",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if linked > 0 {
            return Err(StoreError::Conflict(format!(
                "{linked} polic{} linked to this integration's companies: unlink or move them first",
                if linked == 1 { "y is" } else { "ies are" }
            )));
        }
        // Unlinking deactivates the configurations in jobs: removing the keys before those ran
        // would leave them active in ConnectWise for good.
        let (active,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM bindings WHERE integration_id = $1 AND state IN ('bound', 'pending') \
             AND configuration_id IS NOT NULL",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if active > 0 {
            return Err(StoreError::Conflict(format!(
                "{active} configuration(s) in this instance are still active: wait for the unlink to \
                 deactivate them (or retry them) first"
            )));
        }
        let done = sqlx::query("DELETE FROM integrations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("integration"));
        }
        for name in settings {
            sqlx::query("DELETE FROM settings WHERE key = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The integration requests name when they name none: the oldest (the one a server that
    /// predates several instances has). `None` when every integration was removed.
    pub async fn default_integration(&self) -> Result<Option<IntegrationId>> {
        let row: Option<(IntegrationId,)> =
            sqlx::query_as("SELECT id FROM integrations ORDER BY id LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id,)| id))
    }
}
