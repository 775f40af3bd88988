//! `/admin/settings`: the account security policy (lockout, session expiry), kept in
//! the settings table so every server shares it. Values are whole numbers within the
//! bounds of `config::POLICY_KEYS`; anything else is refused with the field named.
//!
//! The public-service settings are here too: `service.workdays`, the weekend days
//! that are working days (调休上班日) for the time limits of requests, one date per
//! line (a bad line is named by its number); and `service.public_base_url`, the
//! address citizens reach the site at, which the SMS to citizens link to (without
//! it they carry no link). The form is checked whole: one bad value saves nothing.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::done;
use crate::AppState;
use crate::auth::Viewer;
use crate::config::POLICY_KEYS;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::render;
use crate::view::{Chrome, ListQuery};

pub struct SettingRow {
    pub key: &'static str,
    pub label: String,
    pub value: String,
    pub min: i64,
    pub max: i64,
    pub error: Option<String>,
}

/// The working weekend days for service time limits.
pub const WORKDAYS: &str = "service.workdays";
/// The public address of the site, for links in SMS to citizens.
pub const PUBLIC_BASE_URL: &str = "service.public_base_url";

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    rows: Vec<SettingRow>,
    service: ServiceSettings,
}

/// The public-service part of the form.
#[derive(Default)]
pub struct ServiceSettings {
    /// One date per line.
    pub workdays: String,
    pub workdays_errors: Vec<String>,
    pub base_url: String,
    pub base_url_error: Option<String>,
}

impl ServiceSettings {
    async fn load(state: &AppState) -> Result<ServiceSettings, WebError> {
        let workdays = state.store.setting(WORKDAYS).await?.unwrap_or_default();
        let lines: Vec<&str> = workdays.split([',', ' ', '\n', '，']).map(str::trim).filter(|d| !d.is_empty()).collect();
        Ok(ServiceSettings {
            workdays: lines.join("\n"),
            base_url: state.store.setting(PUBLIC_BASE_URL).await?.unwrap_or_default(),
            ..ServiceSettings::default()
        })
    }
}

/// The working weekend days of the text (one date per line), sorted; or a message per
/// bad line.
pub fn parse_workdays(tr: &Tr, text: &str) -> Result<Vec<chrono::NaiveDate>, Vec<String>> {
    use chrono::Datelike;
    let mut days = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        match chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) if matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) => days.push(d),
            Ok(d) => errors.push(tr.f("settings.workday_weekday", &[&(i + 1), &d])),
            Err(_) => errors.push(tr.f("settings.bad_date", &[&(i + 1), &t])),
        }
    }
    days.sort();
    days.dedup();
    if errors.is_empty() { Ok(days) } else { Err(errors) }
}

/// The public base URL as stored (no trailing slash), or why it is not one.
pub fn parse_base_url(tr: &Tr, text: &str) -> Result<String, String> {
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

/// `GET /admin/settings`.
pub async fn page(State(state): State<AppState>, viewer: Viewer, lang: Lang, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
    let policy = crate::Policy::load(&state.store).await?;
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/settings", "nav.settings", vec![], q.flash.as_deref()).await;
    let rows = POLICY_KEYS
        .iter()
        .map(|&(key, min, max)| SettingRow {
            key,
            label: chrome.tr.t(key).to_string(),
            value: policy.get(key).unwrap_or_default().to_string(),
            min,
            max,
            error: None,
        })
        .collect();
    let service = ServiceSettings::load(&state).await?;
    Ok(render(SettingsPage { chrome, rows, service })?.into_response())
}

/// `POST /admin/settings`: all values checked first; any bad one saves nothing.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    axum::Form(input): axum::Form<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let mut rows = Vec::new();
    let mut bad = false;
    for &(key, min, max) in &POLICY_KEYS {
        let text = input.get(key).map(|s| s.trim().to_string()).unwrap_or_default();
        let error = match text.parse::<i64>() {
            Ok(v) if (min..=max).contains(&v) => None,
            _ => Some(tr.f("settings.out_of_range", &[&min, &max])),
        };
        bad |= error.is_some();
        rows.push(SettingRow { key, label: tr.t(key).to_string(), value: text, min, max, error });
    }
    let mut service = ServiceSettings {
        workdays: input.get("workdays").cloned().unwrap_or_default(),
        base_url: input.get("base_url").map(|s| s.trim().to_string()).unwrap_or_default(),
        ..ServiceSettings::default()
    };
    let workdays = parse_workdays(&tr, &service.workdays).map_err(|e| service.workdays_errors = e).ok();
    let base_url = parse_base_url(&tr, &service.base_url).map_err(|e| service.base_url_error = Some(e)).ok();
    let (Some(workdays), Some(base_url), false) = (workdays, base_url, bad) else {
        let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/settings", "nav.settings", vec![], None).await;
        return Ok((axum::http::StatusCode::BAD_REQUEST, render(SettingsPage { chrome, rows, service })?).into_response());
    };
    let workdays = workdays.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    let values = rows.iter().map(|r| (r.key, r.value.clone())).chain([(WORKDAYS, workdays), (PUBLIC_BASE_URL, base_url)]);
    let mut tx = state.store.begin(&viewer.actor).await?;
    for (key, value) in values {
        let before = state.store.set_setting(&mut tx, key, &value).await?;
        if before.as_deref().unwrap_or("") != value.as_str() {
            tx.audit("setting.set", "setting", key, before.map(|b| json!(b)), Some(json!(value))).await?;
        }
    }
    // Saving unchanged values still leaves a trace of who confirmed them.
    tx.audit("settings.save", "settings", "security", None, None).await?;
    tx.commit().await?;
    state.policy.invalidate().await;
    Ok(done("/admin/settings", "saved"))
}
