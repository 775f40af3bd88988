//! HTML pages, one module per area. A handler reads the request (path, query, form),
//! calls the use case in `jixiao_app` with the viewer's actor, and renders the result
//! in an askama template inside the common frame (`view::Chrome`), or redirects with
//! a flash message (`admin::done`).

pub mod account;
pub mod admin;
pub mod analysis;
pub mod assess;
pub mod audit;
pub mod bulletins;
pub mod home;
pub mod login;
pub mod periods;
pub mod records;
pub mod report;
pub mod scheme_draft;
pub mod schemes;
pub mod scores;
pub mod service;
pub mod supervision;
pub mod units;

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::WebError;

/// Renders a template into a page.
pub fn render(template: impl Template) -> Result<Html<String>, WebError> {
    Ok(Html(template.render()?))
}

/// `GET /healthz`: 200 with the backend and schema version when the database answers.
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let version = state.store.schema_version().await?;
    Ok(Json(json!({"status": "ok", "database": state.store.backend().to_string(), "schema_version": version})))
}
