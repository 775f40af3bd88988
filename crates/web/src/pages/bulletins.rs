//! Bulletins (通报) in the browser: the list (`/bulletins`), one bulletin's page with
//! the ranking of every group, every category and indicator score per unit, the
//! ledger of bonus and deduction records and the formulas used; its print view with
//! the red header of a government notice (A4, no JavaScript); its workbook; and the
//! office's steps — draft, publish, revise, make public.
//!
//! Who sees which bulletin and which units' detail is `app::bulletins`' rule, for the
//! page, the print view, the workbook and the API alike. What is here is the layout;
//! published bulletins, whose content is frozen, are rendered once per language and
//! detail scope and kept (`view::Rendered`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_app::bulletins::{self, ListRow, Revision, View};
use jixiao_app::{Lang, Tr};
use jixiao_core::org::{Action, Target};
use jixiao_store::{Bulletin, BulletinState};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::Chrome;

#[derive(Template)]
#[template(path = "bulletins.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    can_manage: bool,
    default_period: String,
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

/// `GET /bulletins`: the office sees every revision, drafts included, and drafts a
/// new one; everyone else the published ones.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/bulletins", "bulletin.list_title", vec![], q.flash.as_deref()).await;
    let can_manage = viewer.can(Action::ManageSchemes, Target::Nothing);
    let rows = bulletins::visible(&state, Some(&viewer)).await?.iter().map(|b| ListRow::of(&chrome.tr, &state.clock, b)).collect();
    // The month due now, as the dashboard and the forms have it.
    let default_period = jixiao_app::collection::due_month(&state).to_string();
    Ok(render(ListPage { chrome, rows, can_manage, default_period })?.into_response())
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    title: String,
}

/// `POST /bulletins`: drafts the bulletin of a period (the office).
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<CreateForm>,
) -> Result<Response, WebError> {
    let b = bulletins::create(&state, &viewer, &Tr::new(lang), &form.period, &form.title).await?;
    Ok(done(&format!("/bulletins/{}", b.id), "bulletin_created"))
}

/// The content of a bulletin rendered (`bulletin_body.html`), shared by the page and
/// the print view.
#[derive(Template)]
#[template(path = "bulletin_body.html")]
struct Body<'a> {
    tr: Tr,
    v: &'a View,
}

/// A bulletin's view and its rendered content.
pub(crate) struct Rendered {
    v: View,
    body: String,
}

