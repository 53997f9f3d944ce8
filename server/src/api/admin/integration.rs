//! One ConnectWise integration (`?integration=ID`, else the oldest): credentials (the private
//! key write-only), the connection test and what it found, the choices, company search, and
//! "Sync now" (of every instance).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::integrations::Instance;
use crate::api::{ApiFailure, read_json};
use crate::ids::CompanyId;
use crate::integration::{self, Catalog, Choices, CwCredentials, CwCredentialsView};
use crate::reconcile::callbacks::{self, CallbackStatus};
use crate::state::Shared;

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(show, save))
        .routes(routes!(test))
        .routes(routes!(show_choices, save_choices))
        .routes(routes!(callback_status, callback_register, callback_remove))
        .routes(routes!(contact_mappings, save_contact_mappings))
        .routes(routes!(companies))
        .routes(routes!(company_sites))
        .routes(routes!(sync_now))
}

/// The ConnectWise credentials (the private key only as `privateKeySet`).
#[utoipa::path(
    get,
    path = "/integration",
    params(Instance),
    responses((status = 200, body = Option<CwCredentialsView>))
)]
async fn show(
    State(state): State<Shared>,
    _: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<Option<CwCredentialsView>>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(integration::credentials(&state.store, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SaveBody {
    #[serde(flatten)]
    credentials: CwCredentials,
    /// Write-only: omit (or null) to keep the stored one.
    private_key: Option<String>,
}

/// Saves the credentials; `privateKey` is write-only (omit it to keep the stored one).
#[utoipa::path(
    put,
    path = "/integration",
    params(Instance),
    request_body = SaveBody,
    responses((status = 200, body = Option<CwCredentialsView>))
)]
async fn save(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
    body: axum::body::Body,
) -> Result<Json<Option<CwCredentialsView>>, ApiFailure> {
    let req: SaveBody = read_json(body).await?;
    let id = which.id(&state).await?;
    let view = state
        .ops(&auth.actor)
        .save_credentials(id, &req.credentials, req.private_key.as_deref())
        .await?;
    Ok(Json(view))
}

/// "Test connection": what ConnectWise offers to choose from, or precisely why it failed.
#[utoipa::path(
    post,
    path = "/integration/test",
    params(Instance),
    responses((status = 200, body = Catalog))
)]
async fn test(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<Catalog>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(state.ops(&auth.actor).test_connection(id).await?))
}

/// The saved choices (none before the first save).
#[utoipa::path(
    get,
    path = "/integration/choices",
    params(Instance),
    responses((status = 200, body = Option<Choices>))
)]
async fn show_choices(
    State(state): State<Shared>,
    _: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<Option<Choices>>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(integration::choices(&state.store, id).await?))
}

/// Saves the choices after checking them against what ConnectWise offers now; every device is
/// then re-synced under them.
#[utoipa::path(
    put,
    path = "/integration/choices",
    params(Instance),
    request_body = Choices,
    responses((status = 200, body = Choices))
)]
async fn save_choices(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
    body: axum::body::Body,
) -> Result<Json<Choices>, ApiFailure> {
    let choices: Choices = read_json(body).await?;
    let id = which.id(&state).await?;
    state.ops(&auth.actor).save_choices(id, &choices).await?;
    Ok(Json(choices))
}

/// Whether ConnectWise calls Bindery back about its tickets, and if not, why (it polls).
#[utoipa::path(
    get,
    path = "/integration/callback",
    params(Instance),
    responses((status = 200, body = CallbackStatus))
)]
async fn callback_status(
    State(state): State<Shared>,
    _: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<CallbackStatus>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(callbacks::status(&state.store, id).await?))
}

/// Registers the ticket callback again at the server's public URL (or says why not).
#[utoipa::path(
    post,
    path = "/integration/callback",
    params(Instance),
    responses((status = 200, body = CallbackStatus))
)]
async fn callback_register(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<CallbackStatus>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(
        state.ops(&auth.actor).register_callbacks_again(id).await?,
    ))
}

