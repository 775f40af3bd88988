//! `/api/v1/users`, `/api/v1/users/{id}` (administrators).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::org::GrantView;
use super::{ListOf, Paging};
use crate::AppState;
use crate::error::WebError;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit: Option<String>,
    pub disabled: bool,
    pub locked_until: Option<String>,
    pub language: String,
    pub created_at: String,
    pub password_changed_at: String,
    pub roles: Vec<GrantView>,
}

async fn view(state: &AppState, u: jixiao_store::User) -> Result<UserView, WebError> {
    let roles = state.store.roles(u.id).await?.into_iter().map(|g| GrantView { role: g.role, scope: g.scope }).collect();
    Ok(UserView {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        unit: u.unit_id,
        disabled: u.disabled,
        locked_until: u.locked_until,
        language: u.language,
        created_at: u.created_at,
        password_changed_at: u.password_changed_at,
        roles,
    })
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(Paging),
    responses((status = 200, body = ListOf<UserView>), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn list(State(state): State<AppState>, Query(paging): Query<Paging>) -> Result<Json<ListOf<UserView>>, WebError> {
    let users = state.store.users().await?;
    let (page, per_page, offset) = paging.bounds();
    let total = users.len();
    let mut items = Vec::new();
    for u in users.into_iter().skip(offset).take(per_page) {
        items.push(view(&state, u).await?);
    }
    Ok(Json(ListOf { items, page, per_page, total }))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<UserView>, WebError> {
    let user = state.store.user(id).await?;
    Ok(Json(view(&state, user).await?))
}
