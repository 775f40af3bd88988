//! The signed-in user's own account: change password (with the policy of
//! `core::org::check_password`), interface language, log out everywhere.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use jixiao_core::org::check_password;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::{LANG_COOKIE, Viewer, cookie, secure_cookies};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::render;
use crate::view::{Chrome, FieldErrors, ListQuery};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    username: String,
    language: String,
    sessions: i64,
    must_change: bool,
    /// (name, label key, autocomplete, error) of the password form's fields.
    fields: Vec<(&'static str, &'static str, &'static str, Option<String>)>,
}

async fn show(state: &AppState, viewer: &Viewer, lang: Lang, flash: Option<&str>, errors: FieldErrors) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/account", "account.title", vec![], flash).await;
    let (username, language, must_change) = match &viewer.user {
        Some(u) => (u.username.clone(), u.language.clone(), u.must_change_password),
        None => (viewer.actor.clone(), lang.tag().to_string(), false),
    };
    let sessions = match viewer.user_id() {
        Some(id) => state.store.session_count(id).await?,
        None => 0,
    };
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    let fields = [
        ("current", "account.current_password", "current-password"),
        ("new", "account.new_password", "new-password"),
        ("repeat", "account.repeat_password", "new-password"),
    ]
    .into_iter()
    .map(|(name, label, auto)| (name, label, auto, errors.get(name).cloned()))
    .collect();
    Ok((status, render(AccountPage { chrome, username, language, sessions, must_change, fields })?).into_response())
}

/// `GET /account`.
pub async fn page(State(state): State<AppState>, viewer: Viewer, lang: Lang, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
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
    lang: Lang,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let user = viewer.user.clone().ok_or(WebError::Forbidden)?;
    let mut errors = FieldErrors::new();
    if state.store.verify_password(&user.username, &form.current).await?.is_none() {
        errors.insert("current".into(), tr.t("account.wrong_current").into());
    }
    if let Err(problem) = check_password(&user.username, &form.new) {
        errors.insert("new".into(), tr.t(problem.key()).into());
    } else if form.new == form.current {
        errors.insert("new".into(), tr.t("account.same_password").into());
    }
    if form.new != form.repeat {
        errors.insert("repeat".into(), tr.t("account.repeat_differs").into());
    }
    if !errors.is_empty() {
        return show(&state, &viewer, lang, None, errors).await;
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    state.store.set_password(&mut tx, user.id, &form.new, false).await?;
    // Other sessions end; this one stays so the user is not thrown out.
    let mut ended = state.store.delete_user_sessions(&mut tx, user.id).await?;
    let policy = state.policy().await;
    let secret = crate::auth::start_session(&state.store, &mut tx, &user, &policy).await?;
    ended = ended.saturating_sub(1);
    tx.audit("user.password_change", "user", &user.username, None, Some(json!({"other_sessions_ended": ended}))).await?;
    tx.commit().await?;
    let jar = CookieJar::new().add(cookie(crate::auth::SESSION_COOKIE, secret, secure_cookies(&state, &headers)));
    Ok((jar, Redirect::to("/account?flash=password_changed")).into_response())
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
    if let Some(user) = viewer.as_ref().and_then(|v| v.user.as_ref())
        && user.language != lang.tag()
    {
        let mut tx = state.store.begin(&user.username).await?;
        state.store.set_language(&mut tx, user.id, lang.tag()).await?;
        tx.audit("user.language", "user", &user.username, Some(json!(user.language)), Some(json!(lang.tag()))).await?;
        tx.commit().await?;
    }
    let back = match form.back.as_deref() {
        Some(b) if b.starts_with('/') && !b.starts_with("//") => b.to_string(),
        _ => "/".to_string(),
    };
    let jar = jar.add(cookie(LANG_COOKIE, lang.tag().to_string(), secure_cookies(&state, &headers)));
    Ok((jar, Redirect::to(&back)).into_response())
}
