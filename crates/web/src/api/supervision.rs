//! `/api/v1/supervision/tasks[/{id}]`: supervision tasks (督办事项) for programs, with
//! the pages' rules (`app::supervision`): the tasks of the caller's scope, assigning
//! one, taking a step; another unit's task is 404.

use axum::Json;
use axum::extract::{Path, Query, State};
use jixiao_app::Tr;
use jixiao_app::supervision::ledger::{self, LedgerFilter};
use jixiao_app::supervision::tasks::{self, Evaluation, StepForm, TaskForm, UnitAssignment};
use jixiao_store::SupervisionTask;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ListOf, Paging};
use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;

/// A unit of a task.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TaskUnit {
    pub unit: String,
    /// The lead unit (牵头单位); the others are co-units.
    #[serde(default)]
    pub lead: bool,
    /// 分管领导.
    #[serde(default)]
    pub leader_name: String,
    /// 承办人.
    #[serde(default)]
    pub person_name: String,
    /// When the unit signed (RFC 3339), if it did.
    #[serde(default, skip_deserializing)]
    pub signed_at: Option<String>,
    #[serde(default, skip_deserializing)]
    pub grade: Option<String>,
    #[serde(default, skip_deserializing)]
    pub score: Option<f64>,
}

/// A supervision task.
#[derive(Debug, Serialize, ToSchema)]
pub struct Task {
    pub id: i64,
    /// `DB-2027-0001`.
    pub code: String,
    pub title: String,
    /// `manual`, `red_light`, `service_request`, `comment`.
    pub source_kind: String,
    /// `u01/2027-03/A1`, a case number, a comment id, or empty.
    pub source_ref: String,
    pub requirement: String,
    pub outputs: String,
    /// `normal`, `high`, `urgent`.
    pub priority: String,
    /// `assigned`, `in_progress`, `extension_requested`, `claimed`, `verified`, `evaluated`.
    pub state: String,
    /// The deadline in force (a local date).
    pub deadline: String,
    pub original_deadline: String,
    pub requested_deadline: Option<String>,
    /// `green`, `yellow`, `red` while open; null once claimed.
    pub light: Option<String>,
    /// Finished late or past the deadline; null while not decided.
    pub overdue: Option<bool>,
    pub units: Vec<TaskUnit>,
    pub evaluation_comment: String,
    pub created_by: String,
    pub created_at: Option<String>,
    /// Send it back with a step (a stale one is 409).
    pub version: i64,
}

/// A step of a task's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskEvent {
    pub at: Option<String>,
    pub actor: String,
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub unit: Option<String>,
    pub text: String,
    pub data: serde_json::Value,
}

/// A task with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    pub history: Vec<TaskEvent>,
}

/// A new task.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTask {
    pub title: String,
    /// `manual` (default), `red_light`, `service_request`, `comment`.
    #[serde(default)]
    pub source_kind: String,
    #[serde(default)]
    pub source_ref: String,
    pub requirement: String,
    #[serde(default)]
    pub outputs: String,
    /// `normal` (default), `high`, `urgent`.
    #[serde(default)]
    pub priority: String,
    /// A local date, today or later: `2027-04-30`.
    pub deadline: String,
    /// The lead unit first (`lead` may be left out), then the co-units.
    pub units: Vec<TaskUnit>,
}

/// One unit's evaluation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UnitEvaluation {
    pub unit: String,
    /// `excellent`, `good`, `pass`, `fail`.
    #[serde(default)]
    pub grade: String,
    /// 0–100; wins over the grade.
    #[serde(default)]
    pub score: Option<f64>,
}

/// A step on a task.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StepBody {
    /// `sign`, `report`, `request_extension`, `approve_extension`, `refuse_extension`,
    /// `claim`, `verify`, `return`, `evaluate`.
    pub step: String,
    /// The unit acting (default: the caller's unit among the task's).
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub text: String,
    /// `request_extension`: the deadline asked for.
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub leader_name: String,
    #[serde(default)]
    pub person_name: String,
    #[serde(default)]
    pub evaluations: Vec<UnitEvaluation>,
    /// The task's version the step is based on (0: not checked).
    #[serde(default)]
    pub version: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// A unit among the task's units.
    pub unit: Option<String>,
    /// Part of a leader-in-charge name.
    pub leader: Option<String>,
    pub source: Option<String>,
    pub state: Option<String>,
    /// Month of assignment, `2027-03`.
    pub month: Option<String>,
    pub page: Option<usize>,
    pub per_page: Option<usize>,
}

