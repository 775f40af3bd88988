//! Handling requests: the office's dispatch queue (二级平台), a department's queue
//! (三级平台), and one request's page with the steps the viewer may take.
//!
//! Scope: the office and leaders see every request; a department's people see only
//! requests that are with their unit (`Viewer::can(ViewServiceRequests, Unit)`) — a
//! request of another unit answers 404, as if it did not exist. Every step is decided
//! by `core::service::lifecycle` with the viewer's grants, so a department cannot
//! dispatch and the office cannot reply on a department's behalf.
//!
//! Evidence (佐证材料): the department handling a request attaches files to it while
//! it is in hand (`accepted`) or replied and waiting for the office's check (`done`)
//! — the same file rules and store as a report's evidence (`jixiao_app::evidence`,
//! `store::attachments`, owner `service_evidence` / the case number). Everyone who
//! may see the request sees and downloads them (`/evidence/{id}`); the citizen's
//! query page never shows them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_app::service::flow::StepForm;
use jixiao_app::service::requests;
use jixiao_core::org::{Action, Target};
use jixiao_store::{RequestFilter, ServiceRequest};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::Chrome;
use jixiao_app::{Lang, Tr};

/// One row of a queue.
pub struct Row {
    pub id: i64,
    pub case_no: String,
    pub category: String,
    pub description: String,
    pub state: String,
    pub unit: String,
    pub created: String,
    pub deadline: String,
    /// green, yellow, red, or empty (no time limit running).
    pub light: &'static str,
}

#[derive(Template)]
#[template(path = "service/queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<Row>,
    states: Vec<(&'static str, String, bool)>,
}

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    state: Option<String>,
    flash: Option<String>,
}

async fn rows(state: &AppState, tr: &Tr, requests: Vec<ServiceRequest>) -> Result<Vec<Row>, WebError> {
    let categories = state.store.service_categories(true).await?;
    let units = state.store.units().await?;
    let mut out = Vec::new();
    for r in requests {
        let light = requests::overdue_light(state, &r).await?.map_or("", |l| l.code());
        out.push(Row {
            id: r.id,
            category: categories.iter().find(|c| c.code == r.service_code).map(|c| c.name.clone()).unwrap_or_default(),
            description: r.description.chars().take(60).collect(),
            state: tr.t(&format!("service.state.{}", r.state)).to_string(),
            unit: r.unit_id.as_ref().and_then(|u| units.iter().find(|x| &x.id == u)).map(|u| u.name.clone()).unwrap_or_default(),
            created: state.clock.short(&r.created_at),
            deadline: r.deadline.as_deref().map(|t| state.clock.short(t)).unwrap_or_default(),
            case_no: r.case_no,
            light,
        });
    }
    Ok(out)
}

const OFFICE_STATES: [&str; 7] = ["received", "rejected", "done", "dispatched", "accepted", "verified", "closed"];
const DEPARTMENT_STATES: [&str; 4] = ["dispatched", "accepted", "done", "closed"];

/// Which queue a page shows: its path, title key, the states to choose from (the
/// first is the default) and the units in scope (`None`: all).
struct Queue<'a> {
    here: &'a str,
    title: &'a str,
    choices: &'a [&'static str],
    units: Option<Vec<String>>,
}

async fn queue(state: &AppState, viewer: &Viewer, lang: Lang, which: Queue<'_>, q: QueueQuery) -> Result<Response, WebError> {
    let Queue { here, title, choices, units } = which;
    let chrome = Chrome::new(state, Some(viewer), lang, here, title, vec![], q.flash.as_deref()).await;
    let tr = chrome.tr;
    let chosen = q.state.filter(|s| choices.contains(&s.as_str())).unwrap_or_else(|| choices[0].to_string());
    let filter = RequestFilter { states: vec![chosen.clone()], units, limit: 200, newest_first: chosen == "closed", ..Default::default() };
    let (requests, _) = state.store.service_requests(&filter).await?;
    let rows = rows(state, &tr, requests).await?;
    let states = choices.iter().map(|s| (*s, tr.t(&format!("service.state.{s}")).to_string(), *s == chosen)).collect();
    Ok(render(QueuePage { chrome, rows, states })?.into_response())
}

/// `GET /service/dispatch?state=`: the office's queue, new requests first.
pub async fn dispatch_queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    queue(
        &state,
        &viewer,
        lang,
        Queue { here: "/service/dispatch", title: "service.dispatch_title", choices: &OFFICE_STATES, units: None },
        q,
    )
    .await
}

/// `GET /service/queue?state=`: the requests with the viewer's department.
pub async fn department_queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    let units = state.store.units().await?;
    let scope = requests::scope_units(&units, &viewer, Action::HandleServiceRequests)
        .unwrap_or_else(|| units.iter().map(|u| u.id.clone()).collect());
    queue(
        &state,
        &viewer,
        lang,
        Queue { here: "/service/queue", title: "service.queue_title", choices: &DEPARTMENT_STATES, units: Some(scope) },
        q,
    )
    .await
}

