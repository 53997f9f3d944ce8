//! Admin accounts, their roles and their sessions. The store keeps only hashes: argon2id for
//! passwords (hashed by the caller), SHA-256 for session ids (random, so a fast hash is enough).

use super::{Result, Store, StoreError, is_unique_violation, now_ms};
use crate::access::Role;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
}

/// A live session: who, their role, and the token its forms must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminSession {
    pub admin_id: i64,
    pub username: String,
    pub role: Role,
    pub csrf: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A role as stored; an unknown one (written by a newer server) reads as the least.
pub(super) fn stored_role(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::Viewer)
}

/// Usernames: 1–64 visible characters, no spaces.
fn check_username(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(StoreError::Conflict(
            "a username must be 1-64 characters without spaces or control characters".into(),
        ));
    }
    Ok(name)
}

impl Store {
    pub async fn create_admin(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<Admin> {
        let username = check_username(username)?;
        let row: std::result::Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO admins (username, password_hash, created_ms, role) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now_ms())
        .bind(role.as_str())
        .fetch_one(&self.pool)
        .await;
        match row {
            Ok((id,)) => Ok(Admin {
                id,
                username: username.to_owned(),
                password_hash: password_hash.to_owned(),
                role,
            }),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "an admin named {username:?} already exists"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn set_admin_password(&self, username: &str, password_hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE admins SET password_hash = $1 WHERE username = $2")
            .bind(password_hash)
            .bind(username.trim())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("admin"));
        }
        // A new password ends every session of the old one.
        sqlx::query("DELETE FROM admin_sessions WHERE admin_id IN (SELECT id FROM admins WHERE username = $1)")
            .bind(username.trim())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives an account another role; its sessions and tokens act with it from their next
    /// request (a token never above its account's role).
    pub async fn set_admin_role(&self, username: &str, role: Role) -> Result<()> {
        let done = sqlx::query("UPDATE admins SET role = $1 WHERE username = $2")
            .bind(role.as_str())
            .bind(username.trim())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("admin"));
        }
        Ok(())
    }

    pub async fn admin_by_name(&self, username: &str) -> Result<Option<Admin>> {
        let row: Option<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, username, password_hash, role FROM admins WHERE username = $1",
        )
        .bind(username.trim())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, username, password_hash, role)| Admin {
            id,
            username,
            password_hash,
            role: stored_role(&role),
        }))
    }

    /// Every account (name and role), by name.
    pub async fn admins(&self) -> Result<Vec<(String, Role)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT username, role FROM admins ORDER BY username")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(name, role)| (name, stored_role(&role)))
            .collect())
    }

    pub async fn admin_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM admins")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Records a session under the hash of its id.
    pub async fn create_session(
        &self,
        id_hash: &str,
        admin_id: i64,
        csrf: &str,
        expires_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO admin_sessions (id_hash, admin_id, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(admin_id)
        .bind(csrf)
        .bind(now_ms())
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this id hash; expired ones are gone.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<AdminSession>> {
        let row: Option<(i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT s.admin_id, a.username, a.role, s.csrf, s.created_ms, s.expires_ms FROM admin_sessions s \
             JOIN admins a ON a.id = s.admin_id WHERE s.id_hash = $1 AND s.expires_ms > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(admin_id, username, role, csrf, created_ms, expires_ms)| AdminSession {
                admin_id,
                username,
                role: stored_role(&role),
                created_ms,
                csrf,
                expires_ms,
            },
        ))
    }

    /// Slides a session's expiry forward (it stays alive while used).
    pub async fn extend_session(&self, id_hash: &str, expires_ms: i64) -> Result<()> {
        sqlx::query("UPDATE admin_sessions SET expires_ms = $1 WHERE id_hash = $2")
            .bind(expires_ms)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM admin_sessions WHERE id_hash = $1 OR expires_ms < $2")
            .bind(id_hash)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
