//! Records registered in the browser (加减分记录) and bonus applications (加分申报).
//!
//! A registered record is two rows: the scored record in `records`, under the key
//! derived from it, as an import derives it (so scoring, exports, the data stamp and a
//! keyless re-import see it like any other record),
//! and its registration in `registered_records` with what scoring does not read — the
//! topic, the reason, the person responsible, the state. An edit replaces the scored
//! record in place (`put_record`, with its `record.replace` audit entry); a
//! cancellation deletes it and keeps the registration, cancelled, with its reason.
//! Both take the version the caller read and refuse with `Conflict` if it moved.
//!
//! An application is one row of `bonus_applications`; its approval registers a record
//! in the same transaction and points at it.

use jixiao_core::data::RecordRow;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

/// A registered record.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredRecord {
    pub id: i64,
    pub year: i32,
    /// The key of its scored record in `records`.
    pub key: String,
    pub unit_id: String,
    pub indicator_id: String,
    pub date: String,
    pub points: f64,
    /// `core::records::Topic` code.
    pub topic: String,
    pub reason: String,
    pub responsible: String,
    /// `active` or `cancelled`.
    pub state: String,
    pub cancel_reason: String,
    pub application_id: Option<i64>,
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// What a registration says (new, or after an edit).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFields {
    pub unit_id: String,
    pub indicator_id: String,
    pub date: String,
    pub points: f64,
    pub topic: String,
    pub reason: String,
    pub responsible: String,
}

impl RecordFields {
    /// The scored record: the reason is its note.
    pub fn row(&self) -> RecordRow {
        RecordRow {
            unit: self.unit_id.clone(),
            indicator: self.indicator_id.clone(),
            date: self.date.clone(),
            points: self.points,
            note: Some(self.reason.clone()),
        }
    }
}

/// A bonus application.
#[derive(Debug, Clone, PartialEq)]
pub struct BonusApplication {
    pub id: i64,
    pub year: i32,
    pub unit_id: String,
    /// `core::records::Topic` code, one of the applicable four.
    pub category: String,
    /// The indicator (rule) claimed.
    pub indicator_id: String,
    /// When the achievement happened; the record's date.
    pub date: String,
    pub title: String,
    /// What the claim rests on (the level of the award, the document…).
    pub basis: String,
    pub claimed_points: f64,
    /// `submitted`, `approved` or `rejected`.
    pub state: String,
    pub approved_points: Option<f64>,
    pub decision_note: String,
    pub record_id: Option<i64>,
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

/// A new application.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApplication {
    pub unit_id: String,
    pub category: String,
    pub indicator_id: String,
    pub date: String,
    pub title: String,
    pub basis: String,
    pub claimed_points: f64,
}

const RECORD_COLUMNS: &str = "id, year, record_key, unit_id, indicator_id, date, points, topic, reason, responsible, state, \
                              cancel_reason, application_id, version, created_by, created_at, updated_by, updated_at";
const APPLICATION_COLUMNS: &str = "id, year, unit_id, category, indicator_id, date, title, basis, claimed_points, state, \
                                   approved_points, decision_note, record_id, version, created_by, created_at, decided_by, decided_at";

