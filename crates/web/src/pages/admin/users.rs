//! `/admin/users`: accounts, their roles and data scopes, password resets, disabling.
//!
//! Scopes are typed per role: empty for the role's default (own unit for unit roles,
//! all units for the office, leaders and administrators, no indicators yet for an
//! assessor), `all`, or a comma-separated list of unit ids (of indicator ids for an
//! assessor). Unknown unit ids are refused.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_core::org::{Role, Scope, check_password};
use jixiao_store::{NewUser, RoleGrant, StoreError};
use serde::Deserialize;
use serde_json::json;

use super::done;
use crate::AppState;
use crate::auth::{Viewer, grants_of};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::render;
use crate::view::{Chrome, Column, FieldErrors, ListQuery, Pager, columns, kept, paginate, sort_by};

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
pub async fn list(State(state): State<AppState>, viewer: Viewer, lang: Lang, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/users", "nav.users", vec![], q.flash.as_deref()).await;
    let units = state.store.units().await?;
    let unit_name = |id: &Option<String>| {
        id.as_ref().map(|id| units.iter().find(|u| &u.id == id).map_or(id.clone(), |u| u.name.clone())).unwrap_or_default()
    };
    let search = q.search();
    let now = jixiao_store::timestamp(chrono::Utc::now());
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

fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::All => "all".into(),
        Scope::Units(ids) | Scope::Indicators(ids) => ids.iter().cloned().collect::<Vec<_>>().join(","),
    }
}

