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

/// The file of a multipart upload (its field `file`): name and bytes. A body over the
/// route's limit is `TooLarge`; an upload without a file is refused with the words
/// people read.
pub async fn uploaded_file(tr: &jixiao_app::Tr, mut multipart: axum::extract::Multipart) -> Result<(String, axum::body::Bytes), WebError> {
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| WebError::invalid(tr.t("service.error.form")))? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| WebError::TooLarge)?;
            file = Some((name, bytes));
        }
    }
    file.ok_or_else(|| WebError::invalid(tr.t("service.error.no_file")))
}

/// `GET /healthz`: 200 with the backend and schema version when the database answers.
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let version = state.store.schema_version().await?;
    Ok(Json(json!({"status": "ok", "database": state.store.backend().to_string(), "schema_version": version})))
}
