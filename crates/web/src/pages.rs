//! The pages served so far: health and the home page listing the organisation.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use crate::{AppState, WebError};

/// `GET /healthz`: 200 with the backend and schema version when the database answers.
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, WebError> {
    let version = state.store.schema_version().await?;
    Ok(Json(json!({"status": "ok", "database": state.store.backend().to_string(), "schema_version": version})))
}

struct GroupView {
    id: String,
    name: String,
    units: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    groups: Vec<GroupView>,
    unit_count: usize,
}

/// `GET /`: the groups (考核类别) and their units (被考核单位).
pub async fn home(State(state): State<AppState>) -> Result<Html<String>, WebError> {
    let groups = state.store.groups().await?;
    let units = state.store.units().await?;
    let unit_count = units.iter().filter(|u| !u.disabled).count();
    let groups = groups
        .into_iter()
        .filter(|g| !g.disabled)
        .map(|g| GroupView {
            units: units
                .iter()
                .filter(|u| u.group_id == g.id && !u.disabled)
                .map(|u| (u.id.clone(), u.name.clone()))
                .collect(),
            id: g.id,
            name: g.name,
        })
        .collect();
    Ok(Html(Home { groups, unit_count }.render()?))
}
