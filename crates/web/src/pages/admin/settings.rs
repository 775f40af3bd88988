//! `/admin/settings`: what the administrator sets for the whole site, kept in the
//! settings table so every server shares it (`app::settings`): the account security
//! policy (lockout, session expiry), the working weekend days (调休上班日) for the time
//! limits of service requests, the public address SMS to citizens link to, and the
//! site's time zone. The form is checked whole: one bad value saves nothing, and each
//! problem is shown beside its field.

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
    rows: Vec<SettingRow>,
    form: SiteSettings,
    errors: SettingErrors,
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
    let rows = POLICY_KEYS
        .iter()
        .map(|&(key, min, max)| SettingRow {
            key,
            label: chrome.tr.t(key).to_string(),
            value: form.policy.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap_or_default(),
            min,
            max,
            error: errors.get(key).map(|e| e.join(" ")),
        })
        .collect();
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(SettingsPage { chrome, rows, form, errors })?).into_response())
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
    let form = SiteSettings {
        policy: POLICY_KEYS.iter().map(|&(k, ..)| (k, field(k))).collect(),
        workdays: field("workdays"),
        base_url: field("base_url"),
        time_zone: field("time_zone"),
    };
    match settings::save(&state, &viewer, &jixiao_app::Tr::new(lang), &form).await {
        Ok(()) => Ok(done("/admin/settings", "saved")),
        Err(Ok(errors)) => show(&state, &viewer, lang, None, form, errors).await,
        Err(Err(e)) => Err(e.into()),
    }
}