fn record_from_row(row: &AnyRow) -> Result<RegisteredRecord> {
    Ok(RegisteredRecord {
        id: row.try_get("id")?,
        year: row.try_get("year")?,
        key: row.try_get("record_key")?,
        unit_id: row.try_get("unit_id")?,
        indicator_id: row.try_get("indicator_id")?,
        date: row.try_get("date")?,
        points: row.try_get("points")?,
        topic: row.try_get("topic")?,
        reason: row.try_get("reason")?,
        responsible: row.try_get("responsible")?,
        state: row.try_get("state")?,
        cancel_reason: row.try_get("cancel_reason")?,
        application_id: row.try_get("application_id")?,
        version: row.try_get("version")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_by: row.try_get("updated_by")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn application_from_row(row: &AnyRow) -> Result<BonusApplication> {
    Ok(BonusApplication {
        id: row.try_get("id")?,
        year: row.try_get("year")?,
        unit_id: row.try_get("unit_id")?,
        category: row.try_get("category")?,
        indicator_id: row.try_get("indicator_id")?,
        date: row.try_get("date")?,
        title: row.try_get("title")?,
        basis: row.try_get("basis")?,
        claimed_points: row.try_get("claimed_points")?,
        state: row.try_get("state")?,
        approved_points: row.try_get("approved_points")?,
        decision_note: row.try_get("decision_note")?,
        record_id: row.try_get("record_id")?,
        version: row.try_get("version")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
    })
}

impl Store {
    /// Registers a record of `year`: the registration and its scored record (which
    /// rescores on commit). `application` is the application it comes from, if any.
    pub async fn register_record(
        &self,
        tx: &mut WriteTx,
        year: i32,
        fields: &RecordFields,
        application: Option<i64>,
    ) -> Result<RegisteredRecord> {
        let actor = tx.actor().to_string();
        let at = self.now();
        // The key derived from the record (the first occurrence not taken), as an import
        // would derive it: a data file exported without keys and imported again finds
        // the record instead of adding a copy.
        let row = fields.row();
        let taken: std::collections::HashSet<String> = sqlx::query_scalar("SELECT record_key FROM records WHERE year = $1")
            .bind(year)
            .fetch_all(tx.conn())
            .await?
            .into_iter()
            .collect();
        let key = (1..).map(|n| jixiao_core::data::derived_key(&row, n)).find(|k| !taken.contains(k)).unwrap_or_default();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO registered_records (year, record_key, unit_id, indicator_id, date, points, topic, reason, responsible, \
             state, application_id, version, created_by, created_at, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, 1, $11, $12, $11, $12) RETURNING id",
        )
        .bind(year)
        .bind(&key)
        .bind(&fields.unit_id)
        .bind(&fields.indicator_id)
        .bind(&fields.date)
        .bind(fields.points)
        .bind(&fields.topic)
        .bind(&fields.reason)
        .bind(&fields.responsible)
        .bind(application)
        .bind(&actor)
        .bind(&at)
        .fetch_one(tx.conn())
        .await?;
        self.put_record(tx, year, Some(&key), &fields.row()).await?;
        self.registered_record_in(tx, id).await
    }

    /// Gives an active registration new fields, if it is still at `expected_version`;
    /// its scored record is replaced in place. The registration after.
    pub async fn edit_registered_record(
        &self,
        tx: &mut WriteTx,
        id: i64,
        expected_version: i64,
        fields: &RecordFields,
    ) -> Result<RegisteredRecord> {
        let before = self.registered_record_in(tx, id).await?;
        if before.state != "active" {
            return Err(StoreError::invalid(format!("record {id} is cancelled")));
        }
        let done = sqlx::query(
            "UPDATE registered_records SET unit_id = $1, indicator_id = $2, date = $3, points = $4, topic = $5, reason = $6, \
             responsible = $7, version = version + 1, updated_by = $8, updated_at = $9 WHERE id = $10 AND version = $11",
        )
        .bind(&fields.unit_id)
        .bind(&fields.indicator_id)
        .bind(&fields.date)
        .bind(fields.points)
        .bind(&fields.topic)
        .bind(&fields.reason)
        .bind(&fields.responsible)
        .bind(tx.actor().to_string())
        .bind(self.now())
        .bind(id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                what: format!("record {id}"),
                expected: Some(expected_version),
                current: Some(before.version),
            });
        }
        self.put_record(tx, before.year, Some(&before.key), &fields.row()).await?;
        self.registered_record_in(tx, id).await
    }

    /// Cancels an active registration at `expected_version` with `reason`: its scored
    /// record is deleted (and the year rescored), the registration kept.
    pub async fn cancel_registered_record(
        &self,
        tx: &mut WriteTx,
        id: i64,
        expected_version: i64,
        reason: &str,
    ) -> Result<RegisteredRecord> {
        let before = self.registered_record_in(tx, id).await?;
        if before.state != "active" {
            return Err(StoreError::invalid(format!("record {id} is cancelled already")));
        }
        let done = sqlx::query(
            "UPDATE registered_records SET state = 'cancelled', cancel_reason = $1, version = version + 1, updated_by = $2, \
             updated_at = $3 WHERE id = $4 AND version = $5",
        )
        .bind(reason)
        .bind(tx.actor().to_string())
        .bind(self.now())
        .bind(id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                what: format!("record {id}"),
                expected: Some(expected_version),
                current: Some(before.version),
            });
        }
        let scored: Option<i64> = sqlx::query_scalar("SELECT id FROM records WHERE year = $1 AND record_key = $2")
            .bind(before.year)
            .bind(&before.key)
            .fetch_optional(tx.conn())
            .await?;
        if let Some(scored) = scored {
            self.delete_record(tx, scored).await?;
        }
        self.registered_record_in(tx, id).await
    }

    async fn registered_record_in(&self, tx: &mut WriteTx, id: i64) -> Result<RegisteredRecord> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM registered_records WHERE id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("record {id}")))?;
        record_from_row(&row)
    }

    /// One registration.
    pub async fn registered_record(&self, id: i64) -> Result<RegisteredRecord> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM registered_records WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("record {id}")))?;
        record_from_row(&row)
    }

    /// A year's registrations, newest date first.
    pub async fn registered_records(&self, year: i32) -> Result<Vec<RegisteredRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM registered_records WHERE year = $1 ORDER BY date DESC, id DESC"
        )))
        .bind(year)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Files an application; returns it.
    pub async fn add_application(&self, tx: &mut WriteTx, year: i32, new: &NewApplication) -> Result<BonusApplication> {
        let actor = tx.actor().to_string();
        let at = self.now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bonus_applications (year, unit_id, category, indicator_id, date, title, basis, claimed_points, state, \
             version, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', 1, $9, $10) RETURNING id",
        )
        .bind(year)
        .bind(&new.unit_id)
        .bind(&new.category)
        .bind(&new.indicator_id)
        .bind(&new.date)
        .bind(&new.title)
        .bind(&new.basis)
        .bind(new.claimed_points)
        .bind(&actor)
        .bind(&at)
        .fetch_one(tx.conn())
        .await?;
        self.application_in(tx, id).await
    }

    /// Decides a submitted application at `expected_version`: `approved` with the
    /// points and the registered record, or rejected. The application after.
    #[allow(clippy::too_many_arguments)]
    pub async fn decide_application(
        &self,
        tx: &mut WriteTx,
        id: i64,
        expected_version: i64,
        state: &str,
        points: Option<f64>,
        note: &str,
        record: Option<i64>,
    ) -> Result<BonusApplication> {
        let done = sqlx::query(
            "UPDATE bonus_applications SET state = $1, approved_points = $2, decision_note = $3, record_id = $4, \
             version = version + 1, decided_by = $5, decided_at = $6 WHERE id = $7 AND version = $8 AND state = 'submitted'",
        )
        .bind(state)
        .bind(points)
        .bind(note)
        .bind(record)
        .bind(tx.actor().to_string())
        .bind(self.now())
        .bind(id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            let current = self.application_in(tx, id).await?;
            return Err(StoreError::Conflict {
                what: format!("application {id}"),
                expected: Some(expected_version),
                current: Some(current.version),
            });
        }
        self.application_in(tx, id).await
    }

    async fn application_in(&self, tx: &mut WriteTx, id: i64) -> Result<BonusApplication> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {APPLICATION_COLUMNS} FROM bonus_applications WHERE id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("application {id}")))?;
        application_from_row(&row)
    }

    /// One application.
    pub async fn application(&self, id: i64) -> Result<BonusApplication> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {APPLICATION_COLUMNS} FROM bonus_applications WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("application {id}")))?;
        application_from_row(&row)
    }

    /// A year's applications, newest first.
    pub async fn applications(&self, year: i32) -> Result<Vec<BonusApplication>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {APPLICATION_COLUMNS} FROM bonus_applications WHERE year = $1 ORDER BY id DESC"
        )))
        .bind(year)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(application_from_row).collect()
    }
}
