//! Data collection (数据采集): applying reporting-workflow steps to one unit's entries of
//! one month — the one code path behind the monthly form (`pages::report`) and the
//! entries API (`api::entries`).
//!
//! `apply` checks every requested change first — the viewer's role and scope for the
//! step (`core::workflow::acting_role`), the step from the entry's state
//! (`core::workflow::next`), the values against the scheme (type, bounds, every field
//! on submit), a written reason where a value jumps from last month, and the version
//! the writer saw — and writes nothing if any check fails, returning every problem.
//! Otherwise all changes are written in one transaction, each with its audit entry,
//! and if any accepted data changed the year is rescored before it returns.
//!
//! A value that moves more than `collection.jump_ratio` (a setting; default 0.5, i.e.
//! 50 %) from the unit's own value of the month before needs a reason.

use std::collections::HashMap;
use std::sync::Arc;

use jixiao_core::data::{EntryRow, validate_entry};
use jixiao_core::period::Month;
use jixiao_core::scheme::{Scheme, Source};
use jixiao_core::workflow::{self, EntryState, Step};
use jixiao_store::{StoreError, StoredEntry};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::i18n::Tr;

const DEFAULT_JUMP_RATIO: f64 = 0.5;

/// One requested change of one entry.
#[derive(Debug, Clone)]
pub struct Change {
    pub indicator: String,
    pub step: Step,
    /// For `Save` and `Submit`: the new values (`None` submits the saved ones).
    pub values: Option<Map<String, Value>>,
    /// The version the writer saw (`Some(None)`: it saw no entry); `None` skips the
    /// check (bulk steps on entries just read).
    pub seen_version: Option<Option<i64>>,
    /// A return's reason, or why a value jumps.
    pub reason: String,
}

/// Why a change cannot be made.
#[derive(Debug, Clone)]
pub enum Problem {
    /// A field's value: wrong type, out of bounds, missing on submit.
    Field { indicator: String, field: String, message: String },
    /// The change as a whole: a step not allowed from the state, a missing reason.
    Entry { indicator: String, message: String },
    /// The viewer may not take this step on this entry.
    Forbidden { indicator: String },
    /// Someone else changed the entry since the writer saw it; what it is now.
    Conflict { indicator: String, current: Option<Box<StoredEntry>> },
}

impl Problem {
    pub fn indicator(&self) -> &str {
        match self {
            Problem::Field { indicator, .. }
            | Problem::Entry { indicator, .. }
            | Problem::Forbidden { indicator }
            | Problem::Conflict { indicator, .. } => indicator,
        }
    }

    /// A message for people.
    pub fn message(&self, tr: &Tr) -> String {
        match self {
            Problem::Field { message, .. } | Problem::Entry { message, .. } => message.clone(),
            Problem::Forbidden { .. } => tr.t("error.forbidden").to_string(),
            Problem::Conflict { current: Some(e), .. } => tr.f(
                "report.changed_by",
                &[&e.updated_by, &crate::pages::home::short_time(&e.updated_at), &Value::Object(e.row.values.clone())],
            ),
            Problem::Conflict { current: None, .. } => tr.t("report.conflict").to_string(),
        }
    }
}

/// A workflow refusal in the viewer's language.
fn workflow_message(tr: &Tr, e: &workflow::WorkflowError) -> String {
    match e {
        workflow::WorkflowError::NotYourStep { role, step } => {
            tr.f("workflow.not_your_step", &[&tr.role(role), &tr.t(&format!("step.{step}"))])
        }
        workflow::WorkflowError::WrongState { state, step } => {
            tr.f("workflow.wrong_state", &[&tr.t(&format!("state.{state}")), &tr.t(&format!("step.{step}"))])
        }
        workflow::WorkflowError::ReasonRequired => tr.t("workflow.reason_required").to_string(),
    }
}

/// What `apply` wrote: (indicator, new state, new version) per entry changed.
#[derive(Debug, Default)]
pub struct Applied {
    pub entries: Vec<(String, EntryState, i64)>,
}

