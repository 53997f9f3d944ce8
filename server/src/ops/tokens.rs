//! Enrollment tokens: made with one rule for their label and lifetime, whoever asks (the API, the
//! console or the CLI).

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::PolicyId;
use crate::store::{EnrollmentToken, now_ms};

/// The longest lifetime a token may be given, in days (ten years).
pub const MAX_EXPIRY_DAYS: u32 = 3650;

impl Ops<'_> {
    /// Makes a token for the policy; returns its record and the token itself (shown once, only
    /// its hash is kept). The label is at most 100 characters, without control characters.
    pub async fn create_token(
        &self,
        policy_id: PolicyId,
        label: &str,
        expires_in_days: Option<u32>,
        max_uses: Option<u32>,
    ) -> Result<(EnrollmentToken, String), OpError> {
        self.allow(Act::CreateEnrollmentToken)?;
        let label = label.trim();
        if label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(OpError::invalid(
                "label",
                "a label must be at most 100 characters, without control characters",
            ));
        }
        let expires =
            expires_in_days.map(|d| now_ms() + i64::from(d.min(MAX_EXPIRY_DAYS)) * 86_400_000);
        if max_uses == Some(0) {
            return Err(OpError::invalid(
                "maxUses",
                "a token is for at least one machine (leave it out for any number)",
            ));
        }
        let made = self
            .store
            .create_token(policy_id, label, expires, max_uses.map(i64::from))
            .await?;
        self.audited(
            Act::CreateEnrollmentToken,
            format!("enrollment token {} of policy {policy_id}", made.0.id),
            Some(label),
        )
        .await;
        Ok(made)
    }

    /// Revokes a token: no machine enrolls with it from now on (those enrolled stay).
    pub async fn revoke_token(&self, token_id: i64) -> Result<(), OpError> {
        self.allow(Act::RevokeEnrollmentToken)?;
        self.store.revoke_token(token_id).await?;
        self.audited(
            Act::RevokeEnrollmentToken,
            format!("enrollment token {token_id}"),
            None,
        )
        .await;
        Ok(())
    }
}
