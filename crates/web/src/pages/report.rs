//! Monthly reporting (数据采集) pages: a unit's form for one month, and the status page
//! with the office's bulk acceptance.
//!
//! The form lists the indicators due that month for the unit, each with its fields,
//! last month's and last year's values, the unit's params (targets), the entry's
//! workflow state and the score the saved values give. One POST carries one action for
//! the whole form — save, submit, approve, accept — or a return of one indicator with
//! a reason; `collection::apply` checks and writes it, so the form and the API follow
//! the same rules.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use jixiao_app::collection::{self, Change, Problem, previous, values_of};
use jixiao_app::text::json_text;
use jixiao_app::{Lang, Tr, calendar, evidence, imports, periods, reminders};
use jixiao_core::org::{Action, Target};
use jixiao_core::period::Month;
use jixiao_core::scheme::{FieldType, Scheme};
use jixiao_core::workflow::{self, EntryState, Step};
use jixiao_store::StoredEntry;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::{Chrome, ListQuery, number};

/// One field of one indicator on the form.
pub struct FieldView {
    pub name: String,
    /// The field's key.
    pub key: String,
    /// The input's name: `v.<indicator>.<key>`.
    pub input: String,
    pub value: String,
    pub last_month: String,
    pub last_year: String,
    pub kind: &'static str,
    pub bounds: String,
    pub error: Option<String>,
}

/// One indicator of the form.
pub struct IndicatorView {
    pub id: String,
    pub name: String,
    pub points: String,
    pub fields: Vec<FieldView>,
    pub params: String,
    pub state: Option<String>,
    pub state_code: &'static str,
    pub version: String,
    pub score: String,
    pub editable: bool,
    /// Whether the viewer may return it now.
    pub returnable: bool,
    /// Why it was last returned, while it is returned.
    pub returned_because: Option<String>,
    /// (id, file name, size in KiB) of its evidence files.
    pub evidence: Vec<(i64, String, String)>,
    pub why: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    unit_id: String,
    unit_name: String,
    month: String,
    deadline: String,
    indicators: Vec<IndicatorView>,
    /// Which whole-form actions the viewer may take now.
    can_save: bool,
    can_approve: bool,
    can_accept: bool,
    error: Option<String>,
    months: Vec<String>,
    /// The office has closed the month: changes go through correction requests.
    closed: bool,
    can_correct: bool,
    corrections: Vec<CorrectionRow>,
}

/// A correction request of the month, as the form shows it.
pub struct CorrectionRow {
    pub id: i64,
    pub indicator: String,
    pub old: String,
    pub new: String,
    pub reason: String,
    pub state: String,
    pub by: String,
    pub decision: String,
}

pub(crate) fn parse_month(text: &str) -> Result<Month, WebError> {
    text.parse::<Month>().map_err(|e| WebError::invalid(format!("month `{text}`: {e}")))
}

