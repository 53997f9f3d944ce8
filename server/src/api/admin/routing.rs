//! Ticket routing rules of an integration (`?integration=ID`, else the oldest): shown, saved
//! once ConnectWise allows every choice in them, and the dry run.

use axum::Json;
use axum::extract::{Query, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::integrations::Instance;
use crate::api::{ApiFailure, read_json};
use crate::monitoring::routing::Routing;
use crate::ops::routing::{DryRun, DryRunRequest};
use crate::state::Shared;

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(show, save))
        .routes(routes!(dry_run))
}

/// The ticket routing rules, in order (the first that matches decides).
#[utoipa::path(get, path = "/routing", params(Instance), responses((status = 200, body = Routing)))]
async fn show(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<Routing>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(state.ops(&auth.actor).routing(id).await?))
}

/// Replaces the rules; refused (400, each problem named with its rule) unless ConnectWise
/// allows every board, status, type/subtype/item combination, priority and source in them. New
/// tickets follow the new rules; open ones keep their route.
#[utoipa::path(
    put,
    path = "/routing",
    params(Instance),
    request_body = Routing,
    responses((status = 200, body = Routing))
)]
async fn save(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
    body: axum::body::Body,
) -> Result<Json<Routing>, ApiFailure> {
    let rules: Routing = read_json(body).await?;
    let id = which.id(&state).await?;
    state.ops(&auth.actor).save_routing(id, &rules).await?;
    Ok(Json(rules))
}

/// Which rule a device's alert (or, without `monitorId`, help request) would hit, and the
/// ticket it would make; nothing is written.
#[utoipa::path(
    post,
    path = "/routing/dry-run",
    request_body = DryRunRequest,
    responses((status = 200, body = DryRun))
)]
async fn dry_run(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<DryRun>, ApiFailure> {
    let req: DryRunRequest = read_json(body).await?;
    Ok(Json(state.ops(&auth.actor).routing_dry_run(&req).await?))
}
