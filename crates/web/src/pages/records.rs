//! `/records`: bonus and deduction records (加减分记录) — the list a viewer may see,
//! the office's and the departments' register form, one record with its evidence,
//! its edit and its cancellation (each with a reason); `/records/applications`: bonus
//! applications (加分申报) — a unit's form, the office's decision; `/records/topics`:
//! the topic reports (专题统计) and their workbook.
//!
//! Who may do and see what is `app::records`' rule; handlers read the form and call it.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_app::records::{self, ApplicationInput, Owner, RecordInput};
use jixiao_app::text::number;
use jixiao_app::{Tr, periods};
use jixiao_core::org::{Action, Target};
use jixiao_core::records::Topic;
use jixiao_store::{Attachment, BonusApplication, RegisteredRecord};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::Chrome;

/// A registered record as a row of the list.
pub struct RecordRow {
    pub id: i64,
    pub unit: String,
    pub indicator: String,
    pub date: String,
    pub points: String,
    pub topic: String,
    pub reason: String,
    pub responsible: String,
    pub state: String,
    pub by: String,
}

/// An indicator offered by a form: (id, label).
pub struct Choice {
    pub id: String,
    pub label: String,
}

/// An evidence file: (id, name, KiB).
pub struct EvidenceFile {
    pub id: i64,
    pub name: String,
    pub kib: i64,
}

fn files(list: Vec<Attachment>) -> Vec<EvidenceFile> {
    list.into_iter().map(|a| EvidenceFile { id: a.id, name: a.filename, kib: (a.size + 1023) / 1024 }).collect()
}

fn topic_label(tr: &Tr, code: &str) -> String {
    tr.t(&format!("records.topic.{code}")).to_string()
}

async fn unit_names(state: &AppState) -> Result<std::collections::HashMap<String, String>, WebError> {
    Ok(state.store.units().await?.into_iter().map(|u| (u.id, u.name)).collect())
}

fn row_of(tr: &Tr, clock: &jixiao_app::Clock, names: &std::collections::HashMap<String, String>, r: &RegisteredRecord) -> RecordRow {
    RecordRow {
        id: r.id,
        unit: names.get(&r.unit_id).cloned().unwrap_or_else(|| r.unit_id.clone()),
        indicator: r.indicator_id.clone(),
        date: r.date.clone(),
        points: number(r.points),
        topic: topic_label(tr, &r.topic),
        reason: r.reason.clone(),
        responsible: r.responsible.clone(),
        state: r.state.clone(),
        by: format!("{} · {}", r.created_by, clock.short(&r.created_at)),
    }
}

fn topics(tr: &Tr, only_applicable: bool) -> Vec<Choice> {
    Topic::ALL
        .into_iter()
        .filter(|t| !only_applicable || t.applicable())
        .map(|t| Choice { id: t.code().to_string(), label: topic_label(tr, t.code()) })
        .collect()
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    year: Option<i32>,
    unit: Option<String>,
    flash: Option<String>,
}

/// The latest date a form of `year` offers: today, or the year's last day for a past
/// year (a record is dated in its scheme's year, never after today).
fn last_day(state: &AppState, year: i32) -> String {
    let today = state.clock.today();
    chrono::NaiveDate::from_ymd_opt(year, 12, 31).map_or(today, |end| end.min(today)).to_string()
}

async fn year_of(state: &AppState, q: Option<i32>) -> Result<i32, WebError> {
    Ok(match q {
        Some(y) => y,
        None => periods::default_year(state).await?,
    })
}

#[derive(Template)]
#[template(path = "records.html")]
struct ListPage {
    chrome: Chrome,
    year: i32,
    unit: String,
    units: Vec<Choice>,
    rows: Vec<RecordRow>,
    indicators: Vec<Choice>,
    topics: Vec<Choice>,
    today: String,
}

