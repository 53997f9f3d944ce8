//! Policies: groups of devices, each optionally linked to a ConnectWise company.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, is_unique_violation, now_ms};
use crate::ids::{CompanyId, IntegrationId, PolicyId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub id: PolicyId,
    pub name: String,
    /// The ConnectWise instance of the linked company, when linked.
    pub cw_integration_id: Option<IntegrationId>,
    /// The linked ConnectWise company, when linked.
    pub cw_company_id: Option<CompanyId>,
    pub cw_company_name: Option<String>,
    /// The company's site its devices' configurations and tickets carry (none: ConnectWise's
    /// default, and a site a person set is left alone).
    pub cw_site: Option<SiteRef>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A ConnectWise site as a policy keeps it: its id, and its name for people.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SiteRef {
    pub id: i64,
    pub name: String,
}

const COLUMNS: &str = "id, name, cw_integration_id, cw_company_id, cw_company_name, cw_site_id, \
     cw_site_name, created_ms, updated_ms";

fn from_row(r: &AnyRow) -> std::result::Result<Policy, sqlx::Error> {
    Ok(Policy {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        cw_integration_id: r.try_get("cw_integration_id")?,
        cw_company_id: r.try_get("cw_company_id")?,
        cw_company_name: r.try_get("cw_company_name")?,
        cw_site: r
            .try_get::<Option<i64>, _>("cw_site_id")?
            .map(|id| -> std::result::Result<SiteRef, sqlx::Error> {
                Ok(SiteRef {
                    id,
                    name: r
                        .try_get::<Option<String>, _>("cw_site_name")?
                        .unwrap_or_default(),
                })
            })
            .transpose()?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

/// Policy names: 1–100 characters after trimming, no control characters.
fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StoreError::Conflict(
            "a policy name must be 1-100 characters without control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

impl Store {
    pub async fn create_policy(&self, name: &str) -> Result<Policy> {
        let name = check_name(name)?;
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO policies (name, created_ms, updated_ms) VALUES ($1, $2, $2) \
             RETURNING id, name, cw_integration_id, cw_company_id, cw_company_name, cw_site_id, \
             cw_site_name, created_ms, updated_ms",
        )
        .bind(&name)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("a policy named {name:?} exists"))
            } else {
                e.into()
            }
        })?;
        Ok(from_row(&row)?)
    }

    pub async fn policy(&self, id: PolicyId) -> Result<Policy> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM policies WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("policy"))?;
        Ok(from_row(&row)?)
    }

    pub async fn policies(&self) -> Result<Vec<Policy>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM policies ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    pub async fn rename_policy(&self, id: PolicyId, name: &str) -> Result<Policy> {
        let name = check_name(name)?;
        let done = sqlx::query("UPDATE policies SET name = $1, updated_ms = $2 WHERE id = $3")
            .bind(&name)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("a policy named {name:?} exists"))
                } else {
                    e.into()
                }
            })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("policy"));
        }
        self.policy(id).await
    }

    /// Deletes a policy; its devices stay, without a policy (their configurations are then
    /// deactivated by the reconciler), and its enrollment tokens go with it.
    pub async fn delete_policy(&self, id: PolicyId) -> Result<()> {
        let done = sqlx::query("DELETE FROM policies WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("policy"));
        }
        Ok(())
    }

    /// Links the policy to a company of the first integration (no site), or unlinks it (`None`).
    pub async fn link_policy(
        &self,
        id: PolicyId,
        company: Option<(CompanyId, &str)>,
    ) -> Result<Policy> {
        let company = company.map(|(c, name)| (IntegrationId::FIRST, c, name));
        self.link_policy_at(id, company, None).await
    }

    /// Links the policy to a company and, when given, one of its sites (checked by the caller
    /// with ConnectWise), in one write; or unlinks it (`None`, which drops the site too).
    pub async fn link_policy_at(
        &self,
        id: PolicyId,
        company: Option<(IntegrationId, CompanyId, &str)>,
        site: Option<&SiteRef>,
    ) -> Result<Policy> {
        let (integration, company_id, company_name) = match company {
            Some((i, cid, name)) => (Some(i), Some(cid), Some(name.to_owned())),
            None => (None, None, None),
        };
        let site = site.filter(|_| company_id.is_some());
        let done = sqlx::query(
            "UPDATE policies SET cw_integration_id = $1, cw_company_id = $2, cw_company_name = $3, \
             cw_site_id = $4, cw_site_name = $5, updated_ms = $6 WHERE id = $7",
        )
        .bind(integration)
        .bind(company_id)
        .bind(company_name)
        .bind(site.map(|s| s.id))
        .bind(site.map(|s| s.name.clone()))
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("policy"));
        }
        self.policy(id).await
    }

    /// The policy's monitor settings as stored (`None`: the defaults).
    pub async fn policy_monitors(&self, id: PolicyId) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT monitors_json FROM policies WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(json,)| json)
            .ok_or(StoreError::NotFound("policy"))
    }

    /// Replaces the policy's monitor settings (`None`: back to the defaults).
    pub async fn set_policy_monitors(&self, id: PolicyId, json: Option<&str>) -> Result<()> {
        let done =
            sqlx::query("UPDATE policies SET monitors_json = $1, updated_ms = $2 WHERE id = $3")
                .bind(json)
                .bind(now_ms())
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("policy"));
        }
        Ok(())
    }
}
