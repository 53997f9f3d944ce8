//! One device's page (`/console/devices/{id}`): its facts, policy and binding, and its latest
//! alerts and help requests. ConnectWise links here from the configuration's `managementLink`,
//! so a technician looking at the configuration is one click from the machine.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use bindery_shared::FactField;

use super::lists::{alert_ticket_text, ticket_text};
use super::{ConsoleError, Frame, Page, Viewer, ago, render};
use crate::ids::DeviceId;
use crate::state::Shared;
use crate::store::{AlertFilter, StoreError};

/// Each list on the page shows this many, newest first.
const LATEST: i64 = 10;

pub fn router() -> Router<Shared> {
    Router::new().route("/devices/{id}", get(device_page))
}

struct Line {
    when: String,
    text: String,
    state: String,
    ticket: String,
}

#[derive(Template)]
#[template(path = "console/device.html")]
struct DevicePage {
    frame: Frame,
    agent_id: String,
    facts: Vec<(&'static str, String)>,
    last_seen: String,
    enrolled: String,
    agent_version: String,
    retired: bool,
    policy: String,
    binding_state: String,
    configuration: Option<i64>,
    binding_error: Option<String>,
    alerts: Vec<Line>,
    alerts_total: i64,
    help: Vec<Line>,
    help_total: i64,
}

/// The facts as the page lists them; a MAC other live devices share says so.
fn fact_rows(facts: &bindery_shared::DeviceFacts, mac_shared: bool) -> Vec<(&'static str, String)> {
    FactField::ALL
        .into_iter()
        .filter(|f| *f != FactField::DeviceIdentifier)
        .map(|f| {
            let mut value = facts.get(f).unwrap_or("").to_owned();
            if f == FactField::MacAddress && mac_shared && !value.is_empty() {
                value += " (shared with another device: never used to match)";
            }
            (f.label(), value)
        })
        .collect()
}

async fn device_page(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<DeviceId>,
) -> Page {
    let store = &state.store;
    let d = match store.device(id).await {
        Ok(d) => d,
        Err(StoreError::NotFound(_)) => {
            return Err(ConsoleError::new(
                StatusCode::NOT_FOUND,
                "No such device: it may have been deleted.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let policy = match d.policy_id {
        Some(p) => store.policy(p).await.map(|p| p.name).unwrap_or_default(),
        None => "none".into(),
    };
    let target = store.device_target(id).await?;
    let mac_shared = target.as_ref().is_some_and(|t| t.mac_shared);
    let binding = target.and_then(|t| t.binding);
    let (alerts, alerts_total) = store
        .alerts(&AlertFilter {
            device_id: Some(id),
            limit: LATEST,
            ..AlertFilter::default()
        })
        .await?;
    let (help, help_total) = store.help_requests(Some(id), false, LATEST, 0).await?;
    let name = d.facts.name.clone().unwrap_or_else(|| d.agent_id.clone());
    let page = DevicePage {
        frame: Frame::new(&viewer, "devices", &name),
        facts: fact_rows(&d.facts, mac_shared),
        last_seen: ago(d.last_seen_ms),
        enrolled: ago(d.enrolled_ms),
        agent_version: d.agent_version,
        retired: d.retired_ms.is_some(),
        policy,
        binding_state: binding
            .as_ref()
            .map_or("none", |b| b.state.as_str())
            .to_owned(),
        configuration: binding
            .as_ref()
            .and_then(|b| b.configuration_id)
            .map(i64::from),
        binding_error: binding.and_then(|b| b.error),
        alerts: alerts
            .into_iter()
            .map(|a| Line {
                when: ago(a.raised_ms),
                ticket: alert_ticket_text(&a).0,
                state: a.state.as_str().to_owned(),
                text: a.summary,
            })
            .collect(),
        alerts_total,
        help: help
            .into_iter()
            .map(|h| Line {
                when: ago(h.created_ms),
                state: h
                    .ticket
                    .as_ref()
                    .map_or("none", |t| t.state.as_str())
                    .to_owned(),
                ticket: ticket_text(h.ticket.as_ref(), h.no_ticket_reason.as_deref()).0,
                text: h.summary,
            })
            .collect(),
        help_total,
        agent_id: d.agent_id,
    };
    render(&page, StatusCode::OK)
}
