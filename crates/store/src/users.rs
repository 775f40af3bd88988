//! User accounts, their passwords and their roles.
//!
//! Passwords are stored only as argon2id PHC strings (`$argon2id$v=19$m=…$salt$hash`),
//! which carry their own salt and parameters, so parameters can be raised later
//! without invalidating old hashes. Hashing runs on a blocking thread: it is meant to
//! be slow. Login policy (lockout after failures, expiry) lives in the app's `accounts`;
//! the count of failures and the lock are decided here, in one statement per attempt
//! (`claim_login_attempt`).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use jixiao_core::org::PASSWORD_HISTORY;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, flag};

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// The unit the user belongs to, if any.
    pub unit_id: Option<String>,
    /// `zh-CN` or `en`.
    pub language: String,
}

/// An account as stored (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit_id: Option<String>,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
    pub language: String,
    pub created_at: String,
    pub password_changed_at: String,
    /// Set by an administrator's reset: the user must choose a new password first.
    pub must_change_password: bool,
}

/// What `claim_login_attempt` decided about one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginClaim {
    /// The attempts counted since the last success or the end of the last lock,
    /// this one included.
    pub attempt: i64,
    /// Whether the password may be checked: the attempt is within the threshold (the
    /// attempt that reaches it is checked, and locks the account if it fails). An
    /// attempt under a lock is refused unchecked, whatever its password.
    pub may_check: bool,
    /// The lock now in force, if any.
    pub locked_until: Option<String>,
}

/// A role and the data it covers, e.g. `reporter` with `{"units": ["u01"]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleGrant {
    pub role: String,
    pub scope: Value,
}

const USER_COLUMNS: &str = "id, username, display_name, unit_id, disabled, failed_logins, locked_until, language, \
                            created_at, password_changed_at, must_change_password";

fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        unit_id: row.try_get("unit_id")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
        language: row.try_get("language")?,
        created_at: row.try_get("created_at")?,
        password_changed_at: row.try_get("password_changed_at")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
    })
}

/// Hashes a password with argon2id and a fresh random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String> {
    if password.is_empty() {
        return Err(StoreError::invalid("the password is empty"));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::invalid(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches a PHC string; argon2 compares in constant time.
fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Whether `password` matches the PHC string `phc`, on a blocking thread; with no
/// hash (an unknown case number) a decoy is checked, so both take the same time.
pub async fn check_secret(password: &str, phc: Option<&str>) -> Result<bool> {
    let (password, phc, known) = (password.to_string(), phc.unwrap_or(decoy_hash()).to_string(), phc.is_some());
    blocking(move || password_matches(&password, &phc) && known).await
}

/// A hash of nothing anyone knows, checked when the username does not exist so that
/// "no such user" takes as long as "wrong password" and does not reveal usernames.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("jixiao decoy password").unwrap_or_default())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::invalid(format!("password hashing did not finish: {e}")))
}

fn check_username(username: &str) -> Result<()> {
    if username.is_empty() || username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(StoreError::invalid(format!("username `{username}` is not valid: it must be non-empty, without spaces")));
    }
    Ok(())
}

