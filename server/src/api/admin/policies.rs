//! Policies: list with their link state, create, rename, delete, link to a ConnectWise company,
//! unlink, and "Retry Pending". (Their enrollment tokens are in `tokens`.)

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::document::PolicyPath;
use super::integrations::Instance;
use crate::api::{ApiFailure, read_json};
use crate::ids::{CompanyId, IntegrationId, PolicyId};
use crate::ops::links::{LinkPreview, Suggestion};
use crate::state::Shared;
use crate::store::{Policy, PolicyBindings, SiteRef};

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one, rename, remove))
        .routes(routes!(link, unlink))
        .routes(routes!(preview))
        .routes(routes!(suggestions))
        .routes(routes!(link_many))
        .routes(routes!(preview_many))
        .routes(routes!(retry_pending))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    pub id: PolicyId,
    pub name: String,
    pub company: Option<CompanyRef>,
    /// `grey` (not linked), `blue` (linked, every device bound), `red` (linked, some not).
    pub link: &'static str,
    pub devices: i64,
    pub bound: i64,
    pub pending: i64,
    pub failed: i64,
    /// Devices waiting for a person (several candidates, or a possible reinstall).
    pub needs_person: i64,
    /// Devices bound nowhere, as meant: configuration set inactive (unlinked, moved out), or
    /// never bound while the policy is not linked.
    pub inactive: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyRef {
    /// The ConnectWise instance the company is in.
    pub integration_id: IntegrationId,
    pub id: CompanyId,
    pub name: String,
    /// The company's site the policy's devices carry; none: sites are left to ConnectWise.
    pub site: Option<SiteRef>,
}

pub async fn view(state: &Shared, p: Policy) -> Result<PolicyView, ApiFailure> {
    let b = state.store.policy_bindings(p.id).await?;
    Ok(view_of(p, b))
}

fn view_of(p: Policy, b: PolicyBindings) -> PolicyView {
    PolicyView {
        id: p.id,
        name: p.name,
        company: p.cw_company_id.map(|id| CompanyRef {
            integration_id: p.cw_integration_id.unwrap_or(IntegrationId::FIRST),
            id,
            name: p.cw_company_name.unwrap_or_default(),
            site: p.cw_site,
        }),
        link: b.link.as_str(),
        devices: b.devices,
        bound: b.bound,
        pending: b.pending,
        failed: b.failed,
        needs_person: b.needs_person,
        inactive: b.inactive,
    }
}

