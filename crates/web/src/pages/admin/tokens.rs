//! `/admin/tokens`: API tokens for programs that call `/api/v1`. A token acts in one
//! role, optionally for one unit; its secret is shown once when created and stored
//! only as a hash; revoking is for good; the last use is shown.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_core::org::Role;
use jixiao_store::ApiToken;
use serde::Deserialize;
use serde_json::json;

use super::done;
use crate::AppState;
use crate::auth::{Viewer, random_secret, secret_hash};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::home::short_time;
use crate::pages::render;
use crate::view::{Chrome, FieldErrors, ListQuery};

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

fn row(tr: &Tr, t: ApiToken) -> TokenRow {
    TokenRow {
        id: t.id,
        name: t.name,
        role: tr.role(&t.role).to_string(),
        unit: t.unit_id.unwrap_or_default(),
        created_at: short_time(&t.created_at),
        last_used_at: t.last_used_at.as_deref().map(short_time).unwrap_or_default(),
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
    let rows = state.store.tokens().await?.into_iter().map(|t| row(&tr, t)).collect();
    let roles = Role::ALL.into_iter().map(|r| (r.code(), tr.role(r.code()).to_string())).collect();
    let units = state.store.units().await?.into_iter().filter(|u| !u.disabled).map(|u| (u.id, u.name)).collect();
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(TokensPage { chrome, rows, roles, units, secret, errors })?).into_response())
}

/// `GET /admin/tokens`.
pub async fn list(State(state): State<AppState>, viewer: Viewer, lang: Lang, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
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
    lang: Lang,
    axum::Form(input): axum::Form<TokenInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let mut errors = FieldErrors::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.insert("name".into(), tr.t("form.required").into());
    }
    let role = input.role.parse::<Role>();
    if role.is_err() {
        errors.insert("role".into(), tr.t("tokens.bad_role").into());
    }
    let unit = Some(input.unit.trim()).filter(|u| !u.is_empty());
    if let Some(u) = unit
        && state.store.unit(u).await.is_err()
    {
        errors.insert("unit".into(), tr.f("users.unknown_units", &[&u]));
    }
    if let Ok(r) = role
        && r.belongs_to_unit()
        && r != Role::Assessor
        && unit.is_none()
    {
        errors.insert("unit".into(), tr.f("users.role_needs_unit", &[&tr.role(r.code())]));
    }
    if !errors.is_empty() {
        return page(&state, &viewer, lang, None, None, errors).await;
    }
    let role = role.map_err(WebError::invalid)?;
    let secret = format!("jx_{}", random_secret());
    let mut tx = state.store.begin(&viewer.actor).await?;
    let id = state.store.add_token(&mut tx, name, &secret_hash(&secret), viewer.user_id(), role.code(), unit).await?;
    tx.audit("token.add", "token", &id.to_string(), None, Some(json!({"name": name, "role": role.code(), "unit": unit}))).await?;
    tx.commit().await?;
    page(&state, &viewer, lang, Some("token_created"), Some(secret), FieldErrors::new()).await
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    let mut tx = state.store.begin(&viewer.actor).await?;
    let token = state.store.revoke_token(&mut tx, id).await?;
    tx.audit("token.revoke", "token", &id.to_string(), Some(json!({"name": token.name, "role": token.role})), None).await?;
    tx.commit().await?;
    Ok(done("/admin/tokens", "token_revoked"))
}