/// The entry values a form submitted, by indicator: `v.<indicator>.<key>` fields.
fn submitted_values(scheme: &Scheme, nodes: &[usize], form: &HashMap<String, String>) -> BTreeMap<String, Map<String, Value>> {
    let mut out = BTreeMap::new();
    for &n in nodes {
        let node = &scheme.nodes[n];
        let Some(ind) = &node.indicator else { continue };
        let mut values = Map::new();
        for f in &ind.fields {
            let text = form.get(&format!("v.{}.{}", node.id, f.key)).map(|s| s.trim()).unwrap_or("");
            if text.is_empty() {
                continue;
            }
            values.insert(f.key.clone(), collection::typed_value(f.field_type, text));
        }
        out.insert(node.id.clone(), values);
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    unit_id: &str,
    month: Month,
    flash: Option<&str>,
    typed: Option<&HashMap<String, String>>,
    errors: &HashMap<String, String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let data = collection::load(state, unit_id, month).await?;
    let unit_name = data.scheme.units[data.unit].name.clone();
    let here = format!("/units/{unit_id}/report/{month}");
    let crumbs = vec![(tr.t("report.list_title").to_string(), "/reports".to_string())];
    let mut chrome = Chrome::new(state, Some(viewer), lang, &here, "report.title", crumbs, flash).await;
    chrome.title = format!("{} · {unit_name} · {month}", chrome.title);
    let scores = collection::preview_scores(state, &data).await?;
    let last_month = values_of(state, unit_id, previous(month)).await?;
    let last_year = values_of(state, unit_id, Month { year: month.year - 1, month: month.month }).await?;
    let owners: Vec<String> = data.due.iter().map(|&n| format!("{}/{unit_id}/{}/{month}", month.year, data.scheme.nodes[n].id)).collect();
    let evidence = state.store.attachments("entry", &owners).await?;
    let mut indicators: Vec<IndicatorView> = Vec::new();
    let (mut can_save, mut can_approve, mut can_accept) = (false, false, false);
    for &n in &data.due {
        let node = &data.scheme.nodes[n];
        let Some(ind) = &node.indicator else { continue };
        let entry = data.current.get(&node.id);
        let st = collection::state_of(entry);
        let may = |step: Step| {
            collection::acting_role(viewer, &data.scheme, step, unit_id, &node.id)
                .is_some_and(|role| workflow::next(st, step, role, "x").is_ok())
        };
        let editable = may(Step::Save);
        can_save |= editable;
        can_approve |= may(Step::Approve);
        can_accept |= may(Step::Accept);
        let returnable = may(Step::Return);
        let returned_because = match (st, entry) {
            (Some(EntryState::Returned), Some(_)) => collection::last_return_reason(state, month, unit_id, &node.id).await?,
            _ => None,
        };
        let params = ind
            .param_names
            .iter()
            .zip(ind.assignments[data.unit].iter().flatten())
            .filter_map(|(name, v)| v.map(|v| format!("{name} = {}", number(v))))
            .collect::<Vec<_>>()
            .join("，");
        let fields = ind
            .fields
            .iter()
            .map(|f| {
                let input = format!("v.{}.{}", node.id, f.key);
                // What was typed comes back only where it could be typed.
                let value = match typed {
                    Some(t) if editable => t.get(&input).cloned().unwrap_or_default(),
                    _ => json_text(entry.and_then(|e| e.row.values.get(&f.key))),
                };
                let bounds = match (f.min, f.max) {
                    (Some(a), Some(b)) => format!("{} – {}", number(a), number(b)),
                    (Some(a), None) => format!("≥ {}", number(a)),
                    (None, Some(b)) => format!("≤ {}", number(b)),
                    (None, None) => String::new(),
                };
                FieldView {
                    name: if f.name.is_empty() { f.key.clone() } else { f.name.clone() },
                    key: f.key.clone(),
                    error: errors.get(&input).cloned(),
                    input,
                    value,
                    last_month: json_text(last_month.get(&node.id).and_then(|v| v.get(&f.key))),
                    last_year: json_text(last_year.get(&node.id).and_then(|v| v.get(&f.key))),
                    kind: match f.field_type {
                        FieldType::Number => "report.type_number",
                        FieldType::Integer => "report.type_integer",
                        FieldType::Percent => "report.type_percent",
                        FieldType::Boolean => "report.type_boolean",
                    },
                    bounds,
                }
            })
            .collect();
        indicators.push(IndicatorView {
            id: node.id.clone(),
            name: node.name.clone(),
            points: node.points.map(number).unwrap_or_default(),
            fields,
            params,
            state: st.map(|s| tr.t(&format!("state.{}", s.code())).to_string()),
            state_code: st.map_or("none", EntryState::code),
            version: entry.map(|e| e.version.to_string()).unwrap_or_default(),
            score: scores.get(&node.id).cloned().unwrap_or_default(),
            editable,
            returnable,
            returned_because,
            evidence: evidence
                .iter()
                .filter(|a| a.owner_id == format!("{}/{unit_id}/{}/{month}", month.year, node.id))
                .map(|a| (a.id, a.filename.clone(), format!("{:.1}", a.size as f64 / 1024.0)))
                .collect(),
            why: typed.and_then(|t| t.get(&format!("why.{}", node.id)).cloned()).unwrap_or_default(),
            error: errors.get(&node.id).cloned(),
        });
    }
    let months = (1..=12).filter_map(|m| Month::new(month.year, m).ok()).map(|m| m.to_string()).collect();
    let deadline = calendar::deadline(&state.store, month).await?.to_string();
    let closed = state.store.period_state(month.year, &month.to_string()).await? != jixiao_store::PeriodState::Open;
    // Who may ask for a correction of a closed month: whoever could save it were it open.
    let can_correct =
        closed && indicators.iter().any(|i| collection::acting_role(viewer, &data.scheme, Step::Save, unit_id, &i.id).is_some());
    let corrections = state
        .store
        .entry_corrections(month.year, unit_id, &month.to_string())
        .await?
        .into_iter()
        .map(|c| CorrectionRow {
            id: c.id,
            indicator: c.indicator_id,
            old: c.old_values.map(|v| Value::Object(v).to_string()).unwrap_or_default(),
            new: Value::Object(c.new_values).to_string(),
            reason: c.reason,
            state: tr.t(&format!("correction.{}", c.state)).to_string(),
            by: format!("{} · {}", c.requested_by, state.clock.short(&c.requested_at)),
            decision: c.decision_note.unwrap_or_default(),
        })
        .collect();
    if closed {
        for i in &mut indicators {
            i.editable = false;
            i.returnable = false;
        }
    }
    let status = if errors.is_empty() && error.is_none() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    let page = ReportPage {
        chrome,
        unit_id: unit_id.to_string(),
        unit_name,
        deadline,
        month: month.to_string(),
        indicators,
        can_save: can_save && !closed,
        can_approve: can_approve && !closed,
        can_accept: can_accept && !closed,
        error,
        months,
        closed,
        can_correct,
        corrections,
    };
    Ok((status, render(page)?).into_response())
}

/// `GET /units/{unit}/report/{month}`.
pub async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((unit, month)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let month = parse_month(&month)?;
    page(&state, &viewer, lang, &unit, month, q.flash.as_deref(), None, &HashMap::new(), None).await
}

/// `GET /report`: the viewer's own unit's form for the month due now.
pub async fn mine(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let month = collection::due_month(&state);
    match &viewer.unit_id {
        Some(unit) if viewer.can(Action::ViewUnit, Target::Unit(unit)) => {
            Ok(Redirect::to(&format!("/units/{unit}/report/{month}")).into_response())
        }
        _ => Ok(Redirect::to(&format!("/reports?month={month}")).into_response()),
    }
}

/// `POST /units/{unit}/report/{month}`: `action` = save, submit, approve, accept, or
/// return (with `indicator` and `reason`); values as `v.<indicator>.<field>`, the
/// versions the form showed as `ver.<indicator>`, reasons for jumps as `why.<indicator>`.
pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((unit_id, month)): Path<(String, String)>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(&month)?;
    let data = collection::load(&state, &unit_id, month).await?;
    let action = form.get("action").map(String::as_str).unwrap_or("");
    let seen = |indicator: &str| form.get(&format!("ver.{indicator}")).map(|v| v.trim().parse::<i64>().ok());
    let mut changes = Vec::new();
    match action {
        "save" | "submit" => {
            let step = if action == "submit" { Step::Submit } else { Step::Save };
            for (indicator, values) in submitted_values(&data.scheme, &data.due, &form) {
                let entry = data.current.get(&indicator);
                // The form shows inputs only where the viewer may edit; skip the rest.
                let editable = collection::state_of(entry).is_none_or(EntryState::editable)
                    && collection::acting_role(&viewer, &data.scheme, Step::Save, &unit_id, &indicator).is_some();
                if !editable || (values.is_empty() && entry.is_none()) {
                    continue;
                }
                let reason = form.get(&format!("why.{indicator}")).cloned().unwrap_or_default();
                changes.push(Change { seen_version: seen(&indicator), indicator, step, values: Some(values), reason });
            }
        }
        "approve" | "accept" => {
            // Every entry of the form that the viewer can take the step on now.
            let step = if action == "approve" { Step::Approve } else { Step::Accept };
            for (indicator, entry) in &data.current {
                let ready = collection::acting_role(&viewer, &data.scheme, step, &unit_id, indicator)
                    .is_some_and(|role| workflow::next(collection::state_of(Some(entry)), step, role, "").is_ok());
                if ready {
                    changes.push(Change { indicator: indicator.clone(), step, values: None, seen_version: None, reason: String::new() });
                }
            }
        }
        "return" => {
            let indicator = form.get("indicator").cloned().unwrap_or_default();
            if !data.current.contains_key(&indicator) {
                return Err(WebError::invalid(format!("no entry of `{indicator}` to return")));
            }
            let reason = form.get("reason").cloned().unwrap_or_default();
            changes.push(Change { indicator, step: Step::Return, values: None, seen_version: None, reason });
        }
        other => return Err(WebError::invalid(format!("unknown action `{other}`"))),
    }
    if changes.is_empty() {
        let message = tr.t("report.nothing_to_do").to_string();
        return page(&state, &viewer, lang, &unit_id, month, None, None, &HashMap::new(), Some(message)).await;
    }
    match collection::apply(&state, &viewer, &tr, &data, changes).await? {
        Ok(_) => Ok(done(&format!("/units/{unit_id}/report/{month}"), &format!("report_{action}"))),
        Err(problems) => {
            if problems.iter().all(|p| matches!(p, Problem::Forbidden { .. })) {
                return Err(WebError::Forbidden);
            }
            let mut errors = HashMap::new();
            for p in &problems {
                let key = match p {
                    Problem::Field { indicator, field, .. } => format!("v.{indicator}.{field}"),
                    other => other.indicator().to_string(),
                };
                errors.insert(key, p.message(&tr, &state.clock));
            }
            let conflict = problems.iter().any(|p| matches!(p, Problem::Conflict { .. }));
            let summary = tr.t(if conflict { "report.conflict" } else { "form.has_errors" }).to_string();
            // A conflict shows the values as they are now; other errors keep what was typed.
            let typed = (!conflict).then_some(&form);
            let mut response = page(&state, &viewer, lang, &unit_id, month, None, typed, &errors, Some(summary)).await?;
            // A version conflict is 409 for pages as for the API (docs/decisions.md).
            if conflict {
                *response.status_mut() = axum::http::StatusCode::CONFLICT;
            }
            Ok(response)
        }
    }
}

