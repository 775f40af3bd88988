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
use axum::response::{IntoResponse, Redirect, Response};
use jixiao_core::data::Dataset;
use jixiao_core::org::{Action, Target};
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::{FieldType, Scheme};
use jixiao_core::score::score_period;
use jixiao_core::workflow::{self, EntryState, Step};
use jixiao_store::StoredEntry;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::auth::Viewer;
use crate::collection::{self, Change, Problem, UnitMonth, previous, values_of};
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
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
    can_return: bool,
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

pub(crate) fn json_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.as_f64().map(number).unwrap_or_default(),
        Some(Value::Bool(b)) => {
            if *b {
                "1".into()
            } else {
                "0".into()
            }
        }
        Some(other) => other.to_string(),
        None => String::new(),
    }
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
            values.insert(f.key.clone(), typed_value(f.field_type, text));
        }
        out.insert(node.id.clone(), values);
    }
    out
}

/// A value as typed into a form. Numbers stay JSON numbers when they read as one, so
/// `validate_entry` checks type and bounds; anything else goes as text and is
/// refused there.
pub(crate) fn typed_value(field_type: FieldType, text: &str) -> Value {
    match field_type {
        FieldType::Boolean if matches!(text, "是" | "true") => Value::from(1),
        FieldType::Boolean if matches!(text, "否" | "false") => Value::from(0),
        _ => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::from(text), Value::Number),
    }
}

/// The scores the form's saved values give for the month: accepted data of the year
/// with this form's entries (any state) in place of the accepted ones.
async fn preview_scores(state: &AppState, data: &UnitMonth) -> Result<HashMap<String, String>, WebError> {
    let mut file = state.store.data_file(data.month.year).await?;
    let month = data.month.to_string();
    let unit_id = &data.scheme.units[data.unit].id;
    file.entries.retain(|e| !(e.unit == *unit_id && e.month == month));
    file.entries.extend(data.current.values().map(|e| e.row.clone()));
    file.entries.sort_by(|a, b| (&a.unit, &a.indicator, &a.month).cmp(&(&b.unit, &b.indicator, &b.month)));
    let dataset = Dataset::load(&data.scheme, &file).map_err(|e| WebError::Internal(e.to_string()))?;
    let result = score_period(&data.scheme, &dataset, Period::Month(data.month));
    Ok(data
        .due
        .iter()
        .map(|&n| {
            let text = match result.status(data.unit, n) {
                jixiao_core::score::Status::Ok => result.score(data.unit, n).map(number).unwrap_or_default(),
                other => other.as_str().to_string(),
            };
            (data.scheme.nodes[n].id.clone(), text)
        })
        .collect())
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
    let scores = preview_scores(state, &data).await?;
    let last_month = values_of(state, unit_id, previous(month)).await?;
    let last_year = values_of(state, unit_id, Month { year: month.year - 1, month: month.month }).await?;
    let owners: Vec<String> = data.due.iter().map(|&n| format!("{}/{unit_id}/{}/{month}", month.year, data.scheme.nodes[n].id)).collect();
    let evidence = state.store.attachments("entry", &owners).await?;
    let mut indicators: Vec<IndicatorView> = Vec::new();
    let (mut can_save, mut can_approve, mut can_accept, mut can_return) = (false, false, false, false);
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
        can_return |= returnable;
        let returned_because = match (st, entry) {
            (Some(EntryState::Returned), Some(_)) => last_return_reason(state, month, unit_id, &node.id).await?,
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
    let deadline = collection::deadline(state, month).await?.to_string();
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
            by: format!("{} · {}", c.requested_by, crate::pages::home::short_time(&c.requested_at)),
            decision: c.decision_note.unwrap_or_default(),
        })
        .collect();
    if closed {
        for i in &mut indicators {
            i.editable = false;
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
        can_return: can_return && !closed,
        error,
        months,
        closed,
        can_correct,
        corrections,
    };
    Ok((status, render(page)?).into_response())
}

