//! Sending SMS (短信) from the outbox (`store::outbox`).
//!
//! Messages are queued in the transaction of what causes them; this sender delivers
//! the due ones. With no gateway configured (the default) a message is only written
//! to the log and marked `recorded`, so the demo needs no gateway. With a gateway,
//! `url` is a template: `{phone}`, `{text}`, `{username}` and `{password}` are
//! replaced, URL-encoded, by the recipient, the message and the configured
//! credentials, and the URL is requested (`GET`, or `POST` with the query as a form
//! body). A 2xx answer is `sent`; anything else (also no answer within the timeout)
//! is retried after `backoff_seconds × 2^(attempt-1)`, capped at an hour, until
//! `max_attempts`, then `failed`. The message stays in the outbox whatever happens.
//!
//! `queue` is the one way the use cases queue an SMS: every message to a phone number
//! counts against the daily cap of its number (`sms_per_number_per_day`, counted in
//! the database by the store), and one over the cap is kept as `over_limit`, never
//! sent — so no path (the public form, Open311, an operator, the steps of a request)
//! can flood a number.

use std::time::Duration;

use jixiao_store::{Message, NewMessage, SmsCap, WriteTx};

use crate::App;
use serde::Deserialize;
use serde_json::json;

/// The SMS gateway (`[sms]` in the config file).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// The gateway URL template; empty: only record messages.
    pub url: String,
    /// `GET` or `POST`.
    pub method: String,
    pub username: String,
    pub password: String,
    pub max_attempts: i64,
    pub backoff_seconds: u64,
    pub timeout_seconds: u64,
    /// How often the sender looks for due messages.
    pub poll_seconds: u64,
}

impl Default for SmsConfig {
    fn default() -> SmsConfig {
        SmsConfig {
            url: String::new(),
            method: "GET".into(),
            username: String::new(),
            password: String::new(),
            max_attempts: 8,
            backoff_seconds: 30,
            timeout_seconds: 10,
            poll_seconds: 5,
        }
    }
}

/// Queues `m` in `tx` under the daily cap of SMS to its number (see the module
/// documentation); `None` if a message with its dedupe key is already queued.
pub async fn queue(app: &App, tx: &mut WriteTx, m: &NewMessage) -> jixiao_store::Result<Option<i64>> {
    let cap = SmsCap { day: app.clock.today().to_string(), per_day: app.config.sms_per_number_per_day.max(0) };
    app.store.queue_message(tx, m, &cap).await
}

/// What one pass of the sender did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub recorded: usize,
    pub retried: usize,
    pub failed: usize,
}

fn encode(s: &str) -> String {
    crate::text::url_encode(s)
}

/// The gateway URL of a message, credentials filled in.
fn gateway_url(config: &SmsConfig, m: &Message) -> String {
    config
        .url
        .replace("{phone}", &encode(&m.recipient))
        .replace("{text}", &encode(&m.body))
        .replace("{username}", &encode(&config.username))
        .replace("{password}", &encode(&config.password))
}

async fn send(client: &reqwest::Client, config: &SmsConfig, m: &Message) -> Result<(), String> {
    let url = gateway_url(config, m);
    let request = if config.method.eq_ignore_ascii_case("POST") {
        let (base, query) = url.split_once('?').unwrap_or((&url, ""));
        client.post(base).header("content-type", "application/x-www-form-urlencoded").body(query.to_string())
    } else {
        client.get(&url)
    };
    match request.send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("gateway answered {}", r.status())),
        // The error may contain the URL with credentials: keep only its kind.
        Err(e) if e.is_timeout() => Err("gateway timed out".into()),
        Err(e) if e.is_connect() => Err("cannot connect to the gateway".into()),
        Err(_) => Err("gateway request failed".into()),
    }
}

/// How many messages one pass of the sender claims.
pub const BATCH: i64 = 50;

/// The lease of a pass's claim: long enough to try every claimed message at the
/// gateway's timeout, with a minute to spare. A sender that dies leaves its messages
/// due again after this.
pub fn lease(config: &SmsConfig) -> chrono::Duration {
    let per_message = i64::try_from(config.timeout_seconds.max(1)).unwrap_or(3600);
    chrono::Duration::seconds(BATCH.saturating_mul(per_message).saturating_add(60))
}

/// Delivers the SMS messages due now. It first claims them (`store::outbox`, one
/// audited transaction), so another process running the sender at the same time
/// takes other messages or none; then one transaction (with its audit entry) per
/// attempt, so an attempt is never lost or repeated.
pub async fn deliver_due(app: &App) -> jixiao_store::Result<Delivery> {
    let (store, config) = (&app.store, &app.config.sms);
    let mut report = Delivery::default();
    let now = app.clock.now();
    let mut token = [0u8; 12];
    getrandom::fill(&mut token).expect("the operating system's random number generator");
    let token = hex::encode(token);
    let mut tx = store.begin("system:sms").await?;
    let due = store
        .claim_due_messages(&mut tx, "sms", &jixiao_store::timestamp(now), &jixiao_store::timestamp(now + lease(config)), &token, BATCH)
        .await?;
    if due.is_empty() {
        tx.rollback().await?;
        return Ok(report);
    }
    let ids: Vec<i64> = due.iter().map(|m| m.id).collect();
    tx.audit("outbox.claim", "outbox", &token, None, Some(json!({"messages": ids, "until": due[0].claimed_until}))).await?;
    tx.commit().await?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(config.timeout_seconds.max(1))).build().ok();
    for m in due {
        let (status, error, retry_at) = if config.url.is_empty() {
            tracing::info!(id = m.id, recipient = %m.recipient, purpose = %m.purpose, "SMS recorded (no gateway configured)");
            report.recorded += 1;
            ("recorded", None, None)
        } else {
            // The text as sent: the query password filled in now, never stored.
            let outcome = match (&client, super::privacy::text_of(app, &m).await) {
                (Some(c), Ok(body)) => send(c, config, &Message { body, ..m.clone() }).await,
                (None, _) => Err("no HTTP client".to_string()),
                (_, Err(e)) => Err(e.to_string()),
            };
            match outcome {
                Ok(()) => {
                    report.sent += 1;
                    ("sent", None, None)
                }
                Err(e) if m.attempts + 1 >= config.max_attempts => {
                    tracing::warn!(id = m.id, error = %e, "SMS failed for good");
                    report.failed += 1;
                    ("failed", Some(e), None)
                }
                Err(e) => {
                    let wait = config.backoff_seconds.saturating_mul(1 << m.attempts.clamp(0, 12)).min(3600);
                    let at = jixiao_store::timestamp(app.clock.now() + chrono::Duration::seconds(wait as i64));
                    report.retried += 1;
                    ("pending", Some(e), Some(at))
                }
            }
        };
        let mut tx = store.begin("system:sms").await?;
        if let Err(e) = store.record_attempt(&mut tx, m.id, &token, status, error.as_deref(), retry_at.as_deref()).await {
            // The lease ran out and another sender took the message: its attempt counts.
            tracing::warn!(id = m.id, error = %e, "SMS attempt not recorded: the claim was lost");
            tx.rollback().await?;
            continue;
        }
        tx.audit(
            "outbox.attempt",
            "outbox",
            &m.id.to_string(),
            Some(json!({"status": "pending"})),
            Some(json!({"status": status, "error": error})),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(report)
}
