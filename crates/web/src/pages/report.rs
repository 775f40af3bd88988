//! Monthly reporting (数据采集): a unit's form for one month, and the office's status
//! page with bulk acceptance.
//!
//! The form lists the indicators due that month for the unit (assigned, due by their
//! frequency, reported by fields), each with its fields, last month's and last year's
//! values, the unit's params (targets), the entry's workflow state and the score the
//! saved values give. One POST carries one action for the whole form — save, submit,
//! approve, accept — or a return of one indicator with a reason. Each entry's step is
//! checked by `core::workflow` for the viewer's role and scope; versions in the form
//! make a second writer's save fail with a conflict instead of overwriting. The whole
//! action is one transaction with an audit entry per entry changed; a form with any
//! error saves nothing. Accepting (or returning accepted data) rescores the year.
//!
//! A value that moves more than `collection.jump_ratio` (default 0.5, i.e. 50 %) from
//! the unit's own value of the month before needs a written reason.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use jixiao_core::data::{Dataset, EntryRow, validate_entry};
use jixiao_core::org::{Action, Target};
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::{FieldType, Scheme, Source};
use jixiao_core::score::score_period;
use jixiao_core::workflow::{self, EntryState, Step};
use jixiao_store::{StoreError, StoredEntry};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::{Chrome, ListQuery};

const DEFAULT_JUMP_RATIO: f64 = 0.5;

/// One field of one indicator on the form.
pub struct FieldView {
    pub name: String,
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
}

fn parse_month(text: &str) -> Result<Month, WebError> {
    text.parse::<Month>().map_err(|e| WebError::invalid(format!("month `{text}`: {e}")))
}

fn number_text(x: f64) -> String {
    let r = jixiao_core::round::round_half_away(x, 4);
    if r == r.trunc() && r.abs() < 1e15 { format!("{}", r as i64) } else { format!("{r}") }
}

fn json_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.as_f64().map(number_text).unwrap_or_default(),
        Some(Value::Bool(b)) => if *b { "1".into() } else { "0".into() },
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// The indicators due for `unit` in `month`: node indices in tree order.
fn due_indicators(scheme: &Scheme, unit: usize, month: u8) -> Vec<usize> {
    scheme
        .indicators
        .iter()
        .copied()
        .filter(|&n| {
            scheme.nodes[n]
                .indicator
                .as_ref()
                .is_some_and(|i| i.is_assigned(unit) && i.is_due(month) && i.source == Source::Fields)
        })
        .collect()
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
            // Numbers stay JSON numbers when they read as one, so `validate_entry`
            // checks type and bounds; anything else goes as text and is refused there.
            let value = match f.field_type {
                FieldType::Boolean if matches!(text, "是" | "true") => Value::from(1),
                FieldType::Boolean if matches!(text, "否" | "false") => Value::from(0),
                _ => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::from(text), Value::Number),
            };
            values.insert(f.key.clone(), value);
        }
        out.insert(node.id.clone(), values);
    }
    out
}

struct FormData {
    scheme: std::sync::Arc<Scheme>,
    unit: usize,
    month: Month,
    nodes: Vec<usize>,
    current: HashMap<String, StoredEntry>,
}

async fn load(state: &AppState, unit_id: &str, month: Month) -> Result<FormData, WebError> {
    let (_, scheme) = state
        .scheme_cache
        .latest(&state.store, month.year)
        .await?
        .ok_or_else(|| WebError::invalid(format!("there is no scheme for {}", month.year)))?;
    let unit = scheme.unit_index(unit_id).ok_or_else(|| WebError::invalid(format!("unit `{unit_id}` is not assessed in {}", month.year)))?;
    let nodes = due_indicators(&scheme, unit, month.month);
    let current = state
        .store
        .form_entries(month.year, unit_id, &month.to_string())
        .await?
        .into_iter()
        .map(|e| (e.row.indicator.clone(), e))
        .collect();
    Ok(FormData { scheme, unit, month, nodes, current })
}

fn state_of(e: Option<&StoredEntry>) -> Option<EntryState> {
    e.and_then(|e| e.state.parse().ok())
}

