//! Each device's binding to a ConnectWise configuration, and what a policy's icon shows: grey
//! (not linked), blue (linked, every device bound) or red (linked, some device not bound).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Policy, Result, Store, StoreError, now_ms};
use crate::ids::{CompanyId, ConfigurationId, DeviceId, IntegrationId, PolicyId};

/// A person's decision about which configuration a device is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", tag = "kind", content = "configurationId")]
pub enum PersonChoice {
    /// Bindery decides: its own configuration, else one clear match, else a new one.
    #[default]
    Auto,
    /// This configuration, whoever made it.
    Adopt(ConfigurationId),
    /// A new configuration, whatever matches.
    CreateNew,
}

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
    /// Bindery will not choose: several configurations could be this device, one is wanted by
    /// two devices, or the device may be a reinstall of another. `candidates` and `error` say
    /// which and why.
    NeedsPerson,
}

impl BindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingState::Pending => "pending",
            BindingState::Bound => "bound",
            BindingState::Failed => "failed",
            BindingState::Inactive => "inactive",
            BindingState::NeedsPerson => "needs_person",
        }
    }

    pub(super) fn parse(s: &str) -> Result<BindingState> {
        Ok(match s {
            "pending" => BindingState::Pending,
            "bound" => BindingState::Bound,
            "failed" => BindingState::Failed,
            "inactive" => BindingState::Inactive,
            "needs_person" => BindingState::NeedsPerson,
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
    pub device_id: DeviceId,
    pub state: BindingState,
    /// The ConnectWise instance its company and configuration are in.
    pub integration_id: IntegrationId,
    pub company_id: Option<CompanyId>,
    pub configuration_id: Option<ConfigurationId>,
    /// ConnectWise's error, as it gave it.
    pub error: Option<String>,
    pub updated_ms: i64,
    /// When a ConnectWise write for the device last started (kept by `mark_write_started`;
    /// `set_binding` leaves it alone).
    pub write_started_ms: Option<i64>,
    /// For `NeedsPerson`: the configurations the device could be.
    pub candidates: Vec<ConfigurationId>,
}

/// The stored form of a person's choice: `adopt` with a configuration id, or `create`.
pub(super) fn choice_from(
    kind: Option<&str>,
    configuration_id: Option<ConfigurationId>,
) -> PersonChoice {
    match (kind, configuration_id) {
        (Some("adopt"), Some(id)) => PersonChoice::Adopt(id),
        (Some("create"), _) => PersonChoice::CreateNew,
        _ => PersonChoice::Auto,
    }
}

pub(super) fn candidates_from(text: Option<String>) -> Vec<ConfigurationId> {
    text.map(|t| t.split(',').filter_map(|c| c.trim().parse().ok()).collect())
        .unwrap_or_default()
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

impl LinkState {
    /// `grey`, `blue` or `red`, as the API and the console name the icon.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Grey => "grey",
            LinkState::Blue => "blue",
            LinkState::Red => "red",
        }
    }
}

/// A policy's binding counts and the icon they make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyBindings {
    pub devices: i64,
    pub bound: i64,
    pub pending: i64,
    pub failed: i64,
    /// Waiting for a person (which configuration it is, or a possible reinstall).
    pub needs_person: i64,
    /// Bound nowhere, as meant: the configuration was set inactive (the policy was unlinked,
    /// the device moved out of a linked one), or the policy is not linked and the device was
    /// never bound. Never counted as pending.
    pub inactive: i64,
    pub link: LinkState,
}

