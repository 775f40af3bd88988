//! jixiao-web: jixiao over HTTP — pages, the JSON API (`/api/v1`), health, assets.
//!
//! The modules, outside in:
//! - `routes` — the route table: every route with the access it needs, from which the
//!   router is built (so no route exists without an access rule, and the permission
//!   matrix test can enumerate them all);
//! - `security` — response headers (CSP, frame-ancestors…), the CSRF check, login rate
//!   limiting;
//! - `auth` — who is asking (`Viewer`, from a session cookie or an API token), login,
//!   logout, sessions, the one permission check (`Viewer::require`);
//! - `error` — `WebError`, the one error type, rendered as a friendly page or as the
//!   API's JSON error in one place;
//! - `i18n` — the message catalogues (Simplified Chinese default, English);
//! - `collection` — applying reporting-workflow steps to entries, for the form and
//!   the API alike;
//! - `view` — what every page shares: the frame (header, menu, breadcrumbs, flash),
//!   sorting and pagination of tables;
//! - `workbook` — the monthly form as an .xlsx template and its upload;
//!   `scheme_workbook` — a scheme as an .xlsx, both ways; `month_workbook` — a whole
//!   month of all units as an .xlsx, both ways (also used by `jixiao bench import`);
//! - `pages/…` — HTML pages, one module per area; `api/…` — the JSON API and its
//!   OpenAPI document; `assets` — CSS, JS and icons compiled into the binary.
//!
//! Pages are askama templates (checked at compile time, escaped by default), rendered
//! on the server and usable without JavaScript.

#![forbid(unsafe_code)]

mod analysis;
mod api;
mod assets;
mod auth;
mod bulletin_workbook;
mod charts;
mod collection;
mod config;
mod error;
mod evidence;
mod i18n;
pub mod month_workbook;
pub mod open311;
mod pages;
pub mod reminders;
mod routes;
pub mod scheme_workbook;
mod security;
pub mod service;
pub mod sheet;
mod view;
mod workbook;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use jixiao_core::scheme::Scheme;
use jixiao_store::Store;

pub use auth::secret_hash;
pub use config::{Policy, WebConfig};
pub use error::WebError;
pub use pages::service::office::new_key as open311_new_key;
pub use routes::{Access, RouteInfo, route_table};
pub use service::sms::SmsConfig;
pub use workbook::CellError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    policy: Arc<config::PolicyCache>,
    limiter: Arc<security::LoginLimiter>,
    /// Attempts on the public query page, per client address.
    query_limiter: Arc<security::LoginLimiter>,
    scheme_cache: Arc<SchemeCache>,
    reported_cache: Arc<ReportedCache>,
    /// Published bulletins rendered, by (id, language, whose detail).
    pub(crate) bulletin_cache: Arc<pages::bulletins::RenderedCache>,
}

/// Each month's reported indicators by unit, re-read only when the month's
/// fingerprint (number of entries, latest change) moves — correct across processes,
/// since the fingerprint comes from the database.
#[derive(Default)]
pub(crate) struct ReportedCache {
    months: std::sync::Mutex<HashMap<(i32, String), CachedMonth>>,
}

/// A month's reports as read, with the fingerprint they were read at.
type CachedMonth = (Fingerprint, Arc<Reported>);

/// A month's entries fingerprint: their number and latest change.
type Fingerprint = (i64, Option<String>);

/// Unit id → the ids of the indicators it reported.
pub(crate) type Reported = HashMap<String, std::collections::HashSet<String>>;

impl ReportedCache {
    pub async fn get(&self, store: &Store, year: i32, month: &str) -> Result<Arc<Reported>, WebError> {
        let fingerprint = store.month_fingerprint(year, month).await?;
        let key = (year, month.to_string());
        let poisoned = || WebError::Internal("reported cache poisoned".into());
        if let Some((f, set)) = self.months.lock().map_err(|_| poisoned())?.get(&key)
            && *f == fingerprint
        {
            return Ok(set.clone());
        }
        let mut reported = Reported::new();
        for (unit, indicator) in store.reported_in_month(year, month).await? {
            reported.entry(unit).or_default().insert(indicator);
        }
        let set = Arc::new(reported);
        self.months.lock().map_err(|_| poisoned())?.insert(key, (fingerprint, set.clone()));
        Ok(set)
    }
}

/// (year, version) → compiled scheme.
type Compiled = HashMap<(i32, i32), Arc<Scheme>>;

/// Compiled schemes by (year, version): a stored version never changes, so it is
/// compiled once per process.
#[derive(Default)]
pub(crate) struct SchemeCache {
    compiled: std::sync::Mutex<Compiled>,
}

impl SchemeCache {
    /// The latest version of `year`'s scheme, compiled; `None` if the year has none.
    /// Only the version list is read per call; a version's file is read and compiled
    /// once.
    pub async fn latest(&self, store: &Store, year: i32) -> Result<Option<(jixiao_store::SchemeVersionInfo, Arc<Scheme>)>, WebError> {
        let Some(info) = store.scheme_versions(year).await?.into_iter().max_by_key(|v| v.version) else {
            return Ok(None);
        };
        let key = (info.year, info.version);
        if let Some(s) = self.lock()?.get(&key) {
            return Ok(Some((info, s.clone())));
        }
        let scheme = Arc::new(store.scheme(year, Some(info.version)).await?.compile()?);
        self.lock()?.insert(key, scheme.clone());
        Ok(Some((info, scheme)))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Compiled>, WebError> {
        self.compiled.lock().map_err(|_| WebError::Internal("scheme cache poisoned".into()))
    }
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> AppState {
        let limiter = security::LoginLimiter::new(config.login_attempts_per_minute);
        let query_limiter = Arc::new(security::LoginLimiter::new(config.query_attempts_per_minute));
        AppState {
            query_limiter,
            store,
            config: Arc::new(config),
            policy: Arc::new(config::PolicyCache::default()),
            limiter: Arc::new(limiter),
            scheme_cache: Arc::new(SchemeCache::default()),
            reported_cache: Arc::new(ReportedCache::default()),
            bulletin_cache: Arc::new(Default::default()),
        }
    }

    /// The security policy in force (from the settings table, cached briefly).
    pub async fn policy(&self) -> Policy {
        self.policy.get(&self.store).await
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    routes::build(state)
}

/// Serves the application on `bind` until the process is asked to stop (Ctrl-C or
/// SIGTERM), finishing requests in flight.
pub async fn serve(store: Store, config: WebConfig, bind: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("jixiao listening on http://{}", listener.local_addr()?);
    let state = AppState::new(store, config);
    start_background(&state);
    let app = router(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await
}

/// The background work of a serving process: the SMS sender and the unrated
/// auto-close of service requests. Several processes may run it at once: each step is
/// one transaction that refuses to repeat what another already did.
fn start_background(state: &AppState) {
    tokio::spawn(service::sms::run(state.store.clone(), state.config.sms.clone()));
    let s = state.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = service::flow::auto_close(&s, s.config.service_auto_close_days).await {
                tracing::error!(error = %e, "closing unrated service requests failed");
            }
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        }
    });
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
pub async fn spawn(store: Store, config: WebConfig, bind: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let app = router(AppState::new(store, config));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    Ok(addr)
}