/// The scores the form's saved values give for the month: accepted data of the year
/// with this form's entries (any state) in place of the accepted ones.
async fn preview_scores(state: &AppState, data: &FormData) -> Result<HashMap<String, String>, WebError> {
    let mut file = state.store.data_file(data.month.year).await?;
    let month = data.month.to_string();
    let unit_id = &data.scheme.units[data.unit].id;
    file.entries.retain(|e| !(e.unit == *unit_id && e.month == month));
    file.entries.extend(data.current.values().map(|e| e.row.clone()));
    file.entries.sort_by(|a, b| (&a.unit, &a.indicator, &a.month).cmp(&(&b.unit, &b.indicator, &b.month)));
    let dataset = Dataset::load(&data.scheme, &file).map_err(|e| WebError::Internal(e.to_string()))?;
    let result = score_period(&data.scheme, &dataset, Period::Month(data.month));
    Ok(data
        .nodes
        .iter()
        .map(|&n| {
            let text = match result.status(data.unit, n) {
                jixiao_core::score::Status::Ok => result.score(data.unit, n).map(number_text).unwrap_or_default(),
                other => other.as_str().to_string(),
            };
            (data.scheme.nodes[n].id.clone(), text)
        })
        .collect())
}

/// The unit's values of another month (any state), by indicator and field.
async fn values_of(state: &AppState, year: i32, unit: &str, month: &str) -> Result<HashMap<String, Map<String, Value>>, WebError> {
    if year < 1 {
        return Ok(HashMap::new());
    }
    Ok(state.store.form_entries(year, unit, month).await?.into_iter().map(|e| (e.row.indicator, e.row.values)).collect())
}