/// A unit's month as the form and the API see it.
pub struct UnitMonth {
    pub scheme: Arc<Scheme>,
    pub unit: usize,
    pub month: Month,
    /// The indicators due: node indices in tree order.
    pub due: Vec<usize>,
    /// The entries of the month, by indicator id, every state.
    pub current: HashMap<String, StoredEntry>,
}

/// The indicators due for `unit` in `month`: assigned, due by frequency, reported by
/// fields; node indices in tree order.
pub fn due_indicators(scheme: &Scheme, unit: usize, month: u8) -> Vec<usize> {
    scheme
        .indicators
        .iter()
        .copied()
        .filter(|&n| {
            scheme.nodes[n].indicator.as_ref().is_some_and(|i| i.is_assigned(unit) && i.is_due(month) && i.source == Source::Fields)
        })
        .collect()
}

/// The role in which the viewer may take `step` on `unit`'s entry of `indicator`,
/// with who the scheme says enters and reviews it (`workflow::acting_role_with`).
pub fn acting_role(viewer: &Viewer, scheme: &Scheme, step: Step, unit: &str, indicator: &str) -> Option<jixiao_core::org::Role> {
    let duty = scheme
        .node_index(indicator)
        .and_then(|n| scheme.indicator(n))
        .map(|i| workflow::Duty {
            entered_by: i.entered_by.map(|u| scheme.units[u].id.as_str()),
            reviewed_by: i.reviewed_by.map(|u| scheme.units[u].id.as_str()),
        })
        .unwrap_or_default();
    workflow::acting_role_with(&viewer.grants, viewer.unit_id.as_deref(), step, unit, indicator, duty)
}

/// Reads a unit's month: the scheme of its year, what is due, what is entered.
pub async fn load(state: &AppState, unit_id: &str, month: Month) -> Result<UnitMonth, WebError> {
    let (_, scheme) = state
        .scheme_cache
        .latest(&state.store, month.year)
        .await?
        .ok_or_else(|| WebError::invalid(format!("there is no scheme for {}", month.year)))?;
    let unit =
        scheme.unit_index(unit_id).ok_or_else(|| WebError::invalid(format!("unit `{unit_id}` is not assessed in {}", month.year)))?;
    let due = due_indicators(&scheme, unit, month.month);
    let current = state
        .store
        .form_entries(month.year, unit_id, &month.to_string())
        .await?
        .into_iter()
        .map(|e| (e.row.indicator.clone(), e))
        .collect();
    Ok(UnitMonth { scheme, unit, month, due, current })
}

pub fn state_of(entry: Option<&StoredEntry>) -> Option<EntryState> {
    entry.and_then(|e| e.state.parse().ok())
}

/// The month due now: the month before today's, moved into the latest scheme year
/// when that is later (a demo year is seen at the same month of its year).
pub async fn due_month(state: &AppState) -> Result<Month, WebError> {
    let years = state.store.scheme_years().await?;
    let prev = previous(Month::of_date(chrono::Local::now().date_naive()));
    let year = years.iter().copied().max().filter(|&y| y > prev.year).unwrap_or(prev.year);
    Ok(Month { year, month: prev.month })
}

pub fn previous(month: Month) -> Month {
    if month.month == 1 { Month { year: month.year - 1, month: 12 } } else { Month { year: month.year, month: month.month - 1 } }
}

/// The unit's values of another month (any state), by indicator.
pub async fn values_of(state: &AppState, unit: &str, month: Month) -> Result<HashMap<String, Map<String, Value>>, WebError> {
    if month.year < 1 {
        return Ok(HashMap::new());
    }
    Ok(state.store.form_entries(month.year, unit, &month.to_string()).await?.into_iter().map(|e| (e.row.indicator, e.row.values)).collect())
}

