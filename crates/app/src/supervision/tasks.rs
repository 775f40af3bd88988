//! Who sees which task, assigning one, and taking a step on it.
//!
//! Scope: the office (and a leader over every unit) sees every task; a leader with
//! the units they oversee (分管) sees the tasks of those units; a unit's people see
//! the tasks their unit leads or shares as a co-unit. Any other task is not found, as
//! if it did not exist. Every step is decided by `core::supervision::lifecycle` with
//! the actor's grants.

use chrono::NaiveDate;
use jixiao_core::org::{Action, Scope, Target, roles_for};
use jixiao_core::service::Light;
use jixiao_core::supervision::lifecycle::may;
use jixiao_core::supervision::{Current, Grade, Priority, Source, Step, SupervisionError, TaskState, TaskUnit, next};
use jixiao_store::{Attachment, NewSupervisionTask, NewTaskEvent, SupervisionTask, TaskUnitRow, Unit};
use serde::Deserialize;
use serde_json::json;

use super::{bad, bounded, date};
use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::input::{NAME, TEXT};

/// The owner type of a task's evidence files; the owner id is the task's code.
pub const EVIDENCE_OWNER: &str = "supervision_evidence";

/// A unit of a new task, with its leader in charge and person responsible.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct UnitAssignment {
    pub unit: String,
    #[serde(default)]
    pub leader_name: String,
    #[serde(default)]
    pub person_name: String,
}

/// A new task as the form or the API sends it (texts as typed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskForm {
    #[serde(default)]
    pub title: String,
    /// `manual`, `red_light`, `service_request`, `comment`.
    #[serde(default)]
    pub source_kind: String,
    /// `u01/2027-03/A1`, a case number, a comment id.
    #[serde(default)]
    pub source_ref: String,
    #[serde(default)]
    pub requirement: String,
    #[serde(default)]
    pub outputs: String,
    #[serde(default)]
    pub priority: String,
    /// `2027-04-30`.
    #[serde(default)]
    pub deadline: String,
    #[serde(default)]
    pub lead: UnitAssignment,
    #[serde(default)]
    pub co_units: Vec<UnitAssignment>,
}

impl TaskForm {
    /// The form of a web page: `lead_unit`, `lead_leader`, `lead_person`, and
    /// `co_units` repeated (one per co-unit).
    pub fn from_pairs(pairs: &[(String, String)]) -> TaskForm {
        let mut f = TaskForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "title" => f.title = v.clone(),
                "source_kind" => f.source_kind = v.clone(),
                "source_ref" => f.source_ref = v.clone(),
                "requirement" => f.requirement = v.clone(),
                "outputs" => f.outputs = v.clone(),
                "priority" => f.priority = v.clone(),
                "deadline" => f.deadline = v.clone(),
                "lead_unit" => f.lead.unit = v.clone(),
                "lead_leader" => f.lead.leader_name = v.clone(),
                "lead_person" => f.lead.person_name = v.clone(),
                "co_units" if !v.trim().is_empty() => f.co_units.push(UnitAssignment { unit: v.clone(), ..Default::default() }),
                _ => {}
            }
        }
        f
    }
}

/// A step as the form or the API sends it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    pub step: String,
    /// The unit acting, for the units' steps (default: the actor's unit among the
    /// task's).
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub text: String,
    /// The deadline asked for (`request_extension`).
    #[serde(default)]
    pub until: String,
    /// The names a unit gives when it signs.
    #[serde(default)]
    pub leader_name: String,
    #[serde(default)]
    pub person_name: String,
    /// The evaluation of each unit.
    #[serde(default)]
    pub evaluations: Vec<Evaluation>,
    /// The version the form was made from (0: not checked).
    #[serde(default)]
    pub version: i64,
}

/// One unit's evaluation: a grade, a score 0–100, or both (the score counts).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Evaluation {
    pub unit: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub score: Option<f64>,
}

