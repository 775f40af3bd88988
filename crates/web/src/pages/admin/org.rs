//! `/admin/units` and `/admin/groups`: the organisation. Units and groups are created,
//! renamed and disabled, never deleted: schemes, entries and the audit trail of past
//! years keep pointing at them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_store::Group;
use serde::Deserialize;
use serde_json::json;

use super::done;
use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, Column, FieldErrors, ListQuery, Pager, columns, kept, paginate, sort_by};
use jixiao_app::{Lang, Tr};

pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub group: String,
    pub sort_order: i64,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "admin/units.html")]
struct UnitsPage {
    chrome: Chrome,
    cols: Vec<Column>,
    rows: Vec<UnitRow>,
    pager: Pager,
    q: String,
}

fn crumbs(tr: &Tr) -> Vec<(String, String)> {
    vec![(tr.t("nav.org").to_string(), "/admin/units".to_string())]
}

/// `GET /admin/units`: every unit, disabled ones included.
pub async fn units(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/units", "nav.org", vec![], q.flash.as_deref()).await;
    let groups = state.store.groups().await?;
    let search = q.search();
    let mut rows: Vec<UnitRow> = state
        .store
        .units()
        .await?
        .into_iter()
        .map(|u| UnitRow {
            group: groups.iter().find(|g| g.id == u.group_id).map_or(u.group_id.clone(), |g| g.name.clone()),
            id: u.id,
            name: u.name,
            sort_order: u.sort_order,
            disabled: u.disabled,
        })
        .filter(|r| search.as_ref().is_none_or(|s| format!("{} {} {}", r.id, r.name, r.group).to_lowercase().contains(s)))
        .collect();
    sort_by(&mut rows, &q, |r, col| match col {
        "id" => Some(r.id.clone()),
        "name" => Some(r.name.clone()),
        "group" => Some(r.group.clone()),
        "order" => Some(format!("{:012}", r.sort_order)),
        _ => None,
    });
    let cols = columns(
        &chrome.tr,
        "/admin/units",
        &q,
        &[("id", "field.unit_id"), ("name", "field.unit_name"), ("group", "field.group"), ("order", "field.sort_order")],
        &[("q", q.q.clone().unwrap_or_default())],
    );
    let (rows, pager) = paginate(rows, q.page.unwrap_or(1), "/admin/units", &kept(&q));
    Ok(render(UnitsPage { chrome, cols, rows, pager, q: q.q.clone().unwrap_or_default() })?.into_response())
}

#[derive(Template)]
#[template(path = "admin/unit_form.html")]
struct UnitForm {
    chrome: Chrome,
    /// `None` for a new unit.
    existing: Option<String>,
    id: String,
    name: String,
    group: String,
    sort_order: String,
    disabled: bool,
    groups: Vec<Group>,
    errors: FieldErrors,
}

impl UnitForm {
    fn respond(self) -> Result<Response, WebError> {
        let status = if self.errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
        Ok((status, render(self)?).into_response())
    }
}

/// `GET /admin/units/new`.
pub async fn new_unit(State(state): State<AppState>, viewer: Viewer, Language(lang): Language) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/units/new", "org.new_unit", crumbs(&tr), None).await;
    let groups: Vec<Group> = state.store.groups().await?.into_iter().filter(|g| !g.disabled).collect();
    UnitForm {
        chrome,
        existing: None,
        id: String::new(),
        name: String::new(),
        group: String::new(),
        sort_order: "0".into(),
        disabled: false,
        groups,
        errors: FieldErrors::new(),
    }
    .respond()
}

/// `GET /admin/units/{unit}`.
pub async fn edit_unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let unit = state.store.unit(&id).await?;
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, &format!("/admin/units/{id}"), "org.edit_unit", crumbs(&tr), q.flash.as_deref()).await;
    chrome.title = format!("{} · {}", chrome.title, unit.name);
    let groups = state.store.groups().await?;
    UnitForm {
        chrome,
        existing: Some(unit.id.clone()),
        id: unit.id,
        name: unit.name,
        group: unit.group_id,
        sort_order: unit.sort_order.to_string(),
        disabled: unit.disabled,
        groups,
        errors: FieldErrors::new(),
    }
    .respond()
}

#[derive(Deserialize)]
pub struct UnitInput {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    sort_order: String,
}

/// Checks a unit form; the errors by field.
async fn check_unit(state: &AppState, tr: &Tr, input: &UnitInput, new: bool) -> Result<(FieldErrors, i64), WebError> {
    let mut errors = FieldErrors::new();
    let id = input.id.trim();
    if new {
        if id.is_empty() || !id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            errors.insert("id".into(), tr.t("org.bad_id").into());
        } else if state.store.unit(id).await.is_ok() {
            errors.insert("id".into(), tr.t("org.id_taken").into());
        }
    }
    if input.name.trim().is_empty() {
        errors.insert("name".into(), tr.t("form.required").into());
    }
    let groups = state.store.groups().await?;
    if !groups.iter().any(|g| g.id == input.group && !g.disabled) {
        errors.insert("group".into(), tr.t("org.bad_group").into());
    }
    let order = input.sort_order.trim();
    let sort_order = if order.is_empty() { Ok(0) } else { order.parse::<i64>() };
    if sort_order.is_err() {
        errors.insert("sort_order".into(), tr.t("form.integer").into());
    }
    Ok((errors, sort_order.unwrap_or(0)))
}

