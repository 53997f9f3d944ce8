//! Accounts: made with a role, given another role or a new password, with one rule for a
//! password (at least 12 characters) and argon2id for what is kept. An account may change its
//! own password; the rest is the owner's.

use super::{OpError, Ops};
use crate::access::{Act, Role};
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
    /// A new account with `role`.
    pub async fn create_admin(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<Admin, OpError> {
        self.allow(Act::CreateAccount)?;
        let hash = hashed(password)?;
        let made = self.store.create_admin(username, &hash, role).await?;
        self.audited(
            Act::CreateAccount,
            &made.username,
            Some(&format!("role {role}")),
        )
        .await;
        Ok(made)
    }

    /// Gives an account a new password, which ends its sessions: the account itself, or an
    /// owner.
    pub async fn set_admin_password(&self, username: &str, password: &str) -> Result<(), OpError> {
        // One's own password, signed in with it; anyone else's (or through a token): an owner.
        let own =
            self.actor().name == username.trim() && self.actor().via == crate::access::Via::Session;
        if !own {
            self.allow(Act::SetAccountPassword)?;
        }
        let hash = hashed(password)?;
        self.store.set_admin_password(username, &hash).await?;
        self.audited(Act::SetAccountPassword, username.trim(), None)
            .await;
        Ok(())
    }

    /// Gives an account another role. The last owner stays one, so someone can always manage
    /// the instances and the accounts.
    pub async fn set_admin_role(&self, username: &str, role: Role) -> Result<(), OpError> {
        self.allow(Act::SetAccountRole)?;
        let accounts = self.store.admins().await?;
        let Some((_, before)) = accounts.iter().find(|(n, _)| n == username.trim()) else {
            return Err(crate::store::StoreError::NotFound("admin").into());
        };
        let owners = accounts.iter().filter(|(_, r)| *r == Role::Owner).count();
        if *before == Role::Owner && role != Role::Owner && owners == 1 {
            return Err(OpError::invalid(
                "role",
                format!("{username} is the last owner: make another owner first"),
            ));
        }
        self.store.set_admin_role(username, role).await?;
        self.audited(
            Act::SetAccountRole,
            username.trim(),
            Some(&format!("{before} -> {role}")),
        )
        .await;
        Ok(())
    }

    /// Every account and its role.
    pub async fn accounts(&self) -> Result<Vec<(String, Role)>, OpError> {
        Ok(self.store.admins().await?)
    }
}