/// Bulletin `id` rendered for `viewer`, with its current header: from the cache for a
/// published bulletin, else built (and cached when published). The same access
/// rules as `bulletins::open`.
async fn rendered(state: &AppState, viewer: Option<&Viewer>, lang: Lang, id: &str) -> Result<(Bulletin, Arc<Rendered>), WebError> {
    let id = parse_id(id)?;
    let actor = viewer.map(|v| &v.actor);
    let header = state.store.bulletin_header(id).await?;
    let key = format!("bulletin:{id}:{}:{}", lang.tag(), bulletins::detail_key(actor));
    let poisoned = || WebError::Internal("bulletin cache poisoned".into());
    if header.state == BulletinState::Published {
        bulletins::check_access(&header, actor)?;
        if let Some(r) = state.rendered.get::<Rendered>(&key).map_err(|_| poisoned())? {
            return Ok((header, r));
        }
    }
    let opened = bulletins::open(state, actor, id).await?;
    let detail = bulletins::detail_units(actor, &opened.content);
    let tr = Tr::new(lang);
    let v = View::build(&tr, &state.clock, &opened, &detail);
    let body = Body { tr, v: &v }.render().map_err(|e| WebError::Internal(e.to_string()))?;
    let r = Arc::new(Rendered { v, body });
    if opened.bulletin.state == BulletinState::Published {
        state.rendered.put(key, r.clone()).map_err(|_| poisoned())?;
    }
    Ok((opened.bulletin, r))
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinPage {
    chrome: Chrome,
    tr: Tr,
    v: Header,
    body: Arc<Rendered>,
    revisions: Vec<Revision>,
    can_manage: bool,
}

/// What the page shows above the content, from the current row (a cached rendering's
/// header may be older: the public flag changes).
struct Header {
    id: i64,
    number: String,
    title: String,
    revision: i64,
    state: &'static str,
    public: bool,
    period_label: String,
    scheme: String,
    published: String,
    computed_at: String,
    note: String,
}

/// `GET /bulletins/{id}`: the bulletin (a draft computed live from the stored scores).
pub async fn show(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    Language(lang): Language,
    Path(id): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let (b, r) = rendered(&state, viewer.as_ref(), lang, &id).await?;
    let revisions = bulletins::revisions(&state, viewer.as_deref(), &b).await?;
    let crumbs = vec![(Tr::new(lang).t("bulletin.list_title").to_string(), "/bulletins".to_string())];
    let here = format!("/bulletins/{}", b.id);
    let mut chrome = Chrome::new(
        &state,
        viewer.as_ref(),
        lang,
        &here,
        "bulletin.title",
        if viewer.is_some() { crumbs } else { vec![] },
        q.flash.as_deref(),
    )
    .await;
    let v = Header {
        id: b.id,
        number: r.v.number.clone(),
        title: r.v.title.clone(),
        revision: b.revision,
        state: b.state.as_str(),
        public: b.public,
        period_label: r.v.period_label.clone(),
        scheme: r.v.scheme.clone(),
        published: r.v.published.clone(),
        computed_at: r.v.computed_at.clone(),
        note: b.note.clone(),
    };
    chrome.title = format!("{} {}", v.number, v.title);
    if let Some(last) = chrome.crumbs.last_mut() {
        last.0 = v.number.clone();
    }
    let can_manage = viewer.as_ref().is_some_and(|v| v.can(Action::ManageSchemes, Target::Nothing));
    let tr = chrome.tr;
    Ok(render(BulletinPage { chrome, tr, v, body: r, revisions, can_manage })?.into_response())
}

#[derive(Template)]
#[template(path = "bulletin_print.html")]
struct PrintPage {
    tr: Tr,
    v: Arc<Rendered>,
}

/// `GET /bulletins/{id}/print`: the notice on A4 with its red header, for printing.
pub async fn print(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    Language(lang): Language,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (_, v) = rendered(&state, viewer.as_ref(), lang, &id).await?;
    Ok(render(PrintPage { tr: Tr::new(lang), v })?.into_response())
}

/// `GET /bulletins/{id}/export.xlsx`: the bulletin as a workbook (what the viewer may see).
pub async fn export_xlsx(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    Language(lang): Language,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let actor = viewer.as_deref();
    let opened = bulletins::open(&state, actor, parse_id(&id)?).await?;
    let detail = bulletins::detail_units(actor, &opened.content);
    let tr = Tr::new(lang);
    let bytes = jixiao_app::xlsx::bulletin::write(&tr, &opened, &detail).map_err(|e| WebError::Internal(e.to_string()))?;
    let b = &opened.bulletin;
    let name = format!("attachment; filename=\"bulletin-{}-{}-r{}.xlsx\"", b.year, b.number, b.revision);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

fn parse_id(id: &str) -> Result<i64, WebError> {
    id.parse().map_err(|_| WebError::NotFound)
}

/// `POST /bulletins/{id}/publish`: freezes a draft.
pub async fn publish(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    bulletins::publish(&state, &viewer, id).await?;
    Ok(done(&format!("/bulletins/{id}"), "bulletin_published"))
}

#[derive(Deserialize)]
pub struct ReviseForm {
    #[serde(default)]
    note: String,
}

/// `POST /bulletins/{id}/revise`: the next revision of a published bulletin, as a draft.
pub async fn revise(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ReviseForm>,
) -> Result<Response, WebError> {
    let b = bulletins::revise(&state, &viewer, &Tr::new(lang), parse_id(&id)?, &form.note).await?;
    Ok(done(&format!("/bulletins/{}", b.id), "bulletin_revised"))
}

#[derive(Deserialize)]
pub struct PublicForm {
    #[serde(default)]
    public: String,
}

/// `POST /bulletins/{id}/public`: shows (`public=1`) or hides (`public=0`) a published
/// bulletin on the public front page.
pub async fn set_public(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<PublicForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let public = match form.public.as_str() {
        "1" => true,
        "0" => false,
        other => return Err(WebError::invalid(format!("public must be 1 or 0, not `{other}`"))),
    };
    bulletins::set_public(&state, &viewer, id, public).await?;
    Ok(done(&format!("/bulletins/{id}"), if public { "bulletin_public" } else { "bulletin_private" }))
}
