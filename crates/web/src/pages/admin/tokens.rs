//! `/admin/tokens`: API tokens for programs that call `/api/v1`. A token acts in one
//! role, optionally for one unit; its secret is shown once when created and stored
//! only as a hash; revoking is for good; the last use is shown.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_core::org::Role;
use jixiao_store::ApiToken;
use serde::Deserialize;

use super::done;
use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, FieldErrors, ListQuery};
use jixiao_app::accounts;
use jixiao_app::{Lang, Tr};

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub unit: String,
    pub created_at: String,
    pub last_used_at: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    roles: Vec<(&'static str, String)>,
    units: Vec<(String, String)>,
    /// The secret of a token just created, shown once.
    secret: Option<String>,
    errors: FieldErrors,
}

fn row(tr: &Tr, clock: &jixiao_app::Clock, t: ApiToken) -> TokenRow {
    TokenRow {
        id: t.id,
        name: t.name,
        role: tr.role(&t.role).to_string(),
        unit: t.unit_id.unwrap_or_default(),
        created_at: clock.short(&t.created_at),
        last_used_at: t.last_used_at.as_deref().map(|at| clock.short(at)).unwrap_or_default(),
        revoked: t.revoked_at.is_some(),
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    secret: Option<String>,
    errors: FieldErrors,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/admin/tokens", "nav.tokens", vec![], flash).await;
    let tr = chrome.tr;
    let rows = state.store.tokens().await?.into_iter().map(|t| row(&tr, &state.clock, t)).collect();
    // A token acts at most as its maker: only the maker's own roles are offered.
    let held = viewer.roles();
    let roles = Role::ALL.into_iter().filter(|r| held.contains(r)).map(|r| (r.code(), tr.role(r.code()).to_string())).collect();
    let units = state.store.units().await?.into_iter().filter(|u| !u.disabled).map(|u| (u.id, u.name)).collect();
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(TokensPage { chrome, rows, roles, units, secret, errors })?).into_response())
}

/// `GET /admin/tokens`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    page(&state, &viewer, lang, q.flash.as_deref(), None, FieldErrors::new()).await
}

#[derive(Deserialize)]
pub struct TokenInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
}

/// `POST /admin/tokens`: creates a token and shows its secret once.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(input): axum::Form<TokenInput>,
) -> Result<Response, WebError> {
    match accounts::create_token(&state, &viewer, &Tr::new(lang), &input.name, &input.role, &input.unit).await? {
        Ok((_, secret)) => page(&state, &viewer, lang, Some("token_created"), Some(secret), FieldErrors::new()).await,
        Err(errors) => page(&state, &viewer, lang, None, None, errors).await,
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    accounts::revoke_token(&state, &viewer, id).await?;
    Ok(done("/admin/tokens", "token_revoked"))
}