/// `GET /records?year=&unit=`: the records the viewer sees, and the register form for
/// those who may register.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let year = year_of(&state, q.year).await?;
    let unit = q.unit.filter(|u| !u.is_empty());
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/records", "records.title", vec![], q.flash.as_deref()).await;
    chrome.title = format!("{} · {year}", chrome.title);
    let names = unit_names(&state).await?;
    let rows =
        records::records(&state, &viewer, year, unit.as_deref()).await?.iter().map(|r| row_of(&tr, &state.clock, &names, r)).collect();
    let indicators = records::registrable_indicators(&state, &viewer, year)
        .await?
        .into_iter()
        .map(|(id, name, kind, bound)| {
            let bound = bound.map(|b| format!(" · {}", tr.f("records.bound", &[&number(b)]))).unwrap_or_default();
            Choice { label: format!("{id} {name}（{}{bound}）", tr.t(&format!("records.kind_{kind}"))), id }
        })
        .collect();
    let units = match state.latest_scheme(year).await? {
        Some((_, s)) => s
            .units
            .iter()
            .filter(|u| viewer.can(Action::ViewUnit, Target::Unit(&u.id)) || viewer.can(Action::RegisterRecords, Target::Nothing))
            .map(|u| Choice { id: u.id.clone(), label: format!("{} {}", u.id, u.name) })
            .collect(),
        None => Vec::new(),
    };
    let today = last_day(&state, year);
    Ok(render(ListPage { chrome, year, unit: unit.unwrap_or_default(), units, rows, indicators, topics: topics(&tr, false), today })?
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct RecordForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    responsible: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    why: String,
}

impl RecordForm {
    fn input(&self) -> RecordInput {
        RecordInput {
            unit: self.unit.clone(),
            indicator: self.indicator.clone(),
            date: self.date.clone(),
            points: self.points.clone(),
            topic: self.topic.clone(),
            reason: self.reason.clone(),
            responsible: self.responsible.clone(),
        }
    }
}

fn version_of(text: &str) -> Result<i64, WebError> {
    text.trim().parse().map_err(|_| WebError::invalid(format!("version `{text}` is not a number")))
}

/// `POST /records`: registers a record.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<RecordForm>,
) -> Result<Response, WebError> {
    let r = records::register(&state, &viewer, &Tr::new(lang), &form.input()).await?;
    Ok(done(&format!("/records/{}", r.id), "records.registered"))
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    chrome: Chrome,
    r: RegisteredRecord,
    row: RecordRow,
    state_label: String,
    can_change: bool,
    indicators: Vec<Choice>,
    topics: Vec<Choice>,
    evidence: Vec<EvidenceFile>,
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

fn id_of(text: &str) -> Result<i64, WebError> {
    text.parse().map_err(|_| WebError::NotFound)
}

/// `GET /records/{id}`: one record, its evidence, and its edit and cancel forms.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let r = records::record(&state, &viewer, id_of(&id)?).await?;
    let crumbs = vec![(tr.t("records.title").to_string(), "/records".to_string())];
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, &format!("/records/{}", r.id), "records.title", crumbs, q.flash.as_deref()).await;
    chrome.title = tr.f("records.record_link", &[&r.id]);
    if let Some(last) = chrome.crumbs.last_mut() {
        last.0 = format!("#{}", r.id);
    }
    let names = unit_names(&state).await?;
    let row = row_of(&tr, &state.clock, &names, &r);
    let can_change = records::may_change(&state, &viewer, &r).await?;
    let indicators = records::registrable_indicators(&state, &viewer, r.year)
        .await?
        .into_iter()
        .map(|(id, name, _, _)| Choice { label: format!("{id} {name}"), id })
        .collect();
    let evidence = files(records::evidence(&state, Owner::Record(r.id)).await?);
    let state_label = tr.t(&format!("records.state.{}", r.state)).to_string();
    Ok(render(RecordPage { chrome, r, row, state_label, can_change, indicators, topics: topics(&tr, false), evidence })?.into_response())
}

/// `POST /records/{id}`: changes a record (the form carries the version it read and
/// the reason for the change).
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<RecordForm>,
) -> Result<Response, WebError> {
    let id = id_of(&id)?;
    let r = records::edit(&state, &viewer, &Tr::new(lang), id, version_of(&form.version)?, &form.input(), &form.why).await?;
    Ok(done(&format!("/records/{}", r.id), "records.edited"))
}

/// `POST /records/{id}/cancel`: cancels a record with a reason.
pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<RecordForm>,
) -> Result<Response, WebError> {
    let id = id_of(&id)?;
    let r = records::cancel(&state, &viewer, &Tr::new(lang), id, version_of(&form.version)?, &form.why).await?;
    Ok(done(&format!("/records/{}", r.id), "records.cancelled"))
}

/// The file of a multipart upload (field `file`), at most an evidence file's size.
async fn upload(lang: jixiao_app::Lang, multipart: Multipart) -> Result<(String, Vec<u8>), WebError> {
    let (name, bytes) = crate::pages::uploaded_file(&Tr::new(lang), multipart).await?;
    if bytes.len() > jixiao_app::files::MAX_BYTES {
        return Err(WebError::TooLarge);
    }
    Ok((name, bytes.to_vec()))
}

