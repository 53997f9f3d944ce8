//! Monitoring for admins: alerts and help requests (paged, filtered, closed by a person), and
//! each policy's monitor settings.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::document::{AlertPath, HelpPath, PolicyPath};
use crate::api::{ApiFailure, read_json};
use crate::ids::{AlertId, DeviceId, PolicyId};
use crate::monitoring::settings::MonitorSettings;
use crate::state::Shared;
use crate::store::{Alert, AlertFilter, AlertState, HelpRequest};

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(alerts))
        .routes(routes!(alert))
        .routes(routes!(close_alert))
        .routes(routes!(help_requests))
        .routes(routes!(close_help))
        .routes(routes!(monitors, set_monitors, reset_monitors))
}

/// One page of a list, and how many items match in all.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
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

/// Alerts, newest first, paged and filtered.
#[utoipa::path(
    get,
    path = "/alerts",
    params(AlertQuery),
    responses((status = 200, body = Page<Alert>))
)]
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

/// One alert, with its ticket.
#[utoipa::path(
    get,
    path = "/alerts/{id}",
    params(AlertPath),
    responses((status = 200, body = Alert))
)]
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

/// Closes an open alert: its ticket gets the closed status and a note naming who closed it.
#[utoipa::path(
    post,
    path = "/alerts/{id}/close",
    params(AlertPath),
    responses((status = 200, body = Alert))
)]
async fn close_alert(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<AlertId>,
) -> Result<Json<Alert>, ApiFailure> {
    let a = state
        .ops(&auth.actor)
        .close_alert(id, &auth.actor.name)
        .await?
        .ok_or_else(|| not_found("alert"))?;
    Ok(Json(a))
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
struct HelpQuery {
    device: Option<DeviceId>,
    /// Only requests whose ticket is not closed (or being closed).
    #[serde(default)]
    open: bool,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Help requests from machines' users, newest first, paged.
#[utoipa::path(
    get,
    path = "/help-requests",
    params(HelpQuery),
    responses((status = 200, body = Page<HelpRequest>))
)]
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

/// Closes a help request's ticket (the self-service board's closed status, with a note).
#[utoipa::path(
    post,
    path = "/help-requests/{id}/close",
    params(HelpPath),
    responses((status = 200, body = HelpRequest))
)]
async fn close_help(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<i64>,
) -> Result<Json<HelpRequest>, ApiFailure> {
    let h = state
        .ops(&auth.actor)
        .close_help(id, &auth.actor.name)
        .await?
        .ok_or_else(|| not_found("help request"))?;
    Ok(Json(h))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MonitorsView {
    #[serde(flatten)]
    settings: MonitorSettings,
    /// True when the policy has no settings of its own.
    is_default: bool,
}

/// The monitors the policy's agents run, and the offline limit (the defaults when the policy
/// has none of its own).
#[utoipa::path(
    get,
    path = "/policies/{id}/monitors",
    params(PolicyPath),
    responses((status = 200, body = MonitorsView))
)]
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

/// Replaces the policy's monitor settings; every problem is named in the 400.
#[utoipa::path(
    put,
    path = "/policies/{id}/monitors",
    params(PolicyPath),
    request_body = MonitorSettings,
    responses((status = 200, body = MonitorsView))
)]
async fn set_monitors(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<MonitorsView>, ApiFailure> {
    let settings: MonitorSettings = read_json(body).await?;
    state
        .ops(&auth.actor)
        .set_monitors(id, Some(&settings))
        .await?;
    Ok(Json(MonitorsView {
        settings,
        is_default: false,
    }))
}

/// Back to the default monitor settings.
#[utoipa::path(
    delete,
    path = "/policies/{id}/monitors",
    params(PolicyPath),
    responses((status = 200, body = MonitorsView))
)]
async fn reset_monitors(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<MonitorsView>, ApiFailure> {
    state.ops(&auth.actor).set_monitors(id, None).await?;
    Ok(Json(MonitorsView {
        settings: MonitorSettings::default(),
        is_default: true,
    }))
}
