//! Request and response security that applies to every route: response headers,
//! the CSRF check of state-changing requests, and rate limiting of logins.
//!
//! CSRF: every POST/PUT/PATCH/DELETE made with a browser session must carry the
//! session's token — as the `_csrf` field of a form, or the `X-CSRF-Token` header —
//! and, when the browser says where it comes from (`Origin`), come from this host.
//! Forms shown before login (the login page) use the `jx_csrf` cookie's value
//! instead (double submit). Requests with an API token carry no cookie and need no
//! CSRF token; neither do Open311 calls (`/open311/`), which act only as their
//! `api_key`. The check runs in one middleware for all routes, so no handler can
//! forget it.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::Viewer;
use crate::error::WebError;

pub const CSRF_COOKIE: &str = "jx_csrf";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Content-Security-Policy: nothing from elsewhere, no inline scripts or styles, no
/// framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Middleware: security headers on every response.
pub(crate) async fn headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !is_asset && !h.contains_key(header::CACHE_CONTROL) {
        // Pages show personal data: never keep them in shared or back-button caches.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Constant-time comparison of two tokens.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `Origin` (when sent) names the host the request was sent to.
fn same_origin(request: &Request) -> bool {
    let Some(origin) = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return true };
    let Some(host) = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    origin_host.eq_ignore_ascii_case(host)
}

/// Middleware: the CSRF check (see the module documentation).
pub(crate) async fn csrf(jar: CookieJar, request: Request, next: Next) -> Result<Response, WebError> {
    // Open311 is authenticated by its `api_key` alone, never by a cookie (see `open311`).
    if !is_unsafe(request.method()) || request.uri().path().starts_with("/open311/") {
        return Ok(next.run(request).await);
    }
    let viewer = request.extensions().get::<Viewer>();
    if viewer.is_some_and(|v| v.token_id.is_some()) {
        return Ok(next.run(request).await);
    }
    if !same_origin(&request) {
        return Err(WebError::Csrf);
    }
    let expected = match viewer.and_then(|v| v.session.as_ref()) {
        Some(session) => session.csrf_token.clone(),
        None => jar.get(CSRF_COOKIE).map(|c| c.value().to_string()).ok_or(WebError::Csrf)?,
    };
    if expected.is_empty() {
        return Err(WebError::Csrf);
    }
    let from_header = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (request, provided) = match from_header {
        Some(token) => (request, Some(token)),
        None => form_token(request).await?,
    };
    match provided {
        Some(token) if same_token(&token, &expected) => Ok(next.run(request).await),
        _ => Err(WebError::Csrf),
    }
}

/// The `_csrf` field of a URL-encoded form body, or of the query string for other
/// bodies (file uploads). The body is read and put back for the handler.
async fn form_token(request: Request) -> Result<(Request, Option<String>), WebError> {
    let from_query = request
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v));
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, from_query));
    }
    let (parts, body) = request.into_parts();
    // The body limit layer has already bounded the body's size.
    let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(|_| WebError::TooLarge)?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v));
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// Attempts per client address per minute (logins, public queries; per process — the
/// account lockout, which is in the database, is what holds across processes).
pub(crate) struct Limiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl Limiter {
    pub fn new(per_minute: u32) -> Limiter {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        Limiter { limiter: RateLimiter::keyed(quota) }
    }

    /// Counts one attempt; whether it is allowed.
    pub fn attempt(&self, ip: IpAddr) -> bool {
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).is_ok()
    }
}

/// The client's address as seen by this server (loopback when the server was started
/// without connection info, as in some tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        Ok(ClientIp(ip))
    }
}