/// `POST /records/{id}/evidence` (multipart `file`).
pub async fn record_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = id_of(&id)?;
    records::record(&state, &viewer, id).await?;
    let (name, bytes) = upload(lang, multipart).await?;
    records::attach(&state, &viewer, &Tr::new(lang), Owner::Record(id), &name, &bytes).await?;
    Ok(done(&format!("/records/{id}"), "records.evidence"))
}

// ---------------------------------------------------------------------------
// Applications

/// An application as a row of the list.
pub struct ApplicationRow {
    pub id: i64,
    pub unit: String,
    pub category: String,
    pub indicator: String,
    pub date: String,
    pub title: String,
    pub claimed: String,
    pub approved: String,
    pub state: String,
}

fn application_row(tr: &Tr, names: &std::collections::HashMap<String, String>, a: &BonusApplication) -> ApplicationRow {
    ApplicationRow {
        id: a.id,
        unit: names.get(&a.unit_id).cloned().unwrap_or_else(|| a.unit_id.clone()),
        category: topic_label(tr, &a.category),
        indicator: a.indicator_id.clone(),
        date: a.date.clone(),
        title: a.title.clone(),
        claimed: number(a.claimed_points),
        approved: a.approved_points.map(number).unwrap_or_default(),
        state: a.state.clone(),
    }
}

#[derive(Template)]
#[template(path = "applications.html")]
struct ApplicationsPage {
    chrome: Chrome,
    year: i32,
    rows: Vec<ApplicationRow>,
    /// The viewer's unit, when it may apply.
    apply_unit: Option<String>,
    indicators: Vec<Choice>,
    categories: Vec<Choice>,
    today: String,
}

/// `GET /records/applications?year=`: the applications the viewer sees, and a unit's
/// form.
pub async fn applications(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let year = year_of(&state, q.year).await?;
    let crumbs = vec![(tr.t("records.title").to_string(), "/records".to_string())];
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, "/records/applications", "records.applications_title", crumbs, q.flash.as_deref()).await;
    chrome.title = format!("{} · {year}", chrome.title);
    let names = unit_names(&state).await?;
    let rows = records::applications(&state, &viewer, year, None).await?.iter().map(|a| application_row(&tr, &names, a)).collect();
    let apply_unit = viewer.unit_id.clone().filter(|u| viewer.can(Action::ApplyForBonus, Target::Unit(u)));
    let indicators = match &apply_unit {
        Some(u) => records::claimable_indicators(&state, year, u)
            .await?
            .into_iter()
            .map(|(id, name, bound)| {
                let bound = bound.map(|b| format!("（{}）", tr.f("records.bound", &[&number(b)]))).unwrap_or_default();
                Choice { label: format!("{id} {name}{bound}"), id }
            })
            .collect(),
        None => Vec::new(),
    };
    let today = last_day(&state, year);
    Ok(render(ApplicationsPage { chrome, year, rows, apply_unit, indicators, categories: topics(&tr, true), today })?.into_response())
}

#[derive(Deserialize, Default)]
pub struct ApplicationForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    points: String,
}

/// `POST /records/applications`: a unit applies for a bonus (the unit defaults to the
/// viewer's own).
pub async fn apply(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<ApplicationForm>,
) -> Result<Response, WebError> {
    let unit = if form.unit.trim().is_empty() { viewer.unit_id.clone().unwrap_or_default() } else { form.unit };
    let input = ApplicationInput {
        unit,
        category: form.category,
        indicator: form.indicator,
        date: form.date,
        title: form.title,
        basis: form.basis,
        points: form.points,
    };
    let a = records::apply(&state, &viewer, &Tr::new(lang), &input).await?;
    Ok(done(&format!("/records/applications/{}", a.id), "records.applied"))
}

#[derive(Template)]
#[template(path = "application.html")]
struct ApplicationPage {
    chrome: Chrome,
    a: BonusApplication,
    row: ApplicationRow,
    state_label: String,
    basis: String,
    can_decide: bool,
    can_attach: bool,
    evidence: Vec<EvidenceFile>,
    decided: String,
}

