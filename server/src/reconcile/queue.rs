//! What gets queued, and when: the binding jobs' payloads, and the events that ask for them
//! (a policy linked or unlinked, a device enrolled, changed, moved or retired, "Sync now",
//! "Retry Pending"). These only write to the store, so the admin commands of another process
//! can call them; the runner of any server picks the jobs up.

use serde::{Deserialize, Serialize};

use super::adoption::Candidacy;
use super::plan::Observed;
use crate::ids::{CompanyId, DeviceId, PolicyId, TicketId};
use crate::store::{BindingState, DeviceTarget, NewJob, Result, Store, now_ms};

/// The stored kinds (see `Work`).
pub const SYNC_COMPANY: &str = "cw.sync_company";
pub const BIND_DEVICE: &str = "cw.bind_device";
pub const TICKET: &str = "cw.ticket";
pub const TICKET_CHECK: &str = "cw.ticket_check";
pub const POLL_TICKETS: &str = "cw.poll_tickets";

/// Read every configuration of a company in one paged query, and queue the writes it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCompany {
    pub company_id: CompanyId,
}

/// Bring one device's configurations in line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindDevice {
    pub device_id: DeviceId,
    /// What a read already showed, so the first attempt needs no read of its own. Without one,
    /// or when it may be stale (a retry, or a write since), the job looks the device up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot>,
}

/// Bring one ticket in line with what Bindery wants of it (open, attached, closed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketWork {
    pub ticket_id: TicketId,
}

/// Re-read one ticket that ConnectWise said changed, and act on what a person did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketCheck {
    pub ticket_id: TicketId,
}

/// Read the status of every ticket Bindery has open in ConnectWise (1,000 per request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollTickets {}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// When the read that produced it started.
    pub taken_ms: i64,
    pub observed: Vec<Observed>,
    /// What the device could adopt, as the company's read found it.
    #[serde(default)]
    pub candidacy: Candidacy,
}

/// A write started less than this long before a read may not show in it (a request can take up
/// to the client's 30 s timeout to land).
pub const WRITE_VISIBLE_AFTER_MS: i64 = 60_000;

impl Snapshot {
    /// True when the snapshot can stand in for a fresh lookup of the device.
    pub fn usable(&self, attempts: i64, write_started_ms: Option<i64>) -> bool {
        attempts <= 1 && write_started_ms.is_none_or(|w| w < self.taken_ms - WRITE_VISIBLE_AFTER_MS)
    }
}

/// Every kind of job, with its payload: the one place a stored job's kind string meets its
/// type. Stored as the kind (`cw.sync_company`, `cw.bind_device`, `cw.ticket`, as servers have
/// always written them) and the payload's JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum Work {
    #[serde(rename = "cw.sync_company")]
    SyncCompany(SyncCompany),
    #[serde(rename = "cw.bind_device")]
    BindDevice(BindDevice),
    #[serde(rename = "cw.ticket")]
    Ticket(TicketWork),
    #[serde(rename = "cw.ticket_check")]
    TicketCheck(TicketCheck),
    #[serde(rename = "cw.poll_tickets")]
    PollTickets(PollTickets),
}

impl Work {
    pub fn kind(&self) -> &'static str {
        match self {
            Work::SyncCompany(_) => SYNC_COMPANY,
            Work::BindDevice(_) => BIND_DEVICE,
            Work::Ticket(_) => TICKET,
            Work::TicketCheck(_) => TICKET_CHECK,
            Work::PollTickets(_) => POLL_TICKETS,
        }
    }

    /// At most one live job per key: a company's sync, a device's binding, a ticket.
    fn dedupe_key(&self) -> String {
        match self {
            Work::SyncCompany(p) => format!("sync:{}", p.company_id),
            Work::BindDevice(p) => format!("bind:{}", p.device_id),
            Work::Ticket(p) => format!("ticket:{}", p.ticket_id),
            Work::TicketCheck(p) => format!("ticket-check:{}", p.ticket_id),
            Work::PollTickets(_) => "poll-tickets".into(),
        }
    }

    /// The row to store, due now.
    pub fn to_job(&self) -> NewJob {
        let payload = match self {
            Work::SyncCompany(p) => serde_json::to_string(p),
            Work::BindDevice(p) => serde_json::to_string(p),
            Work::Ticket(p) => serde_json::to_string(p),
            Work::TicketCheck(p) => serde_json::to_string(p),
            Work::PollTickets(p) => serde_json::to_string(p),
        };
        NewJob {
            kind: self.kind().into(),
            dedupe_key: Some(self.dedupe_key()),
            // Plain structs of numbers and strings always encode.
            payload: payload.unwrap_or_default(),
            run_after_ms: now_ms(),
        }
    }

    /// A stored job's work; a kind this server does not know (written by a newer one) or a
    /// damaged payload is an error saying which.
    pub fn from_job(kind: &str, payload: &str) -> std::result::Result<Work, String> {
        let payload: serde_json::Value = serde_json::from_str(payload)
            .map_err(|e| format!("the job's payload is damaged: {e}"))?;
        if ![
            SYNC_COMPANY,
            BIND_DEVICE,
            TICKET,
            TICKET_CHECK,
            POLL_TICKETS,
        ]
        .contains(&kind)
        {
            return Err(format!(
                "unknown job kind {kind:?} (written by a newer server?)"
            ));
        }
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
            .map_err(|e| format!("the job's payload is damaged: {e}"))
    }
}

