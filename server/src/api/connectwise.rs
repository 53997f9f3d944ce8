//! `/api/connectwise/v1/callback[/{integration}]`: where ConnectWise posts when a ticket
//! changes. Nothing in the message is trusted until its signature checks out
//! (`reconcile::callbacks`); the answer
//! is 200 for every message taken, repeated or ignored (ConnectWise need not send it again),
//! 400 for a body that is no callback, 401 for a signature that does not check out, 404 for an
//! integration removed since, 503 when Bindery cannot take it now.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::ApiFailure;
use crate::ids::IntegrationId;
use crate::reconcile::callbacks::{CALLBACK_PATH, MAX_BODY, Refused, Taken};
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route(CALLBACK_PATH, post(first_callback))
        .route(&format!("{CALLBACK_PATH}/{{integration}}"), post(callback))
}

/// The first integration's path, as it was registered before there could be several.
async fn first_callback(
    state: axum::extract::State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiFailure> {
    callback(state, Path(IntegrationId::FIRST), headers, body).await
}

async fn callback(
    axum::extract::State(state): axum::extract::State<Shared>,
    Path(integration): Path<IntegrationId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiFailure> {
    let Some(engine) = &state.engine else {
        return Err(ApiFailure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "this server does not talk to ConnectWise",
        ));
    };
    // A callback for an instance that is no more: it need not be sent again.
    if matches!(
        state.store.integration(integration).await,
        Err(crate::store::StoreError::NotFound(_))
    ) {
        return Err(ApiFailure::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such ConnectWise integration",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiFailure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {} KiB", MAX_BODY / 1024),
        )
    })?;
    let signature = headers
        .get("x-content-signature")
        .and_then(|v| v.to_str().ok());
    match engine.take_callback(integration, &bytes, signature).await {
        Ok(taken) => {
            let outcome = match taken {
                Taken::Queued(_) => "queued",
                Taken::Replay => "repeated",
                Taken::Ignored(why) => why,
            };
            Ok(Json(json!({ "outcome": outcome })))
        }
        Err(refused) => {
            tracing::warn!(reason = %crate::logged::escaped(&refused.to_string(), 300), "ConnectWise callback refused");
            let (status, code) = match refused {
                Refused::Malformed(_) => (StatusCode::BAD_REQUEST, "invalid_body"),
                Refused::Unverified(_) => (StatusCode::UNAUTHORIZED, "unverified"),
                Refused::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            };
            Err(ApiFailure::new(status, code, refused.to_string()))
        }
    }
}
