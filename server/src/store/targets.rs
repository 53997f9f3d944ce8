//! Devices as binding sees them (`DeviceTarget`): what each wants (its policy's linked company)
//! beside what was last recorded (its binding), read in one query for one device, a company, a
//! policy or all.

use std::collections::BTreeMap;

use bindery_shared::DeviceFacts;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::bindings::{candidates_from, choice_from};
use super::{Binding, BindingState, PersonChoice, Result, Store};
use crate::ids::{CompanyId, ConfigurationId, DeviceId, IntegrationId, PolicyId};

/// What Bindery last wrote into the field map's fields of a device's configuration, by field
/// (`modelNumber`, `customField:4`): a field that still holds it was not edited by a person.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrittenFields {
    pub configuration_id: Option<ConfigurationId>,
    pub fields: BTreeMap<String, String>,
}

/// A device as binding sees it: what it wants (`company_id`: its policy's linked company, or
/// `None` when retired, unlinked or without a policy) and what was last recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceTarget {
    pub device_id: DeviceId,
    pub agent_id: String,
    pub facts: DeviceFacts,
    pub policy_id: Option<PolicyId>,
    /// The instance of the company it wants (with `company_id`).
    pub integration_id: Option<IntegrationId>,
    pub company_id: Option<CompanyId>,
    /// Its policy's site in that company, if the link names one.
    pub site_id: Option<i64>,
    pub binding: Option<Binding>,
    /// What a person decided about its configuration.
    pub choice: PersonChoice,
    /// The device it may be a reinstall of (it waits for a person meanwhile).
    pub reinstall_of: Option<DeviceId>,
    pub retired: bool,
    /// Its MAC is also another live device's (a dock, a USB adapter, a cloned VM): it is
    /// still written to its configuration but never used to match one.
    pub mac_shared: bool,
    /// Its stored facts could not be read (damaged outside the server): it cannot be planned
    /// until its next check-in writes them again. `facts` is then empty.
    pub facts_unreadable: bool,
    /// What Bindery last wrote into its configuration's mapped fields.
    pub written: WrittenFields,
}

impl DeviceTarget {
    /// The device as a sync of one instance plans it: wanting nothing there when its policy's
    /// company is in another (company ids repeat across instances).
    pub fn seen_from(self, integration: IntegrationId) -> DeviceTarget {
        if self.integration_id == Some(integration) {
            return self;
        }
        DeviceTarget {
            integration_id: None,
            company_id: None,
            site_id: None,
            ..self
        }
    }

    /// The instance where its configuration is still active though it now belongs in another
    /// one (or in none): there it is deactivated first.
    pub fn leaving(&self) -> Option<IntegrationId> {
        let b = self.binding.as_ref()?;
        let active = b.state != BindingState::Inactive && b.company_id.is_some();
        (active && self.integration_id.is_some_and(|i| i != b.integration_id))
            .then_some(b.integration_id)
    }

    /// The instance its binding works in: its policy's, else the one its configuration is in.
    pub fn instance(&self) -> IntegrationId {
        self.integration_id
            .or(self.binding.as_ref().map(|b| b.integration_id))
            .unwrap_or(IntegrationId::FIRST)
    }

    /// Why the device may not be bound yet, for people.
    pub fn hold(&self) -> Option<String> {
        self.reinstall_of.map(|of| {
            format!(
                "possible reinstall of device {of}: approve it as the same machine, or keep it \
                 separate"
            )
        })
    }
}

const TARGET_SELECT: &str = "SELECT d.id AS device_id, d.agent_id, d.facts_json, d.policy_id, \
     CASE WHEN d.retired_ms IS NULL THEN p.cw_company_id ELSE NULL END AS want_company, \
     CASE WHEN d.retired_ms IS NULL AND p.cw_company_id IS NOT NULL THEN p.cw_integration_id ELSE NULL END AS want_integration, \
     p.cw_site_id AS want_site, \
     d.bind_choice, d.bind_configuration_id, d.reinstall_of, d.retired_ms, \
     CAST(CASE WHEN d.mac IS NOT NULL AND EXISTS (SELECT 1 FROM devices o WHERE o.mac = d.mac \
       AND o.id <> d.id AND o.retired_ms IS NULL AND o.merged_into IS NULL) THEN 1 ELSE 0 END AS BIGINT) AS mac_shared, \
     b.state, b.integration_id, b.company_id, b.configuration_id, b.error, b.updated_ms, b.write_started_ms, b.candidates, \
     b.written_json FROM devices d LEFT JOIN policies p ON p.id = d.policy_id LEFT JOIN bindings b ON b.device_id = d.id";

