//! Who is asking: sessions (cookie `jx_session`), API tokens (`Authorization: Bearer`),
//! and the one permission check.
//!
//! The `identify` middleware runs on every request. It turns a session cookie or a
//! bearer token into a `Viewer` (the account, its grants, its session) and puts it,
//! with the interface language, into the request's extensions (and the response's, for
//! the error renderer outside it). It never refuses a
//! request by itself except for a bearer token that is wrong — whether a route needs
//! a viewer is the route table's business (`routes`).
//!
//! Secrets (cookie values, tokens) are 32 random bytes; the database stores only their
//! SHA-256, so a copy of it opens nothing. Sessions end after `Policy` idle and
//! absolute times; login creates a new session id (rotation), logout deletes it.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use chrono::{DateTime, Utc};
use jixiao_core::org::{Action, Grant, Role, Scope, Target, allows};
use jixiao_store::{Session, Store, User, timestamp};
use sha2::Digest;

use crate::error::WebError;
use crate::i18n::Lang;
use crate::{AppState, Policy};

pub const SESSION_COOKIE: &str = "jx_session";
pub const LANG_COOKIE: &str = "jx_lang";

/// Activity is written back to a session at most this often (seconds).
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The person or program behind a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The account; `None` for an API token created without one.
    pub user: Option<User>,
    /// The name written into audit entries: the username, or `api:<token name>`.
    pub actor: String,
    pub display_name: String,
    pub unit_id: Option<String>,
    pub grants: Vec<Grant>,
    /// The session, when signed in through the browser.
    pub session: Option<Session>,
    /// The token, when calling the API with one.
    pub token_id: Option<i64>,
}

impl Viewer {
    /// The permission check, for every route and every unit id a request names.
    pub fn require(&self, action: Action, target: Target<'_>) -> Result<(), WebError> {
        if self.can(action, target) { Ok(()) } else { Err(WebError::Forbidden) }
    }

    pub fn can(&self, action: Action, target: Target<'_>) -> bool {
        allows(&self.grants, action, target)
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user.as_ref().map(|u| u.id)
    }

    /// The CSRF token the session's forms carry (empty for API tokens, which need none).
    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
    }

    pub fn roles(&self) -> Vec<Role> {
        let mut roles: Vec<Role> = self.grants.iter().map(|g| g.role).collect();
        roles.sort();
        roles.dedup();
        roles
    }

    pub fn must_change_password(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.must_change_password)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Viewer, WebError> {
        parts.extensions.get::<Viewer>().cloned().ok_or(WebError::Unauthenticated)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Viewer>, Self::Rejection> {
        Ok(parts.extensions.get::<Viewer>().cloned())
    }
}

/// The interface language of the request, as an extractor.
impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or_default())
    }
}

/// 32 random bytes, URL-safe base64: session ids, CSRF tokens, API tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    // The operating system's generator failing is not something to carry on from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Grants as stored; a grant whose role or scope cannot be read is dropped (and
/// logged) rather than widened.
pub fn grants_of(rows: Vec<jixiao_store::RoleGrant>) -> Vec<Grant> {
    rows.into_iter()
        .filter_map(|g| match (g.role.parse::<Role>(), Scope::from_json(&g.scope)) {
            (Ok(role), Ok(scope)) => Some(Grant { role, scope }),
            (role, scope) => {
                tracing::warn!(role = g.role, ?role, ?scope, "ignoring an unreadable role grant");
                None
            }
        })
        .collect()
}