/// Policies with their link state (grey/blue/red) and binding counts.
#[utoipa::path(
    get,
    path = "/policies",
    responses((status = 200, body = Vec<PolicyView>))
)]
async fn list(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Vec<PolicyView>>, ApiFailure> {
    let all = state.store.policies_with_bindings().await?;
    Ok(Json(all.into_iter().map(|(p, b)| view_of(p, b)).collect()))
}

/// One policy.
#[utoipa::path(
    get,
    path = "/policies/{id}",
    params(PolicyPath),
    responses((status = 200, body = PolicyView))
)]
async fn one(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<PolicyView>, ApiFailure> {
    let p = state.store.policy(id).await?;
    Ok(Json(view(&state, p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NameBody {
    name: String,
}

/// Create a policy.
#[utoipa::path(
    post,
    path = "/policies",
    request_body = NameBody,
    responses((status = 201, body = PolicyView))
)]
async fn create(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<PolicyView>), ApiFailure> {
    let req: NameBody = read_json(body).await?;
    let p = state.ops(&auth.actor).create_policy(&req.name).await?;
    Ok((StatusCode::CREATED, Json(view(&state, p).await?)))
}

/// Rename a policy.
#[utoipa::path(
    patch,
    path = "/policies/{id}",
    params(PolicyPath),
    request_body = NameBody,
    responses((status = 200, body = PolicyView))
)]
async fn rename(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<PolicyView>, ApiFailure> {
    let req: NameBody = read_json(body).await?;
    let p = state.ops(&auth.actor).rename_policy(id, &req.name).await?;
    Ok(Json(view(&state, p).await?))
}

/// Deleting a policy keeps its devices (without a policy) and deactivates their configurations.
#[utoipa::path(
    delete,
    path = "/policies/{id}",
    params(PolicyPath),
    responses((status = 204, description = "Deleted"))
)]
async fn remove(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<StatusCode, ApiFailure> {
    state.ops(&auth.actor).delete_policy(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkBody {
    /// The instance the company is in (`GET /integrations`); none: the oldest. A policy linked
    /// to a company of another instance moves: its configurations there are set inactive.
    #[serde(default)]
    integration_id: Option<IntegrationId>,
    company_id: CompanyId,
    /// One of the company's active sites (`GET /companies/{id}/sites`) for its devices'
    /// configurations and tickets; omit it to leave sites to ConnectWise. Checked when linking;
    /// a preview does not depend on it.
    #[serde(default)]
    site_id: Option<i64>,
}

/// Links the policy to a company that ConnectWise confirms exists; binding starts at once.
#[utoipa::path(
    put,
    path = "/policies/{id}/link",
    params(PolicyPath),
    request_body = LinkBody,
    responses((status = 200, body = PolicyView))
)]
async fn link(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<PolicyView>, ApiFailure> {
    let req: LinkBody = read_json(body).await?;
    let ops = state.ops(&auth.actor);
    let integration = ops.integration_or_default(req.integration_id).await?;
    let p = ops
        .link_at_site(id, (integration, req.company_id), req.site_id)
        .await?;
    Ok(Json(view(&state, p).await?))
}

/// What linking would do (adopt, create, re-activate, deactivate, wait for a person), from the
/// reads of one sync; nothing is written.
#[utoipa::path(
    post,
    path = "/policies/{id}/link/preview",
    params(PolicyPath),
    request_body = LinkBody,
    responses((status = 200, body = LinkPreview))
)]
async fn preview(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<LinkPreview>, ApiFailure> {
    let req: LinkBody = read_json(body).await?;
    let ops = state.ops(&auth.actor);
    let integration = ops.integration_or_default(req.integration_id).await?;
    Ok(Json(
        ops.preview_link(id, (integration, req.company_id)).await?,
    ))
}

/// Unlinks the policy; its devices' configurations are set to the inactive status.
#[utoipa::path(
    delete,
    path = "/policies/{id}/link",
    params(PolicyPath),
    responses((status = 200, body = PolicyView))
)]
async fn unlink(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<PolicyView>, ApiFailure> {
    let (p, _) = state.ops(&auth.actor).unlink(id).await?;
    Ok(Json(view(&state, p).await?))
}

/// Each unlinked policy with the ConnectWise company whose name matches it best.
#[utoipa::path(
    get,
    path = "/company-suggestions",
    params(Instance),
    responses((status = 200, body = Vec<Suggestion>))
)]
async fn suggestions(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(which): Query<Instance>,
) -> Result<Json<Vec<Suggestion>>, ApiFailure> {
    let id = which.id(&state).await?;
    Ok(Json(state.ops(&auth.actor).company_suggestions(id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinksBody {
    links: Vec<PolicyCompany>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyCompany {
    policy_id: PolicyId,
    /// The company's instance; none: the oldest.
    #[serde(default)]
    integration_id: Option<IntegrationId>,
    company_id: CompanyId,
}

/// At most this many links in one request (each costs a sync's reads).
const MAX_LINKS: usize = 200;

fn check_links(req: &LinksBody) -> Result<(), ApiFailure> {
    if req.links.is_empty() || req.links.len() > MAX_LINKS {
        return Err(ApiFailure::invalid_body(
            format!("give 1 to {MAX_LINKS} links"),
            Some("links".into()),
        ));
    }
    Ok(())
}

/// Previews of several links (accepted suggestions), in the order given.
#[utoipa::path(
    post,
    path = "/policies/links/preview",
    request_body = LinksBody,
    responses((status = 200, body = Vec<LinkPreview>))
)]
async fn preview_many(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Vec<LinkPreview>>, ApiFailure> {
    let req: LinksBody = read_json(body).await?;
    check_links(&req)?;
    let mut out = Vec::new();
    let ops = state.ops(&auth.actor);
    for l in &req.links {
        let integration = ops.integration_or_default(l.integration_id).await?;
        out.push(
            ops.preview_link(l.policy_id, (integration, l.company_id))
                .await?,
        );
    }
    Ok(Json(out))
}

/// Links several policies at once (accepted suggestions); stops at the first that fails, with
/// the ones before it linked.
#[utoipa::path(
    post,
    path = "/policies/links",
    request_body = LinksBody,
    responses((status = 200, body = Vec<PolicyView>))
)]
async fn link_many(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Vec<PolicyView>>, ApiFailure> {
    let req: LinksBody = read_json(body).await?;
    check_links(&req)?;
    let mut out = Vec::new();
    let ops = state.ops(&auth.actor);
    for l in &req.links {
        let integration = ops.integration_or_default(l.integration_id).await?;
        let p = ops.link(l.policy_id, (integration, l.company_id)).await?;
        out.push(view(&state, p).await?);
    }
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RetryReply {
    queued: usize,
}

/// Queues every unbound device of the policy again now ("Retry Pending").
#[utoipa::path(
    post,
    path = "/policies/{id}/retry-pending",
    params(PolicyPath),
    responses((status = 200, body = RetryReply))
)]
async fn retry_pending(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<RetryReply>, ApiFailure> {
    let queued = state.ops(&auth.actor).retry_pending(id).await?;
    Ok(Json(RetryReply { queued }))
}
