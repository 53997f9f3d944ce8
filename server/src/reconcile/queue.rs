//! What gets queued, and when: the events that ask for jobs
//! (a policy linked or unlinked, a device enrolled, changed, moved or retired, "Sync now",
//! "Retry Pending"). These only write to the store, so the admin commands of another process
//! can call them; the runner of any server picks the jobs up.

use super::adoption::Candidacy;
use super::plan::Observed;
use crate::ids::{CompanyId, DeviceId, IntegrationId, PolicyId, TicketId};
use crate::store::{BindingState, DeviceTarget, NewJob, Result, Store, now_ms};

pub use super::jobs::{
    BindDevice, JobKind, PollTickets, Snapshot, SyncCompany, TicketCheck, TicketWork,
    WRITE_VISIBLE_AFTER_MS, Work,
};

pub fn sync_job(integration: IntegrationId, company_id: CompanyId) -> NewJob {
    SyncCompany {
        integration,
        company_id,
    }
    .job()
}

pub fn bind_job(device_id: DeviceId, snapshot: Option<Snapshot>) -> NewJob {
    BindDevice {
        device_id,
        snapshot: snapshot.map(Box::new),
    }
    .job()
}

pub fn ticket_job(ticket_id: TicketId) -> NewJob {
    TicketWork { ticket_id }.job()
}

pub fn ticket_check_job(ticket_id: TicketId) -> NewJob {
    TicketCheck { ticket_id }.job()
}

pub fn poll_tickets_job(integration: IntegrationId) -> NewJob {
    PollTickets { integration }.job()
}

/// Queues every ticket ConnectWise refused again (after the settings changed); returns how many.
pub async fn retry_failed_tickets(store: &Store) -> Result<usize> {
    let ids = store.failed_tickets().await?;
    let jobs: Vec<NewJob> = ids.iter().map(|id| ticket_job(*id)).collect();
    store.enqueue_many(&jobs).await?;
    Ok(ids.len())
}

/// Queues a sync of one company of an instance ("Sync now", a link).
pub async fn sync_company(
    store: &Store,
    integration: IntegrationId,
    company_id: CompanyId,
) -> Result<i64> {
    store.enqueue(&sync_job(integration, company_id)).await
}

pub use super::resync::{SYNC_REQUESTS, resync_spacing_ms, sync_all};

/// The job a device needs after a change to it (enrolled, new facts, moved, retired, its
/// policy unlinked or deleted), if any.
pub fn device_job(t: &DeviceTarget) -> Option<NewJob> {
    if t.company_id.is_some() {
        // It should be bound somewhere: look it up everywhere (it may be moving).
        return Some(bind_job(t.device_id, None));
    }
    let b = t.binding.as_ref()?;
    if b.state == BindingState::Inactive {
        return None;
    }
    // It should be bound nowhere: what we recorded is enough to deactivate it without a read.
    let snapshot = match (b.company_id, b.configuration_id) {
        (Some(company_id), Some(id)) => Some(Snapshot {
            integration: b.integration_id,
            taken_ms: now_ms(),
            observed: vec![Observed {
                id,
                company_id,
                status_id: None,
                fields: Vec::new(),
                extras: Default::default(),
            }],
            candidacy: Candidacy::Nothing,
        }),
        _ => None,
    };
    Some(bind_job(t.device_id, snapshot))
}

/// Queues what a changed device needs; true when something was queued.
pub async fn device_changed(store: &Store, device_id: DeviceId) -> Result<bool> {
    let Some(target) = store.device_target(device_id).await? else {
        return Ok(false);
    };
    let Some(job) = device_job(&target) else {
        return Ok(false);
    };
    // Pending first: a job that ran at once must not have its result overwritten.
    store.mark_pending(&[device_id]).await?;
    store.enqueue(&job).await?;
    Ok(true)
}

/// After a policy was linked (or linked to another company, maybe of another instance): a sync
/// of its company binds its devices (and their jobs take them out of the old company, in its
/// own instance); they show pending meanwhile.
pub async fn policy_linked(store: &Store, policy_id: PolicyId) -> Result<()> {
    let policy = store.policy(policy_id).await?;
    if let (Some(integration), Some(company)) = (policy.cw_integration_id, policy.cw_company_id) {
        let targets = store.policy_targets(policy_id).await?;
        let live: Vec<DeviceId> = targets
            .iter()
            .filter(|t| t.company_id.is_some())
            .map(|t| t.device_id)
            .collect();
        store.mark_pending(&live).await?;
        sync_company(store, integration, company).await?;
    }
    Ok(())
}

/// After a policy was unlinked or deleted (pass its devices as read before): each device bound
/// through it is deactivated, all queued in one transaction.
pub async fn devices_released(store: &Store, targets: &[DeviceTarget]) -> Result<usize> {
    let jobs: Vec<(DeviceId, NewJob)> = targets
        .iter()
        .filter_map(|t| {
            let released = DeviceTarget {
                integration_id: None,
                company_id: None,
                site_id: None,
                ..t.clone()
            };
            device_job(&released).map(|j| (t.device_id, j))
        })
        .collect();
    let (ids, jobs): (Vec<DeviceId>, Vec<NewJob>) = jobs.into_iter().unzip();
    store.mark_pending(&ids).await?;
    store.enqueue_many(&jobs).await?;
    Ok(ids.len())
}

/// Unlinks a policy and queues the deactivation of its devices' configurations; returns the
/// policy and how many devices that is.
pub async fn unlink_policy(
    store: &Store,
    policy_id: PolicyId,
) -> Result<(crate::store::Policy, usize)> {
    let before = store.policy_targets(policy_id).await?;
    let p = store.link_policy(policy_id, None).await?;
    let n = devices_released(store, &before).await?;
    Ok((p, n))
}

/// Deletes a policy and queues the deactivation of its devices' configurations.
pub async fn delete_policy(store: &Store, policy_id: PolicyId) -> Result<usize> {
    let before = store.policy_targets(policy_id).await?;
    store.delete_policy(policy_id).await?;
    devices_released(store, &before).await
}

/// "Retry Pending": every device of the policy not bound is tried again now, whatever its
/// backoff or failure, through one sync of the company. Returns how many devices that is.
pub async fn retry_pending(store: &Store, policy_id: PolicyId) -> Result<usize> {
    let policy = store.policy(policy_id).await?;
    let (Some(integration), Some(company)) = (policy.cw_integration_id, policy.cw_company_id)
    else {
        return Ok(0);
    };
    let unbound: Vec<DeviceId> = store
        .policy_targets(policy_id)
        .await?
        .into_iter()
        .filter(|t| {
            t.company_id.is_some()
                && t.binding
                    .as_ref()
                    .is_none_or(|b| b.state != BindingState::Bound)
        })
        .map(|t| t.device_id)
        .collect();
    store.mark_pending(&unbound).await?;
    sync_company(store, integration, company).await?;
    Ok(unbound.len())
}
