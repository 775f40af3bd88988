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
//! — the same file rules and store as a report's evidence (`crate::evidence`,
//! `store::attachments`, owner `service_evidence` / the case number). Everyone who
//! may see the request sees and downloads them (`/evidence/{id}`); the citizen's
//! query page never shows them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_core::org::{Action, Target};
use jixiao_core::service::lifecycle::may;
use jixiao_core::service::{Actor, Step, light};
use jixiao_store::{RequestFilter, ServiceRequest};
use serde::Deserialize;

use super::when;
use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::admin::done;
use crate::pages::render;
use crate::service::flow::{self, StepForm};
use crate::service::{calendar, local};
use crate::view::Chrome;

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
    let cal = calendar(state).await?;
    let categories = state.store.service_categories(true).await?;
    let units = state.store.units().await?;
    let now = chrono::Local::now().naive_local();
    Ok(requests
        .into_iter()
        .map(|r| {
            let running = matches!(r.state.as_str(), "dispatched" | "accepted");
            let light = match (running, r.deadline.as_deref().and_then(local)) {
                (true, Some(d)) => light(&cal, d, now).code(),
                _ => "",
            };
            Row {
                id: r.id,
                category: categories.iter().find(|c| c.code == r.service_code).map(|c| c.name.clone()).unwrap_or_default(),
                description: r.description.chars().take(60).collect(),
                state: tr.t(&format!("service.state.{}", r.state)).to_string(),
                unit: r.unit_id.as_ref().and_then(|u| units.iter().find(|x| &x.id == u)).map(|u| u.name.clone()).unwrap_or_default(),
                created: when(&r.created_at),
                deadline: r.deadline.as_deref().map(when).unwrap_or_default(),
                case_no: r.case_no,
                light,
            }
        })
        .collect())
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
    lang: Lang,
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

/// Whether a grant of one of the action's roles covers every unit.
fn sees_all(viewer: &Viewer, action: Action) -> bool {
    let roles = jixiao_core::org::roles_for(action);
    viewer.grants.iter().any(|g| roles.contains(&g.role) && g.scope == jixiao_core::org::Scope::All)
}

/// The units whose requests the viewer may see (`None`: all).
fn scope_units(state_units: &[jixiao_store::Unit], viewer: &Viewer, action: Action) -> Option<Vec<String>> {
    if sees_all(viewer, action) {
        return None;
    }
    Some(state_units.iter().filter(|u| viewer.can(action, Target::Unit(&u.id))).map(|u| u.id.clone()).collect())
}

/// `GET /service/queue?state=`: the requests with the viewer's department.
pub async fn department_queue(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    let units = state.store.units().await?;
    let scope = scope_units(&units, &viewer, Action::HandleServiceRequests).unwrap_or_else(|| units.iter().map(|u| u.id.clone()).collect());
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

/// The owner type of a department's evidence files; the owner id is the case number.
pub const EVIDENCE_OWNER: &str = "service_evidence";

/// States in which the department may attach evidence.
const EVIDENCE_STATES: [&str; 2] = ["accepted", "done"];

/// Whether the viewer handles requests for the unit the request is with.
fn handles(viewer: &Viewer, r: &ServiceRequest) -> bool {
    r.unit_id.as_deref().is_some_and(|u| viewer.can(Action::HandleServiceRequests, Target::Unit(u)))
}

/// The request `id` if the viewer may see it; 404 otherwise (also for another unit's).
pub(crate) async fn visible(state: &AppState, viewer: &Viewer, id: i64) -> Result<ServiceRequest, WebError> {
    let r = state.store.service_request(id).await?.ok_or(WebError::NotFound)?;
    let sees_all = viewer.can(Action::DispatchServiceRequests, Target::Nothing) || sees_all(viewer, Action::ViewServiceRequests);
    let sees_unit = r.unit_id.as_deref().is_some_and(|u| viewer.can(Action::ViewServiceRequests, Target::Unit(u)));
    if sees_all || sees_unit { Ok(r) } else { Err(WebError::NotFound) }
}

/// The steps the viewer's grants allow on this request in its state.
fn possible_steps(viewer: &Viewer, r: &ServiceRequest) -> Vec<&'static str> {
    let Ok(current) = flow::current(r) else { return Vec::new() };
    let actor = Actor::User(&viewer.grants);
    let samples = [
        Step::Dispatch { unit: "x" },
        Step::Transfer { unit: "\u{0}other", reason: "x" },
        Step::Accept,
        Step::Reject { reason: "x" },
        Step::Note { text: "x" },
        Step::Reply { text: "x" },
        Step::Verify,
        Step::Redo { reason: "x" },
        Step::Escalate { reason: "x" },
        Step::Merge { into: "x" },
    ];
    samples
        .iter()
        .filter(|s| may(&actor, s, current.unit) && jixiao_core::service::next(&current, s, &actor).is_ok())
        .map(|s| s.code())
        .collect()
}

