//! Enrollment tokens: an admin makes one for a policy; an agent trades it for its own secret.
//! Only a hash of each token is stored, so the plaintext is shown once, at creation.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, now_ms};
use crate::ids::PolicyId;
use crate::secrets::{hash_secret, random_secret};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrollmentToken {
    pub id: i64,
    pub policy_id: PolicyId,
    pub label: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub uses: i64,
    /// Machines that may enroll with it in all (`None`: any number).
    pub max_uses: Option<i64>,
}

impl EnrollmentToken {
    pub fn is_usable(&self, now: i64) -> bool {
        self.revoked_ms.is_none()
            && self.expires_ms.is_none_or(|e| now < e)
            && self.max_uses.is_none_or(|m| self.uses < m)
    }
}

fn from_row(r: &AnyRow) -> std::result::Result<EnrollmentToken, sqlx::Error> {
    Ok(EnrollmentToken {
        id: r.try_get("id")?,
        policy_id: r.try_get("policy_id")?,
        label: r.try_get("label")?,
        created_ms: r.try_get("created_ms")?,
        expires_ms: r.try_get("expires_ms")?,
        revoked_ms: r.try_get("revoked_ms")?,
        uses: r.try_get("uses")?,
        max_uses: r.try_get("max_uses")?,
    })
}

const COLUMNS: &str = "id, policy_id, label, created_ms, expires_ms, revoked_ms, uses, max_uses";

impl Store {
    /// A new token for a policy; returns the record and the token itself (shown once).
    pub async fn create_token(
        &self,
        policy_id: PolicyId,
        label: &str,
        expires_ms: Option<i64>,
        max_uses: Option<i64>,
    ) -> Result<(EnrollmentToken, String)> {
        self.policy(policy_id).await?;
        let token = random_secret("bdy_enr_")
            .map_err(|e| StoreError::Config(format!("no randomness: {e}")))?;
        let label: String = label
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO enrollment_tokens (policy_id, token_hash, label, created_ms, expires_ms, max_uses) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        )))
        .bind(policy_id)
        .bind(hash_secret(&token))
        .bind(label)
        .bind(now_ms())
        .bind(expires_ms)
        .bind(max_uses)
        .fetch_one(&self.pool)
        .await?;
        Ok((from_row(&row)?, token))
    }

    pub async fn tokens(&self, policy_id: PolicyId) -> Result<Vec<EnrollmentToken>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM enrollment_tokens WHERE policy_id = $1 ORDER BY id"
        )))
        .bind(policy_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    pub async fn revoke_token(&self, id: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE enrollment_tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("usable token"));
        }
        Ok(())
    }

    /// The token behind a presented plaintext, if it exists and is neither revoked, expired nor
    /// used up; counts the use.
    pub async fn redeem_token(&self, token: &str, now: i64) -> Result<Option<EnrollmentToken>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE enrollment_tokens SET uses = uses + 1 \
             WHERE token_hash = $1 AND revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > $2) \
             AND (max_uses IS NULL OR uses < max_uses) \
             RETURNING {COLUMNS}"
        )))
        .bind(hash_secret(token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Gives back the use an enrollment took from a token when the enrollment was then refused
    /// (a known agent id without its credential, a retired device): a refused machine must not
    /// use up one of the token's machines.
    pub async fn give_back_token_use(&self, token_id: i64) -> Result<()> {
        sqlx::query("UPDATE enrollment_tokens SET uses = uses - 1 WHERE id = $1 AND uses > 0")
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
