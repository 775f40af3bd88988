//! Settings (系统设置) kept in the database's settings table, so every process of a
//! site shares them: the account security policy (lockout, session expiry), the
//! working calendar (the due day, days off, working weekend days 调休), the public
//! address SMS link to, and the site's time zone. Each key is read and checked here
//! only; the security administrator changes the policy (`save_policy`), the system
//! administrator the site's settings (`save`), the office the calendar on the
//! periods page — one transaction each, with an audit entry per changed key.
//!
//! Process settings (bind address, cookies, upload sizes, the SMS gateway) are in
//! the config file instead (`AppConfig`, the web's `WebConfig`).

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use jixiao_core::org::{Action, Target};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::RwLock;

use crate::actor::Actor;
use crate::clock::{ZONE_SETTING, parse_zone};
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::service::sms::SmsConfig;
use crate::{App, Store};

/// The day of the month after a month's reports are due (1–28).
pub const DUE_DAY: &str = "collection.due_day";
/// Days off that would be working days, `YYYY-MM-DD` separated by commas.
pub const HOLIDAYS: &str = "collection.holidays";
/// Weekend days that are working days (调休上班日).
pub const WORKDAYS: &str = "service.workdays";
/// The public address of the site, for links in SMS to citizens.
pub const PUBLIC_BASE_URL: &str = "service.public_base_url";
/// How far a value may move from last month's before it needs a reason.
pub const JUMP_RATIO: &str = "collection.jump_ratio";

/// The process's configuration of the use cases (`[service]` and `[sms]` in the
/// config file; every process of a site gets the same file).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Days after verification a request the citizen has not rated closes unrated.
    pub service_auto_close_days: u32,
    /// The largest photo attached to a public request, in bytes.
    pub service_photo_bytes: usize,
    /// SMS queued to one phone number per day (the site's calendar day), whatever
    /// causes them; more are kept in the outbox as `over_limit` and never sent.
    /// Counted in the database, so it holds across processes.
    pub sms_per_number_per_day: i64,
    /// The SMS gateway; by default messages are only recorded.
    pub sms: SmsConfig,
}

impl Default for AppConfig {
    fn default() -> AppConfig {
        AppConfig {
            service_auto_close_days: 7,
            service_photo_bytes: 5 * 1024 * 1024,
            sms_per_number_per_day: 10,
            sms: SmsConfig::default(),
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
    /// A password older than this many days must be changed at the next login.
    pub password_max_age_days: i64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            lockout_threshold: 5,
            lockout_minutes: 15,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            password_max_age_days: 90,
        }
    }
}

/// The settings keys of the policy, with their bounds: (key, min, max). The bounds
/// keep the policy within what 等保 2.0 level 3 asks (docs/decisions.md, "Identity"):
/// a lock after at most 10 failures, lasting at least 10 minutes; a session idle at
/// most 30 minutes and at most a working day long; a password at most 90 days old.
pub const POLICY_KEYS: [(&str, i64, i64); 5] = [
    ("security.lockout_threshold", 3, 10),
    ("security.lockout_minutes", 10, 24 * 60),
    ("security.session_idle_minutes", 5, 30),
    ("security.session_absolute_hours", 1, 24),
    (PASSWORD_MAX_AGE, 7, 90),
];

/// Days a password may be used before it must be changed.
pub const PASSWORD_MAX_AGE: &str = "identity.password_max_age_days";

impl Policy {
    pub fn get(&self, key: &str) -> Option<i64> {
        Some(match key {
            "security.lockout_threshold" => self.lockout_threshold,
            "security.lockout_minutes" => self.lockout_minutes,
            "security.session_idle_minutes" => self.session_idle_minutes,
            "security.session_absolute_hours" => self.session_absolute_hours,
            PASSWORD_MAX_AGE => self.password_max_age_days,
            _ => return None,
        })
    }