fn previous(month: Month) -> Month {
    if month.month == 1 { Month { year: month.year - 1, month: 12 } } else { Month { year: month.year, month: month.month - 1 } }
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
    let data = load(state, unit_id, month).await?;
    let unit_name = data.scheme.units[data.unit].name.clone();
    let here = format!("/units/{unit_id}/report/{month}");
    let crumbs = vec![(tr.t("report.list_title").to_string(), "/reports".to_string())];
    let mut chrome = Chrome::new(state, Some(viewer), lang, &here, "report.title", crumbs, flash).await;
    chrome.title = format!("{} · {unit_name} · {month}", chrome.title);
    let scores = preview_scores(state, &data).await?;
    let prev = previous(month);
    let last_month = values_of(state, prev.year, unit_id, &prev.to_string()).await?;
    let last_year = values_of(state, month.year - 1, unit_id, &Month { year: month.year - 1, month: month.month }.to_string()).await?;
    let mut indicators = Vec::new();
    let (mut can_save, mut can_approve, mut can_accept, mut can_return) = (false, false, false, false);
    for &n in &data.nodes {
        let node = &data.scheme.nodes[n];
        let Some(ind) = &node.indicator else { continue };
        let entry = data.current.get(&node.id);
        let st = state_of(entry);
        let may = |step: Step| {
            workflow::acting_role(&viewer.grants, step, unit_id, &node.id)
                .is_some_and(|role| workflow::next(st, step, role, "x").is_ok())
        };
        let editable = may(Step::Save);
        can_save |= editable;
        can_approve |= may(Step::Approve);
        can_accept |= may(Step::Accept);
        can_return |= may(Step::Return);
        let params = ind
            .param_names
            .iter()
            .zip(ind.assignments[data.unit].iter().flatten())
            .filter_map(|(name, v)| v.map(|v| format!("{name} = {}", number_text(v))))
            .collect::<Vec<_>>()
            .join("，");
        let fields = ind
            .fields
            .iter()
            .map(|f| {
                let input = format!("v.{}.{}", node.id, f.key);
                let value = match typed {
                    Some(t) => t.get(&input).cloned().unwrap_or_default(),
                    None => json_text(entry.and_then(|e| e.row.values.get(&f.key))),
                };
                let bounds = match (f.min, f.max) {
                    (Some(a), Some(b)) => format!("{} – {}", number_text(a), number_text(b)),
                    (Some(a), None) => format!("≥ {}", number_text(a)),
                    (None, Some(b)) => format!("≤ {}", number_text(b)),
                    (None, None) => String::new(),
                };
                FieldView {
                    name: if f.name.is_empty() { f.key.clone() } else { f.name.clone() },
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
            points: node.points.map(number_text).unwrap_or_default(),
            fields,
            params,
            state: st.map(|s| tr.t(&format!("state.{}", s.code())).to_string()),
            state_code: st.map_or("none", EntryState::code),
            version: entry.map(|e| e.version.to_string()).unwrap_or_default(),
            score: scores.get(&node.id).cloned().unwrap_or_default(),
            editable,
            why: typed.and_then(|t| t.get(&format!("why.{}", node.id)).cloned()).unwrap_or_default(),
            error: errors.get(&node.id).cloned(),
        });
    }
    let months = (1..=12).filter_map(|m| Month::new(month.year, m).ok()).map(|m| m.to_string()).collect();
    let status = if errors.is_empty() && error.is_none() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    let page = ReportPage {
        chrome,
        unit_id: unit_id.to_string(),
        unit_name,
        deadline: month.report_deadline(15).to_string(),
        month: month.to_string(),
        indicators,
        can_save,
        can_approve,
        can_accept,
        can_return,
        error,
        months,
    };
    Ok((status, render(page)?).into_response())
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
    let today = chrono::Local::now().date_naive();
    let years = state.store.scheme_years().await?;
    let prev = previous(Month::of_date(today));
    // A scheme year in the future (a demo) is shown at the same month of its year.
    let year = years.iter().copied().max().filter(|&y| y > prev.year).unwrap_or(prev.year);
    let month = Month { year, month: prev.month };
    match &viewer.unit_id {
        Some(unit) if viewer.can(Action::ViewUnit, Target::Unit(unit)) => {
            Ok(Redirect::to(&format!("/units/{unit}/report/{month}")).into_response())
        }
        _ => Ok(Redirect::to(&format!("/reports?month={month}")).into_response()),
    }
}

/// `POST /units/{unit}/report/{month}`: `action` = save, submit, approve, accept, or
/// return (with `indicator` and `reason`).
pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    Path((unit_id, month)): Path<(String, String)>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(&month)?;
    let data = load(&state, &unit_id, month).await?;
    let action = form.get("action").map(String::as_str).unwrap_or("");
    let jump_ratio = state
        .store
        .setting("collection.jump_ratio")
        .await?
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|r| *r > 0.0)
        .unwrap_or(DEFAULT_JUMP_RATIO);
    let mut errors: HashMap<String, String> = HashMap::new();
    // (indicator, state before, new values or None, new state, reason)
    let mut changes: Vec<(String, Option<StoredEntry>, Option<Map<String, Value>>, EntryState, String)> = Vec::new();
    match action {
        "save" | "submit" => {
            let values = submitted_values(&data.scheme, &data.nodes, &form);
            let prev = previous(month);
            let last = values_of(&state, prev.year, &unit_id, &prev.to_string()).await?;
            for (indicator, vals) in values {
                let entry = data.current.get(&indicator).cloned();
                let before = state_of(entry.as_ref());
                let unchanged = entry.as_ref().is_some_and(|e| e.row.values == vals);
                let Some(role) = workflow::acting_role(&viewer.grants, Step::Save, &unit_id, &indicator) else { continue };
                if before.is_some_and(|s| !s.editable()) || (vals.is_empty() && entry.is_none()) {
                    continue;
                }
                let node = data.scheme.node_index(&indicator).ok_or(WebError::NotFound)?;
                let ind = data.scheme.indicator(node).ok_or(WebError::NotFound)?;
                let row = EntryRow { unit: unit_id.clone(), indicator: indicator.clone(), month: month.to_string(), values: vals.clone() };
                if let Err(message) = validate_entry(&data.scheme, &row) {
                    // The message names the field; show it beside the first matching input.
                    let field = ind.fields.iter().find(|f| message.contains(&format!("`{}`", f.key))).or(ind.fields.first());
                    let key = field.map_or(indicator.clone(), |f| format!("v.{indicator}.{}", f.key));
                    errors.insert(key, message);
                    continue;
                }
                if action == "submit" {
                    for f in &ind.fields {
                        if !vals.contains_key(&f.key) {
                            errors.insert(format!("v.{indicator}.{}", f.key), tr.t("form.required").to_string());
                        }
                    }
                }
                let why = form.get(&format!("why.{indicator}")).map(|s| s.trim().to_string()).unwrap_or_default();
                for f in &ind.fields {
                    let (Some(new), Some(old)) = (vals.get(&f.key).and_then(Value::as_f64), last.get(&indicator).and_then(|v| v.get(&f.key)).and_then(Value::as_f64)) else { continue };
                    if old != 0.0 && ((new - old) / old).abs() > jump_ratio && why.is_empty() && !unchanged {
                        errors.insert(indicator.clone(), tr.f("report.jump", &[&f.name, &number_text(old), &number_text(new)]));
                    }
                }
                let step = if action == "submit" { Step::Submit } else { Step::Save };
                let after = workflow::next(before, Step::Save, role, "").and_then(|s| if step == Step::Submit { workflow::next(Some(s), Step::Submit, role, "") } else { Ok(s) });
                match after {
                    Ok(s) if !(unchanged && s == before.unwrap_or(EntryState::Draft)) => changes.push((indicator, entry, Some(vals), s, why)),
                    Ok(_) => {}
                    Err(e) => {
                        errors.insert(indicator, e.to_string());
                    }
                }
            }
            // A submit also sends entries saved earlier and not touched now.
            if action == "submit" {
                for (indicator, entry) in &data.current {
                    if changes.iter().any(|c| &c.0 == indicator) || !state_of(Some(entry)).is_some_and(EntryState::editable) {
                        continue;
                    }
                    if let Some(role) = workflow::acting_role(&viewer.grants, Step::Submit, &unit_id, indicator) {
                        if let Ok(s) = workflow::next(state_of(Some(entry)), Step::Submit, role, "") {
                            changes.push((indicator.clone(), Some(entry.clone()), None, s, String::new()));
                        }
                    }
                }
            }
        }
        "approve" | "accept" => {
            let step = if action == "approve" { Step::Approve } else { Step::Accept };
            for (indicator, entry) in &data.current {
                let Some(role) = workflow::acting_role(&viewer.grants, step, &unit_id, indicator) else { continue };
                if let Ok(s) = workflow::next(state_of(Some(entry)), step, role, "") {
                    changes.push((indicator.clone(), Some(entry.clone()), None, s, String::new()));
                }
            }
        }
        "return" => {
            let indicator = form.get("indicator").cloned().unwrap_or_default();
            let reason = form.get("reason").map(|s| s.trim().to_string()).unwrap_or_default();
            let entry = data.current.get(&indicator).cloned().ok_or_else(|| WebError::invalid(format!("no entry of `{indicator}` to return")))?;
            let role = workflow::acting_role(&viewer.grants, Step::Return, &unit_id, &indicator).ok_or(WebError::Forbidden)?;
            match workflow::next(state_of(Some(&entry)), Step::Return, role, &reason) {
                Ok(s) => changes.push((indicator, Some(entry), None, s, reason)),
                Err(e) => return page(&state, &viewer, lang, &unit_id, month, None, None, &HashMap::new(), Some(e.to_string())).await,
            }
        }
        other => return Err(WebError::invalid(format!("unknown action `{other}`"))),
    }
    // Versions the form was shown with: a change by someone else since then is a conflict.
    for (indicator, entry, _, _, _) in &changes {
        let shown = form.get(&format!("ver.{indicator}")).and_then(|v| v.parse::<i64>().ok());
        if shown != entry.as_ref().map(|e| e.version) && form.contains_key(&format!("ver.{indicator}")) {
            errors.insert(indicator.clone(), conflict_message(&tr, entry.as_ref()));
        }
    }
    if !errors.is_empty() {
        return page(&state, &viewer, lang, &unit_id, month, None, Some(&form), &errors, Some(tr.t("form.has_errors").to_string())).await;
    }
    if changes.is_empty() {
        return page(&state, &viewer, lang, &unit_id, month, None, None, &HashMap::new(), Some(tr.t("report.nothing_to_do").to_string())).await;
    }
    let rescore = changes.iter().any(|(_, e, _, s, _)| s.counts() || state_of(e.as_ref()).is_some_and(EntryState::counts));
    let mut tx = state.store.begin(&viewer.actor).await?;
    for (indicator, entry, values, new_state, reason) in &changes {
        let object = format!("{}/{unit_id}/{indicator}/{month}", month.year);
        let before = entry.as_ref().map(|e| json!({"state": e.state, "values": e.row.values, "version": e.version}));
        let result = match values {
            Some(v) => {
                let row = EntryRow { unit: unit_id.clone(), indicator: indicator.clone(), month: month.to_string(), values: v.clone() };
                state.store.save_entry(&mut tx, month.year, &row, entry.as_ref().map(|e| e.version), new_state.code()).await
            }
            None => {
                let e = entry.as_ref().ok_or(WebError::NotFound)?;
                state.store.set_entry_state(&mut tx, month.year, &unit_id, indicator, &month.to_string(), e.version, new_state.code()).await
            }
        };
        let version = match result {
            Ok(v) => v,
            Err(StoreError::Conflict { .. }) => {
                drop(tx);
                let current = state.store.entry(month.year, &unit_id, indicator, &month.to_string()).await?;
                let errors = HashMap::from([(indicator.clone(), conflict_message(&tr, current.as_ref()))]);
                return page(&state, &viewer, lang, &unit_id, month, None, None, &errors, Some(tr.t("report.conflict").to_string())).await;
            }
            Err(e) => return Err(e.into()),
        };
        let after = json!({
            "state": new_state.code(),
            "values": values.clone().unwrap_or_else(|| entry.as_ref().map(|e| e.row.values.clone()).unwrap_or_default()),
            "version": version,
            "reason": (!reason.is_empty()).then_some(reason),
        });
        tx.audit(&format!("entry.{action}"), "entry", &object, before, Some(after)).await?;
    }
    tx.commit().await?;
    if rescore {
        state.store.refresh_scores(month.year).await?;
    }
    Ok(done(&format!("/units/{unit_id}/report/{month}"), &format!("report_{action}")))
}