/// `GET /service/requests/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<QueueQuery>,
) -> Result<Response, WebError> {
    let r = visible(&state, &viewer, id).await?;
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
            (when(&e.at), tr.t(&format!("service.step.{}", e.step)).to_string(), e.actor, unit, e.text)
        })
        .collect();
    let light = match (matches!(r.state.as_str(), "dispatched" | "accepted"), r.deadline.as_deref().and_then(local)) {
        (true, Some(d)) => light(&calendar(&state).await?, d, chrono::Local::now().naive_local()).code(),
        _ => "",
    };
    let steps = possible_steps(&viewer, &r);
    let choose = suggested.clone().or(r.unit_id.clone());
    let units =
        units.into_iter().filter(|u| !u.disabled).map(|u| (u.id.clone(), u.name, choose.as_deref() == Some(u.id.as_str()))).collect();
    let photo = state.store.attachments("service_request", std::slice::from_ref(&r.case_no)).await?.first().map(|a| a.id);
    let evidence = state
        .store
        .attachments(EVIDENCE_OWNER, std::slice::from_ref(&r.case_no))
        .await?
        .into_iter()
        .map(|a| (a.id, a.filename, (a.size + 1023) / 1024, a.uploaded_by, when(&a.uploaded_at)))
        .collect();
    let can_attach = handles(&viewer, &r) && EVIDENCE_STATES.contains(&r.state.as_str());
    let state_label = tr.t(&format!("service.state.{}", r.state)).to_string();
    let category = category.map(|c| c.name).unwrap_or_default();
    let deadline = r.deadline.as_deref().map(when).unwrap_or_default();
    Ok(render(RequestPage { chrome, category, unit, state_label, deadline, light, history, steps, units, photo, evidence, can_attach, r })?
        .into_response())
}

/// `POST /service/requests/{id}`: takes the step of the form.
pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<StepForm>,
) -> Result<Response, WebError> {
    let r = visible(&state, &viewer, id).await?;
    if form.version != 0 && form.version != r.version {
        return Err(WebError::Conflict(format!("request {} was changed by someone else; reload the page", r.case_no)));
    }
    if form.step == "rate" {
        return Err(WebError::Forbidden);
    }
    let step = form.step()?;
    flow::apply(&state, &viewer.actor, Actor::User(&viewer.grants), &r, step).await?;
    Ok(done(&format!("/service/requests/{id}"), "service_step"))
}

/// `GET /service/requests/{id}/photo`: the request's photo, as an attachment.
pub async fn photo(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    let r = visible(&state, &viewer, id).await?;
    let first =
        state.store.attachments("service_request", std::slice::from_ref(&r.case_no)).await?.into_iter().next().ok_or(WebError::NotFound)?;
    let (a, content) = state.store.attachment(first.id).await?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, a.content_type.clone()),
        (axum::http::header::CONTENT_DISPOSITION, crate::evidence::disposition(&a.filename)),
    ];
    Ok((headers, content).into_response())
}

/// `POST /service/requests/{id}/evidence` (multipart `file`, CSRF token in the query):
/// the department handling the request attaches an evidence file — with the file, a
/// history entry (not shown to the citizen) and the audit entry in one transaction.
pub async fn upload_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    Path(id): Path<i64>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let r = visible(&state, &viewer, id).await?;
    if !handles(&viewer, &r) {
        return Err(WebError::Forbidden);
    }
    if !EVIDENCE_STATES.contains(&r.state.as_str()) {
        return Err(WebError::invalid(tr.f("service.error.evidence_state", &[&tr.t(&format!("service.state.{}", r.state))])));
    }
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| WebError::invalid(tr.t("service.error.form")))? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| WebError::TooLarge)?;
            if bytes.len() > crate::evidence::MAX_BYTES {
                return Err(WebError::invalid(tr.f("service.error.evidence_size", &[&(crate::evidence::MAX_BYTES / 1024 / 1024)])));
            }
            file = Some((name, bytes));
        }
    }
    let (name, bytes) = file.filter(|(_, b)| !b.is_empty()).ok_or_else(|| WebError::invalid(tr.t("service.error.no_file")))?;
    let content_type = crate::evidence::kind_of(&name, &bytes).map_err(WebError::invalid)?;
    let mut tx = state.store.begin(&viewer.actor).await?;
    let stored = state.store.add_attachment(&mut tx, EVIDENCE_OWNER, &r.case_no, &name, content_type, &bytes).await?;
    let event = jixiao_store::NewServiceEvent {
        step: "evidence".into(),
        from_state: Some(r.state.clone()),
        to_state: r.state.clone(),
        unit_id: r.unit_id.clone(),
        text: name.clone(),
        public: false,
        at: None,
    };
    state.store.add_service_event(&mut tx, r.id, &event).await?;
    let after = serde_json::json!({"attachment": stored.id, "filename": name, "size": stored.size, "sha256": stored.sha256});
    tx.audit("service.evidence", "service_request", &r.case_no, None, Some(after)).await?;
    tx.commit().await?;
    Ok(done(&format!("/service/requests/{id}"), "evidence_added"))
}
