//! `/admin/users`: accounts, their roles and data scopes, password resets, disabling.
//!
//! Scopes are typed per role: empty for the role's default (own unit for unit roles,
//! all units for the office, leaders and administrators, no indicators yet for an
//! assessor), `all`, or a comma-separated list of unit ids (of indicator ids for an
//! assessor). Unknown unit ids are refused.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_app::accounts::{self, AccountInput, scope_text};
use jixiao_app::actor::grants_of;
use jixiao_core::org::Role;
use serde::Deserialize;

use super::done;
use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, Column, FieldErrors, ListQuery, Pager, columns, kept, paginate, sort_by};
use jixiao_app::{Lang, Tr};

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub unit: String,
    pub roles: String,
    pub disabled: bool,
    pub locked: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    cols: Vec<Column>,
    rows: Vec<UserRow>,
    pager: Pager,
    q: String,
}

fn crumbs(tr: &Tr) -> Vec<(String, String)> {
    vec![(tr.t("nav.users").to_string(), "/admin/users".to_string())]
}

/// `GET /admin/users`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/users", "nav.users", vec![], q.flash.as_deref()).await;
    let units = state.store.units().await?;
    let unit_name = |id: &Option<String>| {
        id.as_ref().map(|id| units.iter().find(|u| &u.id == id).map_or(id.clone(), |u| u.name.clone())).unwrap_or_default()
    };
    let search = q.search();
    let now = state.clock.stamp();
    let mut rows = Vec::new();
    for u in state.store.users().await? {
        let roles: Vec<String> = state.store.roles(u.id).await?.into_iter().map(|g| chrome.tr.role(&g.role).to_string()).collect();
        rows.push(UserRow {
            id: u.id,
            unit: unit_name(&u.unit_id),
            roles: roles.join("、"),
            disabled: u.disabled,
            locked: u.locked_until.as_deref().is_some_and(|t| t > now.as_str()),
            username: u.username,
            display_name: u.display_name,
        });
    }
    rows.retain(|r| {
        search.as_ref().is_none_or(|s| format!("{} {} {} {}", r.username, r.display_name, r.unit, r.roles).to_lowercase().contains(s))
    });
    sort_by(&mut rows, &q, |r, col| match col {
        "username" => Some(r.username.clone()),
        "name" => Some(r.display_name.clone()),
        "unit" => Some(r.unit.clone()),
        "roles" => Some(r.roles.clone()),
        _ => None,
    });
    let cols = columns(
        &chrome.tr,
        "/admin/users",
        &q,
        &[("username", "field.username"), ("name", "field.display_name"), ("unit", "field.unit_name"), ("roles", "field.roles")],
        &[("q", q.q.clone().unwrap_or_default())],
    );
    let (rows, pager) = paginate(rows, q.page.unwrap_or(1), "/admin/users", &kept(&q));
    Ok(render(UsersPage { chrome, cols, rows, pager, q: q.q.clone().unwrap_or_default() })?.into_response())
}

