//! `/admin/settings`: what the system administrator sets for the whole site, kept in
//! the settings table so every server shares it (`app::settings`): the working
//! weekend days (调休上班日) for the time limits of service requests, the public
//! address SMS to citizens link to, and the site's time zone; and `/admin/security`:
//! the account security policy (lockout, sessions, passwords), the security
//! administrator's (三权分立). Each form is checked whole: one bad value saves
//! nothing, and each problem is shown beside its field.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_app::Lang;
use jixiao_app::settings::{self, POLICY_KEYS, SettingErrors, SiteSettings};

use super::done;
use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
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

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    form: SiteSettings,
    errors: SettingErrors,
}

#[derive(Template)]
#[template(path = "admin/security.html")]
struct SecurityPage {
    chrome: Chrome,
    rows: Vec<SettingRow>,
}

async fn show(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    form: SiteSettings,
    errors: SettingErrors,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/admin/settings", "nav.settings", vec![], flash).await;
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(SettingsPage { chrome, form, errors })?).into_response())
}

/// `GET /admin/settings`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let form = SiteSettings::load(&state).await?;
    show(&state, &viewer, lang, q.flash.as_deref(), form, SettingErrors::new()).await
}

/// `POST /admin/settings`: all values checked first; any bad one saves nothing.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(input): axum::Form<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let field = |k: &str| input.get(k).cloned().unwrap_or_default();
    let form = SiteSettings { workdays: field("workdays"), base_url: field("base_url"), time_zone: field("time_zone") };
    match settings::save(&state, &viewer, &jixiao_app::Tr::new(lang), &form).await {
        Ok(()) => Ok(done("/admin/settings", "saved")),
        Err(Ok(errors)) => show(&state, &viewer, lang, None, form, errors).await,
        Err(Err(e)) => Err(e.into()),
    }
}

async fn show_policy(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    form: &[(&'static str, String)],
    errors: SettingErrors,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/admin/security", "identity.security_policy", vec![], flash).await;
    let rows = POLICY_KEYS
        .iter()
        .map(|&(key, min, max)| SettingRow {
            key,
            label: chrome.tr.t(key).to_string(),
            value: form.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap_or_default(),
            min,
            max,
            error: errors.get(key).map(|e| e.join(" ")),
        })
        .collect();
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(SecurityPage { chrome, rows })?).into_response())
}

/// `GET /admin/security`.
pub async fn security_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let form = settings::policy_form(&state).await?;
    show_policy(&state, &viewer, lang, q.flash.as_deref(), &form, SettingErrors::new()).await
}

/// `POST /admin/security`: every value within its compliant range, or nothing saved.
pub async fn security_save(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(input): axum::Form<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let form: Vec<(&'static str, String)> = POLICY_KEYS.iter().map(|&(k, ..)| (k, input.get(k).cloned().unwrap_or_default())).collect();
    match settings::save_policy(&state, &viewer, &jixiao_app::Tr::new(lang), &form).await {
        Ok(()) => Ok(done("/admin/security", "saved")),
        Err(Ok(errors)) => show_policy(&state, &viewer, lang, None, &form, errors).await,
        Err(Err(e)) => Err(e.into()),
    }
}
