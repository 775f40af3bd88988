//! Request and response security that applies to every route: response headers,
//! the CSRF check of state-changing requests, and rate limiting of logins.
//!
//! CSRF: every POST/PUT/PATCH/DELETE made with a browser session must carry the
//! session's token — as the `_csrf` field of a form, or the `X-CSRF-Token` header —
//! and, when the browser says where it comes from (`Origin`), come from this origin:
//! the same scheme, host and port as the request's own. The request's scheme is
//! `http` (jixiao serves plain HTTP) unless a configured trusted proxy
//! (`trusted_proxies`) says otherwise with `X-Forwarded-Proto`; the client's address
//! is likewise the connection's, or the proxy's `X-Forwarded-For` (`Client`).
//! Forms shown before login (the login page) use the `jx_csrf` cookie's value
//! instead (double submit). Requests with an API token carry no cookie and need no
//! CSRF token; neither do Open311 calls (`/open311/`), which act only as their
//! `api_key`. The check runs in one middleware for all routes, so no handler can
//! forget it.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::AppState;
use crate::auth::Viewer;
use crate::config::Network;
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

/// `host[:port]` as (host in lower case, port), the port defaulting to the scheme's.
fn host_port(authority: &str, scheme: &str) -> Option<(String, u16)> {
    let default = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = authority.trim();
    if authority.is_empty() || authority.contains(['/', '@', '?', '#', ' ']) {
        return None;
    }
    // `[::1]:8080`, `[::1]`, `host:8080`, `host`.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok()?,
        None => default,
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Whether `Origin` (when sent) is the request's own origin: scheme, host and port.
/// `Origin: null` (a sandboxed or privacy-sensitive context) is never this site.
pub(crate) fn same_origin(origin: Option<&str>, host: Option<&str>, scheme: &str) -> bool {
    let Some(origin) = origin else { return true };
    let Some(host) = host else { return false };
    let Some((origin_scheme, authority)) = origin.trim().split_once("://") else { return false };
    let origin_scheme = origin_scheme.to_ascii_lowercase();
    if origin_scheme != scheme {
        return false;
    }
    match (host_port(authority, &origin_scheme), host_port(host, scheme)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Whether the request's `Origin` (if any) is its own origin (`same_origin`).
fn origin_allowed(request: &Request) -> bool {
    let scheme = request.extensions().get::<Client>().map_or("http", |c| c.scheme);
    let header = |name: header::HeaderName| request.headers().get(name).and_then(|v| v.to_str().ok());
    same_origin(header(header::ORIGIN), header(header::HOST), scheme)
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
    if !origin_allowed(&request) {
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

/// Attempts per key (a client address, a phone number) per minute or hour — logins,
/// public queries and forms, Open311 reads. Per process: the account lockout and the
/// daily SMS cap, which are in the database, are what holds across processes.
pub(crate) struct Limiter<K: std::hash::Hash + Eq + Clone = IpAddr> {
    limiter: DefaultKeyedRateLimiter<K>,
    /// The number allowed per period, for messages.
    pub allowed: u32,
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    /// `n` attempts a minute, all of them at once if need be.
    pub fn new(per_minute: u32) -> Limiter<K> {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Limiter { limiter: RateLimiter::keyed(Quota::per_minute(n)), allowed: n.get() }
    }

    /// `n` attempts an hour, all of them at once if need be.
    pub fn per_hour(per_hour: u32) -> Limiter<K> {
        let n = NonZeroU32::new(per_hour.max(1)).unwrap_or(NonZeroU32::MIN);
        Limiter { limiter: RateLimiter::keyed(Quota::per_hour(n)), allowed: n.get() }
    }

    /// Counts one attempt; whether it is allowed.
    pub fn attempt(&self, key: K) -> bool {
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&key).is_ok()
    }
}

/// Who is at the other end: the client's address and the scheme it used, as the
/// `client` middleware found them for every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub ip: IpAddr,
    /// `http` or `https`.
    pub scheme: &'static str,
}

/// The client of a request that came from `peer`: a trusted proxy's forwarded address
/// (the right-most one of `X-Forwarded-For` that is no trusted proxy itself) and
/// scheme (`X-Forwarded-Proto`); anyone else's headers are ignored.
pub(crate) fn client_of(trusted: &[Network], peer: IpAddr, headers: &HeaderMap) -> Client {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return Client { ip: peer, scheme: "http" };
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    let ip = forwarded.iter().rev().copied().find(|ip| !is_trusted(*ip)).or_else(|| forwarded.first().copied()).unwrap_or(peer);
    let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(str::trim);
    let scheme = if proto.is_some_and(|p| p.eq_ignore_ascii_case("https")) { "https" } else { "http" };
    Client { ip, scheme }
}

/// Middleware: finds the `Client` of the request (see `client_of`) for everything inside.
pub(crate) async fn client(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // Loopback when the server was started without connection info (some tests).
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let client = client_of(&state.config.trusted_proxies, peer, request.headers());
    request.extensions_mut().insert(client);
    let mut response = next.run(request).await;
    // Served over TLS (a trusted proxy says so, or the site is configured for it):
    // browsers are told to use nothing else for a year (HSTS).
    if client.scheme == "https" || state.config.secure_cookies {
        response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}

/// `Strict-Transport-Security` over TLS: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Middleware: records refusals as security events (`app::audit::security_event`):
/// a 403 of the access rule or of a use case (`security.forbidden`), a CSRF or origin
/// refusal (`security.csrf`), and any 429 of a rate limit (`security.rate_limited`),
/// with who, the client's address and the path. Runs inside `identify` and `client`,
/// so it sees both; bounded by the app's event gate.
pub(crate) async fn events(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = request.extensions().get::<Client>().map(|c| c.ip);
    let actor = request.extensions().get::<Viewer>().map(|v| v.name.clone());
    let path = request.uri().path().to_string();
    let method = request.method().to_string();
    let response = next.run(request).await;
    let code = response.extensions().get::<crate::error::ErrorInfo>().map(|i| i.code);
    let action = match (response.status().as_u16(), code) {
        (403, Some("password_change_required")) => None,
        (403, Some("csrf")) => Some("security.csrf"),
        (403, _) => Some("security.forbidden"),
        (429, _) => Some("security.rate_limited"),
        _ => None,
    };
    if let Some(action) = action {
        let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
        let event = jixiao_app::audit::SecurityEvent {
            action,
            actor: actor.as_deref().unwrap_or("anonymous"),
            ip: &ip,
            object: &path,
            result: "refused",
            detail: serde_json::json!({"method": method}),
        };
        // Already logged when it fails; the refusal is answered either way.
        let _ = jixiao_app::audit::security_event(&state, event).await;
    }
    response
}

/// The client's address (see `Client`), as an extractor.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<ClientIp, Self::Rejection> {
        let ip = match parts.extensions.get::<Client>() {
            Some(c) => c.ip,
            None => parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip()),
        };
        Ok(ClientIp(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_must_match_scheme_host_and_port() {
        let same = |o: &str, h: &str, s: &str| same_origin(Some(o), Some(h), s);
        assert!(same("http://jx.example", "jx.example", "http"));
        assert!(same("http://JX.example:80", "jx.example", "http"), "the default port, any case");
        assert!(same("https://jx.example", "jx.example:443", "https"));
        assert!(!same("https://jx.example", "jx.example", "http"), "the scheme counts");
        assert!(!same("http://jx.example", "jx.example", "https"));
        assert!(!same("http://jx.example:8080", "jx.example", "http"), "the port counts");
        assert!(!same("http://evil.example", "jx.example", "http"));
        assert!(!same("http://jx.example.evil", "jx.example", "http"));
        assert!(!same("null", "jx.example", "http"));
        assert!(same("http://[::1]:8080", "[::1]:8080", "http"));
        assert!(!same("http://[::1]:8081", "[::1]:8080", "http"));
        assert!(!same("http://user@jx.example", "jx.example", "http"));
        assert!(same_origin(None, Some("jx.example"), "http"), "no Origin: the token decides");
        assert!(!same_origin(Some("http://jx.example"), None, "http"));
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9, 198.51.100.7, 10.0.0.2"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let none = client_of(&[], proxy, &headers);
        assert_eq!(none, Client { ip: proxy, scheme: "http" }, "no trusted proxy: the headers are ignored");
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_of(&trusted, proxy, &headers), Client { ip: "198.51.100.7".parse().unwrap(), scheme: "https" });
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_of(&trusted, stranger, &headers), Client { ip: stranger, scheme: "http" });
    }
}
