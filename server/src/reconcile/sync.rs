//! Reading a company for its plan: the one paged read of its configurations, which of them are
//! Bindery devices', and what each device wants. The runner's sync carries the plan out; a
//! link's preview only shows it. Both come through here, so they plan from the same facts.

use std::collections::HashSet;

use bindery_shared::FactField;
use connectwise_client::Client;

use super::company::{self, CompanyPlan, DeviceInput, Preview};
use super::extras::ExtrasSource;
use super::fields;
use super::job_error::JobError;
use super::plan::{BindingSettings, Extras, Observed};
use crate::ids::{CompanyId, DeviceId, IntegrationId, PolicyId};
use crate::store::{BindingState, DeviceTarget, Store, now_ms};

/// A company as one read found it, planned.
pub struct CompanyRead {
    /// When the read started.
    pub taken_ms: i64,
    pub configurations: usize,
    /// The company's name, as its configurations carry it (none when it has none).
    pub company_name: Option<String>,
    pub inputs: Vec<DeviceInput>,
    pub plan: CompanyPlan,
}

/// Why a device whose stored facts were damaged outside the server (`facts_unreadable`)
/// cannot be planned. A device without a name (or any other fact) is planned like any other:
/// a new configuration then takes its agent id as its name (`fields::new_configuration`).
pub fn unreadable(t: &DeviceTarget) -> JobError {
    JobError::Permanent(format!(
        "the stored facts of device {} cannot be read (damaged in the database); its next \
         check-in writes them again",
        t.device_id
    ))
}

/// The devices that can be planned, and those whose facts cannot be read: one device's damage
/// stays that device's problem, never its company's.
pub fn split_readable(targets: Vec<DeviceTarget>) -> (Vec<DeviceTarget>, Vec<DeviceTarget>) {
    targets.into_iter().partition(|t| !t.facts_unreadable)
}

/// What the plan needs of a device.
fn input(
    t: &DeviceTarget,
    (integration, reading): (IntegrationId, CompanyId),
    extras: Extras,
) -> DeviceInput {
    // A configuration recorded in another company of this instance (the device is moving) is
    // known by id; one in another instance is that instance's to deactivate.
    let recorded_elsewhere = t.binding.as_ref().and_then(|b| {
        let (Some(other), Some(id)) = (b.company_id, b.configuration_id) else {
            return None;
        };
        if b.integration_id != integration {
            return None;
        }
        (b.state != BindingState::Inactive && other != reading).then(|| Observed {
            id,
            company_id: other,
            status_id: None,
            fields: Vec::new(),
            extras: Default::default(),
        })
    });
    DeviceInput {
        device_id: t.device_id,
        agent_id: t.agent_id.clone(),
        facts: t.facts.clone(),
        company_id: t.company_id,
        choice: t.choice,
        hold: t.hold(),
        mac_shared: t.mac_shared,
        recorded_elsewhere,
        extras,
    }
}

/// The devices a sync of `company_id` in `integration` looks at, each as seen from there.
pub async fn instance_targets(
    store: &Store,
    integration: IntegrationId,
    company_id: CompanyId,
) -> Result<Vec<DeviceTarget>, JobError> {
    Ok(store
        .company_targets(integration, company_id)
        .await?
        .into_iter()
        .map(|t| t.seen_from(integration))
        .collect())
}

/// Reads the company's configurations (one paged query) and plans `targets` against them
/// (devices whose facts can be read: see `split_readable`).
pub async fn read_company(
    store: &Store,
    client: &Client,
    integration: IntegrationId,
    company_id: CompanyId,
    targets: &[DeviceTarget],
    settings: &BindingSettings,
    source: ExtrasSource<'_>,
) -> Result<CompanyRead, JobError> {
    let taken_ms = now_ms();
    let read = client
        .company_configurations(company_id.0, &fields::read_fields(&settings.field_map))
        .await?;
    let company_name = read
        .iter()
        .filter_map(|c| c.company.as_ref())
        .find(|c| c.id == Some(company_id.0))
        .and_then(|c| c.name.clone());
    let configs: Vec<Observed> = read
        .iter()
        .filter_map(fields::observed)
        // Whatever a condition matched, only this company's configurations are planned on.
        .filter(|o| o.company_id == company_id)
        .collect();
    let identifiers: Vec<String> = configs
        .iter()
        .filter_map(|o| {
            o.fields
                .iter()
                .find(|(f, _)| *f == FactField::DeviceIdentifier)
                .and_then(|(_, v)| v.clone())
        })
        .filter(|v| !v.trim().is_empty())
        .collect();
    let mut owners: HashSet<String> = store.known_agent_ids(&identifiers).await?;
    owners.extend(targets.iter().map(|t| t.agent_id.to_lowercase()));
    let claimed = store
        .claimed_configurations(integration, company_id)
        .await?;
    let extras = source
        .wanted(store, client, company_id, targets, &configs)
        .await;
    let inputs = targets
        .iter()
        .zip(extras)
        .map(|(t, e)| input(t, (integration, company_id), e))
        .collect::<Vec<_>>();
    let plan = company::plan_company(company_id, &inputs, &configs, &owners, &claimed, settings);
    Ok(CompanyRead {
        taken_ms,
        configurations: configs.len(),
        company_name,
        inputs,
        plan,
    })
}

/// What linking `policy_id` to `company_id` would do, without writing anything: the reads of
/// one sync, planned by the same code the sync runs. Also the company's name, when its
/// configurations carry it.
pub async fn preview_link(
    store: &Store,
    client: &Client,
    policy_id: PolicyId,
    (integration, company_id): (IntegrationId, CompanyId),
    settings: &BindingSettings,
    source: ExtrasSource<'_>,
) -> Result<(Preview, Option<String>), JobError> {
    let (mut targets, _) = split_readable(instance_targets(store, integration, company_id).await?);
    let (policy, _) = split_readable(store.policy_targets(policy_id).await?);
    let policy: Vec<DeviceTarget> = policy
        .into_iter()
        .map(|mut t| {
            if !t.retired {
                t.company_id = Some(company_id);
                t.integration_id = Some(integration);
            }
            t
        })
        .collect();
    let ours: HashSet<DeviceId> = policy.iter().map(|t| t.device_id).collect();
    targets.retain(|t| !ours.contains(&t.device_id));
    targets.extend(policy);
    let read = read_company(
        store,
        client,
        integration,
        company_id,
        &targets,
        settings,
        source,
    )
    .await?;
    // Only the policy's devices are the link's doing; the others share the ownership rules.
    let (plans, inputs): (Vec<_>, Vec<_>) = read
        .plan
        .devices
        .iter()
        .zip(&read.inputs)
        .filter(|(p, _)| ours.contains(&p.device_id))
        .map(|(p, i)| (p.clone(), i.clone()))
        .unzip();
    let only_ours = CompanyPlan {
        devices: plans,
        unclaimed: read.plan.unclaimed.clone(),
    };
    Ok((
        company::preview(company_id, &only_ours, &inputs, settings),
        read.company_name,
    ))
}
