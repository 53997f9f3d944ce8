//! Self-service help requests: the machine's user asks for help, the server opens a ticket.

use serde::{Deserialize, Serialize};

use super::{Invalid, MAX_DETAIL_CHARS, MAX_SUMMARY_CHARS, check_id, check_len, invalid};

/// `POST /help`, authenticated with the device credential. Sending the same `requestId` again
/// returns the same request, never a second ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelpRequest {
    /// Chosen by the agent (a UUID): the idempotency key.
    pub request_id: String,
    /// The person asking: the machine's current user, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// One line (at most 100 characters): becomes the ticket summary.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl HelpRequest {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_id("requestId", &self.request_id)?;
        if self.summary.trim().is_empty() {
            return Err(invalid("summary", "must not be empty"));
        }
        check_len("summary", &self.summary, MAX_SUMMARY_CHARS)?;
        if let Some(user) = &self.user {
            check_len("user", user, 100)?;
        }
        if let Some(details) = &self.details {
            check_len("details", details, MAX_DETAIL_CHARS)?;
        }
        Ok(())
    }
}

/// `POST /help/close`: the user closes their own request by ticket number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelpClose {
    pub ticket_number: u64,
}

/// Where a help request stands (answer to `POST /help`, `GET /help/{requestId}`,
/// `POST /help/close`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelpReply {
    pub request_id: String,
    pub state: HelpState,
    /// The ConnectWise ticket number once the ticket exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<u64>,
    /// Why the ticket could not be opened yet, for the person waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The request's one line (in lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// `GET /help`: the device's latest help requests, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelpList {
    pub requests: Vec<HelpReply>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HelpState {
    /// Stored; the ticket is being opened.
    Pending,
    Open,
    Closed,
    /// The ticket could not be opened (no linked company, ConnectWise refused); see `message`.
    Failed,
    #[serde(other)]
    Unsupported,
}
