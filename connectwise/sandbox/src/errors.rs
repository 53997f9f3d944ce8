//! Error answers in ConnectWise's shape: `{"code","message","errors":[{code,message,resource,field}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

/// One rejected field (`ValidationError`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub code: String,
    pub message: String,
    pub resource: String,
    pub field: String,
}

impl FieldProblem {
    pub fn new(code: &str, resource: &str, field: &str, problem: &str) -> FieldProblem {
        let message = if field.is_empty() {
            problem.to_owned()
        } else {
            format!("{field} {problem}")
        };
        FieldProblem {
            code: code.into(),
            message,
            resource: resource.into(),
            field: field.into(),
        }
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldProblem>,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidRequest",
            message: message.into(),
            errors: vec![],
        }
    }

    /// 400 with the fields at fault.
    pub fn invalid(resource: &str, errors: Vec<FieldProblem>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidObject",
            message: format!("{resource} object is invalid"),
            errors,
        }
    }

    pub fn field(resource: &str, code: &str, field: &str, problem: &str) -> ApiError {
        ApiError::invalid(
            resource,
            vec![FieldProblem::new(code, resource, field, problem)],
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "NotFound",
            message: format!("{what} not found"),
            errors: vec![],
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "Unauthorized",
            message: "Invalid or missing credentials".into(),
            errors: vec![],
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let errors = if self.errors.is_empty() {
            serde_json::Value::Null
        } else {
            json!(self.errors)
        };
        let body = json!({ "code": self.code, "message": self.message, "errors": errors });
        (self.status, axum::Json(body)).into_response()
    }
}
