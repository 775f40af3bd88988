//! Login sessions and API tokens, stored so that several `jixiao serve` processes
//! share them.
//!
//! Only hashes of the secrets are stored (the web layer hashes the cookie value or
//! bearer token before asking), so a copy of the database opens no session.
//!
//! Creating and ending sessions and tokens is audited like every change. Two
//! bookkeeping writes are not: a session's `last_seen_at` and a token's
//! `last_used_at` (they would add an audit entry per request and say nothing the
//! access log does not), and deleting sessions that have already expired.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The hash of the cookie value.
    pub id: String,
    pub user_id: i64,
    pub created_at: String,
    pub last_seen_at: String,
    /// Absolute expiry, whatever the activity.
    pub expires_at: String,
    /// The value every state-changing form of this session must carry.
    pub csrf_token: String,
}

/// An API token (its secret is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    /// The account that created it.
    pub user_id: Option<i64>,
    /// The one role the token acts in.
    pub role: String,
    /// The unit it is scoped to; `None` for all units.
    pub unit_id: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

fn session_from_row(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        expires_at: row.try_get("expires_at")?,
        csrf_token: row.try_get("csrf_token")?,
    })
}

const TOKEN_COLUMNS: &str = "id, name, user_id, role, unit_id, created_at, last_used_at, revoked_at";

fn token_from_row(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        user_id: row.try_get("user_id")?,
        role: row.try_get("role")?,
        unit_id: row.try_get("unit_id")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl Store {
    /// Starts a session for `user_id`, valid until `expires_at` at the latest.
    pub async fn create_session(&self, tx: &mut WriteTx, id_hash: &str, user_id: i64, csrf_token: &str, expires_at: &str) -> Result<()> {
        let at = self.now();
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, csrf_token, data) \
             VALUES ($1, $2, $3, $3, $4, $5, '{}')",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(&at)
        .bind(expires_at)
        .bind(csrf_token)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// A session by the hash of its cookie, expired or not (the caller decides).
    pub async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT id, user_id, created_at, last_seen_at, expires_at, csrf_token FROM sessions WHERE id = $1")
            .bind(id_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Records activity on a session (not audited; see the module documentation).
    pub async fn touch_session(&self, id_hash: &str, at: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2").bind(at).bind(id_hash).execute(self.pool()).await?;
        Ok(())
    }

    /// Ends one session; whether it existed.
    pub async fn delete_session(&self, tx: &mut WriteTx, id_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id_hash).execute(tx.conn()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends every session of a user ("log out everywhere", a password change, a
    /// disabled account); how many there were.
    pub async fn delete_user_sessions(&self, tx: &mut WriteTx, user_id: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(tx.conn()).await?;
        Ok(done.rows_affected())
    }

    /// The number of sessions a user has open (not yet deleted).
    pub async fn session_count(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1").bind(user_id).fetch_one(self.pool()).await?)
    }

    /// Deletes sessions whose absolute expiry is before `before` (housekeeping, not
    /// audited: they no longer open anything).
    pub async fn delete_expired_sessions(&self, before: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(before).execute(self.pool()).await?;
        Ok(done.rows_affected())
    }

    /// Stores a new API token; returns its id.
    pub async fn add_token(
        &self,
        tx: &mut WriteTx,
        name: &str,
        token_hash: &str,
        user_id: Option<i64>,
        role: &str,
        unit_id: Option<&str>,
    ) -> Result<i64> {
        if name.trim().is_empty() || name.contains('\0') {
            return Err(StoreError::invalid("a token needs a name"));
        }
        if let Some(unit) = unit_id {
            self.unit_in(tx, unit).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, user_id, role, unit_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name.trim())
        .bind(token_hash)
        .bind(user_id)
        .bind(role)
        .bind(unit_id)
        .bind(self.now())
        .fetch_one(tx.conn())
        .await?;
        Ok(id)
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id DESC")))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// A token by the hash of its secret, revoked or not (the caller decides).
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1")))
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Records a token's use (not audited; see the module documentation).
    pub async fn touch_token(&self, id: i64, at: &str) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(at).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// Revokes a token for good; returns it as it was.
    pub async fn revoke_token(&self, tx: &mut WriteTx, id: i64) -> Result<ApiToken> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("token {id}")))?;
        let token = token_from_row(&row)?;
        if token.revoked_at.is_some() {
            return Err(StoreError::invalid(format!("token {id} is already revoked")));
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2").bind(self.now()).bind(id).execute(tx.conn()).await?;
        Ok(token)
    }
}
