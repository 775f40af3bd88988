//! CAPTCHA challenges (验证码) of the public forms: one row per form shown, taken by
//! the one submission that answers it. Challenges are bookkeeping, like a session's
//! last use, and not audited: what the answered form then does is.
//!
//! A challenge is stored under the SHA-256 of the token its form carries, so the
//! table alone cannot answer a form. Taking one deletes it in one statement, so two
//! submissions of the same token (in any processes) cannot both get its answer.

use crate::{Result, Store};

impl Store {
    /// Stores a challenge for `purpose` (the form it belongs to) with its `answer`,
    /// valid until `expires_at` (a stored timestamp).
    pub async fn add_captcha(&self, token_hash: &str, purpose: &str, answer: &str, expires_at: &str) -> Result<()> {
        sqlx::query("INSERT INTO captcha_challenges (token_hash, purpose, answer, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(purpose)
            .bind(answer)
            .bind(self.now())
            .bind(expires_at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Takes the challenge of `token_hash` for `purpose`: removes it and returns its
    /// answer if it had not expired at `now` (a stored timestamp). `None` for an
    /// unknown, used, expired or other form's token.
    pub async fn take_captcha(&self, token_hash: &str, purpose: &str, now: &str) -> Result<Option<String>> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("DELETE FROM captcha_challenges WHERE token_hash = $1 RETURNING purpose, answer, expires_at")
                .bind(token_hash)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.filter(|(p, _, expires)| p == purpose && expires.as_str() > now).map(|(_, answer, _)| answer))
    }

    /// Removes challenges that expired before `now`; how many.
    pub async fn purge_captchas(&self, now: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM captcha_challenges WHERE expires_at <= $1").bind(now).execute(self.pool()).await?.rows_affected())
    }
}