/// `POST /admin/units`.
pub async fn create_unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(input): axum::Form<UnitInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let (errors, sort_order) = check_unit(&state, &tr, &input, true).await?;
    if !errors.is_empty() {
        let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/units/new", "org.new_unit", crumbs(&tr), None).await;
        let groups: Vec<Group> = state.store.groups().await?.into_iter().filter(|g| !g.disabled).collect();
        return UnitForm {
            chrome,
            existing: None,
            id: input.id,
            name: input.name,
            group: input.group,
            sort_order: input.sort_order,
            disabled: false,
            groups,
            errors,
        }
        .respond();
    }
    let id = input.id.trim();
    let mut tx = state.store.begin(&viewer.name).await?;
    state.store.upsert_unit(&mut tx, id, input.name.trim(), &input.group, sort_order).await?;
    tx.audit("unit.add", "unit", id, None, Some(json!({"name": input.name.trim(), "group": input.group, "sort_order": sort_order})))
        .await?;
    tx.commit().await?;
    Ok(done("/admin/units", "unit_created"))
}

/// `POST /admin/units/{unit}`: name, group, order (the id never changes).
pub async fn update_unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    axum::Form(mut input): axum::Form<UnitInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let unit = state.store.unit(&id).await?;
    input.id = id.clone();
    let (errors, sort_order) = check_unit(&state, &tr, &input, false).await?;
    if !errors.is_empty() {
        let chrome = Chrome::new(&state, Some(&viewer), lang, &format!("/admin/units/{id}"), "org.edit_unit", crumbs(&tr), None).await;
        let groups = state.store.groups().await?;
        return UnitForm {
            chrome,
            existing: Some(id.clone()),
            id,
            name: input.name,
            group: input.group,
            sort_order: input.sort_order,
            disabled: unit.disabled,
            groups,
            errors,
        }
        .respond();
    }
    let mut tx = state.store.begin(&viewer.name).await?;
    state.store.upsert_unit(&mut tx, &id, input.name.trim(), &input.group, sort_order).await?;
    tx.audit(
        "unit.update",
        "unit",
        &id,
        Some(json!({"name": unit.name, "group": unit.group_id, "sort_order": unit.sort_order})),
        Some(json!({"name": input.name.trim(), "group": input.group, "sort_order": sort_order})),
    )
    .await?;
    tx.commit().await?;
    Ok(done(&format!("/admin/units/{id}"), "saved"))
}

/// `POST /admin/units/{unit}/disable`: disables or re-enables.
pub async fn toggle_unit(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    let unit = state.store.unit(&id).await?;
    let mut tx = state.store.begin(&viewer.name).await?;
    state.store.set_unit_disabled(&mut tx, &id, !unit.disabled).await?;
    let action = if unit.disabled { "unit.enable" } else { "unit.disable" };
    tx.audit(action, "unit", &id, Some(json!({"disabled": unit.disabled})), Some(json!({"disabled": !unit.disabled}))).await?;
    tx.commit().await?;
    Ok(done(&format!("/admin/units/{id}"), "saved"))
}

#[derive(Template)]
#[template(path = "admin/groups.html")]
struct GroupsPage {
    chrome: Chrome,
    groups: Vec<(Group, usize)>,
    errors: FieldErrors,
    id: String,
    name: String,
}

async fn groups_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    errors: FieldErrors,
    id: String,
    name: String,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let chrome = Chrome::new(state, Some(viewer), lang, "/admin/groups", "org.groups", crumbs(&tr), flash).await;
    let units = state.store.units().await?;
    let groups = state
        .store
        .groups()
        .await?
        .into_iter()
        .map(|g| {
            let n = units.iter().filter(|u| u.group_id == g.id).count();
            (g, n)
        })
        .collect();
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(GroupsPage { chrome, groups, errors, id, name })?).into_response())
}

/// `GET /admin/groups`.
pub async fn groups(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    groups_page(&state, &viewer, lang, q.flash.as_deref(), FieldErrors::new(), String::new(), String::new()).await
}

#[derive(Deserialize)]
pub struct GroupInput {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

/// `POST /admin/groups`: creates a group, or renames the one with that id.
pub async fn save_group(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(input): axum::Form<GroupInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let id = input.id.trim().to_string();
    let name = input.name.trim().to_string();
    let mut errors = FieldErrors::new();
    if id.is_empty() || !id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        errors.insert("id".into(), tr.t("org.bad_id").into());
    }
    if name.is_empty() {
        errors.insert("name".into(), tr.t("form.required").into());
    }
    if !errors.is_empty() {
        return groups_page(&state, &viewer, lang, None, errors, input.id, input.name).await;
    }
    let before = state.store.groups().await?.into_iter().find(|g| g.id == id);
    let mut tx = state.store.begin(&viewer.name).await?;
    state.store.upsert_group(&mut tx, &id, &name).await?;
    let action = if before.is_some() { "group.update" } else { "group.add" };
    tx.audit(action, "group", &id, before.map(|g| json!({"name": g.name})), Some(json!({"name": name}))).await?;
    tx.commit().await?;
    Ok(done("/admin/groups", "saved"))
}

/// `POST /admin/groups/{group}/disable`: disables or re-enables.
pub async fn toggle_group(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    let group = state.store.groups().await?.into_iter().find(|g| g.id == id).ok_or(WebError::NotFound)?;
    let mut tx = state.store.begin(&viewer.name).await?;
    state.store.set_group_disabled(&mut tx, &id, !group.disabled).await?;
    let action = if group.disabled { "group.enable" } else { "group.disable" };
    tx.audit(action, "group", &id, Some(json!({"disabled": group.disabled})), Some(json!({"disabled": !group.disabled}))).await?;
    tx.commit().await?;
    Ok(done("/admin/groups", "saved"))
}