/// One unit's line on the status page.
pub struct StatusRow {
    pub unit_id: String,
    pub unit_name: String,
    pub due: usize,
    /// Count per state code, in `EntryState::ALL` order.
    pub counts: Vec<usize>,
    pub missing: usize,
    /// `on_time`, `late`, `missing` or `open` (`core::workflow::Timeliness`).
    pub timeliness: &'static str,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    month: String,
    months: Vec<String>,
    states: Vec<String>,
    rows: Vec<StatusRow>,
    can_accept: bool,
    deadline: String,
    /// (timeliness code, number of units).
    summary: Vec<(&'static str, usize)>,
    /// The office may load a data file.
    can_import: bool,
    /// The scheme turns late and missing reports into deductions.
    has_rule: bool,
}

#[derive(Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
    flash: Option<String>,
}

/// `GET /reports?month=`: reporting status of every unit in scope for a month.
pub async fn status(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let month = match q.month.as_deref() {
        Some(m) => parse_month(m)?,
        None => collection::due_month(&state),
    };
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/reports", "report.list_title", vec![], q.flash.as_deref()).await;
    let tr = chrome.tr;
    let Some((_, scheme)) = state.latest_scheme(month.year).await? else {
        let months = Vec::new();
        let page = ReportsPage {
            chrome,
            month: month.to_string(),
            months,
            states: Vec::new(),
            rows: Vec::new(),
            can_accept: false,
            deadline: String::new(),
            summary: Vec::new(),
            can_import: false,
            has_rule: false,
        };
        return Ok(render(page)?.into_response());
    };
    let mut by_unit: HashMap<String, Vec<StoredEntry>> = HashMap::new();
    for e in state.store.stored_entries(month.year).await? {
        if e.row.month == month.to_string() {
            by_unit.entry(e.row.unit.clone()).or_default().push(e);
        }
    }
    let timeliness = collection::timeliness_by_unit(&state, &scheme, month).await?;
    let deadline = calendar::deadline(&state.store, month).await?;
    let mut rows = Vec::new();
    let mut can_accept = false;
    for (ui, unit) in scheme.units.iter().enumerate() {
        if !viewer.can(Action::ViewUnit, Target::Unit(&unit.id)) || !viewer.can(Action::HandleEntries, Target::Unit(&unit.id)) {
            continue;
        }
        let due: Vec<&str> =
            collection::due_indicators(&scheme, ui, month.month).into_iter().map(|n| scheme.nodes[n].id.as_str()).collect();
        let entries = by_unit.get(&unit.id).map(Vec::as_slice).unwrap_or(&[]);
        let counts = EntryState::ALL
            .iter()
            .map(|s| entries.iter().filter(|e| due.contains(&e.row.indicator.as_str()) && e.state == s.code()).count())
            .collect::<Vec<_>>();
        let reported = counts.iter().sum::<usize>();
        can_accept |= counts[EntryState::ALL.iter().position(|s| *s == EntryState::Approved).unwrap_or(0)] > 0
            && workflow::acting_role(&viewer.grants, Step::Accept, &unit.id, "").is_some();
        let timeliness = timeliness.get(&unit.id).map_or("open", |t| t.code());
        rows.push(StatusRow {
            unit_id: unit.id.clone(),
            unit_name: unit.name.clone(),
            due: due.len(),
            missing: due.len().saturating_sub(reported),
            counts,
            timeliness,
        });
    }
    let states = EntryState::ALL.iter().map(|s| tr.t(&format!("state.{}", s.code())).to_string()).collect();
    let months = (1..=12).filter_map(|m| Month::new(month.year, m).ok()).map(|m| m.to_string()).collect();
    let summary = ["on_time", "late", "missing", "open"]
        .into_iter()
        .map(|code| (code, rows.iter().filter(|r| r.timeliness == code).count()))
        .collect();
    let can_import = viewer.can(Action::ManageSchemes, Target::Nothing);
    let has_rule = scheme.file.reporting.is_some();
    let page = ReportsPage {
        chrome,
        month: month.to_string(),
        months,
        states,
        rows,
        can_accept,
        deadline: deadline.to_string(),
        summary,
        can_import,
        has_rule,
    };
    Ok(render(page)?.into_response())
}