impl StepForm {
    /// The form of a web page: the fields by name, and `grade.<unit>` / `score.<unit>`
    /// for the evaluation. A score that is not a number is kept as NaN and refused.
    pub fn from_pairs(pairs: &[(String, String)]) -> StepForm {
        let mut f = StepForm::default();
        fn eval(evaluations: &mut Vec<Evaluation>, unit: &str) -> usize {
            match evaluations.iter().position(|e| e.unit == unit) {
                Some(i) => i,
                None => {
                    evaluations.push(Evaluation { unit: unit.to_string(), ..Default::default() });
                    evaluations.len() - 1
                }
            }
        }
        let mut rest = Vec::new();
        for (k, v) in pairs {
            if let Some(unit) = k.strip_prefix("grade.") {
                let i = eval(&mut f.evaluations, unit);
                f.evaluations[i].grade = v.trim().to_string();
            } else if let Some(unit) = k.strip_prefix("score.") {
                let i = eval(&mut f.evaluations, unit);
                let v = v.trim();
                f.evaluations[i].score = (!v.is_empty()).then(|| v.parse::<f64>().unwrap_or(f64::NAN));
            } else {
                rest.push((k, v));
            }
        }
        for (k, v) in rest {
            match k.as_str() {
                "step" => f.step = v.clone(),
                "unit" => f.unit = v.clone(),
                "text" => f.text = v.clone(),
                "until" => f.until = v.clone(),
                "leader_name" => f.leader_name = v.clone(),
                "person_name" => f.person_name = v.clone(),
                "version" => f.version = v.trim().parse().unwrap_or(-1),
                _ => {}
            }
        }
        f
    }
}

/// Whether a grant of one of the action's roles covers every unit.
fn sees_all(actor: &Actor, action: Action) -> bool {
    let roles = roles_for(action);
    actor.grants.iter().any(|g| roles.contains(&g.role) && g.scope == Scope::All)
}

/// The units whose tasks the actor sees (`None`: all).
pub fn scope_units(units: &[Unit], actor: &Actor) -> Option<Vec<String>> {
    if sees_all(actor, Action::ViewSupervision) {
        return None;
    }
    Some(units.iter().filter(|u| actor.can(Action::ViewSupervision, Target::Unit(&u.id))).map(|u| u.id.clone()).collect())
}

fn check_visible(actor: &Actor, t: &SupervisionTask) -> Result<()> {
    let unit = t.units.iter().any(|u| actor.can(Action::ViewSupervision, Target::Unit(&u.unit_id)));
    if sees_all(actor, Action::ViewSupervision) || unit { Ok(()) } else { Err(AppError::NotFound) }
}

/// The task `id` if the actor may see it; not found otherwise (also for another
/// unit's).
pub async fn visible(app: &App, actor: &Actor, id: i64) -> Result<SupervisionTask> {
    actor.require(Action::ViewSupervision, Target::Nothing)?;
    let t = app.store.supervision_task(id).await?.ok_or(AppError::NotFound)?;
    check_visible(actor, &t)?;
    Ok(t)
}

/// Every task the actor may see, newest first.
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<SupervisionTask>> {
    actor.require(Action::ViewSupervision, Target::Nothing)?;
    let units = app.store.units().await?;
    let scope = scope_units(&units, actor);
    Ok(app.store.supervision_tasks(scope.as_deref()).await?)
}

pub fn state_of(t: &SupervisionTask) -> Result<TaskState> {
    t.state.parse::<TaskState>().map_err(AppError::Internal)
}

/// The task as `core` sees it.
pub fn current(t: &SupervisionTask) -> Result<Current<'_>> {
    Ok(Current {
        state: state_of(t)?,
        units: t.units.iter().map(|u| TaskUnit { unit: &u.unit_id, lead: u.lead, signed: u.signed_at.is_some() }).collect(),
        deadline: date(&t.deadline).ok_or_else(|| AppError::Internal(format!("task {} deadline `{}`", t.code, t.deadline)))?,
    })
}

/// The overdue light of an open task today; `None` once it is claimed.
pub fn light(t: &SupervisionTask, calendar: &jixiao_core::calendar::Calendar, today: NaiveDate) -> Option<Light> {
    let open = t.state.parse::<TaskState>().is_ok_and(TaskState::is_open);
    match (open, date(&t.deadline)) {
        (true, Some(d)) => Some(jixiao_core::supervision::light(calendar, d, today)),
        _ => None,
    }
}

