//! How this process serves HTTP (`[web]` in the config file, `JIXIAO_*` variables and
//! flags; the CLI reads them — every process behind a load balancer gets the same
//! file). What the use cases need is the app's `AppConfig`; what all processes share
//! and an administrator changes at run time is in the database's settings
//! (`jixiao_app::settings`).

use serde::Deserialize;

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
}

impl Default for WebConfig {
    fn default() -> WebConfig {
        WebConfig { secure_cookies: false, max_body_bytes: 20 * 1024 * 1024, login_attempts_per_minute: 20, query_attempts_per_minute: 10 }
    }
}