fn target_from_row(r: &AnyRow) -> Result<DeviceTarget> {
    let device_id: DeviceId = r.try_get("device_id")?;
    let state: Option<String> = r.try_get("state")?;
    let binding = match state {
        None => None,
        Some(state) => Some(Binding {
            device_id,
            state: BindingState::parse(&state)?,
            integration_id: r.try_get("integration_id")?,
            company_id: r.try_get("company_id")?,
            configuration_id: r.try_get("configuration_id")?,
            error: r.try_get("error")?,
            updated_ms: r.try_get("updated_ms")?,
            write_started_ms: r.try_get("write_started_ms")?,
            candidates: candidates_from(r.try_get("candidates")?),
        }),
    };
    let kind: Option<String> = r.try_get("bind_choice")?;
    let facts = super::devices::decode_facts(device_id, r.try_get("facts_json")?);
    Ok(DeviceTarget {
        device_id,
        agent_id: r.try_get("agent_id")?,
        mac_shared: r.try_get::<i64, _>("mac_shared")? != 0,
        facts_unreadable: facts.is_none(),
        facts: facts.unwrap_or_default(),
        policy_id: r.try_get("policy_id")?,
        integration_id: r.try_get("want_integration")?,
        company_id: r.try_get("want_company")?,
        site_id: r.try_get("want_site")?,
        binding,
        choice: choice_from(kind.as_deref(), r.try_get("bind_configuration_id")?),
        reinstall_of: r.try_get("reinstall_of")?,
        retired: r.try_get::<Option<i64>, _>("retired_ms")?.is_some(),
        // A damaged record reads as "nothing written": fields a person may own stay theirs.
        written: r
            .try_get::<Option<String>, _>("written_json")?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
    })
}

impl Store {
    /// One device's binding target; `None` when the device does not exist.
    pub async fn device_target(&self, device_id: DeviceId) -> Result<Option<DeviceTarget>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TARGET_SELECT} WHERE d.id = $1"
        )))
        .bind(device_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(target_from_row).transpose()
    }

    /// The binding targets of these devices (a page of a list), in one query.
    pub async fn targets_of(&self, ids: &[DeviceId]) -> Result<Vec<DeviceTarget>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let slots: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!("{TARGET_SELECT} WHERE d.id IN ({})", slots.join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(target_from_row).collect()
    }

    /// Every device a sync of `company_id` in `integration` must look at: those that should be
    /// bound there, and those still recorded there (active) that should not. Each half from its
    /// own index (an `OR` across the joins read all 100,000 devices: 2 s a sync under load on
    /// SQLite).
    pub async fn company_targets(
        &self,
        integration: IntegrationId,
        company_id: CompanyId,
    ) -> Result<Vec<DeviceTarget>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TARGET_SELECT} WHERE d.id IN (\
               SELECT w.id FROM devices w JOIN policies wp ON wp.id = w.policy_id \
               WHERE wp.cw_company_id = $2 AND wp.cw_integration_id = $1 AND w.retired_ms IS NULL \
               UNION SELECT device_id FROM bindings WHERE integration_id = $1 AND company_id = $2 \
               AND state <> 'inactive') \
             ORDER BY d.id"
        )))
        .bind(integration)
        .bind(company_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(target_from_row).collect()
    }

    /// The devices of a policy (retired ones included), with their binding.
    pub async fn policy_targets(&self, policy_id: PolicyId) -> Result<Vec<DeviceTarget>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{TARGET_SELECT} WHERE d.policy_id = $1 ORDER BY d.id"
        )))
        .bind(policy_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(target_from_row).collect()
    }
}
