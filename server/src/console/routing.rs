//! Ticket routing rules of an instance (`/console/routing?integration=ID`): the rules in order
//! as a table, the JSON document to edit them (refused with each problem and its rule, the
//! admin's text kept), and the dry run: which rule a device's alert or help request would hit.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Frame, Page, Viewer, render, see_other};
use crate::ids::{DeviceId, IntegrationId};
use crate::monitoring::routing::{Routing, RoutingRule};
use crate::ops::routing::{DryRun, DryRunRequest};
use crate::state::Shared;
use crate::store::TicketRoute;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/routing", get(page).post(save))
        .route("/routing/dry-run", post(dry_run))
}

struct RuleRow {
    n: usize,
    name: String,
    when: String,
    then: String,
}

/// Values as the rule document names them (`disk or offline`).
fn names<T: serde::Serialize>(list: &[T]) -> String {
    let named: Vec<String> = list
        .iter()
        .filter_map(|v| serde_json::to_value(v).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    named.join(" or ")
}

fn row(n: usize, r: &RoutingRule) -> RuleRow {
    let mut when = Vec::new();
    if !r.kinds.is_empty() {
        when.push(names(&r.kinds));
    }
    if !r.severities.is_empty() {
        when.push(names(&r.severities));
    }
    if !r.policies.is_empty() {
        let ids: Vec<String> = r.policies.iter().map(ToString::to_string).collect();
        when.push(format!("policy {}", ids.join(" or ")));
    }
    if let Some(c) = r.class {
        when.push(names(&[c]));
    }
    if let Some(os) = &r.os {
        when.push(format!("OS {os}"));
    }
    if let Some(f) = &r.fact {
        when.push(format!("{} {}", f.field.as_str(), f.pattern));
    }
    let mut then = Vec::new();
    if let Some(b) = &r.board {
        then.push(format!("board {}", b.board_id));
    }
    for (what, v) in [
        ("type", r.type_id),
        ("subtype", r.subtype_id),
        ("item", r.item_id),
        ("priority", r.priority_id),
        ("source", r.source_id),
    ] {
        if let Some(v) = v {
            then.push(format!("{what} {v}"));
        }
    }
    for (what, v) in [("severity", r.severity), ("impact", r.impact)] {
        if let Some(v) = v {
            then.push(format!("{what} {}", v.as_str()));
        }
    }
    if let Some(s) = &r.summary {
        then.push(format!("summary “{s}”"));
    }
    RuleRow {
        n: n + 1,
        name: r.name.clone(),
        when: if when.is_empty() {
            "always".into()
        } else {
            when.join(", ")
        },
        then: then.join(", "),
    }
}

/// What a route sets beside its board: `type 1, subtype 1, priority 1, severity High`.
fn sets(r: &TicketRoute) -> String {
    let ids = [
        ("type", r.type_id),
        ("subtype", r.subtype_id),
        ("item", r.item_id),
        ("priority", r.priority_id),
        ("source", r.source_id),
    ];
    let words = [("severity", &r.severity), ("impact", &r.impact)];
    ids.iter()
        .filter_map(|(what, v)| v.map(|v| format!("{what} {v}")))
        .chain(
            words
                .iter()
                .filter_map(|(what, v)| v.as_ref().map(|v| format!("{what} {v}"))),
        )
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Template)]
#[template(path = "console/routing.html")]
struct RoutingPage {
    frame: Frame,
    integration: IntegrationId,
    rows: Vec<RuleRow>,
    document: String,
    dry: Option<DryRun>,
    /// What the dry run's route sets beside the board, for people.
    dry_sets: String,
    dry_device: String,
    dry_monitor: String,
}

#[derive(Deserialize)]
struct Which {
    integration: Option<IntegrationId>,
    notice: Option<String>,
}

async fn show(
    state: &Shared,
    viewer: &Viewer,
    id: IntegrationId,
    document: Option<String>,
) -> Result<RoutingPage, super::ConsoleError> {
    let rules = state.ops(&viewer.actor).routing(id).await?;
    let document =
        document.unwrap_or_else(|| serde_json::to_string_pretty(&rules).unwrap_or_default());
    Ok(RoutingPage {
        frame: Frame::new(viewer, "routing", "Ticket routing"),
        integration: id,
        rows: rules
            .rules
            .iter()
            .enumerate()
            .map(|(n, r)| row(n, r))
            .collect(),
        document,
        dry: None,
        dry_sets: String::new(),
        dry_device: String::new(),
        dry_monitor: String::new(),
    })
}

async fn page(State(state): State<Shared>, viewer: Viewer, Query(q): Query<Which>) -> Page {
    let id = state
        .ops(&viewer.actor)
        .integration_or_default(q.integration)
        .await?;
    let mut page = show(&state, &viewer, id, None).await?;
    page.frame = page.frame.with_notice(q.notice.as_deref());
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct RulesForm {
    #[serde(default)]
    csrf: String,
    integration: IntegrationId,
    document: String,
}

async fn save(State(state): State<Shared>, viewer: Viewer, Form(f): Form<RulesForm>) -> Page {
    viewer.check(&f.csrf)?;
    let refused = match serde_json::from_str::<Routing>(&f.document) {
        Err(e) => format!("Not saved: this is not a rule document: {e}"),
        Ok(rules) => match state
            .ops(&viewer.actor)
            .save_routing(f.integration, &rules)
            .await
        {
            Ok(()) => {
                let to = format!("/console/routing?integration={}", f.integration);
                return Ok(see_other(&to, "saved"));
            }
            Err(e) => format!("Not saved: {e}"),
        },
    };
    let mut page = show(&state, &viewer, f.integration, Some(f.document)).await?;
    page.frame.error = Some(refused);
    render(&page, StatusCode::BAD_REQUEST)
}

#[derive(Deserialize)]
struct DryRunForm {
    integration: IntegrationId,
    device_id: DeviceId,
    #[serde(default)]
    monitor_id: String,
}

/// A question, not a change: no CSRF token needed, nothing is written.
async fn dry_run(State(state): State<Shared>, viewer: Viewer, Form(f): Form<DryRunForm>) -> Page {
    let monitor = f.monitor_id.trim();
    let req = DryRunRequest {
        device_id: f.device_id,
        monitor_id: (!monitor.is_empty()).then(|| monitor.to_owned()),
        value: None,
    };
    let mut page = show(&state, &viewer, f.integration, None).await?;
    page.dry_device = f.device_id.to_string();
    page.dry_monitor = monitor.to_owned();
    match state.ops(&viewer.actor).routing_dry_run(&req).await {
        Ok(d) => {
            page.dry_sets = d.decision.route.as_ref().map(sets).unwrap_or_default();
            page.dry = Some(d);
        }
        Err(e) => page.frame.error = Some(format!("No dry run: {e}")),
    }
    render(&page, StatusCode::OK)
}
