//! HTML pages, one module per area. Each handler checks what its route's guard cannot
//! (ids arriving in forms, lists filtered by scope), reads from the store, and renders
//! an askama template inside the common frame (`view::Chrome`).

pub mod account;
pub mod admin;
pub mod analysis;
pub mod assess;
pub mod audit;
pub mod bulletins;
pub mod home;
pub mod login;
pub mod periods;
pub mod report;
pub mod scheme_draft;
pub mod schemes;
pub mod scores;
pub mod service;
pub mod units;

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::view::Chrome;

/// Renders a template into a page.
pub fn render(template: impl Template) -> Result<Html<String>, WebError> {
    Ok(Html(template.render()?))
}

/// `GET /healthz`: 200 with the backend and schema version when the database answers.
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let version = state.store.schema_version().await?;
    Ok(Json(json!({"status": "ok", "database": state.store.backend().to_string(), "schema_version": version})))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// The friendly page of an error response (see `error`).
pub fn error_page(
    viewer: Option<&Viewer>,
    lang: Lang,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Result<Html<String>, askama::Error> {
    let chrome = Chrome::plain(viewer, lang, "", &format!("error.title_{}", title_key(code)));
    let heading = chrome.title.clone();
    let page = ErrorPage { chrome, status: status.as_u16(), heading: &heading, message };
    Ok(Html(page.render()?))
}

fn title_key(code: &str) -> &'static str {
    match code {
        "not_found" => "not_found",
        "forbidden" | "csrf" => "forbidden",
        "internal" => "internal",
        _ => "other",
    }
}
