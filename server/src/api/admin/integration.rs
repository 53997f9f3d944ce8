//! The ConnectWise integration: credentials (the private key write-only), the connection test
//! and what it found, the choices, company search, and "Sync now".

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use connectwise_client::{Client, Error as CwError};
use serde::{Deserialize, Serialize};

use super::AdminAuth;
use crate::api::{ApiFailure, read_json};
use crate::integration::{
    self, Catalog, Choices, CwCredentials, CwCredentialsView, IntegrationError,
};
use crate::reconcile::queue;
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/integration", get(show).put(save))
        .route("/integration/test", post(test))
        .route("/integration/choices", get(show_choices).put(save_choices))
        .route("/companies", get(companies))
        .route("/sync", post(sync_now))
}

pub(crate) fn integration_failure(e: IntegrationError) -> ApiFailure {
    e.into()
}

pub(crate) fn cw_failure(e: CwError) -> ApiFailure {
    e.into()
}

pub(crate) async fn cw_client(state: &Shared) -> Result<Client, ApiFailure> {
    let config = integration::client_config(&state.store, super::key(state)?)
        .await
        .map_err(integration_failure)?;
    Client::new(config).map_err(cw_failure)
}

async fn show(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Option<CwCredentialsView>>, ApiFailure> {
    Ok(Json(
        integration::credentials(&state.store)
            .await
            .map_err(integration_failure)?,
    ))
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
    integration::save_credentials(
        &state.store,
        super::key(&state)?,
        &req.credentials,
        req.private_key.as_deref(),
    )
    .await
    .map_err(integration_failure)?;
    // Whatever failed under the old credentials is tried again under the new ones.
    if integration::choices(&state.store)
        .await
        .map_err(integration_failure)?
        .is_some()
    {
        queue::sync_all(&state.store).await?;
        queue::retry_failed_tickets(&state.store).await?;
        state.wake_engine();
    }
    show(State(state), AdminAuth::internal()).await
}

async fn catalog(state: &Shared) -> Result<Catalog, ApiFailure> {
    let config = integration::client_config(&state.store, super::key(state)?)
        .await
        .map_err(integration_failure)?;
    integration::test_connection(config)
        .await
        .map_err(cw_failure)
}

/// "Test connection": what ConnectWise offers to choose from, or precisely why it failed.
async fn test(State(state): State<Shared>, _: AdminAuth) -> Result<Json<Catalog>, ApiFailure> {
    Ok(Json(catalog(&state).await?))
}

async fn show_choices(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Option<Choices>>, ApiFailure> {
    Ok(Json(
        integration::choices(&state.store)
            .await
            .map_err(integration_failure)?,
    ))
}

/// Saves the choices after checking them against what ConnectWise offers now; every device is
/// then re-synced under them.
async fn save_choices(
    State(state): State<Shared>,
    _: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Choices>, ApiFailure> {
    let choices: Choices = read_json(body).await?;
    let catalog = catalog(&state).await?;
    integration::save_choices(&state.store, &catalog, &choices)
        .await
        .map_err(integration_failure)?;
    queue::sync_all(&state.store).await?;
    queue::retry_failed_tickets(&state.store).await?;
    state.wake_engine();
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
    let found = cw_client(&state)
        .await?
        .search_companies(search.q.trim(), 25)
        .await
        .map_err(cw_failure)?;
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
