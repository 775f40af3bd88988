//! The office's editor of service categories (诉求类别, the Open311 services):
//! `/service/categories` lists them with the form to add one; `/service/categories/{code}`
//! edits one and deactivates or reactivates it. The rules — what a category and its
//! attributes may be, the fingerprint that refuses a stale form (409) — are
//! `app::service::categories`'.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jixiao_app::service::categories::{self, CategoryForm, DATATYPES, form_of};
use jixiao_store::ServiceCategory;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::Chrome;
use jixiao_app::{Lang, Tr};

/// One category in the list.
pub struct ListRow {
    pub code: String,
    pub name: String,
    pub group: String,
    pub unit: String,
    pub sla_days: i64,
    pub attributes: usize,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "service/categories.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    form: CategoryForm,
    errors: Vec<(String, String)>,
    units: Vec<(String, String)>,
    datatypes: String,
}

#[derive(Template)]
#[template(path = "service/category.html")]
struct EditPage {
    chrome: Chrome,
    code: String,
    disabled: bool,
    form: CategoryForm,
    errors: Vec<(String, String)>,
    units: Vec<(String, String)>,
    datatypes: String,
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

fn datatypes() -> String {
    DATATYPES.join(", ")
}

async fn unit_choices(state: &AppState) -> Result<Vec<(String, String)>, WebError> {
    Ok(state.store.units().await?.into_iter().filter(|u| !u.disabled).map(|u| (u.id, u.name)).collect())
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    form: CategoryForm,
    errors: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/service/categories", "service.categories_title", vec![], flash).await;
    let units = unit_choices(state).await?;
    let all_units = state.store.units().await?;
    let mut rows = Vec::new();
    for c in state.store.service_categories(true).await? {
        let attributes = state.store.service_attributes(&c.code).await?.len();
        rows.push(ListRow {
            unit: c.unit_id.as_ref().and_then(|u| all_units.iter().find(|x| &x.id == u)).map(|u| u.name.clone()).unwrap_or_default(),
            code: c.code,
            name: c.name,
            group: c.group_name,
            sla_days: c.sla_days,
            attributes,
            disabled: c.disabled,
        });
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok((status, render(ListPage { chrome, rows, form, errors, units, datatypes: datatypes() })?).into_response())
}

/// `GET /service/categories`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let form = CategoryForm { sla_days: "5".into(), sort_order: "0".into(), ..CategoryForm::default() };
    list_page(&state, &viewer, lang, q.flash.as_deref(), form, Vec::new()).await
}

/// `POST /service/categories`: adds a category.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<CategoryForm>,
) -> Result<Response, WebError> {
    match categories::create(&state, &viewer, &Tr::new(lang), &form).await? {
        Ok(code) => Ok(done(&format!("/service/categories/{code}"), "category_saved")),
        Err(problems) => list_page(&state, &viewer, lang, None, form, problems).await,
    }
}

async fn edit_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    c: &ServiceCategory,
    form: CategoryForm,
    errors: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let crumbs = vec![(Tr::new(lang).t("service.categories_title").to_string(), "/service/categories".to_string())];
    let mut chrome =
        Chrome::new(state, Some(viewer), lang, &format!("/service/categories/{}", c.code), "service.category_edit", crumbs, flash).await;
    chrome.title = format!("{} · {}", chrome.title, c.name);
    let units = unit_choices(state).await?;
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok((status, render(EditPage { chrome, code: c.code.clone(), disabled: c.disabled, form, errors, units, datatypes: datatypes() })?)
        .into_response())
}

/// `GET /service/categories/{code}`.
pub async fn edit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(code): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let (c, attributes) = categories::stored(&state, &code).await?;
    let form = form_of(&c, &attributes);
    edit_page(&state, &viewer, lang, q.flash.as_deref(), &c, form, Vec::new()).await
}

/// `POST /service/categories/{code}`: saves a category (its code stays).
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<CategoryForm>,
) -> Result<Response, WebError> {
    match categories::update(&state, &viewer, &Tr::new(lang), &code, &form).await? {
        Ok(()) => Ok(done(&format!("/service/categories/{code}"), "category_saved")),
        Err(problems) => {
            let (before, _) = categories::stored(&state, &code).await?;
            edit_page(&state, &viewer, lang, None, &before, form, problems).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ToggleForm {
    #[serde(default)]
    fingerprint: String,
}

/// `POST /service/categories/{code}/disable`: deactivates an active category,
/// reactivates a deactivated one.
pub async fn toggle(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<ToggleForm>,
) -> Result<Response, WebError> {
    let disabled = categories::toggle(&state, &viewer, &Tr::new(lang), &code, &form.fingerprint).await?;
    Ok(done(&format!("/service/categories/{code}"), if disabled { "category_disabled" } else { "category_enabled" }))
}