/// Assigns a new task (交办) to units in the actor's scope; the task as stored. The
/// office and leaders (for the units they oversee) may; the deadline may not lie in
/// the past; every unit must exist, be active and lie in the actor's scope.
pub async fn create(app: &App, actor: &Actor, tr: &Tr, form: &TaskForm) -> Result<SupervisionTask> {
    actor.require(Action::AssignSupervision, Target::Nothing)?;
    let title = form.title.trim();
    let requirement = form.requirement.trim();
    if title.is_empty() {
        return Err(bad("title", tr.f("supervision.error.required", &[&tr.t("supervision.field.title")])));
    }
    if requirement.is_empty() {
        return Err(bad("requirement", tr.f("supervision.error.required", &[&tr.t("supervision.field.requirement")])));
    }
    bounded(tr, "title", title, NAME)?;
    bounded(tr, "requirement", requirement, TEXT)?;
    bounded(tr, "outputs", form.outputs.trim(), TEXT)?;
    let source =
        Source::parse(form.source_kind.trim(), &form.source_ref).map_err(|e| bad("source", tr.f("supervision.error.source", &[&e])))?;
    bounded(tr, "source", &source.reference(), NAME)?;
    let priority = if form.priority.trim().is_empty() {
        Priority::Normal
    } else {
        form.priority.trim().parse().map_err(|e: String| bad("priority", e))?
    };
    let deadline = date(&form.deadline).ok_or_else(|| bad("deadline", tr.f("supervision.error.date", &[&form.deadline.trim()])))?;
    let today = app.clock.today();
    if deadline < today {
        return Err(bad("deadline", tr.f("supervision.error.deadline_past", &[&deadline, &today])));
    }
    // The units: the lead first, then the co-units, each once.
    let all_units = app.store.units().await?;
    let mut rows: Vec<TaskUnitRow> = Vec::new();
    for (i, a) in std::iter::once(&form.lead).chain(form.co_units.iter()).enumerate() {
        let id = a.unit.trim();
        let field = if i == 0 { "lead_unit" } else { "co_units" };
        if id.is_empty() {
            if i == 0 {
                return Err(bad(field, tr.f("supervision.error.required", &[&tr.t("supervision.field.lead_unit")])));
            }
            continue;
        }
        let unit = all_units
            .iter()
            .find(|u| u.id == id && !u.disabled)
            .ok_or_else(|| bad(field, tr.f("supervision.error.unknown_unit", &[&id])))?;
        if !actor.can(Action::AssignSupervision, Target::Unit(id)) {
            return Err(bad(field, tr.f("supervision.error.out_of_scope", &[&unit.name])));
        }
        if rows.iter().any(|r| r.unit_id == id) {
            if i > 0 && rows[0].unit_id == id {
                return Err(bad(field, tr.f("supervision.error.lead_is_co", &[&unit.name])));
            }
            continue;
        }
        bounded(tr, "leader_name", a.leader_name.trim(), NAME)?;
        bounded(tr, "person_name", a.person_name.trim(), NAME)?;
        rows.push(TaskUnitRow {
            unit_id: id.to_string(),
            lead: i == 0,
            leader_name: a.leader_name.trim().to_string(),
            person_name: a.person_name.trim().to_string(),
            ..Default::default()
        });
    }
    if let Source::RedLight { unit, .. } = &source
        && !actor.can(Action::AssignSupervision, Target::Unit(unit))
    {
        return Err(bad("source", tr.f("supervision.error.out_of_scope", &[&unit])));
    }
    if let Source::ServiceRequest { case_no } = &source
        && app.store.service_request_by_case(case_no).await?.is_none()
    {
        return Err(bad("source", tr.f("supervision.error.source", &[&case_no])));
    }
    let new = NewSupervisionTask {
        year: chrono::Datelike::year(&today),
        title: title.to_string(),
        source_kind: source.kind().to_string(),
        source_ref: source.reference(),
        requirement: requirement.to_string(),
        outputs: form.outputs.trim().to_string(),
        priority: priority.code().to_string(),
        deadline: deadline.to_string(),
        units: rows,
        created_at: None,
    };
    let mut tx = app.store.begin(&actor.name).await?;
    let t = app.store.create_supervision_task(&mut tx, &new).await?;
    let after = json!({
        "title": t.title, "source": {"kind": t.source_kind, "ref": t.source_ref}, "priority": t.priority, "deadline": t.deadline,
        "units": t.units.iter().map(|u| json!({"unit": u.unit_id, "lead": u.lead, "leader": u.leader_name, "person": u.person_name})).collect::<Vec<_>>(),
    });
    tx.audit("supervision.assign", "supervision_task", &t.code, None, Some(after)).await?;
    tx.commit().await?;
    super::metrics::refresh_year(app, t.year).await?;
    Ok(t)
}

