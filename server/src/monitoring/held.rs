//! Maintenance windows at work: the schedule a device's alerts are judged by, and the sweep
//! that releases held alerts when their window ends (a ticket for each still raised; the ones
//! resolved meanwhile are recorded, nothing else). The windows themselves are `maintenance`.

use std::collections::HashMap;

use super::maintenance::Maintenance;
use super::ticket_text::AlertFacts;
use crate::ids::PolicyId;
use crate::reconcile::queue::ticket_job;
use crate::store::{HeldAlert, NewTicket, Release, Result, Store, now_ms};

/// Held alerts released per round of the sweep (each in its own small transaction).
const BATCH: i64 = 500;

/// The policy's maintenance windows (none for no policy; a damaged record counts as none and
/// says so in the log, it never holds alerts forever).
pub async fn schedule(store: &Store, policy: Option<PolicyId>) -> Maintenance {
    let Some(p) = policy else {
        return Maintenance::default();
    };
    match store.policy_maintenance(p).await {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_else(|e| {
            tracing::warn!(policy = %p, error = %e, "the policy's maintenance windows cannot be read; none apply");
            Maintenance::default()
        }),
        Ok(None) => Maintenance::default(),
        Err(e) => {
            tracing::warn!(policy = %p, error = %e, "cannot read the policy's maintenance windows; none apply");
            Maintenance::default()
        }
    }
}

/// Stores the policy's windows, already checked (`Maintenance::check`); none when empty.
pub async fn save(store: &Store, policy: PolicyId, windows: &Maintenance) -> Result<()> {
    let json = serde_json::to_string(windows)
        .map_err(|e| crate::store::StoreError::Config(e.to_string()))?;
    let stored = (!windows.is_empty() || !windows.time_zone.trim().is_empty()).then_some(json);
    store
        .set_policy_maintenance(policy, stored.as_deref())
        .await
}

/// The ticket a held alert opens now, routed by today's rules (or why there is none).
async fn released_ticket(
    store: &Store,
    a: &HeldAlert,
) -> Result<std::result::Result<NewTicket, String>> {
    let Some(t) = store.device_target(a.device_id).await? else {
        return Ok(Err("the device was deleted".into()));
    };
    let router = super::Router::for_instance(store, t.integration_id).await;
    let monitors = super::limits::monitors(store, t.policy_id).await?;
    let (kind, severity) = super::kind_of(&monitors, &a.monitor_id);
    Ok(super::ticket_for(&t, (&router, kind, severity), |d| {
        super::alert_ticket(
            d,
            &AlertFacts {
                monitor_id: &a.monitor_id,
                subject: &a.subject,
                summary: &a.summary,
                detail: a.detail.as_deref(),
                value: a.value,
                at_ms: a.raised_ms,
            },
        )
    }))
}

/// Releases the held alerts whose window has ended; returns how many tickets were asked for.
pub async fn release_due(store: &Store) -> Result<usize> {
    let now = now_ms();
    let mut schedules: HashMap<Option<PolicyId>, Maintenance> = HashMap::new();
    let mut tickets = 0;
    // Bounded: a huge backlog is finished by the next sweeps.
    for _ in 0..20 {
        let due = store.held_alerts_due(now, BATCH).await?;
        if due.is_empty() {
            break;
        }
        for a in &due {
            let windows = match schedules.get(&a.policy_id) {
                Some(w) => w.clone(),
                None => {
                    let w = schedule(store, a.policy_id).await;
                    schedules.insert(a.policy_id, w.clone());
                    w
                }
            };
            let release = match windows.held_until(now) {
                // The next window has begun: held on, until it ends.
                Some(until) => Release::HoldUntil(until),
                None => Release::Ticket(released_ticket(store, a).await?.map(Box::new)),
            };
            if store.release_held(a.id, &release, &ticket_job).await? {
                tickets += 1;
            }
        }
        if (due.len() as i64) < BATCH {
            break;
        }
    }
    Ok(tickets)
}
