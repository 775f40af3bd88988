//! Supervision tasks (督办事项) in the browser: the ledger with its filters and
//! export (`/supervision`), the form that assigns a task (also opened from a red light
//! with the task prefilled), one task's page with its history, the steps the viewer
//! may take and its evidence, and the leader's dashboard. Every decision is
//! `jixiao_app::supervision`'s; a task of another unit answers 404.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_app::Tr;
use jixiao_app::supervision::dashboard::{self, Dashboard};
use jixiao_app::supervision::ledger::{self, Figures, LedgerFilter, LedgerRow};
use jixiao_app::supervision::tasks::{self, StepForm, TaskForm};
use jixiao_core::org::{Action, Target};
use jixiao_core::supervision::{Grade, Priority, Source};
use jixiao_store::{SupervisionTask, Unit};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::Chrome;

/// A row of the ledger as the page shows it.
pub struct Row {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub source: String,
    pub priority: String,
    pub priority_code: String,
    pub lead: String,
    pub co: String,
    pub leader: String,
    pub assigned: String,
    pub deadline: String,
    pub state: String,
    pub light: &'static str,
    pub overdue: String,
}

fn unit_name(units: &[Unit], id: &str) -> String {
    units.iter().find(|u| u.id == id).map_or_else(|| id.to_string(), |u| u.name.clone())
}

fn row(state: &AppState, tr: &Tr, units: &[Unit], r: &LedgerRow) -> Row {
    let t = &r.task;
    let lead = t.units.iter().find(|u| u.lead);
    Row {
        id: t.id,
        code: t.code.clone(),
        title: t.title.clone(),
        source: tr.t(&format!("supervision.source.{}", t.source_kind)).to_string(),
        priority: tr.t(&format!("supervision.priority.{}", t.priority)).to_string(),
        priority_code: t.priority.clone(),
        lead: lead.map(|u| unit_name(units, &u.unit_id)).unwrap_or_default(),
        co: t.units.iter().filter(|u| !u.lead).map(|u| unit_name(units, &u.unit_id)).collect::<Vec<_>>().join("、"),
        leader: lead.map(|u| u.leader_name.clone()).unwrap_or_default(),
        assigned: state.clock.from_stored(&t.created_at).map(|d| d.date().to_string()).unwrap_or_default(),
        deadline: t.deadline.clone(),
        state: tr.t(&format!("supervision.state.{}", t.state)).to_string(),
        light: r.light.map_or("", |l| l.code()),
        overdue: match r.overdue {
            Some(true) => tr.t("supervision.overdue_yes").to_string(),
            Some(false) => tr.t("supervision.overdue_no").to_string(),
            None => String::new(),
        },
    }
}

#[derive(Template)]
#[template(path = "supervision/ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    rows: Vec<Row>,
    figures: Figures,
    filter: LedgerFilter,
    /// (id, name, chosen)
    units: Vec<(String, String, bool)>,
    sources: Vec<(&'static str, String, bool)>,
    states: Vec<(&'static str, String, bool)>,
    query: String,
    can_assign: bool,
    can_verify: bool,
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    #[serde(flatten)]
    filter: LedgerFilter,
    flash: Option<String>,
}

fn query_of(f: &LedgerFilter) -> String {
    let enc = jixiao_app::text::url_encode;
    format!("unit={}&leader={}&source={}&state={}&month={}", enc(&f.unit), enc(&f.leader), enc(&f.source), enc(&f.state), enc(&f.month))
}

/// `GET /supervision?unit=&leader=&source=&state=&month=`: the ledger.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/supervision", "supervision.ledger_title", vec![], q.flash.as_deref()).await;
    let tr = chrome.tr;
    let rows = ledger::rows(&state, &viewer, &tr, &q.filter).await?;
    let figures = ledger::figures(&rows);
    let all_units = state.store.units().await?;
    let lines = rows.iter().map(|r| row(&state, &tr, &all_units, r)).collect();
    let f = q.filter;
    let units = all_units
        .iter()
        .filter(|u| !u.disabled && viewer.can(Action::ViewSupervision, Target::Unit(&u.id)))
        .map(|u| (u.id.clone(), u.name.clone(), u.id == f.unit))
        .collect();
    let sources = Source::KINDS.iter().map(|k| (*k, tr.t(&format!("supervision.source.{k}")).to_string(), *k == f.source)).collect();
    let states = jixiao_core::supervision::TaskState::ALL
        .iter()
        .map(|s| (s.code(), tr.t(&format!("supervision.state.{}", s.code())).to_string(), s.code() == f.state))
        .collect();
    let page = LedgerPage {
        query: query_of(&f),
        can_assign: viewer.can(Action::AssignSupervision, Target::Nothing),
        can_verify: viewer.can(Action::VerifySupervision, Target::Nothing),
        chrome,
        rows: lines,
        figures,
        filter: f,
        units,
        sources,
        states,
    };
    Ok(render(page)?.into_response())
}