#[derive(Template)]
#[template(path = "service/request.html")]
struct RequestPage {
    chrome: Chrome,
    r: ServiceRequest,
    category: String,
    unit: String,
    state_label: String,
    /// The deadline of the last dispatch, as pages show times.
    deadline: String,
    light: &'static str,
    history: Vec<(String, String, String, String, String)>,
    steps: Vec<&'static str>,
    units: Vec<(String, String, bool)>,
    photo: Option<i64>,
    /// (attachment id, file name, KiB, uploaded by, when).
    evidence: Vec<(i64, String, i64, String, String)>,
    /// Whether the viewer may attach evidence now.
    can_attach: bool,
}

/// `GET /service/requests/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    let r = requests::visible(&state, &viewer, id).await?;
    // The queue the viewer came from (a leader has none).
    let back = if viewer.can(Action::DispatchServiceRequests, Target::Nothing) {
        Some(("/service/dispatch", "service.dispatch_title"))
    } else if viewer.can(Action::HandleServiceRequests, Target::Nothing) {
        Some(("/service/queue", "service.queue_title"))
    } else {
        None
    };
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, &format!("/service/requests/{id}"), "service.request_title", vec![], q.flash.as_deref())
            .await;
    if let Some((href, title)) = back {
        chrome.crumbs.insert(1, (chrome.tr.t(title).to_string(), href.to_string()));
    }
    chrome.title = format!("{} {}", chrome.title, r.case_no);
    let tr = chrome.tr;
    let category = state.store.service_category(&r.service_code).await?;
    let units = state.store.units().await?;
    let suggested = category.as_ref().and_then(|c| c.unit_id.clone());
    let unit = r.unit_id.as_ref().and_then(|u| units.iter().find(|x| &x.id == u)).map(|u| u.name.clone()).unwrap_or_default();
    let history = state
        .store
        .service_events(r.id)
        .await?
        .into_iter()
        .map(|e| {
            let unit = e.unit_id.as_ref().and_then(|u| units.iter().find(|x| &x.id == u)).map(|u| u.name.clone()).unwrap_or_default();
            (state.clock.short(&e.at), tr.t(&format!("service.step.{}", e.step)).to_string(), e.actor, unit, e.text)
        })
        .collect();
    let light = requests::overdue_light(&state, &r).await?.map_or("", |l| l.code());
    let steps = requests::possible_steps(&viewer, &r);
    let choose = suggested.clone().or(r.unit_id.clone());
    let units =
        units.into_iter().filter(|u| !u.disabled).map(|u| (u.id.clone(), u.name, choose.as_deref() == Some(u.id.as_str()))).collect();
    let photo = state.store.attachments(requests::PHOTO_OWNER, std::slice::from_ref(&r.case_no)).await?.first().map(|a| a.id);
    let evidence = state
        .store
        .attachments(requests::EVIDENCE_OWNER, std::slice::from_ref(&r.case_no))
        .await?
        .into_iter()
        .map(|a| (a.id, a.filename, (a.size + 1023) / 1024, a.uploaded_by, state.clock.short(&a.uploaded_at)))
        .collect();
    let can_attach = requests::handles(&viewer, &r) && requests::EVIDENCE_STATES.contains(&r.state.as_str());
    let state_label = tr.t(&format!("service.state.{}", r.state)).to_string();
    let category = category.map(|c| c.name).unwrap_or_default();
    let deadline = r.deadline.as_deref().map(|t| state.clock.short(t)).unwrap_or_default();
    Ok(render(RequestPage { chrome, category, unit, state_label, deadline, light, history, steps, units, photo, evidence, can_attach, r })?
        .into_response())
}

/// `POST /service/requests/{id}`: takes the step of the form.
pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<StepForm>,
) -> Result<Response, WebError> {
    requests::take_step(&state, &viewer, &Tr::new(lang), id, &form).await?;
    Ok(done(&format!("/service/requests/{id}"), "service_step"))
}

/// `GET /service/requests/{id}/photo`: the request's photo, as an attachment.
pub async fn photo(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    let (a, content) = requests::photo(&state, &viewer, id).await?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, a.content_type.clone()),
        (axum::http::header::CONTENT_DISPOSITION, jixiao_app::files::disposition(&a.filename)),
    ];
    Ok((headers, content).into_response())
}

/// `POST /service/requests/{id}/evidence` (multipart `file`, CSRF token in the query):
/// the department handling the request attaches an evidence file — with the file, a
/// history entry (not shown to the citizen) and the audit entry in one transaction.
pub async fn upload_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let (name, bytes) = crate::pages::uploaded_file(&tr, multipart).await?;
    requests::attach_evidence(&state, &viewer, &tr, id, &name, &bytes).await?;
    Ok(done(&format!("/service/requests/{id}"), "evidence_added"))
}
