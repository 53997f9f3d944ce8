//! Error answers: a status and the protocol's `ApiError` body, with a message a person can act
//! on. Internal details (database errors) are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bindery_shared::protocol::{ApiError, Invalid};

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub body: ApiError,
    /// Sent as `Retry-After` (seconds) with a 429.
    pub retry_after: Option<std::time::Duration>,
}

impl ApiFailure {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiFailure {
        ApiFailure {
            status,
            body: ApiError {
                code: code.into(),
                message: message.into(),
                field: None,
            },
            retry_after: None,
        }
    }

    pub fn invalid_body(message: impl Into<String>, field: Option<String>) -> ApiFailure {
        let mut f = ApiFailure::new(StatusCode::BAD_REQUEST, "invalid_body", message);
        f.body.field = field;
        f
    }

    pub fn unauthorized(message: &str) -> ApiFailure {
        ApiFailure::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

impl From<Invalid> for ApiFailure {
    fn from(e: Invalid) -> ApiFailure {
        ApiFailure::invalid_body(e.to_string(), Some(e.field))
    }
}

impl From<StoreError> for ApiFailure {
    fn from(e: StoreError) -> ApiFailure {
        match e {
            StoreError::NotFound(what) => ApiFailure::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            StoreError::Conflict(message) => {
                ApiFailure::new(StatusCode::CONFLICT, "conflict", message)
            }
            other => {
                tracing::error!(error = %other, "store failure");
                ApiFailure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the server cannot reach its database; try again shortly",
                )
            }
        }
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(wait) = self.retry_after
            && let Ok(v) = axum::http::HeaderValue::from_str(&wait.as_secs().to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}