/// Middleware: finds the viewer and the language (see the module documentation).
pub(crate) async fn identify(State(state): State<AppState>, jar: CookieJar, mut request: Request, next: Next) -> Response {
    let viewer = match bearer(request.headers()) {
        Some(token) => match token_viewer(&state.store, token).await {
            Ok(Some(v)) => Some(v),
            Ok(None) => return axum::response::IntoResponse::into_response(WebError::Unauthenticated),
            Err(e) => return axum::response::IntoResponse::into_response(e),
        },
        None => match jar.get(SESSION_COOKIE) {
            Some(cookie) => match session_viewer(&state, cookie.value()).await {
                Ok(v) => v,
                Err(e) => return axum::response::IntoResponse::into_response(e),
            },
            None => None,
        },
    };
    let lang = viewer
        .as_ref()
        .and_then(|v| v.user.as_ref())
        .and_then(|u| Lang::from_tag(&u.language))
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::from_tag(c.value())))
        .or_else(|| request.headers().get(header::ACCEPT_LANGUAGE).and_then(|h| h.to_str().ok()).and_then(Lang::from_accept_language))
        .unwrap_or_default();
    request.extensions_mut().insert(lang);
    if let Some(v) = &viewer {
        request.extensions_mut().insert(v.clone());
    }
    let mut response = next.run(request).await;
    // For `render_errors`, which runs outside this layer.
    response.extensions_mut().insert(lang);
    if let Some(v) = viewer {
        response.extensions_mut().insert(v);
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn token_viewer(store: &Store, token: &str) -> Result<Option<Viewer>, WebError> {
    let Some(t) = store.token_by_hash(&secret_hash(token)).await? else { return Ok(None) };
    if t.revoked_at.is_some() {
        return Ok(None);
    }
    let Ok(role) = t.role.parse::<Role>() else { return Ok(None) };
    let scope = match &t.unit_id {
        Some(unit) => Scope::Units([unit.clone()].into()),
        None => role.default_scope(None),
    };
    let now = Utc::now();
    if t.last_used_at.as_deref().is_none_or(|at| seconds_since(at, now) >= TOUCH_EVERY_SECONDS) {
        store.touch_token(t.id, &timestamp(now)).await?;
    }
    let user = match t.user_id {
        Some(id) => Some(store.user(id).await?).filter(|u| !u.disabled),
        None => None,
    };
    if t.user_id.is_some() && user.is_none() {
        return Ok(None);
    }
    Ok(Some(Viewer {
        actor: format!("api:{}", t.name),
        display_name: t.name.clone(),
        unit_id: t.unit_id.clone(),
        user,
        grants: vec![Grant { role, scope }],
        session: None,
        token_id: Some(t.id),
    }))
}

fn seconds_since(at: &str, now: DateTime<Utc>) -> i64 {
    DateTime::parse_from_rfc3339(at).map_or(i64::MAX, |t| (now - t.with_timezone(&Utc)).num_seconds())
}

/// Whether a session is still valid at `now` under `policy`.
pub fn session_is_live(session: &Session, policy: &Policy, now: DateTime<Utc>) -> bool {
    let absolute_ok = DateTime::parse_from_rfc3339(&session.expires_at).is_ok_and(|t| t.with_timezone(&Utc) > now);
    absolute_ok && seconds_since(&session.last_seen_at, now) < policy.session_idle_minutes * 60
}

async fn session_viewer(state: &AppState, cookie: &str) -> Result<Option<Viewer>, WebError> {
    let id = secret_hash(cookie);
    let Some(session) = state.store.session(&id).await? else { return Ok(None) };
    let now = Utc::now();
    if !session_is_live(&session, &state.policy().await, now) {
        return Ok(None);
    }
    let user = state.store.user(session.user_id).await?;
    if user.disabled {
        return Ok(None);
    }
    if seconds_since(&session.last_seen_at, now) >= TOUCH_EVERY_SECONDS {
        state.store.touch_session(&id, &timestamp(now)).await?;
    }
    let grants = grants_of(state.store.roles(user.id).await?);
    Ok(Some(Viewer {
        actor: user.username.clone(),
        display_name: user.display_name.clone(),
        unit_id: user.unit_id.clone(),
        user: Some(user),
        grants,
        session: Some(session),
        token_id: None,
    }))
}

/// Whether cookies must be `Secure`: configured so, or the request came over TLS
/// through a proxy.
pub fn secure_cookies(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A cookie with the attributes every jixiao cookie has.
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value)).path("/").http_only(true).same_site(SameSite::Lax).secure(secure).build()
}

/// Starts a session for `user` in `tx` and returns the cookie value. The caller
/// audits and commits.
pub async fn start_session(store: &Store, tx: &mut jixiao_store::WriteTx, user: &User, policy: &Policy) -> Result<String, WebError> {
    let secret = random_secret();
    let expires = Utc::now() + chrono::Duration::hours(policy.session_absolute_hours);
    store.create_session(tx, &secret_hash(&secret), user.id, &random_secret(), &timestamp(expires)).await?;
    Ok(secret)
}
