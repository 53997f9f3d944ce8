//! The ConnectWise integration: credentials (the private key write-only), the connection test
//! and what it found, the choices, company search, and "Sync now".

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AdminAuth;
use crate::api::{ApiFailure, read_json};
use crate::integration::{self, Catalog, Choices, CwCredentials, CwCredentialsView};
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/integration", get(show).put(save))
        .route("/integration/test", post(test))
        .route("/integration/choices", get(show_choices).put(save_choices))
        .route("/companies", get(companies))
        .route("/sync", post(sync_now))
}

async fn show(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Option<CwCredentialsView>>, ApiFailure> {
    Ok(Json(integration::credentials(&state.store).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SaveBody {
    #[serde(flatten)]
    credentials: CwCredentials,
    /// Write-only: omit (or null) to keep the stored one.
    private_key: Option<String>,
}

async fn save(
    State(state): State<Shared>,
    _: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Option<CwCredentialsView>>, ApiFailure> {
    let req: SaveBody = read_json(body).await?;
    let view = state
        .ops()
        .save_credentials(&req.credentials, req.private_key.as_deref())
        .await?;
    Ok(Json(view))
}

/// "Test connection": what ConnectWise offers to choose from, or precisely why it failed.
async fn test(State(state): State<Shared>, _: AdminAuth) -> Result<Json<Catalog>, ApiFailure> {
    Ok(Json(state.ops().test_connection().await?))
}

async fn show_choices(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Option<Choices>>, ApiFailure> {
    Ok(Json(integration::choices(&state.store).await?))
}

/// Saves the choices after checking them against what ConnectWise offers now; every device is
/// then re-synced under them.
async fn save_choices(
    State(state): State<Shared>,
    _: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Choices>, ApiFailure> {
    let choices: Choices = read_json(body).await?;
    state.ops().save_choices(&choices).await?;
    Ok(Json(choices))
}

#[derive(Deserialize)]
struct Search {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompanyView {
    id: i64,
    identifier: String,
    name: String,
}

/// The company picker: by name or identifier, at most 25.
async fn companies(
    State(state): State<Shared>,
    _: AdminAuth,
    Query(search): Query<Search>,
) -> Result<Json<Vec<CompanyView>>, ApiFailure> {
    if search.q.chars().count() > 100 {
        return Err(ApiFailure::invalid_body(
            "search for at most 100 characters",
            Some("q".into()),
        ));
    }
    let found = state
        .ops()
        .client()
        .await?
        .search_companies(search.q.trim(), 25)
        .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|c| CompanyView {
                id: c.id,
                identifier: c.identifier,
                name: c.name,
            })
            .collect(),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncReply {
    companies: usize,
}

async fn sync_now(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<SyncReply>, ApiFailure> {
    let companies = state.ops().sync_now().await?;
    Ok(Json(SyncReply { companies }))
}
