//! The ConnectWise integration: credentials (the private key write-only), the connection test
//! and what it found, the choices, company search, and "Sync now".

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AdminAuth;
use crate::api::{ApiFailure, read_json};
use crate::integration::{self, Catalog, Choices, CwCredentials, CwCredentialsView};
use crate::reconcile::callbacks::{self, CallbackStatus};
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/integration", get(show).put(save))
        .route("/integration/test", post(test))
        .route("/integration/choices", get(show_choices).put(save_choices))
        .route(
            "/integration/callback",
            get(callback_status)
                .post(callback_register)
                .delete(callback_remove),
        )
        .route(
            "/contact-mappings",
            get(contact_mappings).put(save_contact_mappings),
        )
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

/// Whether ConnectWise calls Bindery back about its tickets, and if not, why (it polls).
async fn callback_status(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<CallbackStatus>, ApiFailure> {
    Ok(Json(callbacks::status(&state.store).await?))
}

/// Registers the ticket callback again at the server's public URL (or says why not).
async fn callback_register(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<CallbackStatus>, ApiFailure> {
    Ok(Json(state.ops().register_callbacks().await))
}

/// Removes the ticket callback; Bindery polls from then on.
async fn callback_remove(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<CallbackStatus>, ApiFailure> {
    Ok(Json(state.ops().unregister_callbacks().await?))
}

/// A login mapped by hand to a ConnectWise contact (wins over automatic matching).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContactMapping {
    login: String,
    contact_id: i64,
}

async fn contact_mappings(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Vec<ContactMapping>>, ApiFailure> {
    Ok(Json(
        state
            .ops()
            .contact_mappings()
            .await
            .into_iter()
            .map(|(login, contact_id)| ContactMapping { login, contact_id })
            .collect(),
    ))
}

/// Replaces every manual mapping (logins 1-200 characters, at most 10,000 mappings).
async fn save_contact_mappings(
    State(state): State<Shared>,
    _: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Vec<ContactMapping>>, ApiFailure> {
    let list: Vec<ContactMapping> = read_json(body).await?;
    let pairs: Vec<(String, i64)> = list.into_iter().map(|m| (m.login, m.contact_id)).collect();
    let kept = state.ops().replace_contact_mappings(&pairs).await?;
    Ok(Json(
        kept.into_iter()
            .map(|(login, contact_id)| ContactMapping { login, contact_id })
            .collect(),
    ))
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
