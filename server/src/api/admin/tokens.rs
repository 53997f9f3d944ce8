//! Each policy's enrollment tokens: list (never the tokens themselves), create (the token is in
//! that answer only), revoke.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::document::{PolicyPath, TokenPath};
use crate::api::{ApiFailure, read_json};
use crate::ids::PolicyId;
use crate::state::Shared;
use crate::store::now_ms;

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Serialize, ToSchema)]
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

/// The policy's enrollment tokens (never the tokens themselves).
#[utoipa::path(
    get,
    path = "/policies/{id}/tokens",
    params(PolicyPath),
    responses((status = 200, body = Vec<TokenView>))
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    label: String,
    expires_in_days: Option<u32>,
    /// Machines that may enroll with it in all (none: any number).
    max_uses: Option<u32>,
}

/// Creates an enrollment token; the token itself is in this answer only.
#[utoipa::path(
    post,
    path = "/policies/{id}/tokens",
    params(PolicyPath),
    request_body = NewToken,
    responses((status = 201, body = TokenView))
)]
async fn create_token(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<TokenView>), ApiFailure> {
    let req: NewToken = read_json(body).await?;
    let (record, token) = state
        .ops(&auth.actor)
        .create_token(id, &req.label, req.expires_in_days, req.max_uses)
        .await?;
    Ok((StatusCode::CREATED, Json(token_view(record, Some(token)))))
}

/// Revokes an enrollment token.
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    params(TokenPath),
    responses((status = 204, description = "Revoked"))
)]
async fn revoke_token(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiFailure> {
    state.ops(&auth.actor).revoke_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