fn conflict_message(tr: &Tr, current: Option<&StoredEntry>) -> String {
    match current {
        Some(e) => tr.f("report.changed_by", &[&e.updated_by, &crate::pages::home::short_time(&e.updated_at), &Value::Object(e.row.values.clone())]),
        None => tr.t("report.conflict").to_string(),
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
        None => {
            let today = chrono::Local::now().date_naive();
            let prev = previous(Month::of_date(today));
            let years = state.store.scheme_years().await?;
            let year = years.iter().copied().max().filter(|&y| y > prev.year).unwrap_or(prev.year);
            Month { year, month: prev.month }
        }
    };
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/reports", "report.list_title", vec![], q.flash.as_deref()).await;
    let tr = chrome.tr;
    let Some((_, scheme)) = state.scheme_cache.latest(&state.store, month.year).await? else {
        let months = Vec::new();
        return Ok(render(ReportsPage { chrome, month: month.to_string(), months, states: Vec::new(), rows: Vec::new(), can_accept: false })?.into_response());
    };
    let mut by_unit: HashMap<String, Vec<StoredEntry>> = HashMap::new();
    for e in state.store.stored_entries(month.year).await? {
        if e.row.month == month.to_string() {
            by_unit.entry(e.row.unit.clone()).or_default().push(e);
        }
    }
    let mut rows = Vec::new();
    let mut can_accept = false;
    for (ui, unit) in scheme.units.iter().enumerate() {
        if !viewer.can(Action::ViewUnit, Target::Unit(&unit.id)) || !viewer.can(Action::HandleEntries, Target::Unit(&unit.id)) {
            continue;
        }
        let due: Vec<&str> = due_indicators(&scheme, ui, month.month).into_iter().map(|n| scheme.nodes[n].id.as_str()).collect();
        let entries = by_unit.get(&unit.id).map(Vec::as_slice).unwrap_or(&[]);
        let counts = EntryState::ALL
            .iter()
            .map(|s| entries.iter().filter(|e| due.contains(&e.row.indicator.as_str()) && e.state == s.code()).count())
            .collect::<Vec<_>>();
        let reported = counts.iter().sum::<usize>();
        can_accept |= counts[EntryState::ALL.iter().position(|s| *s == EntryState::Approved).unwrap_or(0)] > 0
            && workflow::acting_role(&viewer.grants, Step::Accept, &unit.id, "").is_some();
        rows.push(StatusRow { unit_id: unit.id.clone(), unit_name: unit.name.clone(), due: due.len(), missing: due.len().saturating_sub(reported), counts });
    }
    let states = EntryState::ALL.iter().map(|s| tr.t(&format!("state.{}", s.code())).to_string()).collect();
    let months = (1..=12).filter_map(|m| Month::new(month.year, m).ok()).map(|m| m.to_string()).collect();
    Ok(render(ReportsPage { chrome, month: month.to_string(), months, states, rows, can_accept })?.into_response())
}

#[derive(Deserialize)]
pub struct BulkAccept {
    month: String,
}

/// `POST /reports/accept`: the office accepts every approved entry of the month in its
/// scope, in one transaction, and rescores the year.
pub async fn accept_all(State(state): State<AppState>, viewer: Viewer, axum::Form(form): axum::Form<BulkAccept>) -> Result<Response, WebError> {
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
        let version = state.store.set_entry_state(&mut tx, month.year, &e.row.unit, &e.row.indicator, &e.row.month, e.version, s.code()).await?;
        let object = format!("{}/{}/{}/{}", month.year, e.row.unit, e.row.indicator, e.row.month);
        tx.audit("entry.accept", "entry", &object, Some(json!({"state": e.state, "version": e.version})), Some(json!({"state": s.code(), "version": version}))).await?;
        accepted += 1;
    }
    if accepted == 0 {
        return Err(WebError::invalid("there is no approved entry to accept"));
    }
    tx.audit("entries.accept_all", "month", &month.to_string(), None, Some(json!({"accepted": accepted}))).await?;
    tx.commit().await?;
    state.store.refresh_scores(month.year).await?;
    Ok(done(&format!("/reports?month={month}"), "report_accept_all"))
}