/// The office's reporting calendar: the due day (`collection.due_day`, default 15)
/// and the days off (`collection.holidays`, `YYYY-MM-DD` separated by commas or
/// spaces) that move a deadline on.
pub async fn calendar(state: &AppState) -> Result<(u8, Vec<chrono::NaiveDate>), WebError> {
    calendar_of(&state.store).await
}

/// [`calendar`] from the store alone (for the CLI).
pub async fn calendar_of(store: &jixiao_store::Store) -> Result<(u8, Vec<chrono::NaiveDate>), WebError> {
    let due_day =
        store.setting("collection.due_day").await?.and_then(|v| v.trim().parse::<u8>().ok()).filter(|d| (1..=28).contains(d)).unwrap_or(15);
    let holidays = store
        .setting("collection.holidays")
        .await?
        .unwrap_or_default()
        .split([',', ' ', '\n', '，'])
        .filter_map(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .collect();
    Ok((due_day, holidays))
}

/// A month's report deadline under the office's calendar.
pub async fn deadline(state: &AppState, month: Month) -> Result<chrono::NaiveDate, WebError> {
    let (due_day, holidays) = calendar(state).await?;
    Ok(month.report_deadline_with(due_day, &holidays))
}

/// A stored UTC time as local wall-clock time.
pub fn local_time(at: &str) -> Option<chrono::NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(at).ok().map(|t| t.with_timezone(&chrono::Local).naive_local())
}

/// Whether each unit of `scheme` reported `month` on time: from the first submission
/// of each due indicator (the audit log's `entry.submit`; entries the office loaded as
/// accepted count from their loading) against the month's deadline, now.
pub async fn timeliness_by_unit(
    state: &AppState,
    scheme: &Scheme,
    month: Month,
) -> Result<HashMap<String, workflow::Timeliness>, WebError> {
    let submitted: HashMap<String, chrono::NaiveDateTime> = state
        .store
        .first_submissions(month.year, &month.to_string())
        .await?
        .into_iter()
        .filter_map(|(object, at)| Some((object, local_time(&at)?)))
        .collect();
    let deadline = deadline(state, month).await?;
    let now = chrono::Local::now().naive_local();
    // (indicator, state, updated_at) of each unit's entries of the month.
    let mut entries: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for (unit, indicator, entry_state, at) in state.store.month_states(month.year, &month.to_string()).await? {
        entries.entry(unit).or_default().push((indicator, entry_state, at));
    }
    let mut out = HashMap::new();
    for (ui, unit) in scheme.units.iter().enumerate() {
        let own = entries.get(&unit.id).map(Vec::as_slice).unwrap_or(&[]);
        let times: Vec<Option<chrono::NaiveDateTime>> = due_indicators(scheme, ui, month.month)
            .into_iter()
            .map(|n| {
                let id = &scheme.nodes[n].id;
                let entry = own.iter().find(|e| &e.0 == id);
                let handed_in = entry.is_some_and(|e| !e.1.parse::<EntryState>().is_ok_and(EntryState::editable));
                submitted
                    .get(&format!("{}/{}/{id}/{month}", month.year, unit.id))
                    .copied()
                    .or_else(|| entry.filter(|_| handed_in).and_then(|e| local_time(&e.2)))
            })
            .collect();
        out.insert(unit.id.clone(), workflow::timeliness(&times, deadline, now));
    }
    Ok(out)
}

/// One checked change, ready to write.
pub struct Write {
    unit: String,
    month: Month,
    indicator: String,
    before: Option<StoredEntry>,
    values: Option<Map<String, Value>>,
    state: EntryState,
    reason: String,
    step: Step,
}

/// Checks and applies `changes` (see the module documentation). The outer error is a
/// failure of the system; the inner one the problems of the request, nothing written.
pub async fn apply(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    data: &UnitMonth,
    changes: Vec<Change>,
) -> Result<Result<Applied, Vec<Problem>>, WebError> {
    match check(state, viewer, tr, data, changes).await? {
        Ok(writes) => write(state, viewer, tr, writes).await,
        Err(problems) => Ok(Err(problems)),
    }
}

