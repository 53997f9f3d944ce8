//! Personal API tokens: each an account's, with a name, a role (never above the account's at
//! use), an expiry, its last use, and kept only as the SHA-256 hash of its secret (random, so a
//! fast hash is enough). Revoked tokens stay listed, marked, so a person sees what was cut off.

use super::admins::stored_role;
use super::{Result, Store, StoreError, now_ms};
use crate::access::Role;

/// A token as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: i64,
    pub account: String,
    pub name: String,
    pub role: Role,
    pub created_ms: i64,
    pub expires_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_ms: Option<i64>,
}

/// Who a live token acts as: its account, and the lesser of the token's and the account's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHolder {
    pub token_id: i64,
    pub admin_id: i64,
    pub username: String,
    pub role: Role,
}

type Row = (
    i64,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

const COLUMNS: &str = "t.id, a.username, t.name, t.role, t.created_ms, t.expires_ms, \
     t.last_used_ms, t.revoked_ms FROM api_tokens t JOIN admins a ON a.id = t.admin_id";

fn from_row(r: Row) -> ApiToken {
    ApiToken {
        id: r.0,
        account: r.1,
        name: r.2,
        role: stored_role(&r.3),
        created_ms: r.4,
        expires_ms: r.5,
        last_used_ms: r.6,
        revoked_ms: r.7,
    }
}

impl Store {
    pub async fn create_api_token(
        &self,
        admin_id: i64,
        name: &str,
        role: Role,
        token_hash: &str,
        expires_ms: i64,
    ) -> Result<ApiToken> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_tokens (admin_id, name, role, token_hash, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(admin_id)
        .bind(name)
        .bind(role.as_str())
        .bind(token_hash)
        .bind(now_ms())
        .bind(expires_ms)
        .fetch_one(&self.pool)
        .await?;
        self.api_token(id).await
    }

    pub async fn api_token(&self, id: i64) -> Result<ApiToken> {
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} WHERE t.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(from_row).ok_or(StoreError::NotFound("API token"))
    }

    /// Tokens, newest first: one account's, or (none named) everyone's.
    pub async fn api_tokens(&self, account: Option<&str>) -> Result<Vec<ApiToken>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} WHERE $1 IS NULL OR a.username = $1 ORDER BY t.id DESC"
        )))
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// The live token with this hash (not revoked, not expired), noting its use now.
    pub async fn use_api_token(&self, token_hash: &str, now: i64) -> Result<Option<TokenHolder>> {
        let row: Option<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT t.id, a.id, a.username, t.role, a.role FROM api_tokens t \
             JOIN admins a ON a.id = t.admin_id \
             WHERE t.token_hash = $1 AND t.revoked_ms IS NULL AND t.expires_ms > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some((token_id, admin_id, username, token_role, account_role)) = row else {
            return Ok(None);
        };
        sqlx::query("UPDATE api_tokens SET last_used_ms = $2 WHERE id = $1")
            .bind(token_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(Some(TokenHolder {
            token_id,
            admin_id,
            username,
            role: stored_role(&token_role).min(stored_role(&account_role)),
        }))
    }

    /// Revokes a token; false when it was revoked already.
    pub async fn revoke_api_token(&self, id: i64) -> Result<bool> {
        self.api_token(id).await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL",
        )
        .bind(id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
