//! Who is asking: the app's `Actor`, found from a session cookie (`jx_session`) or an
//! API token (`Authorization: Bearer`), and the interface language.
//!
//! The `identify` middleware runs on every request. It asks the app
//! (`accounts::session_actor`, `accounts::token_actor`) who the cookie or token
//! stands for, and puts the `Viewer` — that actor and, for a browser, its session —
//! with the language into the request's extensions (and the response's, for the error
//! renderer outside it). It never refuses a request by itself except for a bearer
//! token that is wrong — whether a route needs a viewer is the route table's business
//! (`access`).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use jixiao_app::{Actor, Lang, accounts};
use jixiao_store::Session;

use crate::AppState;
use crate::error::WebError;

pub const SESSION_COOKIE: &str = "jx_session";
pub const LANG_COOKIE: &str = "jx_lang";

/// The person or program behind a request: the actor, and the browser session when
/// signed in through the browser.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub actor: Actor,
    pub session: Option<Session>,
}

impl std::ops::Deref for Viewer {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.actor
    }
}

impl Viewer {
    /// The CSRF token the session's forms carry (empty for API tokens, which need none).
    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
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

/// The interface language of the request, as an extractor: handlers take
/// `Language(lang): Language`.
#[derive(Debug, Clone, Copy)]
pub struct Language(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for Language {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Language, Self::Rejection> {
        Ok(Language(parts.extensions.get::<Lang>().copied().unwrap_or_default()))
    }
}

/// Middleware: finds the viewer and the language (see the module documentation).
pub(crate) async fn identify(State(state): State<AppState>, jar: CookieJar, mut request: Request, next: Next) -> Response {
    let viewer = match bearer(request.headers()) {
        Some(token) => match accounts::token_actor(&state, token).await {
            Ok(Some(actor)) => Some(Viewer { actor, session: None }),
            Ok(None) => return WebError::Unauthenticated.into_response(),
            Err(e) => return WebError::from(e).into_response(),
        },
        None => match jar.get(SESSION_COOKIE) {
            Some(cookie) => match accounts::session_actor(&state, cookie.value()).await {
                Ok(found) => found.map(|(actor, session)| Viewer { actor, session: Some(session) }),
                Err(e) => return WebError::from(e).into_response(),
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
