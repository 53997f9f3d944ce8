//! Monitoring: what agents watch (`settings`), the alerts and help requests they send, the
//! server's own "offline" alert (`offline`), maintenance windows that hold alerts' tickets
//! (`maintenance`, `held`), and the words of the tickets they open (`ticket_text`). Everything here only writes to the store, each change together with the
//! ticket job it needs; the job runner (`reconcile::tickets`) does the ConnectWise writes.
//!
//! A device in a policy linked to a company gets tickets; any other device's alerts and help
//! requests are kept and shown, with the reason they opened no ticket.

pub mod held;
pub mod limits;
pub mod maintenance;
pub mod offline;
pub mod routing;
pub mod settings;
pub mod ticket_text;

use bindery_shared::normalize::clean_text;
use bindery_shared::protocol::{
    AlertBatch, AlertEventKind, AlertSeverity, HelpRequest as HelpMessage, MonitorSpec,
};

use crate::ids::{AlertId, DeviceId, IntegrationId};
use crate::reconcile::queue::ticket_job;
use crate::store::{
    AlertInput, AlertIntake, DeviceTarget, HelpRequest, NewHelpRequest, NewTicket, Result, Store,
    StoreError,
};
use routing::{Router, Subject, TicketKind, Values};
use ticket_text::{AlertFacts, DeviceContext};

/// Why a device's alert or help request opened no ticket.
pub const NOT_LINKED: &str = "the device's policy is not linked to a ConnectWise company";

/// The device's target (facts and company), or not found.
async fn target(store: &Store, device_id: DeviceId) -> Result<DeviceTarget> {
    store
        .device_target(device_id)
        .await?
        .ok_or(StoreError::NotFound("device"))
}

