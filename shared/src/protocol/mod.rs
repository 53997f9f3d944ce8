//! The agent↔server protocol, version 1, served under [`API_PREFIX`].
//!
//! Compatibility rules (docs/protocol.md has the JSON): readers ignore fields they do not know, so a
//! newer agent can talk to an older server; a missing required field is an error naming that field;
//! optional fields added later always have a default. Enumerations a reader does not know decode to
//! an `Unsupported` value instead of failing the whole message.

mod alerts;
mod checkin;
mod enroll;
mod help;

pub use alerts::{AlertAck, AlertBatch, AlertEvent, AlertEventKind};
pub use checkin::{
    AlertSeverity, CheckIn, CheckInReply, MonitorKind, MonitorSpec, MonitorState, MonitorStatus,
};
pub use enroll::{EnrollRequest, EnrollResponse};
pub use help::{HelpClose, HelpList, HelpReply, HelpRequest, HelpState};

use serde::{Deserialize, Serialize};

/// Where version 1 of the agent API lives on the server.
pub const API_PREFIX: &str = "/api/agent/v1";

/// Paths under [`API_PREFIX`].
pub mod paths {
    pub const ENROLL: &str = "/enroll";
    pub const CHECKIN: &str = "/checkin";
    pub const ALERTS: &str = "/alerts";
    pub const HELP: &str = "/help";
}

/// Largest request body the server accepts from an agent (413 above it).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most alert events in one batch.
pub const MAX_ALERTS_PER_BATCH: usize = 500;
/// Most monitor states in one check-in.
pub const MAX_MONITORS: usize = 100;
/// Longest free text (alert detail, help details) accepted, in characters.
pub const MAX_DETAIL_CHARS: usize = 8_000;
/// Longest summary: a ConnectWise ticket summary holds 100.
pub const MAX_SUMMARY_CHARS: usize = 100;
/// Longest id an agent chooses (monitor ids, request ids, subjects).
pub const MAX_ID_CHARS: usize = 100;

/// The body of every error answer from the agent API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// Stable, machine-readable: `invalid_body`, `too_large`, `unauthorized`, `invalid_token`,
    /// `not_found`, `rate_limited`, `unavailable`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A message field that breaks a protocol rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub problem: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for Invalid {}

pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Invalid {
    Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Checks a required, agent-chosen id: 1–100 safe characters.
pub(crate) fn check_id(field: &str, value: &str) -> Result<(), Invalid> {
    if crate::normalize::is_safe_identifier(value) && value.chars().count() <= MAX_ID_CHARS {
        Ok(())
    } else {
        Err(invalid(
            field,
            "must be 1-100 letters, digits, '-', '_', '.' or ':'",
        ))
    }
}

/// Checks free text against a length limit (in characters).
pub(crate) fn check_len(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    if value.chars().count() > max {
        Err(invalid(field, format!("longer than {max} characters")))
    } else {
        Ok(())
    }
}

/// A device's credential: its agent id and the secret the server issued at enrollment. Sent as
/// `Authorization: Bearer <agentId>.<secret>`. The secret never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceCredential {
    pub agent_id: String,
    pub secret: String,
}

impl DeviceCredential {
    pub fn bearer(&self) -> String {
        format!("Bearer {}.{}", self.agent_id, self.secret)
    }

    /// Reads an `Authorization` header value; `None` when it is not a device credential.
    pub fn from_authorization(header: &str) -> Option<DeviceCredential> {
        let token = header.strip_prefix("Bearer ")?.trim();
        let (agent_id, secret) = token.rsplit_once('.')?;
        let secret_ok = !secret.is_empty()
            && secret.len() <= 128
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !secret_ok || agent_id.contains('.') || check_id("agentId", agent_id).is_err() {
            return None;
        }
        Some(DeviceCredential {
            agent_id: agent_id.to_owned(),
            secret: secret.to_owned(),
        })
    }
}

impl std::fmt::Debug for DeviceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCredential")
            .field("agent_id", &self.agent_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_through_the_header_and_never_print_the_secret() {
        let cred = DeviceCredential {
            agent_id: "4b1d-77".into(),
            secret: "s3cr3t_-X".into(),
        };
        assert_eq!(
            DeviceCredential::from_authorization(&cred.bearer()),
            Some(cred.clone())
        );
        assert!(!format!("{cred:?}").contains("s3cr3t"));
        for bad in [
            "Basic abc",
            "Bearer nodot",
            "Bearer a.b.c",
            "Bearer .x",
            "Bearer a.",
            "Bearer a b.c",
        ] {
            assert_eq!(DeviceCredential::from_authorization(bad), None, "{bad}");
        }
    }
}
