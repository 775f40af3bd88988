//! `/admin/units` and `/admin/groups`: the organisation. Units and groups are created,
//! renamed and disabled, never deleted: schemes, entries and the audit trail of past
//! years keep pointing at them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_store::Group;
use serde::Deserialize;

use super::done;
use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, Column, FieldErrors, ListQuery, Pager, columns, kept, paginate, sort_by};
use jixiao_app::org::{self, UnitInput};
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

/// `POST /admin/units`.
pub async fn create_unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(input): axum::Form<UnitInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    if let Err(errors) = org::create_unit(&state, &viewer, &tr, &input).await? {
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
    input.id = id.clone();
    if let Err(errors) = org::update_unit(&state, &viewer, &tr, &id, &input).await? {
        let unit = state.store.unit(&id).await?;
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
    Ok(done(&format!("/admin/units/{id}"), "saved"))
}

/// `POST /admin/units/{unit}/disable`: disables or re-enables.
pub async fn toggle_unit(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    org::toggle_unit(&state, &viewer, &id).await?;
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
    match org::save_group(&state, &viewer, &Tr::new(lang), &input.id, &input.name).await? {
        Ok(()) => {}
        Err(errors) => return groups_page(&state, &viewer, lang, None, errors, input.id, input.name).await,
    }
    Ok(done("/admin/groups", "saved"))
}

/// `POST /admin/groups/{group}/disable`: disables or re-enables.
pub async fn toggle_group(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    org::toggle_group(&state, &viewer, &id).await?;
    Ok(done("/admin/groups", "saved"))
}
