//! The configuration field map of an integration (`?integration=ID`, else the oldest): shown,
//! saved once sound (and each custom field it names is a text field ConnectWise lists), the
//! custom fields to choose from, and a device's preview.

use axum::Json;
use axum::extract::{Path, Query, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::integrations::Instance;
use crate::api::{ApiFailure, read_json};
use crate::ids::DeviceId;
use crate::integration::FieldMap;
use crate::ops::field_map::{CustomFieldChoice, FieldPreview};
use crate::state::Shared;

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(show, save))
        .routes(routes!(custom_fields))
        .routes(routes!(preview))
}

/// The field map: which configuration field each rule fills from the device's facts, and
/// whether Bindery owns it (writes over a person's edit) or only fills it until a person edits it.
#[utoipa::path(get, path = "/field-map", params(Instance), responses((status = 200, body = FieldMap)))]
async fn show(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<FieldMap>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(state.ops(&auth.actor).field_map(id).await?))
}

/// Replaces the field map; refused (400, each problem named with its rule) when a template names
/// an unknown fact, a field is filled twice, or a custom field is not a text field ConnectWise
/// lists. Each company the instance binds in is synced again, so configurations follow.
#[utoipa::path(
    put,
    path = "/field-map",
    params(Instance),
    request_body = FieldMap,
    responses((status = 200, body = FieldMap))
)]
async fn save(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
    body: axum::body::Body,
) -> Result<Json<FieldMap>, ApiFailure> {
    let map: FieldMap = read_json(body).await?;
    let id = which.id(&state).await?;
    state.ops(&auth.actor).save_field_map(id, &map).await?;
    Ok(Json(map))
}

/// The custom fields configurations carry in ConnectWise (those of a text type can be filled).
#[utoipa::path(
    get,
    path = "/field-map/custom-fields",
    params(Instance),
    responses((status = 200, body = Vec<CustomFieldChoice>))
)]
async fn custom_fields(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<Vec<CustomFieldChoice>>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(
        state
            .ops(&auth.actor)
            .configuration_custom_fields(id)
            .await?,
    ))
}

/// What the device's configuration would get from each rule of its instance's map (nothing is
/// written).
#[utoipa::path(
    get,
    path = "/devices/{id}/field-map",
    params(("id" = i64, Path, description = "The device")),
    responses((status = 200, body = Vec<FieldPreview>))
)]
async fn preview(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<DeviceId>,
) -> Result<Json<Vec<FieldPreview>>, ApiFailure> {
    Ok(Json(state.ops(&auth.actor).field_map_preview(id).await?))
}
