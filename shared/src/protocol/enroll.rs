//! Enrollment: an agent trades a policy's enrollment token for its own device secret.

use serde::{Deserialize, Serialize};

use super::{Invalid, check_id, invalid};
use crate::facts::DeviceFacts;

/// `POST /enroll`. The only call without a device credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollRequest {
    /// The enrollment token an admin created for a policy.
    pub token: String,
    /// The agent id this machine already has (kept in its state dir).
    pub agent_id: String,
    pub agent_version: String,
    pub facts: DeviceFacts,
}

impl EnrollRequest {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.token.is_empty() || self.token.len() > 200 {
            return Err(invalid("token", "must be 1-200 characters"));
        }
        check_id("agentId", &self.agent_id)?;
        super::check_len("agentVersion", &self.agent_version, 50)
    }
}

/// The answer to a successful enrollment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollResponse {
    /// The agent id to use from now on. Usually the one sent; when the server recognised this
    /// machine from an earlier enrollment (its state dir was wiped), the earlier id, so the
    /// machine keeps its record and its ConnectWise configuration.
    pub agent_id: String,
    /// The device's own secret; the server keeps only a hash of it.
    pub device_secret: String,
    /// Seconds until the first check-in.
    pub checkin_interval_secs: u32,
}

impl std::fmt::Debug for EnrollResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollResponse")
            .field("agent_id", &self.agent_id)
            .field("device_secret", &"<redacted>")
            .field("checkin_interval_secs", &self.checkin_interval_secs)
            .finish()
    }
}
