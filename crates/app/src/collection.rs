//! Data collection (数据采集): applying reporting-workflow steps to one unit's entries of
//! one month — the one code path behind the monthly form (`pages::report`) and the
//! entries API (`api::entries`).
//!
//! `apply` checks every requested change first — the actor's role and scope for the
//! step (`core::workflow::acting_role`), the step from the entry's state
//! (`core::workflow::next`), the values against the scheme (type, bounds, every field
//! on submit), a written reason where a value jumps from last month, and the version
//! the writer saw — and writes nothing if any check fails, returning every problem.
//! Otherwise all changes are written in one transaction, each with its audit entry,
//! and the commit rescores the periods whose accepted data changed (`store::tx`).
//!
//! A value that moves more than `collection.jump_ratio` (a setting; default 0.5, i.e.
//! 50 %) from the unit's own value of the month before needs a reason.

use std::collections::HashMap;
use std::sync::Arc;

use jixiao_core::data::{EntryRow, validate_entry};
use jixiao_core::period::Month;
use jixiao_core::scheme::{FieldType, Scheme, Source};
use jixiao_core::workflow::{self, EntryState, Step};
use jixiao_store::{StoreError, StoredEntry};
use serde_json::{Map, Value, json};

use crate::actor::Actor;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::{App, Clock};

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
    /// The actor may not take this step on this entry.
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

    /// A message for people (times in the site's zone).
    pub fn message(&self, tr: &Tr, clock: &Clock) -> String {
        match self {
            Problem::Field { message, .. } | Problem::Entry { message, .. } => message.clone(),
            Problem::Forbidden { .. } => tr.t("error.forbidden").to_string(),
            Problem::Conflict { current: Some(e), .. } => {
                tr.f("report.changed_by", &[&e.updated_by, &clock.short(&e.updated_at), &Value::Object(e.row.values.clone())])
            }
            Problem::Conflict { current: None, .. } => tr.t("report.conflict").to_string(),
        }
    }
}

/// A workflow refusal in the actor's language.
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
/// fields that people fill (not the system: `filled_by`); node indices in tree order.
pub fn due_indicators(scheme: &Scheme, unit: usize, month: u8) -> Vec<usize> {
    scheme
        .indicators
        .iter()
        .copied()
        .filter(|&n| {
            scheme.nodes[n]
                .indicator
                .as_ref()
                .is_some_and(|i| i.is_assigned(unit) && i.is_due(month) && i.source == Source::Fields && !i.system_filled())
        })
        .collect()
}

/// The role in which the actor may take `step` on `unit`'s entry of `indicator`,
/// with who the scheme says enters and reviews it (`workflow::acting_role_with`).
pub fn acting_role(actor: &Actor, scheme: &Scheme, step: Step, unit: &str, indicator: &str) -> Option<jixiao_core::org::Role> {
    let duty = scheme
        .node_index(indicator)
        .and_then(|n| scheme.indicator(n))
        .map(|i| workflow::Duty {
            entered_by: i.entered_by.map(|u| scheme.units[u].id.as_str()),
            reviewed_by: i.reviewed_by.map(|u| scheme.units[u].id.as_str()),
        })
        .unwrap_or_default();
    workflow::acting_role_with(&actor.grants, actor.unit_id.as_deref(), step, unit, indicator, duty)
}

/// Reads a unit's month: the scheme of its year, what is due, what is entered.
pub async fn load(app: &App, unit_id: &str, month: Month) -> Result<UnitMonth, AppError> {
    let (_, scheme) =
        app.latest_scheme(month.year).await?.ok_or_else(|| AppError::invalid(format!("there is no scheme for {}", month.year)))?;
    let unit =
        scheme.unit_index(unit_id).ok_or_else(|| AppError::invalid(format!("unit `{unit_id}` is not assessed in {}", month.year)))?;
    let due = due_indicators(&scheme, unit, month.month);
    let current =
        app.store.form_entries(month.year, unit_id, &month.to_string()).await?.into_iter().map(|e| (e.row.indicator.clone(), e)).collect();
    Ok(UnitMonth { scheme, unit, month, due, current })
}

