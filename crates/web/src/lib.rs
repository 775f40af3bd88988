//! jixiao-web: jixiao over HTTP — pages, the JSON API (`/api/v1`), Open311
//! (`/open311/v2`), health and assets. HTTP only: every use case is in `jixiao-app`,
//! which the handlers call with the `Actor` behind the request.
//!
//! The modules, outside in:
//! - `access` — the route table: every route's method, path and access rule, a static
//!   list read by the router, the menu and the permission-matrix test; `router` binds
//!   each route to its handler and puts the layers around them;
//! - `security` — response headers (CSP, frame-ancestors…), the CSRF check, rate limits;
//! - `edge` — the one check of every text that arrives (control characters, lengths);
//! - `auth` — who is asking (`Viewer`: the app's `Actor` and the browser session,
//!   from a session cookie or an API token), and the interface language;
//! - `error` — `WebError` and the mapping of `AppError` to HTTP, in one place;
//!   `errors` renders every error response: a friendly page, or the API's JSON error;
//! - `view` — what every page shares: the frame (header, menu, breadcrumbs, flash),
//!   sorting and pagination of tables; `charts` — SVG charts drawn on the server;
//! - `pages/…` — HTML pages, one module per area; `api/…` — the JSON API and its
//!   OpenAPI document; `open311` — GeoReport v2 in JSON and XML; `assets` — CSS, JS
//!   and icons compiled into the binary.
//!
//! Pages are askama templates (checked at compile time, escaped by default), rendered
//! on the server and usable without JavaScript.

#![forbid(unsafe_code)]

mod access;
mod api;
mod assets;
mod auth;
mod charts;
mod config;
mod edge;
mod error;
mod errors;
pub mod open311;
mod pages;
mod router;
mod security;
mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use jixiao_app::App;

pub use access::{Access, ROUTES, RouteInfo};
pub use config::WebConfig;
pub use error::WebError;

/// What every handler can reach: the application, and what serving HTTP needs besides.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub config: Arc<WebConfig>,
    limiter: Arc<security::Limiter>,
    /// Attempts on the public query page, per client address.
    query_limiter: Arc<security::Limiter>,
    /// Requests filed on the public form, per client address and per phone number.
    service_limiter: Arc<security::Limiter>,
    phone_limiter: Arc<security::Limiter<String>>,
    /// CAPTCHA pictures drawn (public forms shown), per client address.
    captcha_limiter: Arc<security::Limiter>,
    /// Open311 reads, per client address.
    open311_limiter: Arc<security::Limiter>,
    /// Pages rendered once and kept (published bulletins).
    pub(crate) rendered: Arc<view::Rendered>,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl AppState {
    pub fn new(app: App, config: WebConfig) -> AppState {
        AppState {
            limiter: Arc::new(security::Limiter::new(config.login_attempts_per_minute)),
            query_limiter: Arc::new(security::Limiter::new(config.query_attempts_per_minute)),
            service_limiter: Arc::new(security::Limiter::per_hour(config.service_requests_per_hour)),
            phone_limiter: Arc::new(security::Limiter::per_hour(config.service_requests_per_phone_per_hour)),
            captcha_limiter: Arc::new(security::Limiter::new(config.captchas_per_minute)),
            open311_limiter: Arc::new(security::Limiter::new(config.open311_reads_per_minute)),
            app,
            config: Arc::new(config),
            rendered: Arc::default(),
        }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    router::build(state)
}

/// Serves the application on `bind` until the process is asked to stop (Ctrl-C or
/// SIGTERM), finishing requests in flight. The background jobs are the caller's.
pub async fn serve(app: App, config: WebConfig, bind: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("jixiao listening on http://{}", listener.local_addr()?);
    let app = router(AppState::new(app, config));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Starts the application on `bind` in the background (tests bind port 0) and
/// returns the address it listens on.
pub async fn spawn(app: App, config: WebConfig, bind: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let app = router(AppState::new(app, config));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    Ok(addr)
}