/// The unit the actor acts for on `t`: the one the form names, else the first of the
/// task's units the actor handles (the lead unit first).
fn acting_unit<'a>(actor: &Actor, t: &'a SupervisionTask, named: &str) -> Option<&'a str> {
    let named = named.trim();
    t.units
        .iter()
        .filter(|u| named.is_empty() || u.unit_id == named)
        .find(|u| actor.can(Action::HandleSupervision, Target::Unit(&u.unit_id)))
        .map(|u| u.unit_id.as_str())
}

fn refusal(tr: &Tr, e: SupervisionError) -> AppError {
    match e {
        SupervisionError::NotYours { .. } => AppError::Forbidden,
        SupervisionError::WrongState { state, step } => {
            AppError::invalid(tr.f(
                "supervision.error.wrong_state",
                &[&tr.t(&format!("supervision.state.{state}")), &tr.t(&format!("supervision.do.{step}"))],
            ))
        }
        SupervisionError::TextRequired(step) => AppError::invalid_with(
            tr.f("supervision.error.text_required", &[&tr.t(&format!("supervision.do.{step}"))]),
            json!({"field": "text"}),
        ),
        SupervisionError::AlreadySigned(_) => AppError::invalid(tr.t("supervision.error.already_signed")),
        SupervisionError::NotSigned(_) => AppError::invalid(tr.t("supervision.error.not_signed")),
        SupervisionError::LeadOnly(step) => {
            AppError::invalid(tr.f("supervision.error.lead_only", &[&tr.t(&format!("supervision.do.{step}"))]))
        }
        SupervisionError::ExtensionNotLater { until, deadline } => {
            AppError::invalid_with(tr.f("supervision.error.extension_not_later", &[&until, &deadline]), json!({"field": "until"}))
        }
    }
}

/// The steps the actor may take on the task now (with sample texts), in the order
/// the page offers them.
pub fn possible_steps(actor: &Actor, t: &SupervisionTask) -> Vec<&'static str> {
    let Ok(current) = current(t) else { return Vec::new() };
    let unit = acting_unit(actor, t, "").unwrap_or("");
    let lead = t.lead_unit().filter(|l| actor.can(Action::HandleSupervision, Target::Unit(l))).unwrap_or(unit);
    let later = current.deadline + chrono::Duration::days(365);
    let unsigned = t
        .units
        .iter()
        .find(|u| u.signed_at.is_none() && actor.can(Action::HandleSupervision, Target::Unit(&u.unit_id)))
        .map_or(unit, |u| u.unit_id.as_str());
    let samples = [
        Step::Sign { unit: unsigned },
        Step::Report { unit, text: "x" },
        Step::RequestExtension { unit: lead, until: later, reason: "x" },
        Step::ApproveExtension { reason: "x" },
        Step::RefuseExtension { reason: "x" },
        Step::Claim { unit: lead, text: "x" },
        Step::Verify { text: "x" },
        Step::Return { reason: "x" },
        Step::Evaluate { comment: "x" },
    ];
    samples.iter().filter(|s| may(&actor.grants, s, &current) && next(&current, s, &actor.grants).is_ok()).map(|s| s.code()).collect()
}