/// A value as typed into a form or a sheet. Numbers stay JSON numbers when they read
/// as one, so `validate_entry` checks type and bounds; anything else goes as text
/// and is refused there.
pub fn typed_value(field_type: FieldType, text: &str) -> Value {
    match field_type {
        FieldType::Boolean if matches!(text, "是" | "true") => Value::from(1),
        FieldType::Boolean if matches!(text, "否" | "false") => Value::from(0),
        _ => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or(Value::from(text), Value::Number),
    }
}

pub fn state_of(entry: Option<&StoredEntry>) -> Option<EntryState> {
    entry.and_then(|e| e.state.parse().ok())
}

/// The month due now: the month before today's (in the site's zone).
pub fn due_month(app: &App) -> Month {
    previous(Month::of_date(app.clock.today()))
}

pub fn previous(month: Month) -> Month {
    if month.month == 1 { Month { year: month.year - 1, month: 12 } } else { Month { year: month.year, month: month.month - 1 } }
}

/// The unit's values of another month (any state), by indicator.
pub async fn values_of(app: &App, unit: &str, month: Month) -> Result<HashMap<String, Map<String, Value>>, AppError> {
    if month.year < 1 {
        return Ok(HashMap::new());
    }
    Ok(app.store.form_entries(month.year, unit, &month.to_string()).await?.into_iter().map(|e| (e.row.indicator, e.row.values)).collect())
}

