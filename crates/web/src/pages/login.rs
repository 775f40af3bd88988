//! Login and logout.
//!
//! Login: the per-address rate limit first, then the account lockout (`Policy`:
//! after N failures in a row the account is locked for M minutes, even for the right
//! password), then the password. The message for a wrong password and for an unknown
//! username is the same, and takes the same time. Success rotates the session (a new
//! id; any session the browser had is ended). Every outcome is audited.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::{self, SESSION_COOKIE, Viewer, cookie, random_secret, secret_hash, secure_cookies};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::render;
use crate::security::{CSRF_COOKIE, ClientIp};
use crate::view::Chrome;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    flash: Option<String>,
}

/// The anonymous CSRF token (double submit): the `jx_csrf` cookie, set if missing.
pub fn anonymous_csrf(state: &AppState, headers: &HeaderMap, jar: CookieJar) -> (CookieJar, String) {
    match jar.get(CSRF_COOKIE) {
        Some(c) if !c.value().is_empty() => {
            let token = c.value().to_string();
            (jar, token)
        }
        _ => {
            let token = random_secret();
            let jar = jar.add(cookie(CSRF_COOKIE, token.clone(), secure_cookies(state, headers)));
            (jar, token)
        }
    }
}

/// Only a path on this site, never `//elsewhere` or `https://…`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_string(),
        _ => "/".to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    headers: &HeaderMap,
    jar: CookieJar,
    lang: Lang,
    username: String,
    next: String,
    error: Option<String>,
    flash: Option<&str>,
) -> Result<Response, WebError> {
    let (jar, token) = anonymous_csrf(state, headers, jar);
    let chrome = Chrome::new(state, None, lang, "/login", "login.title", vec![], flash).await.with_csrf(token);
    // A refused login is the form again with its message, answered 200: a 401 would
    // be taken for "sign in first" by `render_errors`.
    Ok((jar, render(LoginPage { chrome, username, next, error })?).into_response())
}

/// `GET /login`.
pub async fn form(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if viewer.is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref())).into_response());
    }
    page(&state, &headers, jar, lang, String::new(), safe_next(q.next.as_deref()), None, q.flash.as_deref()).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /login`.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_string();
    let refuse = |message: String, jar: CookieJar| {
        let state = state.clone();
        let headers = headers.clone();
        let username = username.clone();
        let next = next.clone();
        async move { page(&state, &headers, jar, lang, username, next, Some(message), None).await }
    };
    if !state.limiter.attempt(ip) {
        return refuse(tr.t("login.rate_limited").to_string(), jar).await;
    }
    if username.is_empty() || form.password.is_empty() {
        return refuse(tr.t("login.missing").to_string(), jar).await;
    }
    let policy = state.policy().await;
    let now = Utc::now();
    let known = state.store.user_by_username(&username).await?;
    if let Some(user) = &known
        && let Some(until) = locked_until(user.locked_until.as_deref(), now)
    {
        let mut tx = state.store.begin(&username).await?;
        tx.audit("auth.login_refused", "user", &username, None, Some(json!({"reason": "locked"}))).await?;
        tx.commit().await?;
        let message = locked_message(&tr, until);
        return refuse(message, jar).await;
    }
    let verified = state.store.verify_password(&username, &form.password).await?;
    match (known, verified) {
        (Some(user), Some(_)) if !user.disabled => {
            let mut tx = state.store.begin(&username).await?;
            if let Some(old) = jar.get(SESSION_COOKIE) {
                state.store.delete_session(&mut tx, &secret_hash(old.value())).await?;
            }
            let secret = auth::start_session(&state.store, &mut tx, &user, &policy).await?;
            state.store.set_login_failures(&mut tx, user.id, 0, None).await?;
            tx.audit("auth.login", "user", &username, None, Some(json!({"ip": ip.to_string()}))).await?;
            tx.commit().await?;
            let jar = jar.add(cookie(SESSION_COOKIE, secret, secure_cookies(&state, &headers)));
            let target = if user.must_change_password { "/account?flash=must_change_password".to_string() } else { next };
            Ok((jar, Redirect::to(&target)).into_response())
        }
        (Some(user), Some(_)) => {
            let mut tx = state.store.begin(&username).await?;
            tx.audit("auth.login_refused", "user", &user.username, None, Some(json!({"reason": "disabled"}))).await?;
            tx.commit().await?;
            refuse(tr.t("login.disabled").to_string(), jar).await
        }
        (Some(user), None) => {
            let failures = user.failed_logins + 1;
            let lock = (failures >= policy.lockout_threshold)
                .then(|| jixiao_store::timestamp(now + chrono::Duration::minutes(policy.lockout_minutes)));
            let mut tx = state.store.begin(&username).await?;
            state.store.set_login_failures(&mut tx, user.id, if lock.is_some() { 0 } else { failures }, lock.as_deref()).await?;
            tx.audit(
                "auth.login_failed",
                "user",
                &user.username,
                None,
                Some(json!({"failures": failures, "locked_until": lock, "ip": ip.to_string()})),
            )
            .await?;
            tx.commit().await?;
            if lock.is_some() {
                let message = locked_message(&tr, now + chrono::Duration::minutes(policy.lockout_minutes));
                return refuse(message, jar).await;
            }
            refuse(tr.t("login.wrong").to_string(), jar).await
        }
        (None, _) => {
            let mut tx = state.store.begin("anonymous").await?;
            tx.audit("auth.login_failed", "user", &username, None, Some(json!({"reason": "unknown user"}))).await?;
            tx.commit().await?;
            refuse(tr.t("login.wrong").to_string(), jar).await
        }
    }
}

fn locked_message(tr: &Tr, until: chrono::DateTime<Utc>) -> String {
    let time = until.with_timezone(&chrono::Local).format("%H:%M").to_string();
    tr.f("login.locked", &[&time])
}

/// The end of a lockout still in force at `now`.
fn locked_until(locked_until: Option<&str>, now: chrono::DateTime<Utc>) -> Option<chrono::DateTime<Utc>> {
    let until = chrono::DateTime::parse_from_rfc3339(locked_until?).ok()?.with_timezone(&Utc);
    (until > now).then_some(until)
}

/// `POST /logout`: ends this session.
pub async fn logout(State(state): State<AppState>, viewer: Viewer, jar: CookieJar) -> Result<Response, WebError> {
    let mut tx = state.store.begin(&viewer.actor).await?;
    if let Some(session) = &viewer.session {
        state.store.delete_session(&mut tx, &session.id).await?;
    }
    tx.audit("auth.logout", "user", &viewer.actor, None, None).await?;
    tx.commit().await?;
    Ok((jar.remove(SESSION_COOKIE), Redirect::to("/login?flash=logged_out")).into_response())
}

/// `POST /logout-all`: ends every session of the account, this one included.
pub async fn logout_everywhere(State(state): State<AppState>, viewer: Viewer, jar: CookieJar) -> Result<Response, WebError> {
    let user_id = viewer.user_id().ok_or(WebError::Forbidden)?;
    let mut tx = state.store.begin(&viewer.actor).await?;
    let n = state.store.delete_user_sessions(&mut tx, user_id).await?;
    tx.audit("auth.logout_all", "user", &viewer.actor, None, Some(json!({"sessions": n}))).await?;
    tx.commit().await?;
    Ok((jar.remove(SESSION_COOKIE), Redirect::to("/login?flash=logged_out_everywhere")).into_response())
}
