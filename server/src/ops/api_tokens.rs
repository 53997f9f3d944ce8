//! Personal API tokens: an account makes its own, with a name, a role no higher than its own and
//! an expiry (at most a year); the secret is shown once and kept only as a hash. An account
//! revokes its own tokens; an owner revokes anyone's.

use super::{OpError, Ops};
use crate::access::{Act, Role};
use crate::secrets::{hash_secret, random_secret};
use crate::store::{ApiToken, now_ms};

/// The longest a token may live, and its prefix (so a leaked one is recognised in a scan).
pub const MAX_DAYS: i64 = 366;
pub const PREFIX: &str = "bdy_api_";

/// A new token: what is listed, and its secret (shown this once).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewApiToken {
    #[serde(flatten)]
    pub token: ApiToken,
    pub secret: String,
}

impl Ops<'_> {
    /// Makes a token for the acting account.
    pub async fn create_api_token(
        &self,
        name: &str,
        role: Role,
        days: i64,
    ) -> Result<NewApiToken, OpError> {
        let actor = self.actor();
        let Some(account) = actor.account_id else {
            return Err(OpError::invalid(
                "account",
                "an API token belongs to an account: make it signed in as one",
            ));
        };
        if matches!(actor.via, crate::access::Via::Token(_)) {
            return Err(OpError::Forbidden(
                "an API token cannot make another: sign in with a password".into(),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(OpError::invalid(
                "name",
                "a name is 1-100 printable characters",
            ));
        }
        if role > actor.role {
            return Err(OpError::invalid(
                "role",
                format!("a token's role is at most its account's ({})", actor.role),
            ));
        }
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(OpError::invalid(
                "days",
                format!("a token lives 1 to {MAX_DAYS} days"),
            ));
        }
        let secret = random_secret(PREFIX).map_err(|e| OpError::Unavailable(e.to_string()))?;
        let expires = now_ms() + days * 86_400_000;
        let token = self
            .store
            .create_api_token(account, name, role, &hash_secret(&secret), expires)
            .await?;
        self.audited(
            Act::CreateApiToken,
            format!("API token {} ({name})", token.id),
            Some(&format!("role {role}, {days} days")),
        )
        .await;
        Ok(NewApiToken { token, secret })
    }

    /// The acting account's tokens; an owner's list is everyone's.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, OpError> {
        let actor = self.actor();
        let whose = (actor.role < Role::Owner).then_some(actor.name.as_str());
        Ok(self.store.api_tokens(whose).await?)
    }

    /// Revokes a token: one's own, or (an owner) anyone's.
    pub async fn revoke_api_token(&self, id: i64) -> Result<bool, OpError> {
        let token = self.store.api_token(id).await?;
        if token.account != self.actor().name {
            self.allow(Act::RevokeApiToken)?;
        }
        let revoked = self.store.revoke_api_token(id).await?;
        if revoked {
            self.audited(
                Act::RevokeApiToken,
                format!("API token {id} ({}) of {}", token.name, token.account),
                None,
            )
            .await;
        }
        Ok(revoked)
    }
}
