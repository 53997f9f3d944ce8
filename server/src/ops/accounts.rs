//! Admin accounts: made and given a new password, with one rule for a password (at least 12
//! characters) and argon2id for what is kept.

use super::{OpError, Ops};
use crate::secrets::hash_password;
use crate::store::Admin;

/// The shortest password an admin may be given.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// The password's argon2id hash, or why it is refused.
fn hashed(password: &str) -> Result<String, OpError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(OpError::invalid(
            "password",
            format!("a password is at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    hash_password(password).map_err(OpError::Unavailable)
}

impl Ops<'_> {
    /// A new admin account.
    pub async fn create_admin(&self, username: &str, password: &str) -> Result<Admin, OpError> {
        let hash = hashed(password)?;
        Ok(self.store.create_admin(username, &hash).await?)
    }

    /// Gives an admin a new password, which ends their sessions.
    pub async fn set_admin_password(&self, username: &str, password: &str) -> Result<(), OpError> {
        let hash = hashed(password)?;
        Ok(self.store.set_admin_password(username, &hash).await?)
    }
}
