//! Monitoring for admins: alerts and help requests (paged, filtered, closed by a person), and
//! each policy's monitor settings.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AdminAuth;
use crate::api::{ApiFailure, read_json};
use crate::ids::{AlertId, DeviceId, PolicyId};
use crate::monitoring::settings::MonitorSettings;
use crate::state::Shared;
use crate::store::{Alert, AlertFilter, AlertState, HelpRequest};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/alerts", get(alerts))
        .route("/alerts/{id}", get(alert))
        .route("/alerts/{id}/close", post(close_alert))
        .route("/help-requests", get(help_requests))
        .route("/help-requests/{id}/close", post(close_help))
        .route(
            "/policies/{id}/monitors",
            get(monitors).put(set_monitors).delete(reset_monitors),
        )
}

/// One page of a list, and how many items match in all.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlertQuery {
    state: Option<AlertState>,
    device: Option<DeviceId>,
    policy: Option<PolicyId>,
    /// Only alerts a maintenance window held.
    #[serde(default)]
    held: bool,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Page numbers from 1; 50 a page unless asked (at most 500).
fn paging(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    (
        page.unwrap_or(1).max(1),
        per_page.unwrap_or(50).clamp(1, 500),
    )
}

async fn alerts(
    State(state): State<Shared>,
    _: AdminAuth,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Page<Alert>>, ApiFailure> {
    let (page, per_page) = paging(q.page, q.per_page);
    let (items, total) = state
        .store
        .alerts(&AlertFilter {
            state: q.state,
            device_id: q.device,
            policy_id: q.policy,
            held_only: q.held,
            limit: per_page,
            offset: (page - 1) * per_page,
        })
        .await?;
    Ok(Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}

fn not_found(what: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such {what}"),
    )
}

async fn alert(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<AlertId>,
) -> Result<Json<Alert>, ApiFailure> {
    let a = state
        .store
        .alert(id)
        .await?
        .ok_or_else(|| not_found("alert"))?;
    Ok(Json(a))
}

async fn close_alert(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<AlertId>,
) -> Result<Json<Alert>, ApiFailure> {
    let a = state
        .ops()
        .close_alert(id, &auth.username)
        .await?
        .ok_or_else(|| not_found("alert"))?;
    Ok(Json(a))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HelpQuery {
    device: Option<DeviceId>,
    /// Only requests whose ticket is not closed (or being closed).
    #[serde(default)]
    open: bool,
    page: Option<i64>,
    per_page: Option<i64>,
}

async fn help_requests(
    State(state): State<Shared>,
    _: AdminAuth,
    Query(q): Query<HelpQuery>,
) -> Result<Json<Page<HelpRequest>>, ApiFailure> {
    let (page, per_page) = paging(q.page, q.per_page);
    let (items, total) = state
        .store
        .help_requests(q.device, q.open, per_page, (page - 1) * per_page)
        .await?;
    Ok(Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}

async fn close_help(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<i64>,
) -> Result<Json<HelpRequest>, ApiFailure> {
    let h = state
        .ops()
        .close_help(id, &auth.username)
        .await?
        .ok_or_else(|| not_found("help request"))?;
    Ok(Json(h))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MonitorsView {
    #[serde(flatten)]
    settings: MonitorSettings,
    /// True when the policy has no settings of its own.
    is_default: bool,
}

async fn monitors(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<MonitorsView>, ApiFailure> {
    let stored = state.store.policy_monitors(id).await?;
    Ok(Json(MonitorsView {
        is_default: stored.is_none(),
        settings: MonitorSettings::from_stored(stored.as_deref()),
    }))
}

async fn set_monitors(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<MonitorsView>, ApiFailure> {
    let settings: MonitorSettings = read_json(body).await?;
    state.ops().set_monitors(id, Some(&settings)).await?;
    Ok(Json(MonitorsView {
        settings,
        is_default: false,
    }))
}

async fn reset_monitors(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<MonitorsView>, ApiFailure> {
    state.ops().set_monitors(id, None).await?;
    Ok(Json(MonitorsView {
        settings: MonitorSettings::default(),
        is_default: true,
    }))
}
