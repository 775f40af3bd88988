//! `/admin/settings`: the account security policy (lockout, session expiry), kept in
//! the settings table so every server shares it. Values are whole numbers within the
//! bounds of `config::POLICY_KEYS`; anything else is refused with the field named.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::done;
use crate::auth::Viewer;
use crate::config::POLICY_KEYS;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::render;
use crate::view::{Chrome, ListQuery};
use crate::AppState;

pub struct SettingRow {
    pub key: &'static str,
    pub label: String,
    pub value: String,
    pub min: i64,
    pub max: i64,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    rows: Vec<SettingRow>,
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
    Ok(render(SettingsPage { chrome, rows })?.into_response())
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
    if bad {
        let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/settings", "nav.settings", vec![], None).await;
        return Ok((axum::http::StatusCode::BAD_REQUEST, render(SettingsPage { chrome, rows })?).into_response());
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    for row in &rows {
        let before = state.store.set_setting(&mut tx, row.key, &row.value).await?;
        if before.as_deref() != Some(row.value.as_str()) {
            tx.audit("setting.set", "setting", row.key, before.map(|b| json!(b)), Some(json!(row.value))).await?;
        }
    }
    // Saving unchanged values still leaves a trace of who confirmed them.
    tx.audit("settings.save", "settings", "security", None, None).await?;
    tx.commit().await?;
    state.policy.invalidate().await;
    Ok(done("/admin/settings", "saved"))
}