/// `GET /supervision/ledger.xlsx?…`: the filtered ledger as a workbook.
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<LedgerQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let rows = ledger::rows(&state, &viewer, &tr, &q.filter).await?;
    let bytes = ledger::workbook(&state, &tr, &rows).await?;
    let name = format!("{}-{}.xlsx", tr.t("supervision.ledger_title"), state.clock.today());
    Ok((
        [
            (header::CONTENT_TYPE, jixiao_app::xlsx::CONTENT_TYPE.to_string()),
            (header::CONTENT_DISPOSITION, jixiao_app::files::disposition(&name)),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /supervision/overdue`: the office runs the overdue pass now.
pub async fn run_overdue(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    jixiao_app::supervision::overdue::run(&state, &viewer).await?;
    Ok(done("/supervision", "supervision_overdue"))
}

#[derive(Template)]
#[template(path = "supervision/new.html")]
struct NewPage {
    chrome: Chrome,
    form: TaskForm,
    units: Vec<(String, String)>,
    priorities: Vec<(&'static str, String)>,
    sources: Vec<(&'static str, String)>,
    today: String,
    source_label: String,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    source_kind: Option<String>,
    source_ref: Option<String>,
}

/// The units the viewer may assign tasks to.
async fn assignable(state: &AppState, viewer: &Viewer) -> Result<Vec<(String, String)>, WebError> {
    Ok(state
        .store
        .units()
        .await?
        .into_iter()
        .filter(|u| !u.disabled && viewer.can(Action::AssignSupervision, Target::Unit(&u.id)))
        .map(|u| (u.id, u.name))
        .collect())
}

/// `GET /supervision/new?source_kind=red_light&source_ref=u01/2027-03/A1`: the form,
/// prefilled from its source.
pub async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<NewQuery>,
) -> Result<Response, WebError> {
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/supervision/new", "supervision.new_title", vec![], None).await;
    chrome.crumbs.insert(1, (chrome.tr.t("supervision.ledger_title").to_string(), "/supervision".to_string()));
    let tr = chrome.tr;
    let units = assignable(&state, &viewer).await?;
    let calendar = jixiao_app::supervision::calendar(&state).await?;
    let today = state.clock.today();
    let mut form = TaskForm {
        deadline: calendar.add_working_days(today, 10).to_string(),
        priority: Priority::Normal.code().into(),
        source_kind: "manual".into(),
        ..Default::default()
    };
    let mut source_label = String::new();
    if let (Some(kind), Some(reference)) = (q.source_kind.as_deref(), q.source_ref.as_deref()) {
        let source = Source::parse(kind, reference).map_err(WebError::invalid)?;
        form.source_kind = source.kind().into();
        form.source_ref = source.reference();
        if let Source::RedLight { unit, month, indicator } = &source {
            let name = units.iter().find(|u| &u.0 == unit).map(|u| u.1.clone()).ok_or(WebError::NotFound)?;
            let indicator_name = match state.latest_scheme(month.year).await? {
                Some((_, s)) => s.node_index(indicator).map_or_else(|| indicator.clone(), |n| s.nodes[n].name.clone()),
                None => indicator.clone(),
            };
            form.title = tr.f("supervision.prefill_title", &[&name, &indicator_name, &month]);
            form.requirement = tr.f("supervision.prefill_requirement", &[&name, &month, &indicator_name]);
            form.priority = Priority::High.code().into();
            form.lead.unit = unit.clone();
            source_label = format!("{} {}", tr.t("supervision.source.red_light"), form.source_ref);
        } else {
            source_label = format!("{} {}", tr.t(&format!("supervision.source.{}", source.kind())), form.source_ref);
        }
    }
    let priorities = Priority::ALL.iter().map(|p| (p.code(), tr.t(&format!("supervision.priority.{}", p.code())).to_string())).collect();
    let sources = Source::KINDS.iter().map(|k| (*k, tr.t(&format!("supervision.source.{k}")).to_string())).collect();
    Ok(render(NewPage { chrome, form, units, priorities, sources, today: today.to_string(), source_label })?.into_response())
}

/// `POST /supervision`: assigns the task of the form.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = TaskForm::from_pairs(&pairs);
    let t = tasks::create(&state, &viewer, &Tr::new(lang), &form).await?;
    Ok(done(&format!("/supervision/tasks/{}", t.id), "supervision_assigned"))
}

/// A unit of the task as its page shows it.
pub struct UnitLine {
    pub id: String,
    pub name: String,
    pub lead: bool,
    pub leader: String,
    pub person: String,
    pub signed: String,
    pub grade: String,
    pub score: String,
}

#[derive(Template)]
#[template(path = "supervision/task.html")]
struct TaskPage {
    chrome: Chrome,
    t: SupervisionTask,
    source: String,
    priority: String,
    state_label: String,
    light: &'static str,
    units: Vec<UnitLine>,
    /// (time, step, by, unit, text)
    history: Vec<(String, String, String, String, String)>,
    steps: Vec<&'static str>,
    grades: Vec<(&'static str, String)>,
    evidence: Vec<(i64, String, i64, String, String)>,
    can_attach: bool,
    min_until: String,
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

/// `GET /supervision/tasks/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let t = tasks::visible(&state, &viewer, id).await?;
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, &format!("/supervision/tasks/{id}"), "supervision.task_title", vec![], q.flash.as_deref())
            .await;
    chrome.crumbs.insert(1, (chrome.tr.t("supervision.ledger_title").to_string(), "/supervision".to_string()));
    chrome.title = format!("{} {}", t.code, t.title);
    let tr = chrome.tr;
    let all_units = state.store.units().await?;
    let calendar = jixiao_app::supervision::calendar(&state).await?;
    let today = state.clock.today();
    let light = tasks::light(&t, &calendar, today).map_or("", |l| l.code());
    let day = |s: &Option<String>| s.as_deref().map(|x| state.clock.short(x)).unwrap_or_default();
    let units = t
        .units
        .iter()
        .map(|u| UnitLine {
            id: u.unit_id.clone(),
            name: unit_name(&all_units, &u.unit_id),
            lead: u.lead,
            leader: u.leader_name.clone(),
            person: u.person_name.clone(),
            signed: day(&u.signed_at),
            grade: u.grade.as_ref().map(|g| tr.t(&format!("supervision.grade.{g}")).to_string()).unwrap_or_default(),
            score: u.score.map(jixiao_app::text::number).unwrap_or_default(),
        })
        .collect();
    let history = state
        .store
        .supervision_events(t.id)
        .await?
        .into_iter()
        .map(|e| {
            let mut text = e.text.clone();
            if let Some(until) = e.data.get("until").and_then(|v| v.as_str()) {
                text = format!("{} {until} {text}", tr.t("supervision.requested_deadline"));
            }
            if let (Some(from), Some(to)) = (e.data.get("from").and_then(|v| v.as_str()), e.data.get("to").and_then(|v| v.as_str())) {
                text = format!("{from} → {to} {text}");
            }
            (
                state.clock.short(&e.at),
                tr.t(&format!("supervision.step.{}", e.step)).to_string(),
                e.actor,
                e.unit_id.as_deref().map(|u| unit_name(&all_units, u)).unwrap_or_default(),
                text,
            )
        })
        .collect();
    let steps = tasks::possible_steps(&viewer, &t);
    let evidence = state
        .store
        .attachments(tasks::EVIDENCE_OWNER, std::slice::from_ref(&t.code))
        .await?
        .into_iter()
        .map(|a| (a.id, a.filename, (a.size + 1023) / 1024, a.uploaded_by, state.clock.short(&a.uploaded_at)))
        .collect();
    let can_attach = tasks::handles(&viewer, &t) && tasks::evidence_open(&t);
    let min_until =
        jixiao_app::supervision::date(&t.deadline).map(|d| (d.max(today) + chrono::Duration::days(1)).to_string()).unwrap_or_default();
    let page = TaskPage {
        source: tr.t(&format!("supervision.source.{}", t.source_kind)).to_string(),
        priority: tr.t(&format!("supervision.priority.{}", t.priority)).to_string(),
        state_label: tr.t(&format!("supervision.state.{}", t.state)).to_string(),
        grades: Grade::ALL.iter().map(|g| (g.code(), tr.t(&format!("supervision.grade.{}", g.code())).to_string())).collect(),
        chrome,
        light,
        units,
        history,
        steps,
        evidence,
        can_attach,
        min_until,
        t,
    };
    Ok(render(page)?.into_response())
}

/// `POST /supervision/tasks/{id}`: takes the step of the form.
pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let form = StepForm::from_pairs(&pairs);
    tasks::take_step(&state, &viewer, &Tr::new(lang), id, &form).await?;
    Ok(done(&format!("/supervision/tasks/{id}"), "service_step"))
}

