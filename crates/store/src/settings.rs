//! Settings: a small key–value table for what the office configures at run time
//! (reporting due day, warning-light thresholds, SMS gateway…). Values are text; the
//! caller owns their format. Changes go through `WriteTx` like everything else.

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

impl Store {
    /// A setting's value, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(self.pool()).await?)
    }

    /// All settings, by key.
    pub async fn settings(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT key, value FROM settings ORDER BY key").fetch_all(self.pool()).await?)
    }

    /// Sets a setting; returns the previous value (for the audit entry's `before`).
    pub async fn set_setting(&self, tx: &mut WriteTx, key: &str, value: &str) -> Result<Option<String>> {
        if key.trim().is_empty() || key.contains('\0') || value.contains('\0') {
            return Err(StoreError::invalid(format!("setting `{key}`: the key must be non-empty, without NUL characters")));
        }
        let before: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(tx.conn()).await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(tx.conn())
            .await?;
        Ok(before)
    }
}
