//! Supervision tasks (督办事项): the task with its units (lead and co-units, each with
//! its signature and evaluation), its history, and the per-year code counter.
//!
//! Which step is allowed is `core::supervision`; this module stores the outcome. A
//! task row carries a version: `update_supervision_task` refuses a write based on an
//! older one, so two people acting on the same task cannot overwrite each other.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, flag};

/// One unit of a task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskUnitRow {
    pub unit_id: String,
    /// The lead unit (牵头单位); the others are co-units (配合单位).
    pub lead: bool,
    /// 分管领导, as a name.
    pub leader_name: String,
    /// 承办人, as a name.
    pub person_name: String,
    pub signed_at: Option<String>,
    pub grade: Option<String>,
    pub score: Option<f64>,
}

/// What assigning a task records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSupervisionTask {
    pub year: i32,
    pub title: String,
    pub source_kind: String,
    pub source_ref: String,
    pub requirement: String,
    pub outputs: String,
    pub priority: String,
    /// A local date, `2027-04-30`.
    pub deadline: String,
    /// The lead unit first.
    pub units: Vec<TaskUnitRow>,
    /// The creation time (RFC 3339 UTC); `None`: now. The demo sets it.
    pub created_at: Option<String>,
}

/// A stored task with its units (the lead unit first).
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisionTask {
    pub id: i64,
    pub code: String,
    pub year: i32,
    pub title: String,
    pub source_kind: String,
    pub source_ref: String,
    pub requirement: String,
    pub outputs: String,
    pub priority: String,
    pub state: String,
    pub deadline: String,
    pub original_deadline: String,
    pub requested_deadline: Option<String>,
    pub claimed_at: Option<String>,
    pub verified_at: Option<String>,
    pub evaluated_at: Option<String>,
    pub evaluation_comment: String,
    pub deducted: bool,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub units: Vec<TaskUnitRow>,
}

impl SupervisionTask {
    pub fn lead_unit(&self) -> Option<&str> {
        self.units.iter().find(|u| u.lead).map(|u| u.unit_id.as_str())
    }

    pub fn has_unit(&self, unit: &str) -> bool {
        self.units.iter().any(|u| u.unit_id == unit)
    }
}

/// A step to record in a task's history.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewTaskEvent {
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub unit_id: Option<String>,
    pub text: String,
    /// What else the step carried (a deadline asked for, evaluations, a file).
    pub data: serde_json::Value,
    /// `None`: now.
    pub at: Option<String>,
}

/// A recorded step.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub unit_id: Option<String>,
    pub text: String,
    pub data: serde_json::Value,
}

const TASK_COLUMNS: &str = "id, code, year, title, source_kind, source_ref, requirement, outputs, priority, state, deadline, \
    original_deadline, requested_deadline, claimed_at, verified_at, evaluated_at, evaluation_comment, deducted, created_by, \
    created_at, updated_at, version";

fn task(row: &AnyRow) -> Result<SupervisionTask> {
    Ok(SupervisionTask {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        year: i32::try_from(row.try_get::<i64, _>("year")?).unwrap_or_default(),
        title: row.try_get("title")?,
        source_kind: row.try_get("source_kind")?,
        source_ref: row.try_get("source_ref")?,
        requirement: row.try_get("requirement")?,
        outputs: row.try_get("outputs")?,
        priority: row.try_get("priority")?,
        state: row.try_get("state")?,
        deadline: row.try_get("deadline")?,
        original_deadline: row.try_get("original_deadline")?,
        requested_deadline: row.try_get("requested_deadline")?,
        claimed_at: row.try_get("claimed_at")?,
        verified_at: row.try_get("verified_at")?,
        evaluated_at: row.try_get("evaluated_at")?,
        evaluation_comment: row.try_get("evaluation_comment")?,
        deducted: row.try_get::<i64, _>("deducted")? != 0,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get::<i64, _>("version")?,
        units: Vec::new(),
    })
}

fn task_unit(row: &AnyRow) -> Result<(i64, TaskUnitRow)> {
    Ok((
        row.try_get("task_id")?,
        TaskUnitRow {
            unit_id: row.try_get("unit_id")?,
            lead: row.try_get::<i64, _>("lead")? != 0,
            leader_name: row.try_get("leader_name")?,
            person_name: row.try_get("person_name")?,
            signed_at: row.try_get("signed_at")?,
            grade: row.try_get("grade")?,
            score: row.try_get("score")?,
        },
    ))
}