/// The checks of `apply`: the writes `changes` make, or every problem with them.
pub async fn check(
    state: &AppState,
    viewer: &Viewer,
    tr: &Tr,
    data: &UnitMonth,
    changes: Vec<Change>,
) -> Result<Result<Vec<Write>, Vec<Problem>>, WebError> {
    let unit_id = data.scheme.units[data.unit].id.clone();
    let month = data.month;
    let jump_ratio = state
        .store
        .setting("collection.jump_ratio")
        .await?
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|r| *r > 0.0)
        .unwrap_or(DEFAULT_JUMP_RATIO);
    let last_month = values_of(state, &unit_id, previous(month)).await?;
    let mut problems = Vec::new();
    // A closed month changes only through a correction request.
    if state.store.period_state(month.year, &month.to_string()).await? != jixiao_store::PeriodState::Open {
        let message = tr.f("report.closed", &[&month]);
        return Ok(Err(changes.into_iter().map(|c| Problem::Entry { indicator: c.indicator, message: message.clone() }).collect()));
    }
    let mut writes = Vec::new();
    for change in changes {
        let indicator = change.indicator.clone();
        let entry = data.current.get(&indicator).cloned();
        let before = state_of(entry.as_ref());
        let Some(role) = acting_role(viewer, &data.scheme, change.step, &unit_id, &indicator) else {
            problems.push(Problem::Forbidden { indicator });
            continue;
        };
        if let Some(seen) = change.seen_version
            && seen != entry.as_ref().map(|e| e.version)
        {
            problems.push(Problem::Conflict { indicator, current: entry.map(Box::new) });
            continue;
        }
        let Some(node) = data.scheme.node_index(&indicator).filter(|n| data.due.contains(n)) else {
            problems.push(Problem::Entry { indicator: indicator.clone(), message: tr.f("report.not_due", &[&indicator, &month]) });
            continue;
        };
        let ind = data.scheme.indicator(node).ok_or(WebError::NotFound)?;
        let mut values = None;
        let next_state = match (change.step, &change.values) {
            (Step::Save | Step::Submit, Some(vals)) => {
                let row = EntryRow { unit: unit_id.clone(), indicator: indicator.clone(), month: month.to_string(), values: vals.clone() };
                if let Err(message) = validate_entry(&data.scheme, &row) {
                    // The message names the field in backquotes.
                    let field = ind.fields.iter().find(|f| message.contains(&format!("`{}`", f.key))).or(ind.fields.first());
                    // The engine's message is precise but English; it follows the catalogue's words.
                    let message = tr.f("report.invalid_value", &[&message]);
                    problems.push(Problem::Field { indicator, field: field.map(|f| f.key.clone()).unwrap_or_default(), message });
                    continue;
                }
                if change.step == Step::Submit {
                    let missing: Vec<_> = ind.fields.iter().filter(|f| !vals.contains_key(&f.key)).collect();
                    for f in &missing {
                        problems.push(Problem::Field {
                            indicator: indicator.clone(),
                            field: f.key.clone(),
                            message: tr.t("form.required").into(),
                        });
                    }
                    if !missing.is_empty() {
                        continue;
                    }
                }
                let unchanged = entry.as_ref().is_some_and(|e| &e.row.values == vals);
                if !unchanged && change.reason.trim().is_empty() {
                    let jump = ind.fields.iter().find_map(|f| {
                        let new = vals.get(&f.key).and_then(Value::as_f64)?;
                        let old = last_month.get(&indicator).and_then(|v| v.get(&f.key)).and_then(Value::as_f64)?;
                        (old != 0.0 && ((new - old) / old).abs() > jump_ratio).then_some((f, old, new))
                    });
                    if let Some((f, old, new)) = jump {
                        let name = if f.name.is_empty() { &f.key } else { &f.name };
                        problems.push(Problem::Entry { indicator, message: tr.f("report.jump", &[name, &old, &new]) });
                        continue;
                    }
                }
                let saved = workflow::next(before, Step::Save, role, "");
                let result = match change.step {
                    Step::Submit => saved.and_then(|s| workflow::next(Some(s), Step::Submit, role, "")),
                    _ => saved,
                };
                if unchanged && result.as_ref().ok() == before.as_ref() {
                    continue;
                }
                values = Some(vals.clone());
                result
            }
            (step, _) => workflow::next(before, step, role, &change.reason),
        };
        match next_state {
            Ok(s) => writes.push(Write {
                unit: unit_id.clone(),
                month,
                indicator,
                before: entry,
                values,
                state: s,
                reason: change.reason,
                step: change.step,
            }),
            Err(e) => problems.push(Problem::Entry { indicator, message: workflow_message(tr, &e) }),
        }
    }
    Ok(if problems.is_empty() { Ok(writes) } else { Err(problems) })
}

