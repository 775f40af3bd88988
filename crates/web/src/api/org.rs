//! `/api/v1/me`, `/groups`, `/units`, `/units/{unit}`.

use axum::Json;
use axum::extract::{Path, Query, State};
use jixiao_core::org::{Action, Target};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ListOf, Paging};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The name in audit entries: the username, or `api:<token name>`.
    pub actor: String,
    pub display_name: String,
    pub unit: Option<String>,
    pub roles: Vec<GrantView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub role: String,
    /// `"all"`, `{"units": […]}` or `{"indicators": […]}`.
    #[schema(value_type = Object)]
    pub scope: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub disabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    pub id: String,
    pub name: String,
    pub group: String,
    pub disabled: bool,
    pub sort_order: i64,
}

impl From<jixiao_store::Unit> for UnitView {
    fn from(u: jixiao_store::Unit) -> UnitView {
        UnitView { id: u.id, name: u.name, group: u.group_id, disabled: u.disabled, sort_order: u.sort_order }
    }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "organisation",
    responses((status = 200, body = Me), (status = 401, body = super::ErrorBody)))]
pub async fn me(viewer: Viewer) -> Json<Me> {
    Json(Me {
        actor: viewer.name.clone(),
        display_name: viewer.display_name.clone(),
        unit: viewer.unit_id.clone(),
        roles: viewer.grants.iter().map(|g| GrantView { role: g.role.code().to_string(), scope: g.scope.to_json() }).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "organisation", params(Paging),
    responses((status = 200, body = ListOf<GroupView>), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn groups(State(state): State<AppState>, Query(paging): Query<Paging>) -> Result<Json<ListOf<GroupView>>, WebError> {
    let groups = state.store.groups().await?.into_iter().map(|g| GroupView { id: g.id, name: g.name, disabled: g.disabled }).collect();
    Ok(Json(paging.apply(groups)))
}

/// Every unit (names are not scoped: anyone signed in may see the organisation).
#[utoipa::path(get, path = "/api/v1/units", tag = "organisation", params(Paging),
    responses((status = 200, body = ListOf<UnitView>), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn units(State(state): State<AppState>, Query(paging): Query<Paging>) -> Result<Json<ListOf<UnitView>>, WebError> {
    let units = state.store.units().await?.into_iter().map(UnitView::from).collect();
    Ok(Json(paging.apply(units)))
}

/// One unit in the caller's scope.
#[utoipa::path(get, path = "/api/v1/units/{unit}", tag = "organisation", params(("unit" = String, Path, description = "unit id")),
    responses((status = 200, body = UnitView), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn unit(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Json<UnitView>, WebError> {
    viewer.require(Action::ViewUnit, Target::Unit(&id))?;
    Ok(Json(state.store.unit(&id).await?.into()))
}