    fn set(&mut self, key: &str, value: i64) {
        match key {
            "security.lockout_threshold" => self.lockout_threshold = value,
            "security.lockout_minutes" => self.lockout_minutes = value,
            "security.session_idle_minutes" => self.session_idle_minutes = value,
            "security.session_absolute_hours" => self.session_absolute_hours = value,
            PASSWORD_MAX_AGE => self.password_max_age_days = value,
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

/// The policy, re-read from the database at most every few seconds, so a change by
/// one process reaches the others quickly without a query per request.
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

/// Dates written one per line or separated by commas or spaces.
fn date_items(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .flat_map(|(i, line)| line.split([',', ' ', '，', '、']).map(str::trim).filter(|t| !t.is_empty()).map(move |t| (i + 1, t)))
}

/// Days off as typed (one or more per line), sorted; or a message per bad line.
pub fn parse_holidays(tr: &Tr, text: &str) -> std::result::Result<Vec<NaiveDate>, Vec<String>> {
    let (mut days, mut errors) = (Vec::new(), Vec::new());
    for (line, t) in date_items(text) {
        match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => days.push(d),
            Err(_) => errors.push(tr.f("settings.bad_date", &[&line, &t])),
        }
    }
    days.sort();
    days.dedup();
    if errors.is_empty() { Ok(days) } else { Err(errors) }
}

/// The working weekend days of the text, sorted; or a message per bad line.
pub fn parse_workdays(tr: &Tr, text: &str) -> std::result::Result<Vec<NaiveDate>, Vec<String>> {
    let (mut days, mut errors) = (Vec::new(), Vec::new());
    for (line, t) in date_items(text) {
        match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) if matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) => days.push(d),
            Ok(d) => errors.push(tr.f("settings.workday_weekday", &[&line, &d])),
            Err(_) => errors.push(tr.f("settings.bad_date", &[&line, &t])),
        }
    }
    days.sort();
    days.dedup();
    if errors.is_empty() { Ok(days) } else { Err(errors) }
}

/// Stored dates (written by this module, so well formed; anything else is skipped).
pub fn stored_dates(text: &str) -> Vec<NaiveDate> {
    date_items(text).filter_map(|(_, t)| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()).collect()
}

/// The public base URL as stored (no trailing slash), or why it is not one.
pub fn parse_base_url(tr: &Tr, text: &str) -> std::result::Result<String, String> {
    let t = text.trim().trim_end_matches('/');
    if t.is_empty() {
        return Ok(String::new());
    }
    let bad = || tr.f("settings.bad_url", &[&t]);
    let url = reqwest::Url::parse(t).map_err(|_| bad())?;
    let fine = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !t.chars().any(char::is_whitespace)
        && t.len() <= 200;
    if fine { Ok(t.to_string()) } else { Err(bad()) }
}

/// The administrator's settings as the form shows them (text as typed).
#[derive(Debug, Clone, Default)]
pub struct SiteSettings {
    /// Working weekend days, one per line.
    pub workdays: String,
    pub base_url: String,
    pub time_zone: String,
}

/// What is wrong with a settings form, by field (`POLICY_KEYS` keys, `workdays`,
/// `base_url`, `time_zone`).
pub type SettingErrors = std::collections::BTreeMap<String, Vec<String>>;

impl SiteSettings {
    pub async fn load(app: &App) -> Result<SiteSettings> {
        let workdays = app.store.setting(WORKDAYS).await?.unwrap_or_default();
        Ok(SiteSettings {
            workdays: stored_dates(&workdays).iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
            base_url: app.store.setting(PUBLIC_BASE_URL).await?.unwrap_or_default(),
            time_zone: app.clock.zone().name().to_string(),
        })
    }
}

/// The security policy as its form shows it: (key, value) of each `POLICY_KEYS`
/// entry, in that order.
pub async fn policy_form(app: &App) -> Result<Vec<(&'static str, String)>> {
    let policy = Policy::load(&app.store).await?;
    Ok(POLICY_KEYS.iter().map(|&(k, ..)| (k, policy.get(k).unwrap_or_default().to_string())).collect())
}