pub fn sync_job(company_id: CompanyId) -> NewJob {
    Work::SyncCompany(SyncCompany { company_id }).to_job()
}

pub fn bind_job(device_id: DeviceId, snapshot: Option<Snapshot>) -> NewJob {
    Work::BindDevice(BindDevice {
        device_id,
        snapshot,
    })
    .to_job()
}

pub fn ticket_job(ticket_id: TicketId) -> NewJob {
    Work::Ticket(TicketWork { ticket_id }).to_job()
}

pub fn ticket_check_job(ticket_id: TicketId) -> NewJob {
    Work::TicketCheck(TicketCheck { ticket_id }).to_job()
}

pub fn poll_tickets_job() -> NewJob {
    Work::PollTickets(PollTickets {}).to_job()
}

/// Queues every ticket ConnectWise refused again (after the settings changed); returns how many.
pub async fn retry_failed_tickets(store: &Store) -> Result<usize> {
    let ids = store.failed_tickets().await?;
    let jobs: Vec<NewJob> = ids.iter().map(|id| ticket_job(*id)).collect();
    store.enqueue_many(&jobs).await?;
    Ok(ids.len())
}

/// Queues a sync of one company ("Sync now", a link).
pub async fn sync_company(store: &Store, company_id: CompanyId) -> Result<i64> {
    store.enqueue(&sync_job(company_id)).await
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

/// After a policy was linked (or linked to another company): a sync of its company binds its
/// devices (and takes them out of the old company); they show pending meanwhile.
pub async fn policy_linked(store: &Store, policy_id: PolicyId) -> Result<()> {
    let policy = store.policy(policy_id).await?;
    if let Some(company) = policy.cw_company_id {
        let targets = store.policy_targets(policy_id).await?;
        let live: Vec<DeviceId> = targets
            .iter()
            .filter(|t| t.company_id.is_some())
            .map(|t| t.device_id)
            .collect();
        store.mark_pending(&live).await?;
        sync_company(store, company).await?;
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
                company_id: None,
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
    let Some(company) = policy.cw_company_id else {
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
    sync_company(store, company).await?;
    Ok(unbound.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_jobs_read_back_as_the_work_they_were() {
        let works = [
            Work::SyncCompany(SyncCompany {
                company_id: CompanyId(250),
            }),
            Work::BindDevice(BindDevice {
                device_id: DeviceId(7),
                snapshot: None,
            }),
            Work::Ticket(TicketWork {
                ticket_id: TicketId(3),
            }),
        ];
        for work in works {
            let job = work.to_job();
            assert_eq!(job.kind, work.kind());
            assert_eq!(Work::from_job(&job.kind, &job.payload).unwrap(), work);
        }
        // The payloads older servers wrote, under the kinds they wrote.
        assert_eq!(
            Work::from_job("cw.bind_device", r#"{"deviceId":9}"#).unwrap(),
            Work::BindDevice(BindDevice {
                device_id: DeviceId(9),
                snapshot: None
            })
        );
        assert_eq!(
            sync_job(CompanyId(250)).dedupe_key.as_deref(),
            Some("sync:250")
        );
        assert_eq!(
            bind_job(DeviceId(7), None).dedupe_key.as_deref(),
            Some("bind:7")
        );
        assert_eq!(
            ticket_job(TicketId(3)).dedupe_key.as_deref(),
            Some("ticket:3")
        );
    }

    #[test]
    fn unknown_kinds_and_damaged_payloads_say_which() {
        let e = Work::from_job("cw.frobnicate", "{}").unwrap_err();
        assert!(e.contains("cw.frobnicate") && e.contains("newer"), "{e}");
        let e = Work::from_job("cw.ticket", "{not json").unwrap_err();
        assert!(e.contains("damaged"), "{e}");
        let e = Work::from_job("cw.ticket", r#"{"deviceId":1}"#).unwrap_err();
        assert!(e.contains("damaged"), "{e}");
    }
}