#[derive(Deserialize)]
pub struct BulkAccept {
    month: String,
}

/// `POST /reports/accept`: the office accepts every approved entry of the month in its
/// scope, in one transaction, and rescores the year.
pub async fn accept_all(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<BulkAccept>,
) -> Result<Response, WebError> {
    let month = parse_month(&form.month)?;
    collection::accept_all(&state, &viewer, &Tr::new(lang), month).await?;
    Ok(done(&format!("/reports?month={month}"), "report_accept_all"))
}

#[derive(Deserialize)]
pub struct CorrectionForm {
    indicator: String,
    #[serde(default)]
    reason: String,
    /// `v.<field>` values.
    #[serde(flatten)]
    values: HashMap<String, String>,
}

/// `POST /units/{unit}/report/{month}/correction`: asks the office to change an entry
/// of a closed month (new values and a reason).
pub async fn request_correction(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((unit_id, month)): Path<(String, String)>,
    axum::Form(form): axum::Form<CorrectionForm>,
) -> Result<Response, WebError> {
    let month = parse_month(&month)?;
    let typed: HashMap<String, String> =
        form.values.iter().filter_map(|(k, v)| Some((k.strip_prefix("v.")?.to_string(), v.clone()))).collect();
    periods::request_correction(&state, &viewer, &Tr::new(lang), &unit_id, month, &form.indicator, &typed, &form.reason).await?;
    Ok(done(&format!("/units/{unit_id}/report/{month}"), "correction_requested"))
}

