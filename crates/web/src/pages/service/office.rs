//! The office's service pages: the SMS outbox (every message with its status,
//! attempts and last error; query passwords masked) and the Open311 API keys
//! (created with a name, shown once, stored as SHA-256, revoked for good).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::Chrome;
use jixiao_app::Lang;
use jixiao_app::accounts;

pub struct MessageRow {
    pub id: i64,
    pub recipient: String,
    pub body: String,
    pub purpose: String,
    pub status: String,
    pub attempts: i64,
    pub error: String,
    pub created: String,
    pub sent: String,
}

#[derive(Template)]
#[template(path = "service/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    rows: Vec<MessageRow>,
    total: i64,
    status: String,
}

#[derive(Deserialize, Default)]
pub struct OutboxQuery {
    status: Option<String>,
    flash: Option<String>,
}

/// Masks the query password in a message body (`查询密码XXXXXXXX`).
pub fn mask_password(body: &str) -> String {
    match body.find("查询密码") {
        Some(i) => {
            let start = i + "查询密码".len();
            let rest: String = body[start..].chars().skip(8).collect();
            format!("{}********{rest}", &body[..start])
        }
        None => body.to_string(),
    }
}

/// `GET /service/outbox?status=`.
pub async fn outbox(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/service/outbox", "service.outbox_title", vec![], q.flash.as_deref()).await;
    let status = q.status.filter(|s| matches!(s.as_str(), "pending" | "sent" | "failed" | "recorded" | "over_limit")).unwrap_or_default();
    let (messages, total) = state.store.outbox(None, Some(&status).filter(|s| !s.is_empty()).map(String::as_str), 200, 0).await?;
    let rows = messages
        .into_iter()
        .map(|m| MessageRow {
            id: m.id,
            recipient: m.recipient,
            body: mask_password(&m.body),
            purpose: m.purpose,
            status: m.status,
            attempts: m.attempts,
            error: m.last_error.unwrap_or_default(),
            created: state.clock.short(&m.created_at),
            sent: m.sent_at.as_deref().map(|t| state.clock.short(t)).unwrap_or_default(),
        })
        .collect();
    Ok(render(OutboxPage { chrome, rows, total, status })?.into_response())
}

pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub by: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "service/keys.html")]
struct KeysPage {
    chrome: Chrome,
    rows: Vec<KeyRow>,
    secret: Option<String>,
}

async fn keys_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    secret: Option<String>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/service/keys", "service.keys_title", vec![], flash).await;
    let rows = state
        .store
        .open311_keys()
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            name: k.name,
            created: state.clock.short(&k.created_at),
            by: k.created_by,
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    Ok(render(KeysPage { chrome, rows, secret })?.into_response())
}

/// `GET /service/keys`.
pub async fn keys(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, WebError> {
    keys_page(&state, &viewer, lang, q.flash.as_deref(), None).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

/// `POST /service/keys`: creates a key and shows it once.
pub async fn create_key(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<KeyForm>,
) -> Result<Response, WebError> {
    let (_, key) = accounts::add_open311_key(&state, &viewer, &jixiao_app::Tr::new(lang), &form.name).await?;
    keys_page(&state, &viewer, lang, None, Some(key)).await
}

/// `POST /service/keys/{id}/revoke`.
pub async fn revoke_key(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    accounts::revoke_open311_key(&state, &viewer, id).await?;
    Ok(done("/service/keys", "key_revoked"))
}
