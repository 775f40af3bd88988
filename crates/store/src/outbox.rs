//! The outbox (发送队列): every SMS and e-mail the system sends is first queued here, in
//! the transaction of what caused it (a deadline reminder, a reply to a citizen), and
//! keeps its status afterwards. A sender takes the due messages, tries to deliver
//! them and records the outcome; while a gateway is down messages wait, retried with
//! backoff, and nothing is lost.
//!
//! Several processes may run a sender against one database (servers sharing one
//! PostgreSQL). A sender first *claims* the due messages it will try
//! (`claim_due_messages`): one UPDATE that takes only rows nobody holds, setting
//! the pass's random token and the end of its lease, so two senders never get the
//! same message. Recording an attempt needs the live claim and releases it; a sender
//! that dies leaves claims that run out, and the messages are due again.
//!
//! SMS to a phone number are capped per number and day (a citizen's number must not
//! be flooded through the public form or any other path): `queue_message` counts
//! each one in `sms_daily_counts` in the queuing transaction, and a message over the
//! cap is kept with the status `over_limit` — never sent, never retried, visible on
//! the outbox page with its reason. The counter row is upserted, so concurrent
//! transactions (other processes) each get their own count.

use sha2::Digest;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

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
    /// `pending`, `sent`, `failed`, `recorded`, or `over_limit` (held: over the daily
    /// cap of SMS to its number, never sent).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// The token of the sender pass holding the message, while its lease runs.
    pub claimed_by: Option<String>,
    /// The end of that lease (a stored timestamp).
    pub claimed_until: Option<String>,
}

const COLUMNS: &str = "id, channel, recipient, body, purpose, dedupe_key, status, attempts, next_attempt_at, last_error, created_at, sent_at, claimed_by, claimed_until";

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
        claimed_by: row.try_get("claimed_by")?,
        claimed_until: row.try_get("claimed_until")?,
    })
}

/// The daily cap of SMS to one phone number, as the caller (the app, which knows the
/// site's calendar) states it for each message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsCap {
    /// Today in the site's zone, `YYYY-MM-DD`.
    pub day: String,
    /// SMS queued to one number on one day beyond which messages are held.
    pub per_day: i64,
}

/// The key a phone number is counted under: SHA-256 of its digits, with the country
/// code 86 of a mainland mobile number removed, so `+86 138-0013-8000` and
/// `13800138000` are one number. `None` for a recipient that is no phone number
/// (`user:<name>`, whose number the sender looks up; e-mail).
pub fn phone_key(recipient: &str) -> Option<String> {
    if recipient.starts_with("user:") || recipient.contains('@') {
        return None;
    }
    let digits: String = recipient.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let national = digits.strip_prefix("0086").or_else(|| digits.strip_prefix("86")).filter(|d| d.len() == 11 && d.starts_with('1'));
    Some(hex::encode(sha2::Sha256::digest(format!("phone:{}", national.unwrap_or(&digits)).as_bytes())))
}

/// The mark of a query password in the SMS of a new request, before the password.
const PASSWORD_MARK: &str = "查询密码";

/// `body` with the 8 characters after each `查询密码` replaced by `********`, unless they
/// are the placeholder the sender fills in; `None` if nothing changes.
pub fn redacted(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    let mut changed = false;
    while let Some(i) = rest.find(PASSWORD_MARK) {
        let (head, tail) = rest.split_at(i + PASSWORD_MARK.len());
        out.push_str(head);
        if tail.starts_with("{password}") || tail.starts_with("********") {
            rest = tail;
            continue;
        }
        let cut: usize = tail.chars().take(8).map(char::len_utf8).sum();
        out.push_str("********");
        rest = &tail[cut..];
        changed = true;
    }
    out.push_str(rest);
    changed.then_some(out)
}

impl Store {
    /// Removes the query passwords that SMS of new requests carried in their stored
    /// text before passwords were filled in at send time: every such message already
    /// sent (or given up) gets `********` instead, in one audited transaction. A
    /// message still pending keeps its text until it is sent; the next `migrate`
    /// redacts it. Run by `migrate`; idempotent.
    pub async fn redact_outbox_passwords(&self) -> Result<u64> {
        let rows = sqlx::query("SELECT id, body FROM outbox WHERE purpose = 'service.received' AND status <> 'pending' AND body LIKE $1")
            .bind(format!("%{PASSWORD_MARK}%"))
            .fetch_all(self.pool())
            .await?;
        let mut changes = Vec::new();
        for row in rows {
            let (id, body): (i64, String) = (row.try_get("id")?, row.try_get("body")?);
            if let Some(new) = redacted(&body) {
                changes.push((id, new));
            }
        }
        if changes.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin("system:migrate").await?;
        for (id, body) in &changes {
            sqlx::query("UPDATE outbox SET body = $1 WHERE id = $2").bind(body).bind(id).execute(tx.conn()).await?;
        }
        let ids: Vec<i64> = changes.iter().map(|(id, _)| *id).collect();
        tx.audit("outbox.redact", "outbox", "service.received", None, Some(serde_json::json!({"messages": ids}))).await?;
        tx.commit().await?;
        Ok(changes.len() as u64)
    }