/// The reason of the latest return of an entry, from its audit trail.
async fn last_return_reason(state: &AppState, month: Month, unit: &str, indicator: &str) -> Result<Option<String>, WebError> {
    let object = format!("{}/{unit}/{indicator}/{month}", month.year);
    let trail = state.store.audit_trail("entry", &object).await?;
    Ok(trail
        .iter()
        .rev()
        .find(|e| e.action == "entry.return")
        .and_then(|e| e.after_json.as_deref())
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .and_then(|v| v["reason"].as_str().map(str::to_string)))
}

/// `GET /units/{unit}/report/{month}`.
pub async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    Path((unit, month)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let month = parse_month(&month)?;
    page(&state, &viewer, lang, &unit, month, q.flash.as_deref(), None, &HashMap::new(), None).await
}

/// `GET /report`: the viewer's own unit's form for the month due now.
pub async fn mine(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let month = collection::due_month(&state).await?;
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
    lang: Lang,
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
                errors.insert(key, p.message(&tr));
            }
            let conflict = problems.iter().any(|p| matches!(p, Problem::Conflict { .. }));
            let summary = tr.t(if conflict { "report.conflict" } else { "form.has_errors" }).to_string();
            // A conflict shows the values as they are now; other errors keep what was typed.
            let typed = (!conflict).then_some(&form);
            page(&state, &viewer, lang, &unit_id, month, None, typed, &errors, Some(summary)).await
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
pub async fn status(State(state): State<AppState>, viewer: Viewer, lang: Lang, Query(q): Query<MonthQuery>) -> Result<Response, WebError> {
    let month = match q.month.as_deref() {
        Some(m) => parse_month(m)?,
        None => collection::due_month(&state).await?,
    };
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/reports", "report.list_title", vec![], q.flash.as_deref()).await;
    let tr = chrome.tr;
    let Some((_, scheme)) = state.scheme_cache.latest(&state.store, month.year).await? else {
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
    let deadline = collection::deadline(&state, month).await?;
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
    axum::Form(form): axum::Form<BulkAccept>,
) -> Result<Response, WebError> {
    let month = parse_month(&form.month)?;
    let entries: Vec<StoredEntry> = state
        .store
        .stored_entries(month.year)
        .await?
        .into_iter()
        .filter(|e| e.row.month == month.to_string() && e.state == EntryState::Approved.code())
        .collect();
    let mut tx = state.store.begin(&viewer.actor).await?;
    let mut accepted = 0;
    for e in &entries {
        let Some(role) = workflow::acting_role(&viewer.grants, Step::Accept, &e.row.unit, &e.row.indicator) else { continue };
        let Ok(s) = workflow::next(Some(EntryState::Approved), Step::Accept, role, "") else { continue };
        let version =
            state.store.set_entry_state(&mut tx, month.year, &e.row.unit, &e.row.indicator, &e.row.month, e.version, s.code()).await?;
        let object = format!("{}/{}/{}/{}", month.year, e.row.unit, e.row.indicator, e.row.month);
        tx.audit(
            "entry.accept",
            "entry",
            &object,
            Some(json!({"state": e.state, "version": e.version})),
            Some(json!({"state": s.code(), "version": version})),
        )
        .await?;
        accepted += 1;
    }
    if accepted == 0 {
        return Err(WebError::invalid("there is no approved entry to accept"));
    }
    tx.audit("entries.accept_all", "month", &month.to_string(), None, Some(json!({"accepted": accepted}))).await?;
    tx.commit().await?;
    state.store.refresh_scores_from(month.year, month.month).await?;
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
    lang: Lang,
    Path((unit_id, month)): Path<(String, String)>,
    axum::Form(form): axum::Form<CorrectionForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(&month)?;
    if workflow::acting_role(&viewer.grants, Step::Save, &unit_id, &form.indicator).is_none() {
        return Err(WebError::Forbidden);
    }
    if state.store.period_state(month.year, &month.to_string()).await? == jixiao_store::PeriodState::Open {
        return Err(WebError::invalid(tr.t("correction.month_open")));
    }
    let data = collection::load(&state, &unit_id, month).await?;
    let node = data
        .scheme
        .node_index(&form.indicator)
        .filter(|n| data.due.contains(n))
        .ok_or_else(|| WebError::invalid(tr.f("report.not_due", &[&form.indicator, &month])))?;
    let mut typed = HashMap::new();
    for (k, v) in &form.values {
        if let Some(field) = k.strip_prefix("v.") {
            typed.insert(format!("v.{}.{field}", form.indicator), v.clone());
        }
    }
    let values = submitted_values(&data.scheme, &[node], &typed).remove(&form.indicator).unwrap_or_default();
    let row = jixiao_core::data::EntryRow {
        unit: unit_id.clone(),
        indicator: form.indicator.clone(),
        month: month.to_string(),
        values: values.clone(),
    };
    jixiao_core::data::validate_entry(&data.scheme, &row).map_err(WebError::invalid)?;
    if values.is_empty() {
        return Err(WebError::invalid(tr.t("form.required")));
    }
    let old = data.current.get(&form.indicator).map(|e| e.row.values.clone());
    let mut tx = state.store.begin(&viewer.actor).await?;
    let id = state
        .store
        .request_correction(&mut tx, month.year, &unit_id, &form.indicator, &month.to_string(), old.as_ref(), &values, &form.reason)
        .await?;
    tx.audit(
        "correction.request",
        "correction",
        &id.to_string(),
        None,
        Some(serde_json::json!({"entry": format!("{}/{unit_id}/{}/{month}", month.year, form.indicator), "old": old, "new": values, "reason": form.reason.trim()})),
    )
    .await?;
    tx.commit().await?;
    Ok(done(&format!("/units/{unit_id}/report/{month}"), "correction_requested"))
}

/// `GET /units/{unit}/report/{month}/xlsx`: the month's template to fill in Excel.
pub async fn download_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((unit_id, month)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let month = parse_month(&month)?;
    let data = collection::load(&state, &unit_id, month).await?;
    let last = values_of(&state, &unit_id, previous(month)).await?;
    let mut rows = Vec::new();
    for &n in &data.due {
        let node = &data.scheme.nodes[n];
        let Some(ind) = &node.indicator else { continue };
        if !viewer.can(Action::ViewUnit, Target::Indicator { unit: &unit_id, indicator: &node.id }) {
            continue;
        }
        let current = data.current.get(&node.id);
        for f in &ind.fields {
            rows.push(crate::workbook::TemplateRow {
                indicator: &node.id,
                indicator_name: &node.name,
                field: &f.key,
                field_name: if f.name.is_empty() { &f.key } else { &f.name },
                field_type: f.field_type,
                min: f.min,
                max: f.max,
                last_month: last.get(&node.id).and_then(|v| v.get(&f.key)).and_then(Value::as_f64),
                value: current.and_then(|e| e.row.values.get(&f.key)).and_then(Value::as_f64),
            });
        }
    }
    let unit_name = data.scheme.units[data.unit].name.clone();
    let bytes = crate::workbook::template(&unit_id, &unit_name, month, &rows).map_err(|e| WebError::Internal(e.to_string()))?;
    let disposition = format!("attachment; filename=\"report-{unit_id}-{month}.xlsx\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// The largest workbook accepted.
const MAX_XLSX_BYTES: usize = 10 * 1024 * 1024;

/// `POST /units/{unit}/report/{month}/xlsx` (multipart `file`): saves the values of a
/// filled template as drafts — every row checked, any error saves nothing and each
/// error names its sheet, row and column.
pub async fn upload_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
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
    let data = collection::load(&state, &unit_id, month).await?;
    let show = |errors: Vec<String>| {
        let state = state.clone();
        let viewer = viewer.clone();
        let unit_id = unit_id.clone();
        async move {
            let summary = format!("{}\n{}", tr.t("report.xlsx_rejected"), errors.join("\n"));
            page(&state, &viewer, lang, &unit_id, month, None, None, &HashMap::new(), Some(summary)).await
        }
    };
    let (scheme, unit) = (data.scheme.clone(), unit_id.clone());
    let read = crate::sheet::read_upload(move || crate::workbook::read(&bytes, &scheme, &unit, month)).await;
    let upload = match read.ok_or_else(|| WebError::Internal("reading the workbook failed".into()))? {
        Ok(u) => u,
        Err(errors) => return show(errors.iter().map(ToString::to_string).collect()).await,
    };
    let changes: Vec<Change> = upload
        .values
        .iter()
        .filter(|(indicator, values)| {
            !values.is_empty() && collection::state_of(data.current.get(*indicator)).is_none_or(EntryState::editable)
        })
        .map(|(indicator, values)| Change {
            indicator: indicator.clone(),
            step: Step::Save,
            values: Some(values.clone()),
            seen_version: None,
            reason: upload.reasons.get(indicator).cloned().unwrap_or_default(),
        })
        .collect();
    if changes.is_empty() {
        return show(vec![tr.t("report.nothing_to_do").to_string()]).await;
    }
    match collection::apply(&state, &viewer, &tr, &data, changes).await? {
        Ok(_) => Ok(done(&format!("/units/{unit_id}/report/{month}"), "report_xlsx")),
        Err(problems) => {
            let errors = problems
                .iter()
                .map(|p| {
                    let field = match p {
                        Problem::Field { field, .. } => Some(field.as_str()),
                        _ => None,
                    };
                    let (row, column) = crate::workbook::place(&upload, p.indicator(), field);
                    format!("{}!{column}{row}: {}", crate::workbook::SHEET, p.message(&tr))
                })
                .collect();
            show(errors).await
        }
    }
}

/// `POST /units/{unit}/report/{month}/evidence` (multipart `indicator`, `file`):
/// attaches an evidence file to an entry, by someone who may report it.
pub async fn upload_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
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
                if bytes.len() > crate::evidence::MAX_BYTES {
                    return Err(WebError::TooLarge);
                }
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    if workflow::acting_role(&viewer.grants, Step::Save, &unit_id, &indicator).is_none() {
        return Err(WebError::Forbidden);
    }
    let data = collection::load(&state, &unit_id, month).await?;
    if !data.scheme.node_index(&indicator).is_some_and(|n| data.due.contains(&n)) {
        return Err(WebError::invalid(format!("indicator `{indicator}` is not due from `{unit_id}` in {month}")));
    }
    let (name, bytes) = file.filter(|(_, b)| !b.is_empty()).ok_or_else(|| WebError::invalid("choose a file"))?;
    let content_type = crate::evidence::kind_of(&name, &bytes).map_err(WebError::invalid)?;
    let owner = format!("{}/{unit_id}/{indicator}/{month}", month.year);
    let mut tx = state.store.begin(&viewer.actor).await?;
    let stored = state.store.add_attachment(&mut tx, "entry", &owner, &name, content_type, &bytes).await?;
    tx.audit(
        "evidence.add",
        "entry",
        &owner,
        None,
        Some(serde_json::json!({"attachment": stored.id, "filename": name, "size": stored.size, "sha256": stored.sha256})),
    )
    .await?;
    tx.commit().await?;
    Ok(done(&format!("/units/{unit_id}/report/{month}"), "evidence_added"))
}

/// `GET /evidence/{id}`: an evidence file, for those whose scope covers its entry
/// (a report's) or who may see its request (a service request's).
pub async fn download_evidence(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, WebError> {
    let (meta, content) = state.store.attachment(id).await?;
    match meta.owner_type.as_str() {
        "entry" => {
            // owner: year/unit/indicator/month
            let parts: Vec<&str> = meta.owner_id.split('/').collect();
            let (Some(unit), Some(indicator)) = (parts.get(1), parts.get(2)) else { return Err(WebError::NotFound) };
            viewer.require(Action::ViewUnit, Target::Indicator { unit, indicator })?;
        }
        crate::pages::service::handling::EVIDENCE_OWNER => {
            // A service request's evidence: whoever may see the request (else 404).
            let request = state.store.service_request_by_case(&meta.owner_id).await?.ok_or(WebError::NotFound)?;
            crate::pages::service::handling::visible(&state, &viewer, request.id).await?;
        }
        // A citizen's photo has its own route; nothing else is served here.
        _ => return Err(WebError::NotFound),
    }
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, meta.content_type.clone()),
            (axum::http::header::CONTENT_DISPOSITION, crate::evidence::disposition(&meta.filename)),
        ],
        content,
    )
        .into_response())
}