/// Takes the step of a form on task `id`; the task as stored after. `version` is the
/// one the form was made from (0: not checked): an older one is a conflict.
pub async fn take_step(app: &App, actor: &Actor, tr: &Tr, id: i64, form: &StepForm) -> Result<SupervisionTask> {
    let t = visible(app, actor, id).await?;
    if form.version != 0 && form.version != t.version {
        return Err(AppError::Conflict(tr.f("supervision.error.changed", &[&t.code])));
    }
    let text = form.text.trim();
    bounded(tr, "text", text, TEXT)?;
    let current = current(&t)?;
    let today = app.clock.today();
    let unit = acting_unit(actor, &t, &form.unit).unwrap_or_else(|| form.unit.trim());
    // Lead-only steps act for the lead unit when the actor handles it.
    let lead_unit = t.lead_unit().filter(|l| actor.can(Action::HandleSupervision, Target::Unit(l)) && form.unit.trim().is_empty());
    let until = if form.step == "request_extension" {
        let d = date(&form.until).ok_or_else(|| bad("until", tr.f("supervision.error.date", &[&form.until.trim()])))?;
        if d < today {
            return Err(bad("until", tr.f("supervision.error.deadline_past", &[&d, &today])));
        }
        d
    } else {
        current.deadline
    };
    let step = match form.step.as_str() {
        "sign" => Step::Sign { unit: t.units.iter().find(|u| u.unit_id == unit && u.signed_at.is_none()).map_or(unit, |u| &u.unit_id) },
        "report" => Step::Report { unit, text },
        "request_extension" => Step::RequestExtension { unit: lead_unit.unwrap_or(unit), until, reason: text },
        "approve_extension" => Step::ApproveExtension { reason: text },
        "refuse_extension" => Step::RefuseExtension { reason: text },
        "claim" => Step::Claim { unit: lead_unit.unwrap_or(unit), text },
        "verify" => Step::Verify { text },
        "return" => Step::Return { reason: text },
        "evaluate" => Step::Evaluate { comment: text },
        other => return Err(bad("step", tr.f("supervision.error.unknown_step", &[&other]))),
    };
    let to = next(&current, &step, &actor.grants).map_err(|e| refusal(tr, e))?;
    let now = app.clock.to_stored(app.clock.local_now());
    let mut after = t.clone();
    let mut data = json!({});
    match step {
        Step::Sign { unit } => {
            bounded(tr, "leader_name", form.leader_name.trim(), NAME)?;
            bounded(tr, "person_name", form.person_name.trim(), NAME)?;
            if let Some(u) = after.units.iter_mut().find(|u| u.unit_id == unit) {
                u.signed_at = Some(now.clone());
                if !form.leader_name.trim().is_empty() {
                    u.leader_name = form.leader_name.trim().to_string();
                }
                if !form.person_name.trim().is_empty() {
                    u.person_name = form.person_name.trim().to_string();
                }
                data = json!({"leader": u.leader_name, "person": u.person_name});
            }
        }
        Step::RequestExtension { until, .. } => {
            after.requested_deadline = Some(until.to_string());
            data = json!({"until": until.to_string(), "deadline": t.deadline});
        }
        Step::ApproveExtension { .. } => {
            let until =
                after.requested_deadline.take().ok_or_else(|| AppError::Internal(format!("task {}: no extension asked", t.code)))?;
            data = json!({"from": t.deadline, "to": until});
            after.deadline = until;
        }
        Step::RefuseExtension { .. } => {
            data = json!({"until": after.requested_deadline.take(), "deadline": t.deadline});
        }
        Step::Claim { .. } => after.claimed_at = Some(now.clone()),
        Step::Verify { .. } => after.verified_at = Some(now.clone()),
        Step::Return { .. } => {
            after.claimed_at = None;
            after.verified_at = None;
        }
        Step::Evaluate { .. } => {
            let mut given = Vec::new();
            for u in &mut after.units {
                let e = form.evaluations.iter().find(|e| e.unit == u.unit_id);
                let grade = match e.map(|e| e.grade.as_str()).filter(|g| !g.is_empty()) {
                    Some(g) => Some(g.parse::<Grade>().map_err(|_| bad("grade", tr.f("supervision.error.grade", &[&g])))?),
                    None => None,
                };
                let score = match e.and_then(|e| e.score) {
                    Some(s) if s.is_finite() && (0.0..=100.0).contains(&s) => Some(s),
                    Some(_) => return Err(bad("score", tr.f("supervision.error.score", &[&u.unit_id]))),
                    None => grade.map(Grade::score),
                };
                let Some(score) = score else {
                    return Err(bad("score", tr.f("supervision.error.evaluation_missing", &[&u.unit_id])));
                };
                u.grade = grade.map(|g| g.code().to_string());
                u.score = Some(score);
                given.push(json!({"unit": u.unit_id, "grade": u.grade, "score": score}));
            }
            after.evaluated_at = Some(now.clone());
            after.evaluation_comment = text.to_string();
            data = json!({"evaluations": given});
        }
        Step::Report { .. } => {}
    }
    after.state = to.code().to_string();
    let mut tx = app.store.begin(&actor.name).await?;
    after.version = app.store.update_supervision_task(&mut tx, &after).await?;
    let event = NewTaskEvent {
        step: step.code().to_string(),
        from_state: Some(t.state.clone()),
        to_state: after.state.clone(),
        unit_id: step.unit().map(str::to_string),
        text: text.to_string(),
        data: data.clone(),
        at: Some(now),
    };
    app.store.add_supervision_event(&mut tx, t.id, &event).await?;
    let before = json!({"state": t.state, "deadline": t.deadline, "version": t.version});
    let audit_after = json!({"state": after.state, "deadline": after.deadline, "version": after.version, "unit": step.unit(), "text": text, "data": data});
    tx.audit(&format!("supervision.{}", step.code()), "supervision_task", &t.code, Some(before), Some(audit_after)).await?;
    tx.commit().await?;
    // What the metrics count may have changed: the month of the deadline, the claim,
    // the evaluation.
    let mut years = vec![t.year, chrono::Datelike::year(&today)];
    years.extend(date(&after.deadline).map(|d| chrono::Datelike::year(&d)));
    years.sort_unstable();
    years.dedup();
    for y in years {
        super::metrics::refresh_year(app, y).await?;
    }
    Ok(after)
}

