//! Policies: list with their link state, create, rename, delete, link to a ConnectWise company,
//! unlink, "Retry Pending", and their enrollment tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::AdminAuth;
use crate::api::{ApiFailure, read_json};
use crate::ids::{CompanyId, PolicyId};
use crate::ops::links::{LinkPreview, Suggestion};
use crate::state::Shared;
use crate::store::{Policy, PolicyBindings, now_ms};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/policies", get(list).post(create))
        .route("/policies/{id}", get(one).patch(rename).delete(remove))
        .route("/policies/{id}/link", put(link).delete(unlink))
        .route("/policies/{id}/link/preview", post(preview))
        .route("/company-suggestions", get(suggestions))
        .route("/policies/links", post(link_many))
        .route("/policies/links/preview", post(preview_many))
        .route("/policies/{id}/retry-pending", post(retry_pending))
        .route("/policies/{id}/tokens", get(tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
}

#[derive(Serialize)]
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanyRef {
    pub id: CompanyId,
    pub name: String,
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
            id,
            name: p.cw_company_name.unwrap_or_default(),
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

async fn list(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Vec<PolicyView>>, ApiFailure> {
    let all = state.store.policies_with_bindings().await?;
    Ok(Json(all.into_iter().map(|(p, b)| view_of(p, b)).collect()))
}

async fn one(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<PolicyView>, ApiFailure> {
    let p = state.store.policy(id).await?;
    Ok(Json(view(&state, p).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    name: String,
}

async fn create(
    State(state): State<Shared>,
    _: AdminAuth,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<PolicyView>), ApiFailure> {
    let req: NameBody = read_json(body).await?;
    let p = state.ops().create_policy(&req.name).await?;
    Ok((StatusCode::CREATED, Json(view(&state, p).await?)))
}

async fn rename(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<PolicyView>, ApiFailure> {
    let req: NameBody = read_json(body).await?;
    let p = state.ops().rename_policy(id, &req.name).await?;
    Ok(Json(view(&state, p).await?))
}

/// Deleting a policy keeps its devices (without a policy) and deactivates their configurations.
async fn remove(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<StatusCode, ApiFailure> {
    state.ops().delete_policy(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkBody {
    company_id: CompanyId,
}

/// Links the policy to a company that ConnectWise confirms exists; binding starts at once.
async fn link(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<PolicyView>, ApiFailure> {
    let req: LinkBody = read_json(body).await?;
    let p = state.ops().link(id, req.company_id).await?;
    Ok(Json(view(&state, p).await?))
}

/// What linking would do (adopt, create, re-activate, deactivate, wait for a person), from the
/// reads of one sync; nothing is written.
async fn preview(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<LinkPreview>, ApiFailure> {
    let req: LinkBody = read_json(body).await?;
    Ok(Json(state.ops().preview_link(id, req.company_id).await?))
}

async fn unlink(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<PolicyView>, ApiFailure> {
    let (p, _) = state.ops().unlink(id).await?;
    Ok(Json(view(&state, p).await?))
}

/// Each unlinked policy with the ConnectWise company whose name matches it best.
async fn suggestions(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<Vec<Suggestion>>, ApiFailure> {
    Ok(Json(state.ops().company_suggestions().await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinksBody {
    links: Vec<PolicyCompany>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyCompany {
    policy_id: PolicyId,
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
async fn preview_many(
    State(state): State<Shared>,
    _: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Vec<LinkPreview>>, ApiFailure> {
    let req: LinksBody = read_json(body).await?;
    check_links(&req)?;
    let mut out = Vec::new();
    for l in &req.links {
        out.push(state.ops().preview_link(l.policy_id, l.company_id).await?);
    }
    Ok(Json(out))
}

/// Links several policies at once (accepted suggestions); stops at the first that fails, with
/// the ones before it linked.
async fn link_many(
    State(state): State<Shared>,
    _: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<Vec<PolicyView>>, ApiFailure> {
    let req: LinksBody = read_json(body).await?;
    check_links(&req)?;
    let mut out = Vec::new();
    for l in &req.links {
        let p = state.ops().link(l.policy_id, l.company_id).await?;
        out.push(view(&state, p).await?);
    }
    Ok(Json(out))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetryReply {
    queued: usize,
}

async fn retry_pending(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<RetryReply>, ApiFailure> {
    let queued = state.ops().retry_pending(id).await?;
    Ok(Json(RetryReply { queued }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    id: i64,
    label: String,
    created_ms: i64,
    expires_ms: Option<i64>,
    revoked: bool,
    usable: bool,
    uses: i64,
    max_uses: Option<i64>,
    /// Only in the answer that created it: the token itself is never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

fn token_view(t: crate::store::EnrollmentToken, token: Option<String>) -> TokenView {
    TokenView {
        usable: t.is_usable(now_ms()),
        id: t.id,
        label: t.label,
        created_ms: t.created_ms,
        expires_ms: t.expires_ms,
        revoked: t.revoked_ms.is_some(),
        uses: t.uses,
        max_uses: t.max_uses,
        token,
    }
}

async fn tokens(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<Vec<TokenView>>, ApiFailure> {
    state.store.policy(id).await?;
    let list = state.store.tokens(id).await?;
    Ok(Json(
        list.into_iter().map(|t| token_view(t, None)).collect(),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    label: String,
    expires_in_days: Option<u32>,
    /// Machines that may enroll with it in all (none: any number).
    max_uses: Option<u32>,
}

async fn create_token(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<TokenView>), ApiFailure> {
    let req: NewToken = read_json(body).await?;
    let (record, token) = state
        .ops()
        .create_token(id, &req.label, req.expires_in_days, req.max_uses)
        .await?;
    Ok((StatusCode::CREATED, Json(token_view(record, Some(token)))))
}

async fn revoke_token(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiFailure> {
    state.ops().revoke_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
