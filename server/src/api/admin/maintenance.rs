//! Each policy's maintenance windows (`monitoring::maintenance`): read, replace, remove; with
//! whether the policy is in one now and how many alerts are held.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::document::PolicyPath;
use crate::api::{ApiFailure, read_json};
use crate::ids::PolicyId;
use crate::monitoring::held;
use crate::monitoring::maintenance::Maintenance;
use crate::state::Shared;
use crate::store::now_ms;

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(windows, set_windows, clear_windows))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct MaintenanceView {
    #[serde(flatten)]
    windows: Maintenance,
    /// In a window now: when maintenance ends.
    in_window_until_ms: Option<i64>,
    /// When the next window starts (within a week).
    next_start_ms: Option<i64>,
    /// Alerts of the policy's devices held now.
    held_alerts: i64,
}

async fn view(state: &Shared, id: PolicyId) -> Result<Json<MaintenanceView>, ApiFailure> {
    state.store.policy(id).await?;
    let windows = held::schedule(&state.store, Some(id)).await;
    let now = now_ms();
    Ok(Json(MaintenanceView {
        in_window_until_ms: windows.held_until(now),
        next_start_ms: windows.next_start(now),
        held_alerts: state.store.held_alert_count(id).await?,
        windows,
    }))
}

/// The policy's maintenance windows, whether it is in one now, and how many alerts are held.
#[utoipa::path(
    get,
    path = "/policies/{id}/maintenance",
    params(PolicyPath),
    responses((status = 200, body = MaintenanceView))
)]
async fn windows(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<MaintenanceView>, ApiFailure> {
    view(&state, id).await
}

/// Replaces the policy's maintenance windows; a problem is named in the 400.
#[utoipa::path(
    put,
    path = "/policies/{id}/maintenance",
    params(PolicyPath),
    request_body = Maintenance,
    responses((status = 200, body = MaintenanceView))
)]
async fn set_windows(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<MaintenanceView>, ApiFailure> {
    let windows: Maintenance = read_json(body).await?;
    state.ops(&auth.actor).set_maintenance(id, &windows).await?;
    view(&state, id).await
}

/// Removes every maintenance window of the policy.
#[utoipa::path(
    delete,
    path = "/policies/{id}/maintenance",
    params(PolicyPath),
    responses((status = 200, body = MaintenanceView))
)]
async fn clear_windows(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<MaintenanceView>, ApiFailure> {
    state
        .ops(&auth.actor)
        .set_maintenance(id, &Maintenance::default())
        .await?;
    view(&state, id).await
}