/// States in which the task's units may attach evidence.
pub fn evidence_open(t: &SupervisionTask) -> bool {
    t.state.parse::<TaskState>().is_ok_and(|s| s.is_open())
}

/// Whether the actor handles one of the task's units.
pub fn handles(actor: &Actor, t: &SupervisionTask) -> bool {
    t.units.iter().any(|u| actor.can(Action::HandleSupervision, Target::Unit(&u.unit_id)))
}

/// A unit of the task attaches an evidence file (佐证材料) while the task is open: the
/// file, a history entry and the audit entry in one transaction.
pub async fn attach_evidence(app: &App, actor: &Actor, tr: &Tr, id: i64, name: &str, bytes: &[u8]) -> Result<Attachment> {
    let t = visible(app, actor, id).await?;
    let Some(unit) = acting_unit(actor, &t, "") else { return Err(AppError::Forbidden) };
    if !evidence_open(&t) {
        return Err(AppError::invalid(tr.f("supervision.error.evidence_state", &[&tr.t(&format!("supervision.state.{}", t.state))])));
    }
    if bytes.is_empty() {
        return Err(AppError::invalid(tr.t("service.error.no_file")));
    }
    if bytes.len() > crate::files::MAX_BYTES {
        return Err(AppError::TooLarge(tr.f("service.error.evidence_size", &[&(crate::files::MAX_BYTES / 1024 / 1024)])));
    }
    bounded(tr, "file", name, NAME)?;
    let content_type = crate::files::kind_of(name, bytes).map_err(AppError::invalid)?;
    let mut tx = app.store.begin(&actor.name).await?;
    let stored = app.store.add_attachment(&mut tx, EVIDENCE_OWNER, &t.code, name, content_type, bytes).await?;
    let event = NewTaskEvent {
        step: "evidence".into(),
        from_state: Some(t.state.clone()),
        to_state: t.state.clone(),
        unit_id: Some(unit.to_string()),
        text: name.to_string(),
        data: json!({"attachment": stored.id}),
        at: None,
    };
    app.store.add_supervision_event(&mut tx, t.id, &event).await?;
    let after = json!({"attachment": stored.id, "filename": name, "size": stored.size, "sha256": stored.sha256, "unit": unit});
    tx.audit("supervision.evidence", "supervision_task", &t.code, None, Some(after)).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Whether `actor` may see the task with code `code` (for its evidence files); not
/// found otherwise.
pub async fn check_code_visible(app: &App, actor: &Actor, code: &str) -> Result<()> {
    let tasks = app.store.supervision_tasks(None).await?;
    let t = tasks.into_iter().find(|t| t.code == code).ok_or(AppError::NotFound)?;
    if !actor.can(Action::ViewSupervision, Target::Nothing) {
        return Err(AppError::NotFound);
    }
    check_visible(actor, &t)
}