impl Store {
    /// Records a device's binding (the job runner's result).
    pub async fn set_binding(&self, b: &Binding) -> Result<()> {
        let error: Option<String> = b.error.as_ref().map(|e| e.chars().take(2000).collect());
        let candidates = (!b.candidates.is_empty()).then(|| {
            b.candidates
                .iter()
                .take(50)
                .map(ConfigurationId::to_string)
                .collect::<Vec<_>>()
                .join(",")
        });
        sqlx::query(
            "INSERT INTO bindings (device_id, state, company_id, configuration_id, error, updated_ms, candidates, integration_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, \
             company_id = excluded.company_id, configuration_id = excluded.configuration_id, \
             error = excluded.error, updated_ms = excluded.updated_ms, candidates = excluded.candidates, \
             integration_id = excluded.integration_id",
        )
        .bind(b.device_id)
        .bind(b.state.as_str())
        .bind(b.company_id)
        .bind(b.configuration_id)
        .bind(error)
        .bind(now_ms())
        .bind(candidates)
        .bind(b.integration_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn binding(&self, device_id: DeviceId) -> Result<Option<Binding>> {
        let row = sqlx::query(
            "SELECT device_id, state, integration_id, company_id, configuration_id, error, updated_ms, \
             write_started_ms, candidates FROM bindings WHERE device_id = $1",
        )
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let state: String = r.try_get("state")?;
        Ok(Some(Binding {
            device_id: r.try_get("device_id")?,
            state: BindingState::parse(&state)?,
            integration_id: r.try_get("integration_id")?,
            company_id: r.try_get("company_id")?,
            configuration_id: r.try_get("configuration_id")?,
            error: r.try_get("error")?,
            updated_ms: r.try_get("updated_ms")?,
            write_started_ms: r.try_get("write_started_ms")?,
            candidates: candidates_from(r.try_get("candidates")?),
        }))
    }

    /// Notes, before a ConnectWise write for the device starts, that it is starting (a binding
    /// record is made, pending, if the device had none).
    pub async fn mark_write_started(&self, device_id: DeviceId, at_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO bindings (device_id, state, updated_ms, write_started_ms) VALUES ($1, 'pending', $2, $2) \
             ON CONFLICT (device_id) DO UPDATE SET write_started_ms = excluded.write_started_ms",
        )
        .bind(device_id)
        .bind(at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets when a write for the device last started: its writes in the instance it left
    /// are done, and a read of its new instance need not wait for them to show there.
    pub async fn forget_write_started(&self, device_id: DeviceId) -> Result<()> {
        sqlx::query("UPDATE bindings SET write_started_ms = NULL WHERE device_id = $1")
            .bind(device_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records what Bindery last wrote into the device's mapped configuration fields.
    pub async fn remember_written(
        &self,
        device_id: DeviceId,
        written: &super::WrittenFields,
    ) -> Result<()> {
        let json = serde_json::to_string(written).unwrap_or_default();
        sqlx::query("UPDATE bindings SET written_json = $2 WHERE device_id = $1")
            .bind(device_id)
            .bind(json)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks devices pending (a write for them was queued), keeping what is known of their
    /// configuration; the error of the last attempt stays visible until the next result.
    pub async fn mark_pending(&self, device_ids: &[DeviceId]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        for id in device_ids {
            sqlx::query(
                "INSERT INTO bindings (device_id, state, updated_ms) VALUES ($1, 'pending', $2) \
                 ON CONFLICT (device_id) DO UPDATE SET state = 'pending', updated_ms = excluded.updated_ms",
            )
            .bind(*id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every company a full re-sync visits, with its instance: those linked to a policy, and
    /// those where some configuration is still recorded as active.
    pub async fn companies_to_sync(&self) -> Result<Vec<(IntegrationId, CompanyId)>> {
        let rows: Vec<(IntegrationId, CompanyId)> = sqlx::query_as(
            "SELECT cw_integration_id, cw_company_id FROM policies WHERE cw_company_id IS NOT NULL \
             AND cw_integration_id IS NOT NULL \
             UNION SELECT integration_id, company_id FROM bindings WHERE company_id IS NOT NULL AND state <> 'inactive'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut ids: Vec<(IntegrationId, CompanyId)> = rows;
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The policy's active devices by binding state, and its icon (see `tally`).
    pub async fn policy_bindings(&self, policy_id: PolicyId) -> Result<PolicyBindings> {
        let policy = self.policy(policy_id).await?;
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT b.state, COUNT(*) FROM devices d LEFT JOIN bindings b ON b.device_id = d.id \
             WHERE d.policy_id = $1 AND d.retired_ms IS NULL GROUP BY b.state",
        )
        .bind(policy_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(tally(&policy, rows))
    }

    /// Every policy with its bindings' tally, in two queries whatever the number of policies
    /// (the policies page and `GET /policies` at 500 policies and 100,000 devices). The tally
    /// reads each device's copy of its binding's state (kept by triggers, migration 15) from an
    /// index, without joining the bindings.
    pub async fn policies_with_bindings(&self) -> Result<Vec<(Policy, PolicyBindings)>> {
        let rows: Vec<(PolicyId, Option<String>, i64)> = sqlx::query_as(
            "SELECT policy_id, binding_state, COUNT(*) FROM devices \
             WHERE policy_id IS NOT NULL AND retired_ms IS NULL GROUP BY policy_id, binding_state",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_policy: std::collections::HashMap<PolicyId, Vec<(Option<String>, i64)>> =
            std::collections::HashMap::new();
        for (policy, state, n) in rows {
            by_policy.entry(policy).or_default().push((state, n));
        }
        Ok(self
            .policies()
            .await?
            .into_iter()
            .map(|p| {
                let b = tally(&p, by_policy.remove(&p.id).unwrap_or_default());
                (p, b)
            })
            .collect())
    }

    /// Which of these agent ids (compared without case) belong to a Bindery device, retired and
    /// merged ones included: their configurations are never another device's to adopt.
    pub async fn known_agent_ids(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let mut known = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT lower(agent_id) FROM devices WHERE lower(agent_id) IN ({})",
                marks.join(",")
            );
            let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.to_lowercase());
            }
            known.extend(q.fetch_all(&self.pool).await?.into_iter().map(|(a,)| a));
        }
        Ok(known)
    }

    /// The configurations of a company that are recorded for a device: no other device adopts
    /// them.
    pub async fn claimed_configurations(
        &self,
        integration: IntegrationId,
        company_id: CompanyId,
    ) -> Result<std::collections::HashSet<ConfigurationId>> {
        let rows: Vec<(ConfigurationId,)> = sqlx::query_as(
            "SELECT configuration_id FROM bindings WHERE integration_id = $1 AND company_id = $2 \
             AND configuration_id IS NOT NULL",
        )
        .bind(integration)
        .bind(company_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Records a person's binding choice for a device (and clears a wait for one).
    pub async fn set_bind_choice(&self, device_id: DeviceId, choice: PersonChoice) -> Result<()> {
        let (kind, id) = match choice {
            PersonChoice::Auto => (None, None),
            PersonChoice::Adopt(id) => (Some("adopt"), Some(id)),
            PersonChoice::CreateNew => (Some("create"), None),
        };
        let done = sqlx::query(
            "UPDATE devices SET bind_choice = $1, bind_configuration_id = $2 WHERE id = $3",
        )
        .bind(kind)
        .bind(id)
        .bind(device_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("device"));
        }
        Ok(())
    }
}

/// A policy's devices by binding state (`None`: no binding record yet, so pending where the
/// policy is linked and inactive where it is not), and its icon: grey unlinked, blue when every
/// device is bound, red otherwise.
fn tally(policy: &Policy, rows: Vec<(Option<String>, i64)>) -> PolicyBindings {
    let mut s = PolicyBindings {
        devices: 0,
        bound: 0,
        pending: 0,
        failed: 0,
        needs_person: 0,
        inactive: 0,
        link: LinkState::Grey,
    };
    for (state, n) in rows {
        s.devices += n;
        match state.as_deref() {
            Some("bound") => s.bound += n,
            Some("failed") => s.failed += n,
            Some("needs_person") => s.needs_person += n,
            Some("inactive") => s.inactive += n,
            None if policy.cw_company_id.is_none() => s.inactive += n,
            _ => s.pending += n,
        }
    }
    s.link = match policy.cw_company_id {
        None => LinkState::Grey,
        Some(_) if s.bound == s.devices => LinkState::Blue,
        Some(_) => LinkState::Red,
    };
    s
}