/// Writes checked values in one transaction, an audit entry per changed key and one
/// for the save itself (`what`: `site` or `security`).
async fn store_values(app: &App, actor: &Actor, what: &str, values: &[(&str, String)]) -> Result<()> {
    let mut tx = app.store.begin(&actor.name).await?;
    for (key, value) in values {
        let before = app.store.set_setting(&mut tx, key, value).await?;
        if before.as_deref().unwrap_or("") != value.as_str() {
            tx.audit("setting.set", "setting", key, before.map(|b| json!(b)), Some(json!(value))).await?;
        }
    }
    // Saving unchanged values still leaves a trace of who confirmed them.
    tx.audit("settings.save", "settings", what, None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks and saves the security policy (the security administrator's, 三权分立):
/// all or nothing, each value within its compliant range (`POLICY_KEYS`).
/// `Err(Ok(errors))` when the form is refused (nothing saved), `Err(Err(_))` when the
/// system failed.
pub async fn save_policy(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    form: &[(&str, String)],
) -> std::result::Result<(), std::result::Result<SettingErrors, AppError>> {
    actor.require(Action::ManageSecurityPolicy, Target::Nothing).map_err(Err)?;
    let mut errors = SettingErrors::new();
    let mut values: Vec<(&str, String)> = Vec::new();
    for &(key, min, max) in &POLICY_KEYS {
        let text = form.iter().find(|(k, _)| *k == key).map(|(_, v)| v.trim()).unwrap_or("");
        match text.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => values.push((key, v.to_string())),
            _ => {
                errors.insert(key.to_string(), vec![tr.f("identity.out_of_range", &[&tr.t(key), &min, &max])]);
            }
        }
    }
    if !errors.is_empty() {
        return Err(Ok(errors));
    }
    store_values(app, actor, "security", &values).await.map_err(Err)?;
    app.policy.invalidate().await;
    Ok(())
}

/// Checks and saves the administrator's site settings: all or nothing.
/// `Err(Ok(errors))` when the form is refused (nothing saved), `Err(Err(_))` when the
/// system failed.
pub async fn save(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    form: &SiteSettings,
) -> std::result::Result<(), std::result::Result<SettingErrors, AppError>> {
    actor.require(Action::ManageSettings, Target::Nothing).map_err(Err)?;
    let mut errors = SettingErrors::new();
    let mut values: Vec<(&str, String)> = Vec::new();
    match parse_workdays(tr, &form.workdays) {
        Ok(days) => values.push((WORKDAYS, days.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))),
        Err(e) => {
            errors.insert("workdays".into(), e);
        }
    }
    match parse_base_url(tr, &form.base_url) {
        Ok(url) => values.push((PUBLIC_BASE_URL, url)),
        Err(e) => {
            errors.insert("base_url".into(), vec![e]);
        }
    }
    // An empty zone is the default one.
    let zone = if form.time_zone.trim().is_empty() { Ok(crate::clock::DEFAULT_ZONE) } else { parse_zone(&form.time_zone) };
    match &zone {
        Ok(z) => values.push((ZONE_SETTING, z.name().to_string())),
        Err(_) => {
            errors.insert("time_zone".into(), vec![tr.f("settings.bad_zone", &[&form.time_zone.trim()])]);
        }
    }
    if !errors.is_empty() {
        return Err(Ok(errors));
    }
    store_values(app, actor, "site", &values).await.map_err(Err)?;
    if let Ok(z) = zone {
        app.clock.set_zone(z);
    }
    Ok(())
}

/// Reads the site's time zone into the clock (at start; a bad stored value keeps the
/// default, with a warning).
pub async fn load_zone(app: &App) -> Result<()> {
    if let Some(name) = app.store.setting(ZONE_SETTING).await? {
        match parse_zone(&name) {
            Ok(z) => app.clock.set_zone(z),
            Err(e) => tracing::warn!(setting = ZONE_SETTING, "{e}; using {}", crate::clock::DEFAULT_ZONE),
        }
    }
    Ok(())
}