/// The ticket to open for the device, routed by its instance's rules, or why there is none.
fn ticket_for(
    t: &DeviceTarget,
    (router, kind, severity): (&Router, TicketKind, Option<AlertSeverity>),
    make: impl FnOnce(&DeviceContext<'_>) -> (NewTicket, Values),
) -> std::result::Result<NewTicket, String> {
    let company_id = t.company_id.ok_or_else(|| NOT_LINKED.to_owned())?;
    let facts = &t.facts;
    let (mut ticket, values) = make(&DeviceContext {
        device_id: t.device_id,
        integration_id: t.integration_id.unwrap_or(IntegrationId::FIRST),
        company_id,
        site_id: t.site_id,
        agent_id: &t.agent_id,
        facts,
    });
    let subject = Subject {
        kind,
        severity,
        policy_id: t.policy_id,
        facts,
    };
    router.apply(&subject, &values, &mut ticket);
    Ok(ticket)
}

/// What a monitor's alerts are to routing rules: their kind, and their severity (the
/// monitor's; the server's own "offline" alert is critical).
pub fn kind_of(monitors: &[MonitorSpec], monitor_id: &str) -> (TicketKind, Option<AlertSeverity>) {
    if monitor_id == settings::OFFLINE_MONITOR {
        return (TicketKind::Offline, Some(AlertSeverity::Critical));
    }
    let spec = monitors.iter().find(|m| m.id == monitor_id);
    (
        spec.map_or(TicketKind::Custom, |m| TicketKind::of_monitor(m.kind)),
        Some(spec.and_then(|m| m.severity).unwrap_or_default()),
    )
}

/// An alert's ticket and the values its summary template may use.
fn alert_ticket(d: &DeviceContext<'_>, alert: &AlertFacts<'_>) -> (NewTicket, Values) {
    let values = Values {
        device: d.name(),
        monitor: alert.monitor_id.to_owned(),
        value: alert.value.map(|v| format!("{v:.1}")).unwrap_or_default(),
        subject: alert.subject.to_owned(),
        summary: alert.summary.to_owned(),
        user: String::new(),
    };
    (ticket_text::alert_ticket(d, alert), values)
}

/// How soon after Bindery closed an alert's ticket the same alert returning reopens it
/// (the ConnectWise settings' ticket rules).
pub async fn reopen_window_ms(store: &Store, t: &DeviceTarget) -> i64 {
    i64::from(
        limits::ticket_rules(store, t.integration_id)
            .await
            .reopen_within_hours,
    ) * 3_600_000
}

/// Stores an agent's batch of alert events (already validated), dropping replays. A raise of a
/// monitor the device's policy does not run is taken (its sequence number) and ignored; a
/// batch that would leave too many alerts active is refused whole (429).
pub async fn take_alert_batch(
    store: &Store,
    device_id: DeviceId,
    batch: &AlertBatch,
) -> Result<AlertIntake> {
    let t = target(store, device_id).await?;
    let rules = limits::ticket_rules(store, t.integration_id).await;
    let reopen_within_ms = i64::from(rules.reopen_within_hours) * 3_600_000;
    let monitors = limits::monitors(store, t.policy_id).await?;
    let router = Router::for_instance(store, t.integration_id).await;
    let windows = held::schedule(store, t.policy_id).await;
    let inputs: Vec<AlertInput> = batch
        .events
        .iter()
        .map(|e| {
            let subject = e.subject.as_deref().map(clean_text).unwrap_or_default();
            let summary = clean_text(&e.summary);
            let at_ms = i64::try_from(e.at_ms).unwrap_or(i64::MAX);
            let raised = e.kind == AlertEventKind::Raised;
            let spec = monitors.iter().find(|m| m.id == e.monitor_id);
            let ticket = if raised {
                let (kind, severity) = kind_of(&monitors, &e.monitor_id);
                ticket_for(&t, (&router, kind, severity), |d| {
                    alert_ticket(
                        d,
                        &AlertFacts {
                            monitor_id: &e.monitor_id,
                            subject: &subject,
                            summary: &summary,
                            detail: e.detail.as_deref(),
                            value: e.value,
                            at_ms,
                        },
                    )
                })
            } else {
                Err(String::new())
            };
            let reopen_note = ticket_text::reopen_note(at_ms, &summary);
            AlertInput {
                seq: Some(i64::try_from(e.seq).unwrap_or(i64::MAX)),
                monitor_id: e.monitor_id.clone(),
                subject,
                raised,
                at_ms,
                summary,
                detail: e.detail.as_deref().map(str::to_owned),
                value: e.value.filter(|v| v.is_finite()),
                refused: raised && spec.is_none(),
                reopen_note,
                ticket,
                note: ticket_text::resolved_note(at_ms, e.value),
                reopen_within_ms,
                held_until_ms: raised.then(|| windows.held_until(at_ms)).flatten(),
            }
        })
        .collect();
    limits::check_active_alerts(store, device_id, &inputs, rules.max_open_alerts).await?;
    store
        .record_alert_events(device_id, &inputs, &ticket_job)
        .await
}

/// Stores a help request (already validated) and its ticket; the same request id again
/// returns the stored one.
pub async fn take_help_request(
    store: &Store,
    device_id: DeviceId,
    msg: &HelpMessage,
) -> Result<HelpRequest> {
    if let Some(known) = store.help_request(device_id, &msg.request_id).await? {
        return Ok(known);
    }
    let t = target(store, device_id).await?;
    limits::check_open_help(
        store,
        device_id,
        limits::ticket_rules(store, t.integration_id)
            .await
            .max_open_help,
    )
    .await?;
    let router = Router::for_instance(store, t.integration_id).await;
    let ticket = ticket_for(&t, (&router, TicketKind::Help, None), |d| {
        let values = Values {
            device: d.name(),
            monitor: "help".into(),
            summary: clean_text(&msg.summary),
            user: msg.user.as_deref().map(clean_text).unwrap_or_default(),
            ..Values::default()
        };
        let user = msg.user.as_deref();
        let ticket = ticket_text::help_ticket(d, user, &msg.summary, msg.details.as_deref());
        (ticket, values)
    });
    store
        .record_help(
            &NewHelpRequest {
                device_id,
                request_id: msg.request_id.clone(),
                user_name: msg.user.as_deref().map(clean_text),
                summary: clean_text(&msg.summary),
                details: msg.details.clone(),
                ticket,
            },
            &ticket_job,
        )
        .await
}

/// A person closes an alert from the console or the admin API.
pub async fn close_alert(
    store: &Store,
    alert_id: AlertId,
    admin: &str,
) -> Result<Option<crate::store::Alert>> {
    let note = format!("Closed in Bindery by {admin}.");
    store.close_alert(alert_id, &note, &ticket_job).await
}

/// A person closes a help request's ticket from the console or the admin API.
pub async fn close_help_as_admin(
    store: &Store,
    help_id: i64,
    admin: &str,
) -> Result<Option<HelpRequest>> {
    let note = format!("Closed in Bindery by {admin}.");
    store.close_help(help_id, &note, &ticket_job).await
}

/// The machine's user closes their own request by ticket number (`bindery-agent help --close`).
pub async fn close_help_from_device(
    store: &Store,
    device_id: DeviceId,
    ticket_number: i64,
    user: Option<&str>,
) -> Result<Option<HelpRequest>> {
    let Some(req) = store
        .help_request_by_ticket(device_id, ticket_number)
        .await?
    else {
        return Ok(None);
    };
    let who = user
        .or(req.user_name.as_deref())
        .map(clean_text)
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "the user".into());
    let note = format!("Closed by {who} from the device with bindery-agent help --close.");
    store.close_help(req.id, &note, &ticket_job).await
}
