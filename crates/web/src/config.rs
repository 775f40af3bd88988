//! Configuration of the web layer.
//!
//! Two kinds, on purpose:
//! - `WebConfig`: how this process serves (cookies, upload size, rate limits). Set by
//!   the config file, `JIXIAO_*` variables and flags (the CLI reads them) — every
//!   process behind a load balancer gets the same file.
//! - `Policy`: the account security policy (lockout, session expiry). Kept in the
//!   database's settings table, so all processes share it and the administrator
//!   changes it on the settings page, with an audit entry.

use std::time::{Duration, Instant};

use jixiao_store::Store;
use serde::Deserialize;
use tokio::sync::RwLock;

/// How this process serves. `Default` is the embedded demo's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when jixiao is served over TLS, directly or behind
    /// a proxy). Requests carrying `X-Forwarded-Proto: https` get `Secure` cookies
    /// whatever this says.
    pub secure_cookies: bool,
    /// The largest request body accepted, in bytes (uploads included).
    pub max_body_bytes: usize,
    /// Login attempts allowed per client address per minute, before lockout counts.
    pub login_attempts_per_minute: u32,
    /// Public query-page attempts (case number + password) per client address per
    /// minute, against guessing.
    pub query_attempts_per_minute: u32,
    /// Days after verification a request the citizen has not rated closes unrated.
    pub service_auto_close_days: u32,
    /// The largest photo attached to a public request, in bytes.
    pub service_photo_bytes: usize,
    /// The SMS gateway (`[web.sms]`); by default messages are only recorded.
    pub sms: crate::service::sms::SmsConfig,
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig {
            secure_cookies: false,
            max_body_bytes: 20 * 1024 * 1024,
            login_attempts_per_minute: 20,
            query_attempts_per_minute: 10,
            service_auto_close_days: 7,
            service_photo_bytes: 5 * 1024 * 1024,
            sms: crate::service::sms::SmsConfig::default(),
        }
    }
}

/// The account security policy (等保 2.0: lockout, session timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failed logins in a row that lock an account.
    pub lockout_threshold: i64,
    /// How long a locked account stays locked.
    pub lockout_minutes: i64,
    /// A session unused this long is over.
    pub session_idle_minutes: i64,
    /// A session is over this long after login, whatever the activity.
    pub session_absolute_hours: i64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { lockout_threshold: 5, lockout_minutes: 15, session_idle_minutes: 30, session_absolute_hours: 12 }
    }
}

/// The settings keys of the policy, with their bounds: (key, min, max).
pub const POLICY_KEYS: [(&str, i64, i64); 4] = [
    ("security.lockout_threshold", 1, 100),
    ("security.lockout_minutes", 1, 24 * 60),
    ("security.session_idle_minutes", 1, 24 * 60),
    ("security.session_absolute_hours", 1, 24 * 30),
];

impl Policy {
    pub fn get(&self, key: &str) -> Option<i64> {
        Some(match key {
            "security.lockout_threshold" => self.lockout_threshold,
            "security.lockout_minutes" => self.lockout_minutes,
            "security.session_idle_minutes" => self.session_idle_minutes,
            "security.session_absolute_hours" => self.session_absolute_hours,
            _ => return None,
        })
    }

    fn set(&mut self, key: &str, value: i64) {
        match key {
            "security.lockout_threshold" => self.lockout_threshold = value,
            "security.lockout_minutes" => self.lockout_minutes = value,
            "security.session_idle_minutes" => self.session_idle_minutes = value,
            "security.session_absolute_hours" => self.session_absolute_hours = value,
            _ => {}
        }
    }

    /// Reads the policy from settings; missing or unreadable values keep the default
    /// (the settings page never stores an out-of-bounds value).
    pub async fn load(store: &Store) -> jixiao_store::Result<Policy> {
        let mut policy = Policy::default();
        for (key, value) in store.settings().await? {
            if let Some((_, min, max)) = POLICY_KEYS.iter().find(|(k, ..)| *k == key) {
                match value.parse::<i64>() {
                    Ok(v) if (*min..=*max).contains(&v) => policy.set(&key, v),
                    _ => tracing::warn!(key, value, "ignoring an out-of-range security setting"),
                }
            }
        }
        Ok(policy)
    }
}

/// The policy, re-read from the database at most every few seconds, so a change on
/// one server reaches the others quickly without a query per request.
#[derive(Default)]
pub(crate) struct PolicyCache {
    cached: RwLock<Option<(Instant, Policy)>>,
}

const POLICY_TTL: Duration = Duration::from_secs(5);

impl PolicyCache {
    pub async fn get(&self, store: &Store) -> Policy {
        if let Some((at, policy)) = *self.cached.read().await
            && at.elapsed() < POLICY_TTL
        {
            return policy;
        }
        let policy = match Policy::load(store).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the security policy; using the defaults");
                Policy::default()
            }
        };
        *self.cached.write().await = Some((Instant::now(), policy));
        policy
    }

    /// Forgets the cached policy (after this process changed it).
    pub async fn invalidate(&self) {
        *self.cached.write().await = None;
    }
}