/// `GET /units/{unit}/report/{month}/xlsx`: the month's template to fill in Excel.
pub async fn download_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((unit_id, month)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let month = parse_month(&month)?;
    let bytes = collection::form_template(&state, &viewer, &unit_id, month).await?;
    Ok(workbook(&format!("report-{unit_id}-{month}.xlsx"), bytes))
}

/// The largest workbook accepted.
const MAX_XLSX_BYTES: usize = 10 * 1024 * 1024;

/// `POST /units/{unit}/report/{month}/xlsx` (multipart `file`): saves the values of a
/// filled template as drafts — every row checked, any error saves nothing and each
/// error names its sheet, row and column.
pub async fn upload_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((unit_id, month)): Path<(String, String)>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(&month)?;
    let mut bytes = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| WebError::invalid(format!("the upload could not be read: {e}")))? {
        if field.name() == Some("file") {
            let data = field.bytes().await.map_err(|_| WebError::TooLarge)?;
            if data.len() > MAX_XLSX_BYTES {
                return Err(WebError::TooLarge);
            }
            bytes = Some(data);
        }
    }
    let bytes = bytes.filter(|b| !b.is_empty()).ok_or_else(|| WebError::invalid(tr.t("schemes.no_file")))?;
    match collection::upload_form(&state, &viewer, &tr, &unit_id, month, bytes.to_vec()).await? {
        Ok(_) => Ok(done(&format!("/units/{unit_id}/report/{month}"), "report_xlsx")),
        Err(errors) => {
            let summary = format!("{}\n{}", tr.t("report.xlsx_rejected"), errors.join("\n"));
            page(&state, &viewer, lang, &unit_id, month, None, None, &HashMap::new(), Some(summary)).await
        }
    }
}