/// One role line of the form.
pub struct RoleLine {
    pub code: &'static str,
    pub name: String,
    pub checked: bool,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct UserForm {
    chrome: Chrome,
    /// `None` for a new account.
    id: Option<i64>,
    username: String,
    display_name: String,
    unit: String,
    language: String,
    disabled: bool,
    units: Vec<(String, String)>,
    roles: Vec<RoleLine>,
    errors: FieldErrors,
}

#[derive(Deserialize, Default)]
pub struct UserInput {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    password: String,
    /// `role_<code>=on` and `scope_<code>=…`, flattened by serde.
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

impl UserInput {
    /// The account as the use case takes it: the roles ticked, each with its scope.
    fn account(&self) -> AccountInput {
        AccountInput {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            unit: self.unit.clone(),
            language: self.language.clone(),
            password: self.password.clone(),
            roles: typed_roles(self),
        }
    }
}

/// The roles the form offers: the business roles (administrative roles are given
/// only from the command line, 三权分立).
fn role_lines(tr: &Tr, grants: &[(Role, String)]) -> Vec<RoleLine> {
    Role::ALL
        .into_iter()
        .filter(|r| !r.is_administrative())
        .map(|r| {
            let found = grants.iter().find(|(g, _)| *g == r);
            RoleLine {
                code: r.code(),
                name: tr.role(r.code()).to_string(),
                checked: found.is_some(),
                scope: found.map(|f| f.1.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

fn form_page(form: UserForm) -> Result<Response, WebError> {
    let status = if form.errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(form)?).into_response())
}

async fn unit_options(state: &AppState) -> Result<Vec<(String, String)>, WebError> {
    Ok(state.store.units().await?.into_iter().filter(|u| !u.disabled).map(|u| (u.id, u.name)).collect())
}

/// `GET /admin/users/new`.
pub async fn new_form(State(state): State<AppState>, viewer: Viewer, Language(lang): Language) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/users/new", "users.new", crumbs(&tr), None).await;
    let form = UserForm {
        chrome,
        id: None,
        username: String::new(),
        display_name: String::new(),
        unit: String::new(),
        language: "zh-CN".into(),
        disabled: false,
        units: unit_options(&state).await?,
        roles: role_lines(&tr, &[]),
        errors: FieldErrors::new(),
    };
    form_page(form)
}

/// The roles ticked in a form, with the scopes typed beside them.
fn typed_roles(input: &UserInput) -> Vec<(Role, String)> {
    Role::ALL
        .into_iter()
        .filter(|r| input.rest.contains_key(&format!("role_{}", r.code())))
        .map(|r| (r, input.rest.get(&format!("scope_{}", r.code())).cloned().unwrap_or_default()))
        .collect()
}

fn language_of(text: &str) -> String {
    Lang::from_tag(text).unwrap_or_default().tag().to_string()
}

/// `POST /admin/users`: a new account with a first password it must change.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(input): axum::Form<UserInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let errors = match accounts::create_user(&state, &viewer, &tr, &input.account()).await? {
        Ok(_) => return Ok(done("/admin/users", "user_created")),
        Err(errors) => errors,
    };
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/users/new", "users.new", crumbs(&tr), None).await;
    let form = UserForm {
        chrome,
        id: None,
        username: input.username.trim().to_string(),
        display_name: input.display_name.clone(),
        unit: input.unit.clone(),
        language: language_of(&input.language),
        disabled: false,
        units: unit_options(&state).await?,
        roles: role_lines(&tr, &typed_roles(&input)),
        errors,
    };
    form_page(form)
}

/// `GET /admin/users/{id}`.
pub async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let user = state.store.user(id).await?;
    let grants: Vec<(Role, String)> = grants_of(state.store.roles(id).await?).into_iter().map(|g| (g.role, scope_text(&g.scope))).collect();
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, &format!("/admin/users/{id}"), "users.edit", crumbs(&tr), q.flash.as_deref()).await;
    chrome.title = format!("{} · {}", chrome.title, user.username);
    let form = UserForm {
        chrome,
        id: Some(id),
        username: user.username,
        display_name: user.display_name,
        unit: user.unit_id.unwrap_or_default(),
        language: user.language,
        disabled: user.disabled,
        units: unit_options(&state).await?,
        roles: role_lines(&tr, &grants),
        errors: FieldErrors::new(),
    };
    form_page(form)
}

/// `POST /admin/users/{id}`: name, unit, language, roles and scopes.
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    axum::Form(input): axum::Form<UserInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let errors = match accounts::update_user(&state, &viewer, &tr, id, &input.account()).await? {
        Ok(()) => return Ok(done(&format!("/admin/users/{id}"), "saved")),
        Err(errors) => errors,
    };
    let user = state.store.user(id).await?;
    let chrome = Chrome::new(&state, Some(&viewer), lang, &format!("/admin/users/{id}"), "users.edit", crumbs(&tr), None).await;
    let form = UserForm {
        chrome,
        id: Some(id),
        username: user.username,
        display_name: input.display_name.clone(),
        unit: input.unit.clone(),
        language: language_of(&input.language),
        disabled: user.disabled,
        units: unit_options(&state).await?,
        roles: role_lines(&tr, &typed_roles(&input)),
        errors,
    };
    form_page(form)
}

#[derive(Deserialize)]
pub struct ResetInput {
    #[serde(default)]
    password: String,
}

/// `POST /admin/users/{id}/password`: a new password the user must change at the next
/// login; every session of the user ends.
pub async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    axum::Form(input): axum::Form<ResetInput>,
) -> Result<Response, WebError> {
    accounts::reset_password(&state, &viewer, &Tr::new(lang), id, &input.password).await?;
    Ok(done(&format!("/admin/users/{id}"), "password_reset"))
}

/// `POST /admin/users/{id}/disable`: disables an enabled account (ending its sessions)
/// or enables a disabled one. Accounts are never deleted.
pub async fn toggle_disabled(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    accounts::toggle_disabled(&state, &viewer, &Tr::new(lang), id).await?;
    Ok(done(&format!("/admin/users/{id}"), "saved"))
}
