//! The admin API, version 1: JSON over HTTP for scripts and the console. Every call but login
//! needs a session: `Authorization: Bearer <token>` from `POST /session`, or the session
//! cookie that login also sets, in which case a state-changing call must carry the session's
//! CSRF token in `X-CSRF-Token` (a cross-site form cannot).

mod billing;
mod devices;
mod document;
mod field_map;
pub(crate) mod integration;
mod integrations;
mod maintenance;
mod monitoring;
pub(crate) mod policies;
mod routing;
mod team;
mod tokens;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use bindery_shared::protocol::ApiError;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiFailure, read_json};
use crate::access::Actor;
use crate::secrets::{hash_secret, verify_secret};
use crate::sessions::{
    check_password, client_address, end_session, loggable, secure_cookies, session_cookie,
    session_for, session_token, sign_in_attempt, sign_in_failed, start_session, token_actor,
};
use crate::state::Shared;
use document::SignIn;

pub const PREFIX: &str = "/api/admin/v1";

/// The document's frame: what it is, where it is served, how a caller signs in. The routes and
/// every type they take or answer are added by `documented()` from the handlers themselves.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bindery admin API",
        version = "1",
        description = "Administration of Bindery: policies, enrollment tokens, devices, the ConnectWise integration and binding. Every call but sign-in needs a session: `Authorization: Bearer <token>`, or the session cookie plus `X-CSRF-Token` on calls that change something."
    ),
    servers((url = "/api/admin/v1")),
    security(("bearer" = []), ("cookie" = [])),
    components(schemas(ApiError)),
    modifiers(&SignIn)
)]
struct Frame;

/// Every route of the API, each registered with its documentation in one call (`routes!`), so
/// a route cannot be served undocumented nor documented unserved.
fn documented() -> OpenApiRouter<Shared> {
    OpenApiRouter::with_openapi(Frame::openapi())
        .routes(routes!(openapi))
        .routes(routes!(login, whoami, logout))
        .merge(policies::router())
        .merge(tokens::router())
        .merge(devices::router())
        .merge(integration::router())
        .merge(integrations::router())
        .merge(monitoring::router())
        .merge(maintenance::router())
        .merge(billing::router())
        .merge(routing::router())
        .merge(field_map::router())
        .merge(team::router())
}

pub fn router() -> Router<Shared> {
    documented().split_for_parts().0
}

/// The OpenAPI document of this API, made once from the routes (`docs/admin-api.json` is its
/// snapshot, compared by a test). Tests also check it against the running server: every answer
/// of every documented route must match its documented schema strictly
/// (server/tests/openapi.rs), and every route but sign-in must refuse a request without a session.
pub fn openapi_document() -> &'static str {
    static DOCUMENT: LazyLock<String> =
        LazyLock::new(|| document::finished(documented().split_for_parts().1));
    &DOCUMENT
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    security(()),
    responses((status = 200, description = "This document", body = Object))
)]
async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        openapi_document(),
    )
        .into_response()
}

/// A signed-in admin, from the request's bearer token (a session's or a personal API token) or
/// session cookie.
#[derive(Clone, Debug)]
pub struct AdminAuth {
    pub actor: Actor,
    pub csrf: String,
}

impl FromRequestParts<Shared> for AdminAuth {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiFailure> {
        const REFUSED: &str = "sign in first: POST /api/admin/v1/session";
        let (token, from_cookie) =
            session_token(&parts.headers).ok_or_else(|| ApiFailure::unauthorized(REFUSED))?;
        let address = client_address(state, parts);
        if !from_cookie && let Some(actor) = token_actor(state, &token, address.clone()).await? {
            return Ok(AdminAuth {
                actor,
                csrf: String::new(),
            });
        }
        let session = session_for(state, &token, address)
            .await?
            .ok_or_else(|| ApiFailure::unauthorized("the session has expired: sign in again"))?;
        let auth = AdminAuth {
            actor: session.actor,
            csrf: session.csrf,
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if from_cookie && !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            // Compared in constant time, as the console does.
            let matches = sent.is_some_and(|s| verify_secret(s, &hash_secret(&auth.csrf)));
            if !matches {
                return Err(ApiFailure::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "this request lacks the session's CSRF token (X-CSRF-Token)",
                ));
            }
        }
        Ok(auth)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionReply {
    pub username: String,
    /// What the account (or its API token) may do.
    pub role: crate::access::Role,
    /// The bearer token (also set as the session cookie); shown only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub csrf_token: String,
}

/// Sign in (sets the session cookie, returns a bearer token and the CSRF token); 429 after 10
/// attempts a minute from one address.
#[utoipa::path(
    post,
    path = "/session",
    security(()),
    request_body = Login,
    responses(
        (status = 200, body = SessionReply),
        (status = 429, description = "Too many attempts from this address or for this name", body = ApiError)
    )
)]
async fn login(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiFailure> {
    let req: Login = read_json(body).await?;
    let client = state.client_key(peer, &headers);
    if let Err(wait) = sign_in_attempt(&state, client, &req.username) {
        let mut f = ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many sign-in attempts from this address or for this user; try again later",
        );
        f.retry_after = Some(wait);
        return Err(f);
    }
    let Some(admin) = check_password(&state, &req.username, &req.password).await? else {
        sign_in_failed(&state, client, &req.username);
        tracing::info!(username = %loggable(&req.username), "sign-in refused");
        return Err(ApiFailure::unauthorized("wrong username or password"));
    };
    let (token, csrf) = start_session(&state, admin.id).await?;
    tracing::info!(username = %loggable(&req.username), "admin signed in");
    let cookie = session_cookie(&token, secure_cookies(&state, &headers));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(SessionReply {
            username: admin.username,
            role: admin.role,
            token: Some(token),
            csrf_token: csrf,
        }),
    )
        .into_response())
}

/// The signed-in admin and the session's CSRF token.
#[utoipa::path(get, path = "/session", responses((status = 200, body = SessionReply)))]
async fn whoami(auth: AdminAuth) -> Json<SessionReply> {
    Json(SessionReply {
        username: auth.actor.name,
        role: auth.actor.role,
        token: None,
        csrf_token: auth.csrf,
    })
}

/// Sign out.
#[utoipa::path(delete, path = "/session", responses((status = 204, description = "Signed out")))]
async fn logout(
    State(state): State<Shared>,
    _: AdminAuth,
    headers: HeaderMap,
) -> Result<Response, ApiFailure> {
    if let Some((token, _)) = session_token(&headers) {
        end_session(&state, &token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            session_cookie("", secure_cookies(&state, &headers)),
        )],
    )
        .into_response())
}