/// `POST /units/{unit}/report/{month}/evidence` (multipart `indicator`, `file`):
/// attaches an evidence file to an entry, by someone who may report it.
pub async fn upload_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((unit_id, month)): Path<(String, String)>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let month = parse_month(&month)?;
    let (mut indicator, mut file) = (String::new(), None);
    while let Some(field) = multipart.next_field().await.map_err(|e| WebError::invalid(format!("the upload could not be read: {e}")))? {
        match field.name() {
            Some("indicator") => indicator = field.text().await.map_err(|e| WebError::invalid(e.to_string()))?,
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(|_| WebError::TooLarge)?;
                if bytes.len() > jixiao_app::files::MAX_BYTES {
                    return Err(WebError::TooLarge);
                }
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let (name, bytes) = file.ok_or_else(|| WebError::invalid(Tr::new(lang).t("service.error.no_file")))?;
    evidence::attach_to_entry(&state, &viewer, &Tr::new(lang), (&unit_id, month, &indicator), &name, &bytes).await?;
    Ok(done(&format!("/units/{unit_id}/report/{month}"), "evidence_added"))
}

/// `GET /evidence/{id}`: an evidence file, for those whose scope covers its entry
/// (a report's) or who may see its request (a service request's).
pub async fn download_evidence(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    let (meta, content) = evidence::download(&state, &viewer, id).await?;
    Ok((
        [(header::CONTENT_TYPE, meta.content_type.clone()), (header::CONTENT_DISPOSITION, jixiao_app::files::disposition(&meta.filename))],
        content,
    )
        .into_response())
}

/// `POST /reports/import` (multipart `file`, `year`): the office loads a data file
/// (spec §3 JSON: entries and records, e.g. a whole month for all units; or a whole
/// month as the workbook of `month_workbook`, errors by cell) as accepted data, through
/// `app::imports` (all or nothing; changes in closed months refused).
pub async fn import_data(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let (mut year, mut bytes) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(|e| WebError::invalid(format!("the upload could not be read: {e}")))? {
        match field.name() {
            Some("year") => year = field.text().await.ok().and_then(|t| t.trim().parse::<i32>().ok()),
            Some("file") => bytes = Some(field.bytes().await.map_err(|_| WebError::TooLarge)?),
            _ => {}
        }
    }
    let year = year.ok_or_else(|| WebError::invalid(tr.t("schemes.bad_year")))?;
    let bytes = bytes.filter(|b| !b.is_empty()).ok_or_else(|| WebError::invalid(tr.t("schemes.no_file")))?;
    let imported = imports::import_bytes(&state, &viewer, &tr, year, bytes.to_vec(), "upload").await?;
    let back = imported.month.map_or_else(|| "/reports".to_string(), |m| format!("/reports?month={m}"));
    Ok(done(&back, "data_imported"))
}

#[derive(Deserialize)]
pub struct TemplateQuery {
    month: Option<String>,
}

/// `GET /reports/import/template.xlsx?month=2027-03`: the month's workbook for a
/// whole-month import (`month_workbook`), one row for every field due from every unit
/// in the viewer's scope, with the accepted values already in, names beside the ids.
pub async fn import_template(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(q.month.as_deref().ok_or_else(|| WebError::invalid(tr.t("report.bad_month")))?)?;
    let bytes = imports::template(&state, &viewer, month).await?;
    Ok(workbook(&format!("data-{month}.xlsx"), bytes))
}

/// A workbook download.
fn workbook(name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, jixiao_app::xlsx::CONTENT_TYPE.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

#[derive(Deserialize)]
pub struct MonthForm {
    month: String,
}

/// `POST /reports/reminders`: queues the month's deadline reminders (SMS to every
/// reporter of a unit with indicators not yet reported), once a day per user.
pub async fn queue_reminders(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::Form(form): axum::Form<MonthForm>,
) -> Result<Response, WebError> {
    let month = parse_month(&form.month)?;
    let queued = reminders::queue(&state, &viewer, month).await?;
    Ok(done(&format!("/reports?month={month}"), if queued > 0 { "reminders_queued" } else { "reminders_none" }))
}

/// `POST /reports/deductions`: turns the month's late and missing reports into
/// records of the scheme's `reporting` rule — once per unit and month, so repeating it
/// adds nothing — and rescores.
pub async fn record_lateness(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<MonthForm>,
) -> Result<Response, WebError> {
    let month = parse_month(&form.month)?;
    let added = collection::record_lateness(&state, &viewer, &Tr::new(lang), month).await?;
    Ok(done(&format!("/reports?month={month}"), if added > 0 { "lateness_recorded" } else { "lateness_none" }))
}
