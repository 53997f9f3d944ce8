//! Error answers, for the agent API, the admin API and the console alike: a status and the
//! protocol's `ApiError` body, with a message a person can act on. Internal details (database errors) are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bindery_shared::protocol::{ApiError, Invalid};

use connectwise_client::Error as CwError;

use crate::integration::IntegrationError;
use crate::ops::OpError;
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
            StoreError::Limited(message) => {
                let mut f = ApiFailure::new(StatusCode::TOO_MANY_REQUESTS, "limited", message);
                f.retry_after = Some(std::time::Duration::from_secs(60));
                f
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

impl From<IntegrationError> for ApiFailure {
    fn from(e: IntegrationError) -> ApiFailure {
        match e {
            IntegrationError::Store(e) => e.into(),
            IntegrationError::NotConfigured => {
                ApiFailure::new(StatusCode::CONFLICT, "not_configured", e.to_string())
            }
            IntegrationError::Invalid(m) => ApiFailure::invalid_body(m, None),
            IntegrationError::Sealing(e) => {
                tracing::error!(error = %e, "cannot open the sealed ConnectWise key");
                ApiFailure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "sealing",
                    "the stored private key cannot be opened with this server's key: save it again",
                )
            }
        }
    }
}

/// ConnectWise's failure, for the admin: 502 with its words (they never carry the keys).
impl From<CwError> for ApiFailure {
    fn from(e: CwError) -> ApiFailure {
        let code = match &e {
            CwError::Authentication => "cw_unauthorized",
            CwError::Forbidden { .. } => "cw_forbidden",
            CwError::NotFound { .. } => "cw_not_found",
            CwError::Codebase { .. } => "cw_codebase",
            CwError::Network { .. } | CwError::Timeout => "cw_unreachable",
            _ => "cw_error",
        };
        ApiFailure::new(StatusCode::BAD_GATEWAY, code, e.to_string())
    }
}

impl From<OpError> for ApiFailure {
    fn from(e: OpError) -> ApiFailure {
        match e {
            OpError::Store(e) => e.into(),
            OpError::Integration(e) => e.into(),
            OpError::ConnectWise(e) => e.into(),
            OpError::Invalid { field, message } => {
                ApiFailure::invalid_body(message, field.map(str::to_owned))
            }
            OpError::InvalidAt { at, message } => ApiFailure::invalid_body(message, Some(at)),
            OpError::Unavailable(message) => {
                ApiFailure::new(StatusCode::BAD_GATEWAY, "cw_error", message)
            }
            OpError::Forbidden(message) => {
                ApiFailure::new(StatusCode::FORBIDDEN, "forbidden", message)
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