    /// Queues a message to send now; `None` if one with its dedupe key is queued. An
    /// SMS to a phone number counts against `cap` for its number and `cap.day`; over
    /// the cap it is kept as `over_limit` and never sent.
    pub async fn queue_message(&self, tx: &mut WriteTx, m: &NewMessage, cap: &SmsCap) -> Result<Option<i64>> {
        if !matches!(m.channel.as_str(), "sms" | "email") {
            return Err(StoreError::invalid(format!("unknown message channel `{}`", m.channel)));
        }
        if m.recipient.trim().is_empty() || m.body.is_empty() {
            return Err(StoreError::invalid("a message needs a recipient and a body"));
        }
        let at = self.now();
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
        let Some(id) = id else { return Ok(None) };
        if m.channel == "sms"
            && let Some(key) = phone_key(&m.recipient)
        {
            let queued: i64 = sqlx::query_scalar(
                "INSERT INTO sms_daily_counts (recipient_key, day, queued) VALUES ($1, $2, 1) \
                 ON CONFLICT (recipient_key, day) DO UPDATE SET queued = sms_daily_counts.queued + 1 RETURNING queued",
            )
            .bind(&key)
            .bind(&cap.day)
            .fetch_one(tx.conn())
            .await?;
            if queued > cap.per_day {
                sqlx::query("UPDATE outbox SET status = 'over_limit', last_error = $1 WHERE id = $2")
                    .bind(format!("over the daily limit of {} SMS to this number", cap.per_day))
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
            }
        }
        Ok(Some(id))
    }

    /// SMS counted for the number of `recipient` on `day` (over the cap included).
    pub async fn sms_count(&self, recipient: &str, day: &str) -> Result<i64> {
        let Some(key) = phone_key(recipient) else { return Ok(0) };
        let n: Option<i64> = sqlx::query_scalar("SELECT queued FROM sms_daily_counts WHERE recipient_key = $1 AND day = $2")
            .bind(key)
            .bind(day)
            .fetch_optional(self.pool())
            .await?;
        Ok(n.unwrap_or(0))
    }

    /// Forgets the daily counts of days before `day` (bookkeeping; the messages stay).
    pub async fn purge_sms_counts(&self, day: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sms_daily_counts WHERE day < $1").bind(day).execute(self.pool()).await?.rows_affected())
    }

    /// Messages, newest first: those of `purpose` and `status` if given, one page.
    pub async fn outbox(&self, purpose: Option<&str>, status: Option<&str>, limit: i64, offset: i64) -> Result<(Vec<Message>, i64)> {
        let filter = "($1 = '' OR purpose = $1) AND ($2 = '' OR status = $2)";
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM outbox WHERE {filter}")))
            .bind(purpose.unwrap_or(""))
            .bind(status.unwrap_or(""))
            .fetch_one(self.pool())
            .await?;
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4")))
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

    /// Claims up to `limit` pending messages of `channel` due at `at` (a stored
    /// timestamp) that no live lease holds, for the sender pass `token` until
    /// `lease_until`; the claimed messages, oldest due first. One UPDATE, so two
    /// senders claiming at once never share a message: on PostgreSQL the second waits
    /// for the first's row locks and then finds the rows held (the outer condition is
    /// checked again on the updated rows); SQLite runs one writer at a time.
    pub async fn claim_due_messages(
        &self,
        tx: &mut WriteTx,
        channel: &str,
        at: &str,
        lease_until: &str,
        token: &str,
        limit: i64,
    ) -> Result<Vec<Message>> {
        if token.is_empty() || lease_until <= at {
            return Err(StoreError::invalid("a claim needs a token and a lease that ends after now"));
        }
        let free = "status = 'pending' AND (claimed_until IS NULL OR claimed_until <= $4)";
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2 \
             WHERE id IN (SELECT id FROM outbox WHERE {free} AND channel = $3 AND next_attempt_at <= $4 ORDER BY next_attempt_at, id LIMIT $5) \
             AND {free} RETURNING {COLUMNS}"
        )))
        .bind(token)
        .bind(lease_until)
        .bind(channel)
        .bind(at)
        .bind(limit.max(0))
        .fetch_all(tx.conn())
        .await?;
        let mut claimed = rows.iter().map(message).collect::<Result<Vec<_>>>()?;
        claimed.sort_by(|a, b| (&a.next_attempt_at, a.id).cmp(&(&b.next_attempt_at, b.id)));
        Ok(claimed)
    }

    /// Records one delivery attempt of a message the sender pass `claim` holds, and
    /// releases it: `status` is `sent`, `recorded`, `failed` (given up), or `pending`
    /// again with the next attempt at `retry_at`. A message not pending, or not held
    /// by `claim` (never claimed, or its lease ran out and another sender took it), is
    /// refused.
    pub async fn record_attempt(
        &self,
        tx: &mut WriteTx,
        id: i64,
        claim: &str,
        status: &str,
        error: Option<&str>,
        retry_at: Option<&str>,
    ) -> Result<()> {
        if !matches!(status, "sent" | "recorded" | "failed" | "pending") {
            return Err(StoreError::invalid(format!("unknown message status `{status}`")));
        }
        let at = self.now();
        let delivered = matches!(status, "sent" | "recorded");
        let done = sqlx::query(
            "UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2, \
             next_attempt_at = COALESCE($3, next_attempt_at), sent_at = $4, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $5 AND status = 'pending' AND claimed_by = $6",
        )
        .bind(status)
        .bind(error)
        .bind(retry_at)
        .bind(delivered.then_some(at))
        .bind(id)
        .bind(claim)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("pending message {id} held by this sender")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_passwords_are_cut_out_of_texts() {
        let sent = "【绩效办】您的诉求已受理，编号QK-2027-000001，查询密码AB3K9XQ2。可在政务服务网站查看。";
        assert_eq!(
            redacted(sent).as_deref(),
            Some("【绩效办】您的诉求已受理，编号QK-2027-000001，查询密码********。可在政务服务网站查看。")
        );
        assert_eq!(redacted("查询密码{password}。"), None);
        assert_eq!(redacted("查询密码********。"), None);
        assert_eq!(redacted("no password here"), None);
    }
}
