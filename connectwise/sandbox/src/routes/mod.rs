//! The HTTP surface: `/login/companyinfo`, the API under the codebase, and `/_sandbox`.

mod company;
mod finance;
mod inventory;
mod records;
mod routing;
mod service;
mod system;
mod ticket_parts;
mod writes;

use std::sync::Arc;

use axum::extract::{FromRequestParts, OriginalUri, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::faults::{Fate, dropped_connection, fixed_failure, server_error, too_many_requests};
use crate::{CODEBASE, LoggedRequest, Sandbox, control};
use records::{
    apply_patch, check_record, json_body, object, parse_id, reference_to, resolve, resolve_contact,
    resolve_site,
};

pub fn router(sb: Arc<Sandbox>) -> Router {
    let api = Router::new()
        .merge(company::router())
        .merge(finance::router())
        .merge(inventory::router())
        .merge(service::router())
        .merge(routing::router())
        .merge(ticket_parts::router())
        .merge(system::router())
        .route("/system/info", get(system_info))
        .fallback(|| async { ApiError::not_found("resource") })
        .layer(middleware::from_fn_with_state(sb.clone(), authenticate));
    Router::new()
        .route("/login/companyinfo/{company}", get(company_info))
        .route(
            &format!("/{}{}", CODEBASE, crate::callbacks::KEY_PATH),
            get(signing_key),
        )
        .nest(&format!("/{}apis/3.0", CODEBASE), api)
        .merge(control::router())
        .layer(middleware::from_fn_with_state(sb.clone(), faults_and_log))
        .with_state(sb)
}

/// Applies the configured faults to every request but `/_sandbox/…`, and logs it.
async fn faults_and_log(State(sb): State<Arc<Sandbox>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sandbox") {
        return next.run(req).await;
    }
    let method = req.method().to_string();
    let query = req.uri().query().unwrap_or("").to_owned();
    let (fate, faults, during_retry_after) = {
        let mut state = sb.faults.lock().unwrap_or_else(|p| p.into_inner());
        let during = state.in_retry_after_window();
        (state.draw(&method, &path), state.faults.clone(), during)
    };
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    let (status, response) = match fate {
        Fate::Normal => {
            let r = next.run(req).await;
            (r.status(), r)
        }
        Fate::RateLimited => {
            sb.faults
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .throttle_answered();
            (
                StatusCode::TOO_MANY_REQUESTS,
                too_many_requests(faults.retry_after_secs),
            )
        }
        Fate::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, server_error()),
        Fate::Fixed => {
            let r = faults
                .fail_with
                .as_ref()
                .map(fixed_failure)
                .unwrap_or_else(server_error);
            (r.status(), r)
        }
        Fate::Timeout => {
            // Logged before hanging: the client usually hangs up first, ending this handler.
            sb.record(LoggedRequest {
                method,
                path,
                query,
                status: 504,
                fault: fate.label(),
                during_retry_after,
            });
            let hang = if faults.hang_ms == 0 {
                30_000
            } else {
                faults.hang_ms
            };
            tokio::time::sleep(std::time::Duration::from_millis(hang)).await;
            return dropped_connection();
        }
        Fate::LostReply => {
            let r = next.run(req).await;
            (r.status(), dropped_connection())
        }
    };
    sb.record(LoggedRequest {
        method,
        path,
        query,
        status: status.as_u16(),
        fault: fate.label(),
        during_retry_after,
    });
    response
}

/// Who made a request: the member whose keys it carried (Bindery's API member or a person).
#[derive(Clone, Debug)]
pub struct Member(pub String);

/// Basic `companyId+publicKey:privateKey` and a `clientId` header on every API call. The keys
/// name the member; the request carries it on as a [`Member`].
async fn authenticate(State(sb): State<Arc<Sandbox>>, mut req: Request, next: Next) -> Response {
    let member = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| member_of(&sb, &text));
    let Some(member) = member else {
        return ApiError::unauthorized().into_response();
    };
    let client_id = req
        .headers()
        .get("clientid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    if sb.require_client_id && client_id.is_empty() {
        return ApiError::bad_request("A clientId header is required on every request")
            .into_response();
    }
    req.extensions_mut().insert(Member(member));
    next.run(req).await
}

