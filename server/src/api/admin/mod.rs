//! The admin API, version 1: JSON over HTTP for scripts and the console. Every call but login
//! needs a session: `Authorization: Bearer <token>` from `POST /session`, or the session
//! cookie that login also sets, in which case a state-changing call must carry the session's
//! CSRF token in `X-CSRF-Token` (a cross-site form cannot).

mod devices;
pub(crate) mod integration;
mod maintenance;
mod monitoring;
pub(crate) mod policies;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiFailure, read_json};
use crate::secrets::{hash_secret, verify_secret};
use crate::sessions::{
    check_password, end_session, loggable, secure_cookies, session_cookie, session_for,
    session_token, sign_in_attempt, sign_in_failed, start_session,
};
use crate::state::Shared;

pub const PREFIX: &str = "/api/admin/v1";

/// The OpenAPI document of this API, kept beside the code. Tests check it against the running
/// server: every answer of every documented route must match its documented schema strictly
/// (server/tests/openapi.rs), and every route must refuse a request without a session.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/session", post(login).get(whoami).delete(logout))
        .merge(policies::router())
        .merge(devices::router())
        .merge(integration::router())
        .merge(monitoring::router())
        .merge(maintenance::router())
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// A signed-in admin, from the request's bearer token or session cookie.
#[derive(Clone, Debug)]
pub struct AdminAuth {
    pub username: String,
    pub csrf: String,
}

impl FromRequestParts<Shared> for AdminAuth {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, ApiFailure> {
        const REFUSED: &str = "sign in first: POST /api/admin/v1/session";
        let (token, from_cookie) =
            session_token(&parts.headers).ok_or_else(|| ApiFailure::unauthorized(REFUSED))?;
        let session = session_for(state, &token)
            .await?
            .ok_or_else(|| ApiFailure::unauthorized("the session has expired: sign in again"))?;
        let auth = AdminAuth {
            username: session.username,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionReply {
    pub username: String,
    /// The bearer token (also set as the session cookie); shown only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub csrf_token: String,
}

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
    let Some(admin_id) = check_password(&state, &req.username, &req.password).await? else {
        sign_in_failed(&state, client, &req.username);
        tracing::info!(username = %loggable(&req.username), "sign-in refused");
        return Err(ApiFailure::unauthorized("wrong username or password"));
    };
    let (token, csrf) = start_session(&state, admin_id).await?;
    tracing::info!(username = %loggable(&req.username), "admin signed in");
    let cookie = session_cookie(&token, secure_cookies(&state, &headers));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(SessionReply {
            username: req.username.trim().to_owned(),
            token: Some(token),
            csrf_token: csrf,
        }),
    )
        .into_response())
}

async fn whoami(auth: AdminAuth) -> Json<SessionReply> {
    Json(SessionReply {
        username: auth.username,
        token: None,
        csrf_token: auth.csrf,
    })
}

async fn logout(
    State(state): State<Shared>,
    _auth: AdminAuth,
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