fn event(row: &AnyRow) -> Result<TaskEvent> {
    let data: String = row.try_get("data_json")?;
    Ok(TaskEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        step: row.try_get("step")?,
        from_state: row.try_get("from_state")?,
        to_state: row.try_get("to_state")?,
        unit_id: row.try_get("unit_id")?,
        text: row.try_get("text")?,
        data: serde_json::from_str(&data).map_err(|e| StoreError::invalid(format!("task event data: {e}")))?,
    })
}

fn foreign_key(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") || d.message().contains("foreign key") => {
            StoreError::invalid(what())
        }
        _ => e.into(),
    }
}

impl Store {
    /// Records a new task in state `assigned` with the next code of its year, its
    /// units and its first history entry.
    pub async fn create_supervision_task(&self, tx: &mut WriteTx, t: &NewSupervisionTask) -> Result<SupervisionTask> {
        if t.title.trim().is_empty() {
            return Err(StoreError::invalid("a supervision task needs a title"));
        }
        if t.units.iter().filter(|u| u.lead).count() != 1 {
            return Err(StoreError::invalid("a supervision task needs exactly one lead unit"));
        }
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO supervision_counters (year, last_seq) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last_seq = supervision_counters.last_seq + 1 RETURNING last_seq",
        )
        .bind(t.year)
        .fetch_one(tx.conn())
        .await?;
        let code = format!("DB-{:04}-{seq:04}", t.year);
        let at = t.created_at.clone().unwrap_or_else(|| self.now());
        let actor = tx.actor().to_string();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO supervision_tasks (code, year, seq, title, source_kind, source_ref, requirement, outputs, priority, state, \
             deadline, original_deadline, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'assigned', $10, $10, $11, $12, $12) RETURNING id",
        )
        .bind(&code)
        .bind(t.year)
        .bind(seq)
        .bind(&t.title)
        .bind(&t.source_kind)
        .bind(&t.source_ref)
        .bind(&t.requirement)
        .bind(&t.outputs)
        .bind(&t.priority)
        .bind(&t.deadline)
        .bind(&actor)
        .bind(&at)
        .fetch_one(tx.conn())
        .await?;
        for (i, u) in t.units.iter().enumerate() {
            sqlx::query(
                "INSERT INTO supervision_task_units (task_id, unit_id, lead, leader_name, person_name, sort_order) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(&u.unit_id)
            .bind(flag(u.lead))
            .bind(&u.leader_name)
            .bind(&u.person_name)
            .bind(i as i64)
            .execute(tx.conn())
            .await
            .map_err(|e| foreign_key(e, || format!("unknown unit `{}`", u.unit_id)))?;
        }
        let event = NewTaskEvent {
            step: "assign".into(),
            to_state: "assigned".into(),
            data: serde_json::json!({"deadline": t.deadline}),
            at: Some(at),
            ..Default::default()
        };
        self.add_supervision_event(tx, id, &event).await?;
        self.supervision_task_in(tx, id).await
    }

    async fn supervision_task_in(&self, tx: &mut WriteTx, id: i64) -> Result<SupervisionTask> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TASK_COLUMNS} FROM supervision_tasks WHERE id = $1")))
            .bind(id)
            .fetch_one(tx.conn())
            .await?;
        let mut t = task(&row)?;
        let rows = sqlx::query("SELECT * FROM supervision_task_units WHERE task_id = $1 ORDER BY sort_order")
            .bind(id)
            .fetch_all(tx.conn())
            .await?;
        t.units = rows.iter().map(task_unit).map(|r| r.map(|(_, u)| u)).collect::<Result<_>>()?;
        Ok(t)
    }

    /// Writes a task's changed columns and its units' names, signatures and evaluations,
    /// refusing if it changed since `t.version` was read; returns the new version.
    pub async fn update_supervision_task(&self, tx: &mut WriteTx, t: &SupervisionTask) -> Result<i64> {
        let at = self.now();
        let done = sqlx::query(
            "UPDATE supervision_tasks SET state = $1, deadline = $2, requested_deadline = $3, claimed_at = $4, verified_at = $5, \
             evaluated_at = $6, evaluation_comment = $7, deducted = $8, updated_at = $9, version = version + 1 \
             WHERE id = $10 AND version = $11",
        )
        .bind(&t.state)
        .bind(&t.deadline)
        .bind(t.requested_deadline.as_deref())
        .bind(t.claimed_at.as_deref())
        .bind(t.verified_at.as_deref())
        .bind(t.evaluated_at.as_deref())
        .bind(&t.evaluation_comment)
        .bind(flag(t.deducted))
        .bind(&at)
        .bind(t.id)
        .bind(t.version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict { what: format!("task {}", t.code), expected: Some(t.version), current: None });
        }
        for u in &t.units {
            sqlx::query(
                "UPDATE supervision_task_units SET signed_at = $1, grade = $2, \
                 score = CASE WHEN $3 = 1 THEN $4 ELSE NULL END, leader_name = $5, person_name = $6 \
                 WHERE task_id = $7 AND unit_id = $8",
            )
            .bind(u.signed_at.as_deref())
            .bind(u.grade.as_deref())
            // A NULL bound as a double makes PostgreSQL's cached statement expect
            // another type: the score is always bound as a number, with a flag.
            .bind(flag(u.score.is_some()))
            .bind(u.score.unwrap_or(0.0))
            .bind(&u.leader_name)
            .bind(&u.person_name)
            .bind(t.id)
            .bind(&u.unit_id)
            .execute(tx.conn())
            .await?;
        }
        Ok(t.version + 1)
    }

    /// Appends a step to a task's history, by the transaction's actor.
    pub async fn add_supervision_event(&self, tx: &mut WriteTx, task_id: i64, e: &NewTaskEvent) -> Result<()> {
        let actor = tx.actor().to_string();
        let data = if e.data.is_null() { "{}".to_string() } else { e.data.to_string() };
        sqlx::query(
            "INSERT INTO supervision_task_events (task_id, at, actor, step, from_state, to_state, unit_id, text, data_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(task_id)
        .bind(e.at.clone().unwrap_or_else(|| self.now()))
        .bind(actor)
        .bind(&e.step)
        .bind(e.from_state.as_deref())
        .bind(&e.to_state)
        .bind(e.unit_id.as_deref())
        .bind(&e.text)
        .bind(data)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// The task `id` with its units.
    pub async fn supervision_task(&self, id: i64) -> Result<Option<SupervisionTask>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TASK_COLUMNS} FROM supervision_tasks WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut t = task(&row)?;
        let rows = sqlx::query("SELECT * FROM supervision_task_units WHERE task_id = $1 ORDER BY sort_order")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        t.units = rows.iter().map(task_unit).map(|r| r.map(|(_, u)| u)).collect::<Result<_>>()?;
        Ok(Some(t))
    }

    /// Every task that has one of `units` among its units (`None`: every task), newest
    /// first, with their units. Tasks are few (hundreds a year): the ledger's other
    /// filters are applied by the caller.
    pub async fn supervision_tasks(&self, units: Option<&[String]>) -> Result<Vec<SupervisionTask>> {
        let (filter, binds): (String, Vec<String>) = match units {
            None => ("1 = 1".into(), Vec::new()),
            Some([]) => ("1 = 0".into(), Vec::new()),
            Some(list) => {
                let marks = (1..=list.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                (format!("id IN (SELECT task_id FROM supervision_task_units WHERE unit_id IN ({marks}))"), list.to_vec())
            }
        };
        let sql = format!("SELECT {TASK_COLUMNS} FROM supervision_tasks WHERE {filter} ORDER BY id DESC");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut tasks: Vec<SupervisionTask> = rows.iter().map(task).collect::<Result<_>>()?;
        if tasks.is_empty() {
            return Ok(tasks);
        }
        let unit_rows = sqlx::query("SELECT * FROM supervision_task_units ORDER BY task_id, sort_order").fetch_all(self.pool()).await?;
        let mut by_task: HashMap<i64, Vec<TaskUnitRow>> = HashMap::new();
        for r in &unit_rows {
            let (id, u) = task_unit(r)?;
            by_task.entry(id).or_default().push(u);
        }
        for t in &mut tasks {
            t.units = by_task.remove(&t.id).unwrap_or_default();
        }
        Ok(tasks)
    }

    /// A task's history, oldest first.
    pub async fn supervision_events(&self, task_id: i64) -> Result<Vec<TaskEvent>> {
        let rows = sqlx::query("SELECT * FROM supervision_task_events WHERE task_id = $1 ORDER BY id")
            .bind(task_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(event).collect()
    }
}
