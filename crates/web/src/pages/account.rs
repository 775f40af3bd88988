//! The signed-in user's own account: change password (with the policy of
//! `core::org::check_password`), interface language, log out everywhere.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use jixiao_app::accounts;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Language;
use crate::auth::{LANG_COOKIE, Viewer, cookie, secure_cookies};
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, FieldErrors, ListQuery};
use jixiao_app::{Lang, Tr};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    username: String,
    language: String,
    sessions: i64,
    must_change: bool,
    /// Why the password must change: the key of the message.
    must_change_why: &'static str,
    /// The policy beyond complexity: history and expiry.
    policy_more: String,
    /// (name, label key, autocomplete, error) of the password form's fields.
    fields: Vec<(&'static str, &'static str, &'static str, Option<String>)>,
}

async fn show(state: &AppState, viewer: &Viewer, lang: Lang, flash: Option<&str>, errors: FieldErrors) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/account", "account.title", vec![], flash).await;
    let (username, language, must_change) = match &viewer.user {
        Some(u) => (u.username.clone(), u.language.clone(), u.must_change_password),
        None => (viewer.name.clone(), lang.tag().to_string(), false),
    };
    let sessions = match viewer.user_id() {
        Some(id) => state.store.session_count(id).await?,
        None => 0,
    };
    let policy = state.policy().await;
    let expired = viewer.user.as_ref().is_some_and(|u| accounts::password_expired(u, &policy, state.clock.now()));
    let must_change_why = if expired { "identity.password_expired" } else { "account.must_change" };
    let policy_more = chrome.tr.f("identity.policy_more", &[&jixiao_core::org::PASSWORD_HISTORY, &policy.password_max_age_days]);
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    let fields = [
        ("current", "account.current_password", "current-password"),
        ("new", "account.new_password", "new-password"),
        ("repeat", "account.repeat_password", "new-password"),
    ]
    .into_iter()
    .map(|(name, label, auto)| (name, label, auto, errors.get(name).cloned()))
    .collect();
    Ok((status, render(AccountPage { chrome, username, language, sessions, must_change, must_change_why, policy_more, fields })?)
        .into_response())
}

/// `GET /account`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    show(&state, &viewer, lang, q.flash.as_deref(), FieldErrors::new()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /account/password`: needs the current password; ends the other sessions.
pub async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    match accounts::change_password(&state, &viewer, &tr, &form.current, &form.new, &form.repeat).await? {
        Ok(secret) => {
            let jar = CookieJar::new().add(cookie(crate::auth::SESSION_COOKIE, secret, secure_cookies(&state, &headers)));
            Ok((jar, Redirect::to("/account?flash=password_changed")).into_response())
        }
        Err(errors) => show(&state, &viewer, lang, None, errors).await,
    }
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    back: Option<String>,
}

/// `POST /language`: the interface language — the account's setting when signed in,
/// a cookie otherwise.
pub async fn language(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LanguageForm>,
) -> Result<Response, WebError> {
    let lang = Lang::from_tag(&form.lang).ok_or_else(|| WebError::invalid(format!("unknown language `{}`", form.lang)))?;
    if let Some(viewer) = &viewer {
        accounts::set_language(&state, viewer, lang).await?;
    }
    let back = crate::view::local_path(form.back.as_deref());
    let jar = jar.add(cookie(LANG_COOKIE, lang.tag().to_string(), secure_cookies(&state, &headers)));
    Ok((jar, Redirect::to(&back)).into_response())
}