/// `POST /reports/import` (multipart `file`, `year`): the office loads a data file
/// (spec §3 JSON: entries and records, e.g. a whole month for all units; or a whole
/// month as the workbook of `month_workbook`, errors by cell) as accepted data. Every row is checked against the year's scheme first and the file loads all
/// or nothing; rows in closed months are refused; the year is rescored.
pub async fn import_data(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
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
    let (_, scheme) =
        state.scheme_cache.latest(&state.store, year).await?.ok_or_else(|| WebError::invalid(format!("there is no scheme for {year}")))?;
    // An .xlsx (a zip) is the month's workbook, checked cell by cell; else spec §3 JSON.
    let (file, back) = if crate::scheme_workbook::is_xlsx(&bytes) {
        let (bytes, scheme) = (bytes.clone(), scheme.clone());
        let read = crate::sheet::read_upload(move || crate::month_workbook::read(&bytes, Some(&scheme))).await;
        match read.ok_or_else(|| WebError::Internal("reading the workbook failed".into()))? {
            Ok(book) => (book.file, format!("/reports?month={}", book.month)),
            Err(errors) => {
                let lines: Vec<String> =
                    std::iter::once(tr.t("report.xlsx_rejected").to_string()).chain(errors.iter().map(ToString::to_string)).collect();
                return Err(WebError::invalid(lines.join("\n")));
            }
        }
    } else {
        let file: jixiao_core::data::DataFile =
            serde_json::from_slice(&bytes).map_err(|e| WebError::invalid(format!("the data file is not valid JSON of spec §3: {e}")))?;
        (file, "/reports".to_string())
    };
    Dataset::load(&scheme, &file).map_err(|e| WebError::invalid(e.to_string()))?;
    let mut closed = Vec::new();
    for p in state.store.periods(year).await? {
        if p.state != jixiao_store::PeriodState::Open {
            closed.push(p.period);
        }
    }
    let in_closed: Vec<String> = file
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| closed.contains(&e.month))
        .map(|(i, e)| format!("entries[{i}]: {} {} {} — {}", e.unit, e.indicator, e.month, tr.f("report.closed", &[&e.month])))
        .collect();
    if !in_closed.is_empty() {
        return Err(WebError::invalid(in_closed.join("\n")));
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    let summary = state.store.import_data(&mut tx, year, &file).await?;
    tx.audit(
        "data.import",
        "data",
        &year.to_string(),
        None,
        Some(serde_json::json!({"entries": summary.entries, "records": summary.records})),
    )
    .await?;
    tx.commit().await?;
    state.store.refresh_scores(year).await?;
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
    lang: Lang,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(q.month.as_deref().ok_or_else(|| WebError::invalid(tr.t("report.bad_month")))?)?;
    let (_, scheme) = state
        .scheme_cache
        .latest(&state.store, month.year)
        .await?
        .ok_or_else(|| WebError::invalid(format!("there is no scheme for {}", month.year)))?;
    let accepted: HashMap<(String, String), Map<String, Value>> = state
        .store
        .stored_entries(month.year)
        .await?
        .into_iter()
        .filter(|e| e.row.month == month.to_string() && e.state == EntryState::Accepted.code())
        .map(|e| ((e.row.unit, e.row.indicator), e.row.values))
        .collect();
    let mut rows = Vec::new();
    for (ui, unit) in scheme.units.iter().enumerate() {
        if !viewer.can(Action::ViewUnit, Target::Unit(&unit.id)) {
            continue;
        }
        for n in collection::due_indicators(&scheme, ui, month.month) {
            let node = &scheme.nodes[n];
            let Some(ind) = &node.indicator else { continue };
            let values = accepted.get(&(unit.id.clone(), node.id.clone()));
            for f in &ind.fields {
                let value = match values.and_then(|v| v.get(&f.key)) {
                    Some(Value::Bool(b)) => crate::month_workbook::Cell::Bool(*b),
                    Some(v) => v.as_f64().map_or(crate::month_workbook::Cell::Empty, crate::month_workbook::Cell::Number),
                    None => crate::month_workbook::Cell::Empty,
                };
                let field_name = if f.name.is_empty() { f.key.as_str() } else { f.name.as_str() };
                rows.push(crate::month_workbook::Row {
                    unit: &unit.id,
                    indicator: &node.id,
                    field: &f.key,
                    value,
                    names: Some((&unit.name, &node.name, field_name)),
                });
            }
        }
    }
    let (bytes, _) = crate::month_workbook::write(&month.to_string(), rows).map_err(|e| WebError::Internal(e.to_string()))?;
    let disposition = format!("attachment; filename=\"data-{month}.xlsx\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
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
    let (_, scheme) = state
        .scheme_cache
        .latest(&state.store, month.year)
        .await?
        .ok_or_else(|| WebError::invalid(format!("there is no scheme for {}", month.year)))?;
    // A demo year in the future is seen at today's date moved into that year.
    let today = chrono::Local::now().date_naive();
    let shift = month.year - previous(Month::of_date(today)).year;
    let today = chrono::Datelike::with_year(&today, chrono::Datelike::year(&today) + shift).unwrap_or(today);
    let queued = crate::reminders::queue(&state.store, &scheme, month, today, &viewer.actor).await?;
    Ok(done(&format!("/reports?month={month}"), if queued > 0 { "reminders_queued" } else { "reminders_none" }))
}

/// `POST /reports/deductions`: turns the month's late and missing reports into
/// records of the scheme's `reporting` rule — once per unit and month, so repeating it
/// adds nothing — and rescores.
pub async fn record_lateness(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    axum::Form(form): axum::Form<MonthForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(&form.month)?;
    let (_, scheme) = state
        .scheme_cache
        .latest(&state.store, month.year)
        .await?
        .ok_or_else(|| WebError::invalid(format!("there is no scheme for {}", month.year)))?;
    let rule = scheme.file.reporting.clone().ok_or_else(|| WebError::invalid(tr.t("report.no_reporting_rule")))?;
    let timeliness = collection::timeliness_by_unit(&state, &scheme, month).await?;
    let existing = state.store.records(month.year).await?;
    // Dated the month's last day (the day before the 1st of the next month), so it
    // counts in that month and every period containing it.
    let last_day = month.report_deadline(1).pred_opt().unwrap_or_default().to_string();
    let mut tx = state.store.begin(&viewer.actor).await?;
    let mut added = 0;
    for unit in &scheme.units {
        let (key, points) = match timeliness.get(&unit.id) {
            Some(workflow::Timeliness::Late) => ("report.late_note", rule.late_points),
            Some(workflow::Timeliness::Missing) => ("report.missing_note", rule.missing_points),
            _ => continue,
        };
        if points == 0.0 {
            continue;
        }
        // The note is data, written once in the default language; it also makes the
        // action idempotent.
        let note = Tr::new(Lang::Zh).f(key, &[&month]);
        let done_before = existing
            .iter()
            .any(|r| r.row.unit == unit.id && r.row.indicator == rule.deduction && r.row.note.as_deref() == Some(note.as_str()));
        if done_before {
            continue;
        }
        let row = jixiao_core::data::RecordRow {
            unit: unit.id.clone(),
            indicator: rule.deduction.clone(),
            date: last_day.clone(),
            points,
            note: Some(note.clone()),
        };
        let id = state.store.add_record(&mut tx, month.year, &row).await?;
        tx.audit(
            "record.add",
            "record",
            &id.to_string(),
            None,
            Some(serde_json::json!({"unit": unit.id, "indicator": rule.deduction, "date": last_day, "points": points, "note": note})),
        )
        .await?;
        added += 1;
    }
    if added == 0 {
        drop(tx);
        return Ok(done(&format!("/reports?month={month}"), "lateness_none"));
    }
    tx.commit().await?;
    state.store.refresh_scores_from(month.year, month.month).await?;
    Ok(done(&format!("/reports?month={month}"), "lateness_recorded"))
}
