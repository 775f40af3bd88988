//! Correction requests (更正申请): once the office has closed a month, a unit changes
//! an entry only by asking; the office approves (the entry takes the new values, its
//! version goes up) or rejects, with a note. The values before stay in the request
//! and in the audit trail, so the old value is always visible beside the new one.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

/// A correction request.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub id: i64,
    pub year: i32,
    pub unit_id: String,
    pub indicator_id: String,
    pub month: String,
    /// The entry's values when the request was made (`None`: there was no entry).
    pub old_values: Option<Map<String, Value>>,
    pub new_values: Map<String, Value>,
    pub reason: String,
    /// `requested`, `approved` or `rejected`.
    pub state: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
}

const COLUMNS: &str = "id, year, unit_id, indicator_id, month, old_json, new_json, reason, state, requested_by, \
                       requested_at, decided_by, decided_at, decision_note";

fn object(text: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(StoreError::invalid("a stored correction's values are not a JSON object")),
    }
}

fn from_row(row: &AnyRow) -> Result<Correction> {
    let old: Option<String> = row.try_get("old_json")?;
    Ok(Correction {
        id: row.try_get("id")?,
        year: row.try_get::<i32, _>("year")?,
        unit_id: row.try_get("unit_id")?,
        indicator_id: row.try_get("indicator_id")?,
        month: row.try_get("month")?,
        old_values: old.as_deref().map(object).transpose()?,
        new_values: object(&row.try_get::<String, _>("new_json")?)?,
        reason: row.try_get("reason")?,
        state: row.try_get("state")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
        decision_note: row.try_get("decision_note")?,
    })
}

impl Store {
    /// Records a request; returns its id. At most one open request per entry.
    #[allow(clippy::too_many_arguments)]
    pub async fn request_correction(
        &self,
        tx: &mut WriteTx,
        year: i32,
        unit: &str,
        indicator: &str,
        month: &str,
        old: Option<&Map<String, Value>>,
        new: &Map<String, Value>,
        reason: &str,
    ) -> Result<i64> {
        if reason.trim().is_empty() {
            return Err(StoreError::invalid("a correction needs a reason"));
        }
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM corrections WHERE year = $1 AND unit_id = $2 AND indicator_id = $3 AND month = $4 \
             AND state = 'requested'",
        )
        .bind(year)
        .bind(unit)
        .bind(indicator)
        .bind(month)
        .fetch_optional(tx.conn())
        .await?;
        if let Some(id) = open {
            return Err(StoreError::AlreadyExists { what: format!("an open correction request ({id}) of this entry") });
        }
        self.unit_in(tx, unit).await?;
        let actor = tx.actor().to_string();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO corrections (year, unit_id, indicator_id, month, old_json, new_json, reason, state, \
             requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8, $9) RETURNING id",
        )
        .bind(year)
        .bind(unit)
        .bind(indicator)
        .bind(month)
        .bind(old.map(|o| Value::Object(o.clone()).to_string()))
        .bind(Value::Object(new.clone()).to_string())
        .bind(reason.trim())
        .bind(actor)
        .bind(self.now())
        .fetch_one(tx.conn())
        .await?;
        Ok(id)
    }

    /// Decides an open request: `approved` or `rejected`, with a note. The caller
    /// applies an approval to the entry in the same transaction.
    pub async fn decide_correction(&self, tx: &mut WriteTx, id: i64, approved: bool, note: &str) -> Result<Correction> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM corrections WHERE id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("correction {id}")))?;
        let correction = from_row(&row)?;
        if correction.state != "requested" {
            return Err(StoreError::invalid(format!("correction {id} is already {}", correction.state)));
        }
        let state = if approved { "approved" } else { "rejected" };
        let actor = tx.actor().to_string();
        sqlx::query("UPDATE corrections SET state = $1, decided_by = $2, decided_at = $3, decision_note = $4 WHERE id = $5")
            .bind(state)
            .bind(actor)
            .bind(self.now())
            .bind(note.trim())
            .bind(id)
            .execute(tx.conn())
            .await?;
        Ok(correction)
    }

    /// Requests of a year, newest first; `state` filters (`requested` for the office's
    /// queue).
    pub async fn corrections(&self, year: i32, state: Option<&str>) -> Result<Vec<Correction>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM corrections WHERE year = $1 AND ($2 = '' OR state = $2) ORDER BY id DESC"
        )))
        .bind(year)
        .bind(state.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The requests of a unit's month, oldest first: its correction history.
    pub async fn entry_corrections(&self, year: i32, unit: &str, month: &str) -> Result<Vec<Correction>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM corrections WHERE year = $1 AND unit_id = $2 AND month = $3 ORDER BY id"
        )))
        .bind(year)
        .bind(unit)
        .bind(month)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// A period's state (`open` when never set).
    pub async fn period_state(&self, year: i32, period: &str) -> Result<crate::PeriodState> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM periods WHERE year = $1 AND period = $2")
            .bind(year)
            .bind(period)
            .fetch_optional(self.pool())
            .await?;
        match state {
            Some(s) => s.parse(),
            None => Ok(crate::PeriodState::Open),
        }
    }
}