fn role_lines(tr: &Tr, grants: &[(Role, String)]) -> Vec<RoleLine> {
    Role::ALL
        .into_iter()
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
pub async fn new_form(State(state): State<AppState>, viewer: Viewer, lang: Lang) -> Result<Response, WebError> {
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

/// The grants a form asks for, or the errors by field.
fn parse_grants(
    tr: &Tr,
    input: &UserInput,
    unit: Option<&str>,
    known_units: &BTreeSet<String>,
    errors: &mut FieldErrors,
) -> Vec<RoleGrant> {
    let mut grants = Vec::new();
    for role in Role::ALL {
        if !input.rest.contains_key(&format!("role_{}", role.code())) {
            continue;
        }
        let text = input.rest.get(&format!("scope_{}", role.code())).map(|s| s.trim().to_string()).unwrap_or_default();
        let scope = if text.is_empty() {
            role.default_scope(unit)
        } else if text == "all" {
            Scope::All
        } else {
            let ids: BTreeSet<String> = text.split([',', '，', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
            if role == Role::Assessor {
                Scope::Indicators(ids)
            } else {
                let unknown: Vec<&String> = ids.iter().filter(|id| !known_units.contains(*id)).collect();
                if !unknown.is_empty() {
                    errors.insert(
                        format!("scope_{}", role.code()),
                        tr.f("users.unknown_units", &[&unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")]),
                    );
                }
                Scope::Units(ids)
            }
        };
        if role.belongs_to_unit() && role != Role::Assessor && unit.is_none() {
            errors.insert("unit".into(), tr.f("users.role_needs_unit", &[&tr.role(role.code())]));
        }
        grants.push(RoleGrant { role: role.code().to_string(), scope: scope.to_json() });
    }
    if grants.is_empty() {
        errors.insert("roles".into(), tr.t("users.no_role").into());
    }
    grants
}

/// The roles ticked in a form, with the scopes typed beside them.
fn typed_roles(input: &UserInput) -> Vec<(Role, String)> {
    Role::ALL
        .into_iter()
        .filter(|r| input.rest.contains_key(&format!("role_{}", r.code())))
        .map(|r| (r, input.rest.get(&format!("scope_{}", r.code())).cloned().unwrap_or_default()))
        .collect()
}

/// The checks a new and an edited account share: a name, a known unit.
fn check_profile(tr: &Tr, input: &UserInput, unit: Option<&str>, known: &BTreeSet<String>, errors: &mut FieldErrors) {
    if input.display_name.trim().is_empty() {
        errors.insert("display_name".into(), tr.t("form.required").into());
    }
    if let Some(u) = unit
        && !known.contains(u)
    {
        errors.insert("unit".into(), tr.f("users.unknown_units", &[&u]));
    }
}

fn language_of(text: &str) -> String {
    crate::i18n::Lang::from_tag(text).unwrap_or_default().tag().to_string()
}

/// `POST /admin/users`: a new account with a first password it must change.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    axum::Form(input): axum::Form<UserInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let mut errors = FieldErrors::new();
    let username = input.username.trim().to_string();
    let unit = Some(input.unit.trim().to_string()).filter(|u| !u.is_empty());
    let known: BTreeSet<String> = state.store.units().await?.into_iter().map(|u| u.id).collect();
    if username.is_empty() || username.chars().any(char::is_whitespace) {
        errors.insert("username".into(), tr.t("users.bad_username").into());
    } else if state.store.user_by_username(&username).await?.is_some() {
        errors.insert("username".into(), tr.t("users.taken").into());
    }
    check_profile(&tr, &input, unit.as_deref(), &known, &mut errors);
    if let Err(p) = check_password(&username, &input.password) {
        errors.insert("password".into(), tr.t(p.key()).into());
    }
    let grants = parse_grants(&tr, &input, unit.as_deref(), &known, &mut errors);
    if !errors.is_empty() {
        let chrome = Chrome::new(&state, Some(&viewer), lang, "/admin/users/new", "users.new", crumbs(&tr), None).await;
        let form = UserForm {
            chrome,
            id: None,
            username,
            display_name: input.display_name.clone(),
            unit: input.unit.clone(),
            language: language_of(&input.language),
            disabled: false,
            units: unit_options(&state).await?,
            roles: role_lines(&tr, &typed_roles(&input)),
            errors,
        };
        return form_page(form);
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    let id = state
        .store
        .add_user(
            &mut tx,
            &NewUser {
                username: username.clone(),
                display_name: input.display_name.trim().to_string(),
                password: input.password.clone(),
                unit_id: unit.clone(),
                language: language_of(&input.language),
            },
        )
        .await?;
    state.store.set_roles(&mut tx, id, &grants).await?;
    // The administrator knows the first password: the user must choose their own.
    state.store.set_password(&mut tx, id, &input.password, true).await?;
    let roles: Vec<_> = grants.iter().map(|g| json!({"role": g.role, "scope": g.scope})).collect();
    tx.audit("user.add", "user", &username, None, Some(json!({"display_name": input.display_name.trim(), "unit": unit, "roles": roles})))
        .await?;
    tx.commit().await?;
    Ok(done("/admin/users", "user_created"))
}

/// `GET /admin/users/{id}`.
pub async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
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
    lang: Lang,
    Path(id): Path<i64>,
    axum::Form(input): axum::Form<UserInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let user = state.store.user(id).await?;
    let mut errors = FieldErrors::new();
    let unit = Some(input.unit.trim().to_string()).filter(|u| !u.is_empty());
    let known: BTreeSet<String> = state.store.units().await?.into_iter().map(|u| u.id).collect();
    check_profile(&tr, &input, unit.as_deref(), &known, &mut errors);
    let grants = parse_grants(&tr, &input, unit.as_deref(), &known, &mut errors);
    if !errors.is_empty() {
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
        return form_page(form);
    }
    let before_roles: Vec<_> = state.store.roles(id).await?.into_iter().map(|g| json!({"role": g.role, "scope": g.scope})).collect();
    let mut tx = state.store.begin(&viewer.actor).await?;
    state.store.update_user(&mut tx, id, &input.display_name, unit.as_deref(), &language_of(&input.language)).await?;
    state.store.set_roles(&mut tx, id, &grants).await?;
    let after_roles: Vec<_> = grants.iter().map(|g| json!({"role": g.role, "scope": g.scope})).collect();
    tx.audit(
        "user.update",
        "user",
        &user.username,
        Some(json!({"display_name": user.display_name, "unit": user.unit_id, "language": user.language, "roles": before_roles})),
        Some(json!({"display_name": input.display_name.trim(), "unit": unit, "language": language_of(&input.language), "roles": after_roles})),
    )
    .await?;
    tx.commit().await?;
    Ok(done(&format!("/admin/users/{id}"), "saved"))
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
    lang: Lang,
    Path(id): Path<i64>,
    axum::Form(input): axum::Form<ResetInput>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let user = state.store.user(id).await?;
    if let Err(p) = check_password(&user.username, &input.password) {
        return Err(WebError::invalid(tr.t(p.key())));
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    state.store.set_password(&mut tx, id, &input.password, true).await?;
    let ended = state.store.delete_user_sessions(&mut tx, id).await?;
    tx.audit("user.password_reset", "user", &user.username, None, Some(json!({"sessions_ended": ended}))).await?;
    tx.commit().await?;
    Ok(done(&format!("/admin/users/{id}"), "password_reset"))
}

/// `POST /admin/users/{id}/disable`: disables an enabled account (ending its sessions)
/// or enables a disabled one. Accounts are never deleted.
pub async fn toggle_disabled(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    let user = state.store.user(id).await?;
    if viewer.user_id() == Some(id) && !user.disabled {
        return Err(WebError::Store(StoreError::Invalid("you cannot disable your own account".into())));
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    state.store.set_user_disabled(&mut tx, id, !user.disabled).await?;
    if !user.disabled {
        state.store.delete_user_sessions(&mut tx, id).await?;
    }
    let action = if user.disabled { "user.enable" } else { "user.disable" };
    tx.audit(action, "user", &user.username, Some(json!({"disabled": user.disabled})), Some(json!({"disabled": !user.disabled}))).await?;
    tx.commit().await?;
    Ok(done(&format!("/admin/users/{id}"), "saved"))
}
