//! Login and logout.
//!
//! Login: the per-address rate limit first (here, at the edge), then the app's
//! `accounts::login` — the account lockout (after N failures in a row the account is
//! locked for M minutes, even for the right password), then the password. The message
//! for a wrong password and for an unknown username is the same. Success rotates the
//! session (a new id; any session the browser had is ended). Every outcome is audited.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use jixiao_app::accounts::{self, Login, Refusal, random_secret};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Language;
use crate::auth::{SESSION_COOKIE, Viewer, cookie, secure_cookies};
use crate::error::WebError;
use crate::pages::render;
use crate::security::{CSRF_COOKIE, ClientIp};
use crate::view::Chrome;
use jixiao_app::{Lang, Tr};

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
    Language(lang): Language,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    if viewer.is_some() {
        return Ok(Redirect::to(&crate::view::local_path(q.next.as_deref())).into_response());
    }
    page(&state, &headers, jar, lang, String::new(), crate::view::local_path(q.next.as_deref()), None, q.flash.as_deref()).await
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
    Language(lang): Language,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let next = crate::view::local_path(form.next.as_deref());
    let username = form.username.trim().to_string();
    let refuse = |message: String, jar: CookieJar| {
        let state = state.clone();
        let headers = headers.clone();
        let username = username.clone();
        let next = next.clone();
        async move { page(&state, &headers, jar, lang, username, next, Some(message), None).await }
    };
    if !state.limiter.attempt(ip) {
        let event = jixiao_app::audit::SecurityEvent {
            action: "security.rate_limited",
            actor: "anonymous",
            ip: &ip.to_string(),
            object: "/login",
            result: "refused",
            detail: serde_json::json!({"name": jixiao_app::audit::cut_name(&username)}),
        };
        jixiao_app::audit::security_event(&state, event).await?;
        return refuse(tr.t("login.rate_limited").to_string(), jar).await;
    }
    let replacing = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    match accounts::login(&state, &username, &form.password, &ip.to_string(), replacing.as_deref()).await? {
        Login::Started { secret, user } => {
            let jar = jar.add(cookie(SESSION_COOKIE, secret, secure_cookies(&state, &headers)));
            let expired = accounts::password_expired(&user, &state.policy().await, state.clock.now());
            let target = if user.must_change_password || expired { "/account?flash=must_change_password".to_string() } else { next };
            Ok((jar, Redirect::to(&target)).into_response())
        }
        Login::Refused(Refusal::Missing) => refuse(tr.t("login.missing").to_string(), jar).await,
        Login::Refused(Refusal::Locked { until }) => {
            let message = tr.f("login.locked", &[&state.clock.local(until).format("%H:%M")]);
            refuse(message, jar).await
        }
        Login::Refused(Refusal::Disabled) => refuse(tr.t("login.disabled").to_string(), jar).await,
        Login::Refused(Refusal::Wrong) => refuse(tr.t("login.wrong").to_string(), jar).await,
    }
}

/// `POST /logout`: ends this session.
pub async fn logout(State(state): State<AppState>, viewer: Viewer, jar: CookieJar) -> Result<Response, WebError> {
    accounts::logout(&state, &viewer, viewer.session.as_ref().map(|s| s.id.as_str())).await?;
    Ok((jar.remove(SESSION_COOKIE), Redirect::to("/login?flash=logged_out")).into_response())
}

/// `POST /logout-all`: ends every session of the account, this one included.
pub async fn logout_everywhere(State(state): State<AppState>, viewer: Viewer, jar: CookieJar) -> Result<Response, WebError> {
    accounts::logout_everywhere(&state, &viewer).await?;
    Ok((jar.remove(SESSION_COOKIE), Redirect::to("/login?flash=logged_out_everywhere")).into_response())
}