fn task(state: &AppState, t: &SupervisionTask, light: Option<String>, overdue: Option<bool>) -> Task {
    Task {
        id: t.id,
        code: t.code.clone(),
        title: t.title.clone(),
        source_kind: t.source_kind.clone(),
        source_ref: t.source_ref.clone(),
        requirement: t.requirement.clone(),
        outputs: t.outputs.clone(),
        priority: t.priority.clone(),
        state: t.state.clone(),
        deadline: t.deadline.clone(),
        original_deadline: t.original_deadline.clone(),
        requested_deadline: t.requested_deadline.clone(),
        light,
        overdue,
        units: t
            .units
            .iter()
            .map(|u| TaskUnit {
                unit: u.unit_id.clone(),
                lead: u.lead,
                leader_name: u.leader_name.clone(),
                person_name: u.person_name.clone(),
                signed_at: u.signed_at.as_deref().and_then(|s| state.clock.rfc3339(s)),
                grade: u.grade.clone(),
                score: u.score,
            })
            .collect(),
        evaluation_comment: t.evaluation_comment.clone(),
        created_by: t.created_by.clone(),
        created_at: state.clock.rfc3339(&t.created_at),
        version: t.version,
    }
}

async fn detail(state: &AppState, t: &SupervisionTask) -> Result<TaskDetail, WebError> {
    let calendar = jixiao_app::supervision::calendar(state).await?;
    let today = state.clock.today();
    let light = tasks::light(t, &calendar, today).map(|l| l.code().to_string());
    let overdue =
        jixiao_app::supervision::metrics::facts(&state.clock, t).and_then(|f| jixiao_core::supervision::metrics::overdue(&f, today));
    let history = state
        .store
        .supervision_events(t.id)
        .await?
        .into_iter()
        .map(|e| TaskEvent {
            at: state.clock.rfc3339(&e.at),
            actor: e.actor,
            step: e.step,
            from_state: e.from_state,
            to_state: e.to_state,
            unit: e.unit_id,
            text: e.text,
            data: e.data,
        })
        .collect();
    Ok(TaskDetail { task: task(state, t, light, overdue), history })
}

/// The tasks the caller sees, newest first, filtered like the ledger.
#[utoipa::path(get, path = "/api/v1/supervision/tasks", tag = "supervision", params(TaskQuery),
    responses((status = 200, body = ListOf<Task>), (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<TaskQuery>,
) -> Result<Json<ListOf<Task>>, WebError> {
    let f = LedgerFilter {
        unit: q.unit.unwrap_or_default(),
        leader: q.leader.unwrap_or_default(),
        source: q.source.unwrap_or_default(),
        state: q.state.unwrap_or_default(),
        month: q.month.unwrap_or_default(),
    };
    let rows = ledger::rows(&state, &viewer, &Tr::new(lang), &f).await?;
    let items = rows.iter().map(|r| task(&state, &r.task, r.light.map(|l| l.code().to_string()), r.overdue)).collect();
    Ok(Json(Paging { page: q.page, per_page: q.per_page }.apply(items)))
}

/// Assigns a task (the office; a leader for the units they oversee).
#[utoipa::path(post, path = "/api/v1/supervision/tasks", tag = "supervision", request_body = NewTask,
    responses((status = 200, body = TaskDetail), (status = 400, body = super::ErrorBody), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Json(body): Json<NewTask>,
) -> Result<Json<TaskDetail>, WebError> {
    let mut units = body.units.into_iter().map(|u| UnitAssignment { unit: u.unit, leader_name: u.leader_name, person_name: u.person_name });
    let form = TaskForm {
        title: body.title,
        source_kind: body.source_kind,
        source_ref: body.source_ref,
        requirement: body.requirement,
        outputs: body.outputs,
        priority: body.priority,
        deadline: body.deadline,
        lead: units.next().unwrap_or_default(),
        co_units: units.collect(),
    };
    let t = tasks::create(&state, &viewer, &Tr::new(lang), &form).await?;
    Ok(Json(detail(&state, &t).await?))
}

/// One task with its history; 404 for a task outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/supervision/tasks/{id}", tag = "supervision", params(("id" = i64, Path, description = "task id")),
    responses((status = 200, body = TaskDetail), (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Json<TaskDetail>, WebError> {
    let t = tasks::visible(&state, &viewer, id.parse().map_err(|_| WebError::NotFound)?).await?;
    Ok(Json(detail(&state, &t).await?))
}

/// Takes a step on a task; 409 when `version` is not the task's.
#[utoipa::path(post, path = "/api/v1/supervision/tasks/{id}", tag = "supervision", params(("id" = i64, Path, description = "task id")),
    request_body = StepBody,
    responses((status = 200, body = TaskDetail), (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    Json(body): Json<StepBody>,
) -> Result<Json<TaskDetail>, WebError> {
    let id = id.parse().map_err(|_| WebError::NotFound)?;
    let form = StepForm {
        step: body.step,
        unit: body.unit,
        text: body.text,
        until: body.until,
        leader_name: body.leader_name,
        person_name: body.person_name,
        evaluations: body.evaluations.into_iter().map(|e| Evaluation { unit: e.unit, grade: e.grade, score: e.score }).collect(),
        version: body.version,
    };
    let t = tasks::take_step(&state, &viewer, &Tr::new(lang), id, &form).await?;
    Ok(Json(detail(&state, &t).await?))
}
