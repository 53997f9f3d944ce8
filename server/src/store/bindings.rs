//! Each device's binding to a ConnectWise configuration, and what a policy's icon shows: grey
//! (not linked), blue (linked, every device bound) or red (linked, some device not bound).

use sqlx::Row;

use super::{Result, Store, StoreError, now_ms};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingState {
    /// A write is queued or running.
    Pending,
    /// The configuration exists, is active and carries the device's facts.
    Bound,
    /// ConnectWise refused the write; `error` says why, and it waits for a person.
    Failed,
    /// The configuration was set to the inactive status (device left, policy unlinked, retired).
    Inactive,
}

impl BindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingState::Pending => "pending",
            BindingState::Bound => "bound",
            BindingState::Failed => "failed",
            BindingState::Inactive => "inactive",
        }
    }

    fn parse(s: &str) -> Result<BindingState> {
        Ok(match s {
            "pending" => BindingState::Pending,
            "bound" => BindingState::Bound,
            "failed" => BindingState::Failed,
            "inactive" => BindingState::Inactive,
            other => {
                return Err(StoreError::Conflict(format!(
                    "unknown binding state {other:?} in the database"
                )));
            }
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub device_id: i64,
    pub state: BindingState,
    pub company_id: Option<i64>,
    pub configuration_id: Option<i64>,
    /// ConnectWise's error, as it gave it.
    pub error: Option<String>,
    pub updated_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Not linked to a company.
    Grey,
    /// Linked, and every device of the policy is bound.
    Blue,
    /// Linked, and some device is pending, failed or not yet bound.
    Red,
}

/// A policy's binding counts and the icon they make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyBindings {
    pub devices: i64,
    pub bound: i64,
    pub pending: i64,
    pub failed: i64,
    pub link: LinkState,
}

impl Store {
    /// Records a device's binding (the job runner's result).
    pub async fn set_binding(&self, b: &Binding) -> Result<()> {
        let error: Option<String> = b.error.as_ref().map(|e| e.chars().take(2000).collect());
        sqlx::query(
            "INSERT INTO bindings (device_id, state, company_id, configuration_id, error, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, \
             company_id = excluded.company_id, configuration_id = excluded.configuration_id, \
             error = excluded.error, updated_ms = excluded.updated_ms",
        )
        .bind(b.device_id)
        .bind(b.state.as_str())
        .bind(b.company_id)
        .bind(b.configuration_id)
        .bind(error)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn binding(&self, device_id: i64) -> Result<Option<Binding>> {
        let row = sqlx::query(
            "SELECT device_id, state, company_id, configuration_id, error, updated_ms FROM bindings WHERE device_id = $1",
        )
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let state: String = r.try_get("state")?;
        Ok(Some(Binding {
            device_id: r.try_get("device_id")?,
            state: BindingState::parse(&state)?,
            company_id: r.try_get("company_id")?,
            configuration_id: r.try_get("configuration_id")?,
            error: r.try_get("error")?,
            updated_ms: r.try_get("updated_ms")?,
        }))
    }

    /// The policy's active devices by binding state, and its icon. A device without a binding
    /// record in a linked policy counts as pending.
    pub async fn policy_bindings(&self, policy_id: i64) -> Result<PolicyBindings> {
        let policy = self.policy(policy_id).await?;
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT b.state, COUNT(*) FROM devices d LEFT JOIN bindings b ON b.device_id = d.id \
             WHERE d.policy_id = $1 AND d.retired_ms IS NULL GROUP BY b.state",
        )
        .bind(policy_id)
        .fetch_all(&self.pool)
        .await?;
        let mut s = PolicyBindings {
            devices: 0,
            bound: 0,
            pending: 0,
            failed: 0,
            link: LinkState::Grey,
        };
        for (state, n) in rows {
            s.devices += n;
            match state.as_deref() {
                Some("bound") => s.bound += n,
                Some("failed") => s.failed += n,
                _ => s.pending += n,
            }
        }
        s.link = match policy.cw_company_id {
            None => LinkState::Grey,
            Some(_) if s.bound == s.devices => LinkState::Blue,
            Some(_) => LinkState::Red,
        };
        Ok(s)
    }
}