/// Writes checked changes — of one unit or of many — in one transaction, each with
/// its audit entry, and rescores the periods whose accepted data changed.
pub async fn write(state: &AppState, viewer: &Viewer, tr: &Tr, writes: Vec<Write>) -> Result<Result<Applied, Vec<Problem>>, WebError> {
    // (year, earliest month) of the accepted data that changes.
    let mut rescore: Vec<(i32, u8)> = Vec::new();
    for w in writes.iter().filter(|w| w.state.counts() || state_of(w.before.as_ref()).is_some_and(EntryState::counts)) {
        match rescore.iter_mut().find(|(y, _)| *y == w.month.year) {
            Some((_, first)) => *first = (*first).min(w.month.month),
            None => rescore.push((w.month.year, w.month.month)),
        }
    }
    let mut applied = Applied::default();
    let mut tx = state.store.begin(&viewer.actor).await?;
    for w in &writes {
        let (unit_id, month) = (&w.unit, w.month);
        let object = format!("{}/{unit_id}/{}/{month}", month.year, w.indicator);
        let result = match (&w.values, &w.before) {
            (Some(v), before) => {
                let row = EntryRow { unit: unit_id.clone(), indicator: w.indicator.clone(), month: month.to_string(), values: v.clone() };
                state.store.save_entry(&mut tx, month.year, &row, before.as_ref().map(|e| e.version), w.state.code()).await
            }
            (None, Some(e)) => {
                state.store.set_entry_state(&mut tx, month.year, unit_id, &w.indicator, &month.to_string(), e.version, w.state.code()).await
            }
            (None, None) => {
                drop(tx);
                return Ok(Err(vec![Problem::Entry { indicator: w.indicator.clone(), message: tr.t("report.nothing_to_do").into() }]));
            }
        };
        let version = match result {
            Ok(v) => v,
            Err(StoreError::Conflict { .. }) => {
                drop(tx);
                let current = state.store.entry(month.year, unit_id, &w.indicator, &month.to_string()).await?;
                return Ok(Err(vec![Problem::Conflict { indicator: w.indicator.clone(), current: current.map(Box::new) }]));
            }
            Err(e) => return Err(e.into()),
        };
        let before = w.before.as_ref().map(|e| json!({"state": e.state, "values": e.row.values, "version": e.version}));
        let values = w.values.clone().or_else(|| w.before.as_ref().map(|e| e.row.values.clone())).unwrap_or_default();
        let after = json!({
            "state": w.state.code(),
            "values": values,
            "version": version,
            "reason": (!w.reason.trim().is_empty()).then(|| w.reason.trim()),
        });
        tx.audit(&format!("entry.{}", w.step.code()), "entry", &object, before, Some(after)).await?;
        applied.entries.push((w.indicator.clone(), w.state, version));
    }
    if applied.entries.is_empty() {
        drop(tx);
        return Ok(Ok(applied));
    }
    tx.commit().await?;
    for (year, first) in rescore {
        state.store.refresh_scores_from(year, first).await?;
    }
    Ok(Ok(applied))
}
