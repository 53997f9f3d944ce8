//! The ConnectWise instances: `GET/POST /integrations`, `PATCH/DELETE /integrations/{id}`. Every
//! call about one instance (its settings, companies, contacts) names it with `?integration=ID`;
//! without one it means the oldest, the one a server had before there could be several.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::document::IntegrationPath;
use crate::api::{ApiFailure, read_json};
use crate::ids::IntegrationId;
use crate::state::Shared;
use crate::store::Integration;

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(rename, remove))
}

/// Which instance a call is about.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Instance {
    /// The integration (ConnectWise instance); none: the oldest.
    integration: Option<IntegrationId>,
}

impl Instance {
    /// The integration named, checked to exist, or the default one.
    pub async fn id(&self, state: &Shared) -> Result<IntegrationId, ApiFailure> {
        Ok(crate::ops::integration_or_default(&state.store, self.integration).await?)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NameBody {
    /// 1-100 characters, unique.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
}

/// Every ConnectWise instance, oldest first, with how many policies link to each.
#[utoipa::path(get, path = "/integrations", responses((status = 200, body = Vec<Integration>)))]
async fn list(
    State(state): State<Shared>,
    auth: AdminAuth,
) -> Result<Json<Vec<Integration>>, ApiFailure> {
    Ok(Json(state.ops(&auth.actor).integrations().await?))
}

/// Adds an instance, to be set up like the first: credentials, a connection test, choices.
#[utoipa::path(
    post,
    path = "/integrations",
    request_body = NameBody,
    responses((status = 201, body = Integration))
)]
async fn add(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Integration>), ApiFailure> {
    let req: NameBody = read_json(body).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.ops(&auth.actor).add_integration(&req.name).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChangeBody {
    /// A new name (1-100 characters, unique).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// Its own ConnectWise request budget a minute; 0: the server's.
    #[serde(default)]
    #[schema(maximum = 100_000)]
    requests_per_minute: Option<u32>,
}

/// Renames an instance, or gives it a request budget of its own.
#[utoipa::path(
    patch,
    path = "/integrations/{id}",
    params(IntegrationPath),
    request_body = ChangeBody,
    responses((status = 200, body = Integration))
)]
async fn rename(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<IntegrationId>,
    body: axum::body::Body,
) -> Result<Json<Integration>, ApiFailure> {
    let req: ChangeBody = read_json(body).await?;
    let ops = state.ops(&auth.actor);
    if let Some(budget) = req.requests_per_minute {
        ops.set_integration_budget(id, Some(budget)).await?;
    }
    Ok(Json(match &req.name {
        Some(name) => ops.rename_integration(id, name).await?,
        None => state.store.integration(id).await?,
    }))
}

/// Removes an instance and its settings; refused (409) while a policy links to one of its
/// companies or a configuration there is still active.
#[utoipa::path(
    delete,
    path = "/integrations/{id}",
    params(IntegrationPath),
    responses((status = 204))
)]
async fn remove(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<IntegrationId>,
) -> Result<StatusCode, ApiFailure> {
    state.ops(&auth.actor).remove_integration(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
