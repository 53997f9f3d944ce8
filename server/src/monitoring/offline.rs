//! The server's own monitor: a device that stops checking in for its policy's
//! `offlineAfterMins` gets an "offline" alert (and ticket), resolved when it checks in again.
//! Every server runs the sweep; the one-open-alert rule keeps two of them from raising twice.

use std::collections::HashMap;

use bindery_shared::time::utc_text;

use super::settings::{MonitorSettings, OFFLINE_MONITOR};
use bindery_shared::protocol::AlertSeverity;

use super::ticket_text::{self, AlertFacts};
use crate::ids::PolicyId;
use crate::reconcile::queue::ticket_job;
use crate::store::{AlertInput, Result, Store, now_ms};

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    pub raised: usize,
    pub resolved: usize,
}

/// Raises "offline" for devices silent past their policy's limit, and resolves it for devices
/// seen since. Last-seen times are written in batches every few seconds, so a device is judged
/// on a time at most that old. Silence is counted from `watching_since_ms` at the earliest (when
/// this server started): a server that was itself down does not find every device offline.
pub async fn sweep(store: &Store, watching_since_ms: i64) -> Result<Sweep> {
    let now = now_ms();
    let mut done = Sweep::default();
    let mut limits: HashMap<Option<PolicyId>, Option<i64>> = HashMap::new();
    // The shortest limit allowed is 2 minutes: nothing silent for less can be offline.
    for (device_id, policy_id, last_seen) in
        store.silent_devices(now - 120_000, OFFLINE_MONITOR).await?
    {
        let limit_ms = match limits.get(&policy_id) {
            Some(l) => *l,
            None => {
                let stored = match policy_id {
                    Some(p) => store.policy_monitors(p).await.unwrap_or(None),
                    None => None,
                };
                let mins = MonitorSettings::from_stored(stored.as_deref()).offline_after_mins;
                let l = (mins > 0).then_some(i64::from(mins) * 60_000);
                limits.insert(policy_id, l);
                l
            }
        };
        let Some(limit_ms) = limit_ms else { continue };
        if now - last_seen.max(watching_since_ms) < limit_ms {
            continue;
        }
        let Some(t) = store.device_target(device_id).await? else {
            continue;
        };
        let router = super::Router::for_instance(store, t.integration_id).await;
        let reopen_within_ms = super::reopen_window_ms(store, &t).await;
        let mut input = offline_alert(&t, &router, last_seen, (now, reopen_within_ms));
        // A machine rebooting in its maintenance window is offline by design.
        input.held_until_ms = super::held::schedule(store, policy_id)
            .await
            .held_until(now);
        match store
            .record_alert_events(device_id, &[input], &ticket_job)
            .await
        {
            Ok(_) => done.raised += 1,
            // Another server raised it first.
            Err(e) => tracing::debug!(device = %device_id, error = %e, "offline alert not raised"),
        }
    }
    for (device_id, seen_ms) in store.seen_since_alert(OFFLINE_MONITOR).await? {
        let input = AlertInput {
            seq: None,
            monitor_id: OFFLINE_MONITOR.into(),
            subject: String::new(),
            raised: false,
            at_ms: seen_ms,
            summary: "Device back online".into(),
            detail: None,
            value: None,
            ticket: Err(String::new()),
            note: format!(
                "Resolved: the device checked in again at {}. Closed by Bindery.",
                utc_text(seen_ms)
            ),
            reopen_within_ms: 0,
            reopen_note: String::new(),
            refused: false,
            held_until_ms: None,
        };
        store
            .record_alert_events(device_id, &[input], &ticket_job)
            .await?;
        done.resolved += 1;
    }
    Ok(done)
}

/// The "offline" alert for a device last seen at `last_seen`, with its ticket (or why none).
fn offline_alert(
    t: &crate::store::DeviceTarget,
    router: &super::Router,
    last_seen: i64,
    (now, reopen_within_ms): (i64, i64),
) -> AlertInput {
    let mins = (now - last_seen) / 60_000;
    let summary = "Device offline".to_owned();
    let detail = format!(
        "No check-in for {mins} minutes; last seen {}.",
        utc_text(last_seen)
    );
    let kind = (
        router,
        super::TicketKind::Offline,
        Some(AlertSeverity::Critical),
    );
    let ticket = super::ticket_for(t, kind, |d| {
        super::alert_ticket(
            d,
            &AlertFacts {
                monitor_id: OFFLINE_MONITOR,
                subject: "",
                summary: &summary,
                detail: Some(&detail),
                value: None,
                at_ms: now,
            },
        )
    });
    AlertInput {
        seq: None,
        monitor_id: OFFLINE_MONITOR.into(),
        subject: String::new(),
        raised: true,
        at_ms: now,
        summary,
        detail: Some(detail),
        value: None,
        ticket,
        note: String::new(),
        reopen_within_ms,
        reopen_note: ticket_text::reopen_note(now, "Device offline"),
        refused: false,
        held_until_ms: None,
    }
}
