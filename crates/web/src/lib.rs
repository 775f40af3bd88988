//! jixiao-web: jixiao over HTTP.
//!
//! `router` builds the axum application over a `Store`; `serve` binds it and
//! runs until Ctrl-C or SIGTERM, finishing requests in flight. Pages are askama
//! templates compiled into the binary (escaped by default).

mod error;
mod pages;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use jixiao_store::Store;
use tower_http::trace::TraceLayer;

pub use error::WebError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/healthz", get(pages::health))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the application on `bind` until the process is asked to stop.
pub async fn serve(store: Store, bind: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("jixiao listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router(AppState { store }))
        .with_graceful_shutdown(shutdown_signal())
        .await
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

/// The address `serve` is bound to, for tests that bind port 0.
pub async fn spawn(store: Store, bind: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(AppState { store })).await;
    });
    Ok(addr)
}