impl Store {
    /// Creates an account; returns its id.
    pub async fn add_user(&self, tx: &mut WriteTx, user: &NewUser) -> Result<i64> {
        check_username(&user.username)?;
        if user.display_name.trim().is_empty() {
            return Err(StoreError::invalid(format!("user `{}` needs a display name", user.username)));
        }
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1").bind(&user.username).fetch_optional(tx.conn()).await?;
        if taken.is_some() {
            return Err(StoreError::AlreadyExists { what: format!("user `{}`", user.username) });
        }
        if let Some(unit) = &user.unit_id {
            self.unit_in(tx, unit).await.map_err(|e| StoreError::invalid(format!("user `{}`: {e}", user.username)))?;
        }
        let password = user.password.clone();
        let hash = blocking(move || hash_password(&password)).await??;
        let at = self.now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, password_hash, unit_id, disabled, failed_logins, language, \
             created_at, password_changed_at) VALUES ($1, $2, $3, $4, 0, 0, $5, $6, $6) RETURNING id",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(hash)
        .bind(user.unit_id.as_deref())
        .bind(&user.language)
        .bind(&at)
        .fetch_one(tx.conn())
        .await?;
        self.remember_password(tx, id).await?;
        Ok(id)
    }

    /// Replaces a user's password (and clears a lockout). `must_change` makes the user
    /// choose another one at the next login (an administrator's reset).
    pub async fn set_password(&self, tx: &mut WriteTx, user_id: i64, password: &str, must_change: bool) -> Result<()> {
        let password = password.to_string();
        let hash = blocking(move || hash_password(&password)).await??;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_logins = 0, locked_until = NULL, \
             must_change_password = $3 WHERE id = $4",
        )
        .bind(hash)
        .bind(self.now())
        .bind(flag(must_change))
        .bind(user_id)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("user {user_id}")));
        }
        self.remember_password(tx, user_id).await
    }

    /// Makes the user choose a new password at the next login (a new account, whose
    /// first password someone else set).
    pub async fn require_password_change(&self, tx: &mut WriteTx, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE users SET must_change_password = 1 WHERE id = $1").bind(user_id).execute(tx.conn()).await?;
        Ok(())
    }

    /// Keeps the account's current password hash in its history and prunes the
    /// history to the last `PASSWORD_HISTORY`.
    async fn remember_password(&self, tx: &mut WriteTx, user_id: i64) -> Result<()> {
        sqlx::query("INSERT INTO password_history (user_id, password_hash, set_at) SELECT id, password_hash, $2 FROM users WHERE id = $1")
            .bind(user_id)
            .bind(self.now())
            .execute(tx.conn())
            .await?;
        let keep: Vec<String> =
            sqlx::query_scalar("SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY set_at DESC LIMIT $2")
                .bind(user_id)
                .bind(PASSWORD_HISTORY as i64)
                .fetch_all(tx.conn())
                .await?;
        let all: Vec<String> =
            sqlx::query_scalar("SELECT password_hash FROM password_history WHERE user_id = $1").bind(user_id).fetch_all(tx.conn()).await?;
        for old in all.iter().filter(|h| !keep.contains(h)) {
            sqlx::query("DELETE FROM password_history WHERE user_id = $1 AND password_hash = $2")
                .bind(user_id)
                .bind(old)
                .execute(tx.conn())
                .await?;
        }
        Ok(())
    }

    /// Whether `password` is one of the account's last `PASSWORD_HISTORY` passwords
    /// (the current one included), checked against each kept hash on a blocking thread.
    pub async fn password_in_history(&self, user_id: i64, password: &str) -> Result<bool> {
        let hashes: Vec<String> =
            sqlx::query_scalar("SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY set_at DESC LIMIT $2")
                .bind(user_id)
                .bind(PASSWORD_HISTORY as i64)
                .fetch_all(self.pool())
                .await?;
        let password = password.to_string();
        blocking(move || hashes.iter().any(|phc| password_matches(&password, phc))).await
    }

    /// Disables (or re-enables) an account. Accounts are never deleted.
    pub async fn set_user_disabled(&self, tx: &mut WriteTx, user_id: i64, disabled: bool) -> Result<()> {
        let done =
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2").bind(flag(disabled)).bind(user_id).execute(tx.conn()).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("user {user_id}")));
        }
        Ok(())
    }

    /// Changes an account's name, unit and language.
    pub async fn update_user(
        &self,
        tx: &mut WriteTx,
        user_id: i64,
        display_name: &str,
        unit_id: Option<&str>,
        language: &str,
    ) -> Result<()> {
        if display_name.trim().is_empty() {
            return Err(StoreError::invalid(format!("user {user_id} needs a display name")));
        }
        if let Some(unit) = unit_id {
            self.unit_in(tx, unit).await?;
        }
        let done = sqlx::query("UPDATE users SET display_name = $1, unit_id = $2, language = $3 WHERE id = $4")
            .bind(display_name.trim())
            .bind(unit_id)
            .bind(language)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("user {user_id}")));
        }
        Ok(())
    }

    /// Sets a user's interface language.
    pub async fn set_language(&self, tx: &mut WriteTx, user_id: i64, language: &str) -> Result<()> {
        sqlx::query("UPDATE users SET language = $1 WHERE id = $2").bind(language).bind(user_id).execute(tx.conn()).await?;
        Ok(())
    }

    /// Claims one login attempt of `user_id` before its password is checked, and
    /// decides the lock in the same statement, so parallel guesses cannot all pass
    /// the check before the counter moves: the statement counts the attempt
    /// (`failed_logins + 1`) and, when that reaches `threshold`, locks the account
    /// until `lock_until`. A lock in force at `now` stays and still counts the
    /// attempt, with the count kept above the threshold (so an attempt under a lock
    /// is always told apart, even after the threshold changed); a lock that is over
    /// starts a new count. A success clears the count afterwards
    /// (`clear_login_failures`). It is a single atomic statement, like `touch_session`
    /// bookkeeping without an audit entry of its own: the attempt's outcome is audited.
    pub async fn claim_login_attempt(&self, user_id: i64, threshold: i64, now: &str, lock_until: &str) -> Result<LoginClaim> {
        let row = sqlx::query(
            "UPDATE users SET \
               failed_logins = CASE \
                 WHEN locked_until IS NOT NULL AND locked_until > $2 THEN \
                   (CASE WHEN failed_logins >= $3 THEN failed_logins + 1 ELSE $3 + 1 END) \
                 WHEN locked_until IS NOT NULL THEN 1 \
                 ELSE failed_logins + 1 END, \
               locked_until = CASE \
                 WHEN locked_until IS NOT NULL AND locked_until > $2 THEN locked_until \
                 WHEN (CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_logins + 1 END) >= $3 THEN $4 \
                 ELSE NULL END \
             WHERE id = $1 RETURNING failed_logins, locked_until",
        )
        .bind(user_id)
        .bind(now)
        .bind(threshold)
        .bind(lock_until)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::not_found(format!("user {user_id}")))?;
        let attempt: i64 = row.try_get("failed_logins")?;
        let locked_until: Option<String> = row.try_get("locked_until")?;
        Ok(LoginClaim { attempt, may_check: attempt <= threshold, locked_until })
    }

    /// Clears the count of failed logins and any lock (a successful login).
    pub async fn clear_login_failures(&self, tx: &mut WriteTx, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1").bind(user_id).execute(tx.conn()).await?;
        Ok(())
    }

    /// All accounts, by username.
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"))).fetch_all(self.pool()).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// One account by id.
    pub async fn user(&self, user_id: i64) -> Result<User> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("user {user_id}")))?;
        user_from_row(&row)
    }

    /// One account by username.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1")))
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The account if `password` is its password, else `None` — also when the username
    /// does not exist, after the same amount of work. Does not look at `disabled` or
    /// `locked_until`: the caller decides what those mean for a login.
    pub async fn verify_password(&self, username: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1")))
            .bind(username)
            .fetch_optional(self.pool())
            .await?;
        let (user, phc) = match &row {
            Some(row) => (Some(user_from_row(row)?), row.try_get::<String, _>("password_hash")?),
            None => (None, decoy_hash().to_string()),
        };
        let password = password.to_string();
        let ok = blocking(move || password_matches(&password, &phc)).await?;
        Ok(if ok { user } else { None })
    }

    /// Replaces a user's roles.
    pub async fn set_roles(&self, tx: &mut WriteTx, user_id: i64, roles: &[RoleGrant]) -> Result<()> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1").bind(user_id).fetch_optional(tx.conn()).await?;
        if exists.is_none() {
            return Err(StoreError::not_found(format!("user {user_id}")));
        }
        let mut seen = Vec::new();
        for grant in roles {
            if grant.role.is_empty() || !grant.role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::invalid(format!("role `{}` is not a role name", grant.role)));
            }
            let scope = grant.scope.to_string();
            if !seen.contains(&(grant.role.clone(), scope.clone())) {
                seen.push((grant.role.clone(), scope));
            }
        }
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(tx.conn()).await?;
        for (role, scope) in seen {
            sqlx::query("INSERT INTO user_roles (user_id, role, scope) VALUES ($1, $2, $3)")
                .bind(user_id)
                .bind(role)
                .bind(scope)
                .execute(tx.conn())
                .await?;
        }
        Ok(())
    }

    /// A user's roles, by role name.
    pub async fn roles(&self, user_id: i64) -> Result<Vec<RoleGrant>> {
        let rows = sqlx::query("SELECT role, scope FROM user_roles WHERE user_id = $1 ORDER BY role, scope")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                let scope: String = row.try_get("scope")?;
                Ok(RoleGrant {
                    role: row.try_get("role")?,
                    scope: serde_json::from_str(&scope).map_err(|e| StoreError::invalid(format!("stored role scope is not JSON: {e}")))?,
                })
            })
            .collect()
    }
}
