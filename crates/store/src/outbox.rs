//! The outbox (发送队列): every SMS and e-mail the system sends is first queued here, in
//! the transaction of what caused it (a deadline reminder, a reply to a citizen), and
//! keeps its status afterwards. A sender takes the due messages, tries to deliver
//! them and records the outcome; while a gateway is down messages wait, retried with
//! backoff, and nothing is lost.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, now};

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// `sms` or `email`.
    pub channel: String,
    /// A phone number, an e-mail address, or `user:<username>`.
    pub recipient: String,
    pub body: String,
    /// What it is for, e.g. `reminder`.
    pub purpose: String,
    /// A message with the key of one already queued is not queued again.
    pub dedupe_key: Option<String>,
}

/// A queued message and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub body: String,
    pub purpose: String,
    pub dedupe_key: Option<String>,
    /// `pending`, `sent`, `failed` or `recorded`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

const COLUMNS: &str = "id, channel, recipient, body, purpose, dedupe_key, status, attempts, next_attempt_at, last_error, created_at, sent_at";

fn message(row: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        recipient: row.try_get("recipient")?,
        body: row.try_get("body")?,
        purpose: row.try_get("purpose")?,
        dedupe_key: row.try_get("dedupe_key")?,
        status: row.try_get("status")?,
        attempts: row.try_get::<i64, _>("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

impl Store {
    /// Queues a message to send now; `None` if one with its dedupe key is queued.
    pub async fn queue_message(&self, tx: &mut WriteTx, m: &NewMessage) -> Result<Option<i64>> {
        if !matches!(m.channel.as_str(), "sms" | "email") {
            return Err(StoreError::invalid(format!("unknown message channel `{}`", m.channel)));
        }
        if m.recipient.trim().is_empty() || m.body.is_empty() {
            return Err(StoreError::invalid("a message needs a recipient and a body"));
        }
        let at = now();
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO outbox (channel, recipient, body, purpose, dedupe_key, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(&m.channel)
        .bind(&m.recipient)
        .bind(&m.body)
        .bind(&m.purpose)
        .bind(m.dedupe_key.as_deref())
        .bind(&at)
        .bind(&at)
        .fetch_optional(tx.conn())
        .await?;
        Ok(id)
    }

    /// Messages, newest first: those of `purpose` and `status` if given, one page.
    pub async fn outbox(&self, purpose: Option<&str>, status: Option<&str>, limit: i64, offset: i64) -> Result<(Vec<Message>, i64)> {
        let filter = "($1 = '' OR purpose = $1) AND ($2 = '' OR status = $2)";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM outbox WHERE {filter}")))
            .bind(purpose.unwrap_or(""))
            .bind(status.unwrap_or(""))
            .fetch_one(self.pool())
            .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4")))
            .bind(purpose.unwrap_or(""))
            .bind(status.unwrap_or(""))
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        Ok((rows.iter().map(message).collect::<Result<_>>()?, total))
    }

    /// Pending messages whose next attempt is due at `at` (a stored timestamp),
    /// oldest first.
    pub async fn due_messages(&self, at: &str, limit: i64) -> Result<Vec<Message>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
        )))
        .bind(at)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message).collect()
    }

    /// Records one delivery attempt: `status` is `sent`, `recorded`, `failed` (given
    /// up), or `pending` again with the next attempt at `retry_at`.
    pub async fn record_attempt(&self, tx: &mut WriteTx, id: i64, status: &str, error: Option<&str>, retry_at: Option<&str>) -> Result<()> {
        if !matches!(status, "sent" | "recorded" | "failed" | "pending") {
            return Err(StoreError::invalid(format!("unknown message status `{status}`")));
        }
        let at = now();
        let delivered = matches!(status, "sent" | "recorded");
        let done = sqlx::query(
            "UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2, \
             next_attempt_at = COALESCE($3, next_attempt_at), sent_at = $4 WHERE id = $5 AND status = 'pending'",
        )
        .bind(status)
        .bind(error)
        .bind(retry_at)
        .bind(delivered.then_some(at))
        .bind(id)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("pending message {id}")));
        }
        Ok(())
    }
}