/// Whether each unit of `scheme` reported `month` on time: from the first submission
/// of each due indicator (the audit log's `entry.submit`; entries the office loaded as
/// accepted count from their loading) against the month's deadline, now.
pub async fn timeliness_by_unit(app: &App, scheme: &Scheme, month: Month) -> Result<HashMap<String, workflow::Timeliness>, AppError> {
    let submitted: HashMap<String, chrono::NaiveDateTime> = app
        .store
        .first_submissions(month.year, &month.to_string())
        .await?
        .into_iter()
        .filter_map(|(object, at)| Some((object, app.clock.from_stored(&at)?)))
        .collect();
    let deadline = crate::calendar::deadline(&app.store, month).await?;
    let now = app.clock.local_now();
    // (indicator, state, updated_at) of each unit's entries of the month.
    let mut entries: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for (unit, indicator, entry_state, at) in app.store.month_states(month.year, &month.to_string()).await? {
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
                    .or_else(|| entry.filter(|_| handed_in).and_then(|e| app.clock.from_stored(&e.2)))
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
    app: &App,
    actor: &Actor,
    tr: &Tr,
    data: &UnitMonth,
    changes: Vec<Change>,
) -> Result<Result<Applied, Vec<Problem>>, AppError> {
    match check(app, actor, tr, data, changes).await? {
        Ok(writes) => write(app, actor, tr, writes).await,
        Err(problems) => Ok(Err(problems)),
    }
}

/// The checks of `apply`: the writes `changes` make, or every problem with them.
pub async fn check(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    data: &UnitMonth,
    changes: Vec<Change>,
) -> Result<Result<Vec<Write>, Vec<Problem>>, AppError> {
    let unit_id = data.scheme.units[data.unit].id.clone();
    let month = data.month;
    let jump_ratio = app
        .store
        .setting(crate::settings::JUMP_RATIO)
        .await?
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|r| *r > 0.0)
        .unwrap_or(DEFAULT_JUMP_RATIO);
    let last_month = values_of(app, &unit_id, previous(month)).await?;
    let mut problems = Vec::new();
    // A closed month changes only through a correction request.
    if app.store.period_state(month.year, &month.to_string()).await? != jixiao_store::PeriodState::Open {
        let message = tr.f("report.closed", &[&month]);
        return Ok(Err(changes.into_iter().map(|c| Problem::Entry { indicator: c.indicator, message: message.clone() }).collect()));
    }
    let mut writes = Vec::new();
    for change in changes {
        let indicator = change.indicator.clone();
        let entry = data.current.get(&indicator).cloned();
        let before = state_of(entry.as_ref());
        let Some(role) = acting_role(actor, &data.scheme, change.step, &unit_id, &indicator) else {
            problems.push(Problem::Forbidden { indicator });
            continue;
        };
        if !crate::input::fits(&change.reason, crate::input::REASON) {
            let message = crate::input::too_long(tr, "reason", crate::input::REASON, &change.reason);
            problems.push(Problem::Entry { indicator, message });
            continue;
        }
        if let Some(seen) = change.seen_version
            && seen != entry.as_ref().map(|e| e.version)
        {
            problems.push(Problem::Conflict { indicator, current: entry.map(Box::new) });
            continue;
        }
        // Values the system fills (service metrics…) come only from the system, never
        // from a form, a workbook, the assessor's page or the API.
        if data.scheme.node_index(&indicator).and_then(|n| data.scheme.indicator(n)).is_some_and(|i| i.system_filled()) {
            problems.push(Problem::Entry { indicator: indicator.clone(), message: tr.f("report.system_filled", &[&indicator]) });
            continue;
        }
        let Some(node) = data.scheme.node_index(&indicator).filter(|n| data.due.contains(n)) else {
            problems.push(Problem::Entry { indicator: indicator.clone(), message: tr.f("report.not_due", &[&indicator, &month]) });
            continue;
        };
        let ind = data.scheme.indicator(node).ok_or(AppError::NotFound)?;
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
/// its audit entry; the commit rescores the periods whose accepted data changed.
pub async fn write(app: &App, actor: &Actor, tr: &Tr, writes: Vec<Write>) -> Result<Result<Applied, Vec<Problem>>, AppError> {
    let mut applied = Applied::default();
    let mut tx = app.store.begin(&actor.name).await?;
    for w in &writes {
        let (unit_id, month) = (&w.unit, w.month);
        let object = format!("{}/{unit_id}/{}/{month}", month.year, w.indicator);
        let result = match (&w.values, &w.before) {
            (Some(v), before) => {
                let row = EntryRow { unit: unit_id.clone(), indicator: w.indicator.clone(), month: month.to_string(), values: v.clone() };
                app.store.save_entry(&mut tx, month.year, &row, before.as_ref().map(|e| e.version), w.state.code()).await
            }
            (None, Some(e)) => {
                app.store.set_entry_state(&mut tx, month.year, unit_id, &w.indicator, &month.to_string(), e.version, w.state.code()).await
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
                let current = app.store.entry(month.year, unit_id, &w.indicator, &month.to_string()).await?;
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
    Ok(Ok(applied))
}

/// The office accepts every approved entry of `month` it may accept, in one
/// transaction (whose commit rescores); how many. Refused when there is none.
pub async fn accept_all(app: &App, actor: &Actor, tr: &Tr, month: Month) -> Result<usize, AppError> {
    if app.store.period_state(month.year, &month.to_string()).await? != jixiao_store::PeriodState::Open {
        return Err(AppError::invalid(tr.f("report.closed", &[&month])));
    }
    let entries: Vec<StoredEntry> = app
        .store
        .stored_entries(month.year)
        .await?
        .into_iter()
        .filter(|e| e.row.month == month.to_string() && e.state == EntryState::Approved.code())
        .collect();
    let mut tx = app.store.begin(&actor.name).await?;
    let mut accepted = 0;
    for e in &entries {
        let Some(role) = workflow::acting_role(&actor.grants, Step::Accept, &e.row.unit, &e.row.indicator) else { continue };
        let Ok(s) = workflow::next(Some(EntryState::Approved), Step::Accept, role, "") else { continue };
        let version =
            app.store.set_entry_state(&mut tx, month.year, &e.row.unit, &e.row.indicator, &e.row.month, e.version, s.code()).await?;
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
        return Err(AppError::invalid(tr.t("report.none_to_accept")));
    }
    tx.audit("entries.accept_all", "month", &month.to_string(), None, Some(json!({"accepted": accepted}))).await?;
    tx.commit().await?;
    Ok(accepted)
}

/// Turns the late and missing reports of `month` into records of the scheme's
/// `reporting` rule — once per unit and month, so repeating it adds nothing — and
/// its commit rescores; how many records were added.
pub async fn record_lateness(app: &App, actor: &Actor, tr: &Tr, month: Month) -> Result<usize, AppError> {
    actor.require(jixiao_core::org::Action::ManageSchemes, jixiao_core::org::Target::Nothing)?;
    let (_, scheme) = app.scheme_of(month.year).await?;
    let rule = scheme.file.reporting.clone().ok_or_else(|| AppError::invalid(tr.t("report.no_reporting_rule")))?;
    let timeliness = timeliness_by_unit(app, &scheme, month).await?;
    let existing = app.store.records(month.year).await?;
    // Dated the month's last day (the day before the 1st of the next month), so it
    // counts in that month and every period containing it.
    let last_day = month.report_deadline(1).pred_opt().unwrap_or_default().to_string();
    // The note is data, written once in the default language; with the unit, the
    // indicator and the date it identifies the record.
    let data_tr = Tr::default();
    let mut tx = app.store.begin(&actor.name).await?;
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
        let note = data_tr.f(key, &[&month]);
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
        let id = app.store.add_record(&mut tx, month.year, &row).await?;
        tx.audit(
            "record.add",
            "record",
            &id.to_string(),
            None,
            Some(json!({"unit": unit.id, "indicator": rule.deduction, "date": last_day, "points": points, "note": note})),
        )
        .await?;
        added += 1;
    }
    if added == 0 {
        return Ok(0);
    }
    tx.commit().await?;
    Ok(added)
}

/// One unit's reporting of a month: how many indicators are due and how many it has
/// reported (in any state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub unit_id: String,
    pub unit_name: String,
    pub due: usize,
    pub reported: usize,
}

/// The reporting progress of `month` for every unit whose reports `actor` sees
/// (assessors, who see indicators rather than whole units' reports, get none), in
/// scheme order; empty when the year has no scheme.
pub async fn progress(app: &App, actor: &Actor, month: Month) -> Result<Vec<Progress>, AppError> {
    let Some((_, scheme)) = app.latest_scheme(month.year).await? else { return Ok(Vec::new()) };
    if actor.roles() == [jixiao_core::org::Role::Assessor] {
        return Ok(Vec::new());
    }
    let reported = app.reported(month.year, &month.to_string()).await?;
    Ok(scheme
        .units
        .iter()
        .enumerate()
        .filter(|(_, unit)| actor.can(jixiao_core::org::Action::ViewUnit, jixiao_core::org::Target::Unit(&unit.id)))
        .map(|(ui, unit)| {
            let due = due_indicators(&scheme, ui, month.month);
            let done = reported.get(&unit.id).map_or(0, |r| due.iter().filter(|&&n| r.contains(&scheme.nodes[n].id)).count());
            Progress { unit_id: unit.id.clone(), unit_name: unit.name.clone(), due: due.len(), reported: done }
        })
        .collect())
}

/// The scores a unit's month would give with its form's values as they are now (any
/// state): the year's accepted data with this form's entries in place of the accepted
/// ones — by indicator id, a number or the engine's status (`missing`…).
pub async fn preview_scores(app: &App, data: &UnitMonth) -> Result<HashMap<String, String>, AppError> {
    use jixiao_core::period::Period;
    let mut file = app.store.data_file(data.month.year).await?;
    let month = data.month.to_string();
    let unit_id = &data.scheme.units[data.unit].id;
    file.entries.retain(|e| !(e.unit == *unit_id && e.month == month));
    file.entries.extend(data.current.values().map(|e| e.row.clone()));
    file.entries.sort_by(|a, b| (&a.unit, &a.indicator, &a.month).cmp(&(&b.unit, &b.indicator, &b.month)));
    let dataset = jixiao_core::data::Dataset::load(&data.scheme, &file).map_err(AppError::internal)?;
    let result = jixiao_core::score::score_period(&data.scheme, &dataset, Period::Month(data.month));
    Ok(data
        .due
        .iter()
        .map(|&n| {
            let text = match result.status(data.unit, n) {
                jixiao_core::score::Status::Ok => result.score(data.unit, n).map(crate::text::number).unwrap_or_default(),
                other => other.as_str().to_string(),
            };
            (data.scheme.nodes[n].id.clone(), text)
        })
        .collect())
}

/// The reason of the latest return of an entry, from its audit trail.
pub async fn last_return_reason(app: &App, month: Month, unit: &str, indicator: &str) -> Result<Option<String>, AppError> {
    let object = format!("{}/{unit}/{indicator}/{month}", month.year);
    let trail = app.store.audit_trail("entry", &object).await?;
    Ok(trail
        .iter()
        .rev()
        .find(|e| e.action == "entry.return")
        .and_then(|e| e.after_json.as_deref())
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .and_then(|v| v["reason"].as_str().map(str::to_string)))
}

/// `unit`'s form of `month` as a workbook to fill in Excel (`xlsx::form`): the fields
/// of the indicators due that `actor` may see, last month's values and the current ones.
pub async fn form_template(app: &App, actor: &Actor, unit: &str, month: Month) -> Result<Vec<u8>, AppError> {
    use jixiao_core::org::{Action, Target};
    let data = load(app, unit, month).await?;
    let last = values_of(app, unit, previous(month)).await?;
    let mut rows = Vec::new();
    for &n in &data.due {
        let node = &data.scheme.nodes[n];
        let Some(ind) = &node.indicator else { continue };
        if !actor.can(Action::ViewUnit, Target::Indicator { unit, indicator: &node.id }) {
            continue;
        }
        let current = data.current.get(&node.id);
        for f in &ind.fields {
            rows.push(crate::xlsx::form::TemplateRow {
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
    crate::xlsx::form::template(unit, &unit_name, month, &rows).map_err(AppError::internal)
}

/// Saves the values of a filled form workbook as drafts, through the same checks as
/// the form (`apply`). `Err(lines)` names every problem by sheet, row and column;
/// nothing is saved then.
pub async fn upload_form(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    unit: &str,
    month: Month,
    bytes: Vec<u8>,
) -> Result<Result<Applied, Vec<String>>, AppError> {
    let data = load(app, unit, month).await?;
    let (scheme, unit_id) = (data.scheme.clone(), unit.to_string());
    let upload = match crate::xlsx::sheet::read_upload(move || crate::xlsx::form::read(&bytes, &scheme, &unit_id, month)).await? {
        Ok(u) => u,
        Err(errors) => return Ok(Err(errors.iter().map(ToString::to_string).collect())),
    };
    let changes: Vec<Change> = upload
        .values
        .iter()
        .filter(|(indicator, values)| !values.is_empty() && state_of(data.current.get(*indicator)).is_none_or(EntryState::editable))
        .map(|(indicator, values)| Change {
            indicator: indicator.clone(),
            step: Step::Save,
            values: Some(values.clone()),
            seen_version: None,
            reason: upload.reasons.get(indicator).cloned().unwrap_or_default(),
        })
        .collect();
    if changes.is_empty() {
        return Ok(Err(vec![tr.t("report.nothing_to_do").to_string()]));
    }
    Ok(apply(app, actor, tr, &data, changes).await?.map_err(|problems| {
        problems
            .iter()
            .map(|p| {
                let field = match p {
                    Problem::Field { field, .. } => Some(field.as_str()),
                    _ => None,
                };
                let (row, column) = crate::xlsx::form::place(&upload, p.indicator(), field);
                format!("{}!{column}{row}: {}", crate::xlsx::form::SHEET, p.message(tr, &app.clock))
            })
            .collect()
    }))
}
