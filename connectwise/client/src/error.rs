//! ConnectWise errors, typed, each one transient (retry later) or permanent (needs a person or a
//! change of settings).

use std::time::Duration;

use serde::Deserialize;

/// One field ConnectWise rejected (`ValidationError` in the API).
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub resource: Option<String>,
    pub field: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// 401: wrong company id, public or private key.
    #[error("ConnectWise refused the credentials (401): check the company id and the API keys")]
    Authentication,
    /// 403: the API member's security role lacks a permission.
    #[error("ConnectWise denied access (403){}: give the API member's security role that permission", area.as_ref().map(|a| format!(" to {a}")).unwrap_or_default())]
    Forbidden { area: Option<String> },
    #[error("not found in ConnectWise (404): {message}")]
    NotFound { message: String },
    /// 400: the request broke a rule; `errors` names the fields.
    #[error(
        "ConnectWise rejected the request (400): {message}{}",
        describe_fields(errors)
    )]
    Validation {
        message: String,
        errors: Vec<FieldError>,
    },
    #[error("ConnectWise reports a conflict (409): {message}")]
    Conflict { message: String },
    #[error("ConnectWise is throttling requests (429){}", retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("ConnectWise server error ({status}): {message}")]
    Server { status: u16, message: String },
    #[error("ConnectWise did not answer in time")]
    Timeout,
    /// A 3xx: never followed (a redirect would carry the keys or the clientId to wherever it
    /// points); the site address is probably wrong.
    #[error(
        "ConnectWise answered with a redirect ({status}) to {to}; redirects are not followed: check the site address"
    )]
    Redirected { status: u16, to: String },
    #[error("cannot reach ConnectWise: {message}")]
    Network { message: String },
    /// A 2xx whose body is not what the API documents, or another unexpected status.
    #[error("unexpected answer from ConnectWise: {message}")]
    Unexpected { message: String },
    /// The codebase lookup (`/login/companyinfo/{companyId}`) failed: a wrong site or company id.
    #[error("cannot find the ConnectWise codebase for this company: {message}")]
    Codebase { message: String },
    /// A value that cannot be placed in a condition safely; nothing was sent.
    #[error(transparent)]
    Condition(#[from] crate::conditions::ConditionError),
}

impl Error {
    /// Worth retrying later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::Server { .. }
                | Error::Timeout
                | Error::Network { .. }
        )
    }

    /// The wait ConnectWise asked for, when it asked.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// [`Error::from_response`] for tests and fuzzing outside the crate.
    #[doc(hidden)]
    pub fn from_response_for_tests(status: u16, body: &[u8]) -> Error {
        Error::from_response(status, None, body)
    }

    /// Maps a non-success answer to an error, reading ConnectWise's `ErrorResponseMessage`.
    pub(crate) fn from_response(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Error {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Body {
            code: Option<String>,
            message: Option<String>,
            errors: Option<Vec<FieldError>>,
        }
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let message = parsed
            .message
            .clone()
            .or(parsed.code.clone())
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&body[..body.len().min(200)])
                    .trim()
                    .to_owned()
            });
        match status {
            400 => Error::Validation {
                message,
                errors: parsed.errors.unwrap_or_default(),
            },
            401 => Error::Authentication,
            403 => Error::Forbidden {
                area: parsed.message.filter(|m| !m.is_empty()),
            },
            404 => Error::NotFound { message },
            409 => Error::Conflict { message },
            429 => Error::RateLimited { retry_after },
            500..=599 => Error::Server { status, message },
            _ => Error::Unexpected {
                message: format!("status {status}: {message}"),
            },
        }
    }
}

fn describe_fields(errors: &[FieldError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| match (&e.field, &e.message) {
            (Some(f), Some(m)) => format!("{f}: {m}"),
            (Some(f), None) => f.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => e.code.clone().unwrap_or_default(),
        })
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_into_types() {
        let body = br#"{"code":"InvalidObject","message":"Configuration object is invalid","errors":[{"code":"MaxLength","message":"name may not exceed 100 characters","resource":"configuration","field":"name"}]}"#;
        let err = Error::from_response(400, None, body);
        assert!(!err.is_transient());
        assert!(
            err.to_string().contains("name: name may not exceed 100"),
            "{err}"
        );
        let err = Error::from_response(
            429,
            Some(Duration::from_secs(30)),
            br#"{"error":"ConnectWiseAPI","message":"Too many requests."}"#,
        );
        assert!(err.is_transient());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
        let err = Error::from_response(
            403,
            None,
            br#"{"code":"Forbidden","message":"Company Maintenance"}"#,
        );
        assert_eq!(
            err,
            Error::Forbidden {
                area: Some("Company Maintenance".into())
            }
        );
        assert!(Error::from_response(503, None, b"<html>").is_transient());
        assert!(!Error::from_response(404, None, b"").is_transient());
        assert!(!Error::from_response(409, None, b"{}").is_transient());
        assert!(matches!(
            Error::from_response(418, None, b"\xff\xfe"),
            Error::Unexpected { .. }
        ));
    }
}