/// `POST /supervision/tasks/{id}/evidence` (multipart `file`, CSRF token in the
/// query): a unit of the task attaches an evidence file.
pub async fn upload_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let (name, bytes) = crate::pages::uploaded_file(&tr, multipart).await?;
    tasks::attach_evidence(&state, &viewer, &tr, id, &name, &bytes).await?;
    Ok(done(&format!("/supervision/tasks/{id}"), "evidence_added"))
}

#[derive(Template)]
#[template(path = "supervision/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    d: Dashboard,
    month_label: String,
    overdue: Vec<Row>,
    /// (id, code, title, lead unit)
    awaiting: Vec<(i64, String, String, String)>,
    /// The latest monthly summaries to comment on: filled once plans exist; the
    /// section is left out while empty.
    summaries: Vec<(String, String)>,
}

/// `GET /supervision/dashboard`: the leader's dashboard.
pub async fn dashboard_page(State(state): State<AppState>, viewer: Viewer, Language(lang): Language) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/supervision/dashboard", "supervision.dashboard_title", vec![], None).await;
    let tr = chrome.tr;
    let d = dashboard::build(&state, &viewer, &tr).await?;
    let all_units = state.store.units().await?;
    let overdue = d.overdue.iter().map(|r| row(&state, &tr, &all_units, r)).collect();
    let awaiting = d
        .awaiting_evaluation
        .iter()
        .map(|t| (t.id, t.code.clone(), t.title.clone(), t.lead_unit().map(|u| unit_name(&all_units, u)).unwrap_or_default()))
        .collect();
    let month_label = tr.f("supervision.month_of", &[&d.month]);
    Ok(render(DashboardPage { chrome, d, month_label, overdue, awaiting, summaries: Vec::new() })?.into_response())
}