/// Removes the ticket callback; Bindery polls from then on.
#[utoipa::path(
    delete,
    path = "/integration/callback",
    params(Instance),
    responses((status = 200, body = CallbackStatus))
)]
async fn callback_remove(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<CallbackStatus>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(state.ops(&auth.actor).unregister_callbacks(id).await?))
}

/// A login mapped by hand to a ConnectWise contact (wins over automatic matching).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContactMapping {
    login: String,
    contact_id: i64,
}

/// The manual login-to-contact mappings.
#[utoipa::path(
    get,
    path = "/contact-mappings",
    params(Instance),
    responses((status = 200, body = Vec<ContactMapping>))
)]
async fn contact_mappings(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<Vec<ContactMapping>>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(
        state
            .ops(&auth.actor)
            .contact_mappings(id)
            .await
            .into_iter()
            .map(|(login, contact_id)| ContactMapping { login, contact_id })
            .collect(),
    ))
}

/// Replaces every manual mapping (logins 1-200 characters, at most 10,000 mappings).
#[utoipa::path(
    put,
    path = "/contact-mappings",
    params(Instance),
    request_body = Vec<ContactMapping>,
    responses((status = 200, body = Vec<ContactMapping>))
)]
async fn save_contact_mappings(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
    body: axum::body::Body,
) -> Result<Json<Vec<ContactMapping>>, ApiFailure> {
    let list: Vec<ContactMapping> = read_json(body).await?;
    let pairs: Vec<(String, i64)> = list.into_iter().map(|m| (m.login, m.contact_id)).collect();
    let id = which.id(&state).await?;
    let kept = state
        .ops(&auth.actor)
        .replace_contact_mappings(id, &pairs)
        .await?;
    Ok(Json(
        kept.into_iter()
            .map(|(login, contact_id)| ContactMapping { login, contact_id })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Search {
    /// Part of the company's name or identifier.
    #[serde(default)]
    #[param(max_length = 100)]
    q: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct CompanyView {
    id: i64,
    identifier: String,
    name: String,
}

/// The company picker: by name or identifier, at most 25.
#[utoipa::path(
    get,
    path = "/companies",
    params(Search, Instance),
    responses((status = 200, body = Vec<CompanyView>))
)]
async fn companies(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(search): Query<Search>,
    Query(which): Query<Instance>,
) -> Result<Json<Vec<CompanyView>>, ApiFailure> {
    if search.q.chars().count() > 100 {
        return Err(ApiFailure::invalid_body(
            "search for at most 100 characters",
            Some("q".into()),
        ));
    }
    let id = which.id(&state).await?;
    let found = state
        .ops(&auth.actor)
        .client(id)
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

/// A company's site, as the site picker shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SiteView {
    id: i64,
    name: String,
    city: Option<String>,
    /// The company's main address.
    primary: bool,
}

/// The company's active sites, for a link's site (by name).
#[utoipa::path(
    get,
    path = "/companies/{id}/sites",
    params(("id" = CompanyId, Path, description = "The ConnectWise company's id"), Instance),
    responses((status = 200, body = Vec<SiteView>))
)]
async fn company_sites(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<CompanyId>,
    Query(which): Query<Instance>,
) -> Result<Json<Vec<SiteView>>, ApiFailure> {
    let integration = which.id(&state).await?;
    let sites = state
        .ops(&auth.actor)
        .company_sites((integration, id))
        .await?;
    Ok(Json(
        sites
            .into_iter()
            .map(|s| SiteView {
                id: s.id,
                name: s.name,
                city: s.city,
                primary: s.primary_address_flag == Some(true),
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SyncReply {
    companies: usize,
}

/// "Sync now": re-syncs every linked company.
#[utoipa::path(
    post,
    path = "/sync",
    responses((status = 200, body = SyncReply))
)]
async fn sync_now(
    State(state): State<Shared>,
    auth: AdminAuth,
) -> Result<Json<SyncReply>, ApiFailure> {
    let companies = state.ops(&auth.actor).sync_now().await?;
    Ok(Json(SyncReply { companies }))
}