/// `GET /records/applications/{id}`: one application, its evidence, and the office's
/// decision form.
pub async fn application(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let a = records::application(&state, &viewer, id_of(&id)?).await?;
    let crumbs = vec![
        (tr.t("records.title").to_string(), "/records".to_string()),
        (tr.t("records.applications_title").to_string(), "/records/applications".to_string()),
    ];
    let mut chrome = Chrome::new(
        &state,
        Some(&viewer),
        lang,
        &format!("/records/applications/{}", a.id),
        "records.applications_title",
        crumbs,
        q.flash.as_deref(),
    )
    .await;
    chrome.title = format!("{} #{}", tr.t("records.applications_title"), a.id);
    if let Some(last) = chrome.crumbs.last_mut() {
        last.0 = format!("#{}", a.id);
    }
    let names = unit_names(&state).await?;
    let row = application_row(&tr, &names, &a);
    let submitted = a.state == "submitted";
    let can_decide = submitted && viewer.can(Action::DecideApplications, Target::Nothing);
    let can_attach = submitted && viewer.can(Action::ApplyForBonus, Target::Unit(&a.unit_id));
    let evidence = files(records::evidence(&state, Owner::Application(a.id)).await?);
    let decided = match (&a.decided_by, &a.decided_at) {
        (Some(by), Some(at)) => format!("{by} · {}", state.clock.short(at)),
        _ => String::new(),
    };
    let basis = a.basis.clone();
    let state_label = tr.t(&format!("records.application_state.{}", a.state)).to_string();
    Ok(render(ApplicationPage { chrome, a, row, state_label, basis, can_decide, can_attach, evidence, decided })?.into_response())
}

#[derive(Deserialize, Default)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    version: String,
}

/// `POST /records/applications/{id}/decision`: `decision` = approve (with `points`)
/// or reject (with a `note`).
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<DecisionForm>,
) -> Result<Response, WebError> {
    let id = id_of(&id)?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return Err(WebError::invalid(format!("unknown decision `{other}`"))),
    };
    let a = records::decide(&state, &viewer, &Tr::new(lang), id, version_of(&form.version)?, approve, &form.points, &form.note).await?;
    Ok(done(&format!("/records/applications/{}", a.id), if approve { "records.approved" } else { "records.rejected" }))
}

/// `POST /records/applications/{id}/evidence` (multipart `file`).
pub async fn application_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let id = id_of(&id)?;
    records::application(&state, &viewer, id).await?;
    let (name, bytes) = upload(lang, multipart).await?;
    records::attach(&state, &viewer, &Tr::new(lang), Owner::Application(id), &name, &bytes).await?;
    Ok(done(&format!("/records/applications/{id}"), "records.evidence"))
}

// ---------------------------------------------------------------------------
// Topic reports

/// A line of a topic's table.
pub struct TopicRow {
    pub unit: String,
    pub month: String,
    pub count: usize,
    pub points: String,
}

/// One topic's table.
pub struct TopicTable {
    pub code: String,
    pub label: String,
    pub rows: Vec<TopicRow>,
    pub count: usize,
    pub points: String,
}

#[derive(Template)]
#[template(path = "record_topics.html")]
struct TopicsPage {
    chrome: Chrome,
    year: i32,
    tables: Vec<TopicTable>,
}

/// `GET /records/topics?year=`: innovation projects, discipline and conduct,
/// information and research, by unit and month.
pub async fn topics_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let year = year_of(&state, q.year).await?;
    let crumbs = vec![(tr.t("records.title").to_string(), "/records".to_string())];
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/records/topics", "records.topics_title", crumbs, q.flash.as_deref()).await;
    chrome.title = format!("{} · {year}", chrome.title);
    let lines = records::topic_report(&state, &viewer, year).await?;
    let tables = Topic::REPORTED
        .into_iter()
        .map(|t| {
            let mine: Vec<_> = lines.iter().filter(|l| l.topic == t).collect();
            TopicTable {
                code: t.code().to_string(),
                label: topic_label(&tr, t.code()),
                count: mine.iter().map(|l| l.count).sum(),
                points: number(jixiao_core::round::round2(mine.iter().map(|l| l.points).sum())),
                rows: mine
                    .iter()
                    .map(|l| TopicRow {
                        unit: format!("{} {}", l.unit_id, l.unit_name),
                        month: l.month.clone(),
                        count: l.count,
                        points: number(l.points),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(render(TopicsPage { chrome, year, tables })?.into_response())
}

/// `GET /records/topics.xlsx?year=`: the topic reports as a workbook.
pub async fn topics_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let year = year_of(&state, q.year).await?;
    let lines = records::topic_report(&state, &viewer, year).await?;
    let bytes = jixiao_app::xlsx::topics::write(&tr, year, &lines).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, jixiao_app::xlsx::CONTENT_TYPE.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"topics-{year}.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}
