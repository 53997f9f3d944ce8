//! A policy's maintenance windows (`/console/policies/{id}/maintenance`): the weekly and
//! one-off windows as lines of text in the policy's time zone, whether it is in one now, and
//! the alerts the windows held (with what became of each).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

use super::lists::alert_ticket_text;
use super::{Frame, Page, Viewer, ago, render, see_other};
use crate::ids::PolicyId;
use crate::monitoring::held;
use crate::monitoring::maintenance::Maintenance;
use crate::state::Shared;
use crate::store::{AlertFilter, now_ms};

/// The held alerts listed, newest first.
const HELD_SHOWN: i64 = 50;

pub fn router() -> Router<Shared> {
    Router::new().route("/policies/{id}/maintenance", get(page).post(save))
}

struct HeldRow {
    raised: String,
    agent_id: String,
    summary: String,
    state: String,
    outcome: String,
}

#[derive(Template)]
#[template(path = "console/maintenance.html")]
struct MaintenancePage {
    frame: Frame,
    id: PolicyId,
    time_zone: String,
    lines: String,
    /// "In a window until …", "Next window: …" or "No window in the next week."
    now: String,
    error: Option<String>,
    held: Vec<HeldRow>,
    held_total: i64,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn page(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Query(q): Query<NoticeQuery>,
) -> Page {
    let windows = held::schedule(&state.store, Some(id)).await;
    let lines = windows.to_lines();
    let time_zone = windows.time_zone.clone();
    show(
        &state,
        &viewer,
        id,
        windows,
        time_zone,
        lines,
        None,
        q.notice.as_deref(),
    )
    .await
}

#[allow(clippy::too_many_arguments)] // one page, shown from two places
async fn show(
    state: &Shared,
    viewer: &Viewer,
    id: PolicyId,
    windows: Maintenance,
    time_zone: String,
    lines: String,
    error: Option<String>,
    notice: Option<&str>,
) -> Page {
    let policy = state.store.policy(id).await?;
    let now = now_ms();
    let now_text = match (windows.held_until(now), windows.next_start(now)) {
        (Some(until), _) => format!(
            "In a maintenance window until {}: alerts open no ticket.",
            windows.local_text(until)
        ),
        (None, Some(next)) => format!("Next window: {}.", windows.local_text(next)),
        (None, None) => "No window in the next week.".into(),
    };
    let (alerts, held_total) = state
        .store
        .alerts(&AlertFilter {
            policy_id: Some(id),
            held_only: true,
            limit: HELD_SHOWN,
            ..AlertFilter::default()
        })
        .await?;
    let held = alerts
        .into_iter()
        .map(|a| HeldRow {
            raised: ago(a.raised_ms),
            outcome: alert_ticket_text(&a).0,
            state: a.state.as_str().to_owned(),
            agent_id: a.agent_id,
            summary: a.summary,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = MaintenancePage {
        frame: Frame::new(viewer, "policies", format!("Maintenance: {}", policy.name))
            .with_notice(notice),
        id,
        time_zone,
        lines,
        now: now_text,
        error,
        held,
        held_total,
    };
    render(&page, status)
}

#[derive(Deserialize)]
struct WindowsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    windows: String,
}

async fn save(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<WindowsForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    match Maintenance::parse_lines(&f.time_zone, &f.windows) {
        Ok(windows) => {
            state
                .ops(&viewer.actor)
                .set_maintenance(id, &windows)
                .await?;
            Ok(see_other(
                &format!("/console/policies/{id}/maintenance"),
                "saved",
            ))
        }
        // The admin's text comes back with the problem beside it.
        Err(e) => {
            let current = held::schedule(&state.store, Some(id)).await;
            let tz: String = f.time_zone.chars().take(100).collect();
            let lines: String = f.windows.chars().take(10_000).collect();
            show(&state, &viewer, id, current, tz, lines, Some(e), None).await
        }
    }
}
