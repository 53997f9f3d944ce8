//! The team: accounts and their roles, personal API tokens, and the audit trail (paged,
//! filtered, exported as CSV or JSON). Who may do what is the operations' rule (`access`).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use crate::access::Role;
use crate::api::{ApiFailure, read_json};
use crate::ops::api_tokens::NewApiToken;
use crate::state::Shared;
use crate::store::{ApiToken, AuditEntry, AuditFilter};

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(accounts, create_account))
        .routes(routes!(change_account))
        .routes(routes!(api_tokens, create_api_token))
        .routes(routes!(revoke_api_token))
        .routes(routes!(audit))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Account {
    username: String,
    role: Role,
}

/// Every account and its role.
#[utoipa::path(get, path = "/accounts", responses((status = 200, body = Vec<Account>)))]
async fn accounts(
    State(state): State<Shared>,
    auth: AdminAuth,
) -> Result<Json<Vec<Account>>, ApiFailure> {
    let all = state.ops(&auth.actor).accounts().await?;
    Ok(Json(
        all.into_iter()
            .map(|(username, role)| Account { username, role })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewAccount {
    username: String,
    /// At least 12 characters.
    password: String,
    role: Role,
}

/// A new account (owners only).
#[utoipa::path(
    post,
    path = "/accounts",
    request_body = NewAccount,
    responses((status = 201, body = Account))
)]
async fn create_account(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Account>), ApiFailure> {
    let req: NewAccount = read_json(body).await?;
    let made = state
        .ops(&auth.actor)
        .create_admin(&req.username, &req.password, req.role)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Account {
            username: made.username,
            role: made.role,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountChange {
    /// Another role (owners only; the last owner stays one).
    #[serde(default)]
    role: Option<Role>,
    /// A new password (one's own, or an owner for anyone); it ends that account's sessions.
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct AccountPath {
    /// The account's username.
    username: String,
}

/// Changes an account's role or password.
#[utoipa::path(
    patch,
    path = "/accounts/{username}",
    params(AccountPath),
    request_body = AccountChange,
    responses((status = 204, description = "Changed"))
)]
async fn change_account(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(path): Path<AccountPath>,
    body: axum::body::Body,
) -> Result<StatusCode, ApiFailure> {
    let req: AccountChange = read_json(body).await?;
    let ops = state.ops(&auth.actor);
    if let Some(role) = req.role {
        ops.set_admin_role(&path.username, role).await?;
    }
    if let Some(password) = &req.password {
        ops.set_admin_password(&path.username, password).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account's API tokens (an owner's list is everyone's); never their secrets.
#[utoipa::path(get, path = "/api-tokens", responses((status = 200, body = Vec<ApiToken>)))]
async fn api_tokens(
    State(state): State<Shared>,
    auth: AdminAuth,
) -> Result<Json<Vec<ApiToken>>, ApiFailure> {
    Ok(Json(state.ops(&auth.actor).api_tokens().await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewToken {
    /// 1-100 characters: what the token is for.
    name: String,
    /// At most the account's own.
    role: Role,
    /// 1 to 366.
    days: i64,
}

/// A personal API token for the signed-in account (signed in with a password, not with
/// another token). The secret is in this answer only: use it as `Authorization: Bearer …`.
#[utoipa::path(
    post,
    path = "/api-tokens",
    request_body = NewToken,
    responses((status = 201, body = NewApiToken))
)]
async fn create_api_token(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<NewApiToken>), ApiFailure> {
    let req: NewToken = read_json(body).await?;
    let made = state
        .ops(&auth.actor)
        .create_api_token(&req.name, req.role, req.days)
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct ApiTokenPath {
    /// The token's id.
    id: i64,
}

/// Revokes an API token: one's own, or (an owner) anyone's.
#[utoipa::path(
    delete,
    path = "/api-tokens/{id}",
    params(ApiTokenPath),
    responses((status = 204, description = "Revoked"))
)]
async fn revoke_api_token(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(path): Path<ApiTokenPath>,
) -> Result<StatusCode, ApiFailure> {
    state.ops(&auth.actor).revoke_api_token(path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct AuditQuery {
    /// Only this account's changes (`cli:<user>` for the command line's).
    actor: Option<String>,
    /// An action (`policy.link`), or a prefix ending in a dot (`policy.`).
    action: Option<String>,
    /// Only changes since (ms since the epoch).
    since_ms: Option<i64>,
    /// The next page: entries older than this id.
    before_id: Option<i64>,
    /// 1 to 10,000 (default 100).
    limit: Option<i64>,
    /// `json` (default) or `csv` (a file to keep).
    format: Option<String>,
}

/// The audit trail, newest first: who changed what through the console, the API or the
/// command line, when, how and from which address.
#[utoipa::path(
    get,
    path = "/audit",
    params(AuditQuery),
    responses((
        status = 200,
        description = "The entries as JSON, or with format=csv as a CSV file",
        content((Vec<AuditEntry> = "application/json"), (String = "text/csv"))
    ))
)]
async fn audit(
    State(state): State<Shared>,
    auth: AdminAuth,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiFailure> {
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        since_ms: q.since_ms,
        before_id: q.before_id,
        limit: q.limit.unwrap_or(100),
    };
    let entries = state.ops(&auth.actor).audit(&filter).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(entries).into_response()),
        Some("csv") => Ok((
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/csv; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"bindery-audit.csv\""),
                ),
            ],
            crate::ops::audit::csv(&entries),
        )
            .into_response()),
        Some(other) => Err(ApiFailure::invalid_body(
            format!("format is json or csv, not {other:?}"),
            Some("format".into()),
        )),
    }
}