/// The member whose `company+public:private` this is.
fn member_of(sb: &Sandbox, text: &str) -> Option<String> {
    let (user, key) = text.split_once(':')?;
    let (company, public) = user.split_once('+')?;
    let creds = sb.credentials();
    if !company.eq_ignore_ascii_case(&creds.company_id) {
        return None;
    }
    if public == creds.public_key && key == creds.private_key {
        return Some(creds.member_identifier.clone());
    }
    sb.seed
        .people
        .iter()
        .find(|p| p.public_key == public && p.private_key == key)
        .map(|p| p.member_identifier.clone())
}

async fn company_info(State(sb): State<Arc<Sandbox>>, Path(company): Path<String>) -> Response {
    if !company.eq_ignore_ascii_case(&sb.credentials().company_id) {
        return ApiError::not_found("company").into_response();
    }
    Json(json!({
        "CompanyName": "Bindery Sandbox",
        "Codebase": CODEBASE,
        "VersionCode": "v2025.8",
        "VersionNumber": "v4.6.2025.8",
        "CompanyID": sb.credentials().company_id,
        "IsCloud": "False",
    }))
    .into_response()
}

/// The key callbacks are signed with, for callers sending a clientId (no API credentials).
async fn signing_key(State(sb): State<Arc<Sandbox>>, headers: HeaderMap) -> Response {
    let client_id = headers
        .get("clientid")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    if sb.require_client_id && client_id.is_empty() {
        return ApiError::bad_request("A clientId header is required").into_response();
    }
    Json(json!({ "signing_key": sb.signing_key() })).into_response()
}

async fn system_info() -> Json<Value> {
    Json(json!({
        "version": "v2025.8",
        "isCloud": false,
        "serverTimeZone": "Coordinated Universal Time",
        "cloudRegion": null,
        "licenseBits": [],
        "maxWorkFlowRecordsAllowed": 1000,
    }))
}

/// What every list and count handler reads from its request: the query, the headers (paging
/// mode, host) and the path as the client sent it (for `Link` headers).
struct ListCall {
    query: Option<String>,
    headers: HeaderMap,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ListCall {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ListCall, Self::Rejection> {
        let path = match parts.extensions.get::<OriginalUri>() {
            Some(original) => original.0.path().to_owned(),
            None => parts.uri.path().to_owned(),
        };
        Ok(ListCall {
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers.clone(),
            path,
        })
    }
}

impl ListCall {
    /// The records of `pick` that `keep` accepts, filtered, ordered and paged as asked.
    fn list(
        &self,
        sb: &Sandbox,
        schema: &str,
        pick: impl Fn(&crate::Data) -> &crate::store::Table,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<Response, ApiError> {
        let p = crate::listing::parse(self.query.as_deref(), &self.headers, schema)?;
        let data = sb.data();
        let url = self_url(&self.headers, &self.path);
        Ok(crate::listing::respond(
            pick(&data)
                .candidates(p.conditions.as_ref())
                .filter(|r| keep(r)),
            &p,
            &url,
        ))
    }

    /// `{"count": n}` over the records of `pick`.
    fn count(
        &self,
        sb: &Sandbox,
        schema: &str,
        pick: impl Fn(&crate::Data) -> &crate::store::Table,
    ) -> Result<Response, ApiError> {
        self.count_kept(sb, schema, pick, |_| true)
    }

    /// `{"count": n}` over the records of `pick` that `keep` accepts.
    fn count_kept(
        &self,
        sb: &Sandbox,
        schema: &str,
        pick: impl Fn(&crate::Data) -> &crate::store::Table,
        keep: impl Fn(&Value) -> bool,
    ) -> Result<Response, ApiError> {
        let p = crate::listing::parse(self.query.as_deref(), &self.headers, schema)?;
        let data = sb.data();
        Ok(crate::listing::count(
            pick(&data)
                .candidates(p.conditions.as_ref())
                .filter(|r| keep(r)),
            &p,
        ))
    }
}

/// One record of `pick` by the id in the path, shaped by `fields=`.
fn get_one(
    sb: &Sandbox,
    pick: impl Fn(&crate::Data) -> &crate::store::Table,
    what: &str,
    id: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let id = parse_id(id, what)?;
    let data = sb.data();
    let record = pick(&data)
        .get(id)
        .ok_or_else(|| ApiError::not_found(what))?;
    Ok(crate::listing::one(record, query))
}

/// `http://host/path` of this request, for `Link` headers.
fn self_url(headers: &HeaderMap, path: &str) -> String {
    format!("{}{path}", site_of(headers))
}

/// `http://host` as the caller reached the sandbox.
fn site_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}
