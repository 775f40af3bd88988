//! Reported data: monthly entries (填报数据) and dated records (积分记录) of a year.
//!
//! Entries carry a version for optimistic locking: a writer passes the version it read
//! (`None` when it saw no entry), and if someone else changed the entry meanwhile the
//! write is refused with `StoreError::Conflict` and changes nothing. The store checks
//! shape (month and date format, year, finite points, known units); checking values
//! against the scheme is `jixiao_core::data::validate_entry`'s job, before the write.
//!
//! `import_data` writes a whole data file in one transaction with multi-row INSERTs, so
//! hundreds of thousands of rows load in seconds and a bad row loads nothing.
//!
//! Records are kept by key (记录编号, `jixiao_core::data::keys`), unique within a year:
//! importing a record whose key is stored replaces that record — in place, keeping its
//! id and so its position among the year's records, its version going up — instead of
//! adding a copy; a record with the same content is left alone. The caller's audit
//! entry of an import only counts rows, so the store adds a `record.replace` entry with
//! the content before and after for each record it replaces with different content.
//!
//! Every function that changes scored data — an entry that is or was accepted, a
//! record, an import — marks the transaction (`WriteTx::rescore_from`) with the year
//! and month, and the commit rescores what it reaches (`refresh`).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use jixiao_core::data::{DataError, DataFile, EntryRow, KeyedDataFile, KeyedRecord, RecordRow, RowError};
use jixiao_core::period::Month;
use serde_json::{Map, Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx};

/// An entry with its bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub id: i64,
    pub year: i32,
    pub row: EntryRow,
    /// The reporting workflow's state (`core::workflow::EntryState`); imports are `accepted`.
    pub state: String,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: String,
}

/// A record with its bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub id: i64,
    pub year: i32,
    /// Unique within the year: given by the file, or derived from the record.
    pub key: String,
    pub row: RecordRow,
    pub state: String,
    /// 1 when added; one more each time an import replaces it with other content.
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

/// What `import_data` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Entries inserted or replaced.
    pub entries: usize,
    /// Records in the file: added, replaced, or found as they were.
    pub records: usize,
    /// Records whose key was new.
    pub records_added: usize,
    /// Records whose key was stored with other content, now replaced.
    pub records_replaced: usize,
}

/// What writing one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordWrite {
    /// A new key: the record was added.
    Added,
    /// The key was stored with other content, which the record replaced.
    Replaced,
    /// The key was stored with this content: nothing changed.
    Unchanged,
}

/// Rows per INSERT statement (4 parameters a row). Not more: sqlx binds SQLite
/// parameters by name lookup, quadratic in a statement's parameters, and large
/// messages to PostgreSQL over TCP wait on delayed acknowledgements; 100 rows halved
/// the month import on SQLite against 1000 (BENCHMARKS.md, monthly import).
const BATCH: usize = 100;

fn values_of(text: &str) -> Result<Map<String, Value>> {
    serde_json::from_str(text).map_err(|e| StoreError::invalid(format!("stored entry values are not a JSON object: {e}")))
}

fn entry_from_row(row: &AnyRow) -> Result<StoredEntry> {
    Ok(StoredEntry {
        id: row.try_get("id")?,
        year: row.try_get("year")?,
        row: EntryRow {
            unit: row.try_get("unit_id")?,
            indicator: row.try_get("indicator_id")?,
            month: row.try_get("month")?,
            values: values_of(&row.try_get::<String, _>("values_json")?)?,
        },
        state: row.try_get("state")?,
        version: row.try_get("version")?,
        updated_by: row.try_get("updated_by")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn record_from_row(row: &AnyRow) -> Result<StoredRecord> {
    Ok(StoredRecord {
        id: row.try_get("id")?,
        year: row.try_get("year")?,
        key: row.try_get("record_key")?,
        row: RecordRow {
            unit: row.try_get("unit_id")?,
            indicator: row.try_get("indicator_id")?,
            date: row.try_get("date")?,
            points: row.try_get("points")?,
            note: row.try_get("note")?,
        },
        state: row.try_get("state")?,
        version: row.try_get("version")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_by: row.try_get("updated_by")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const ENTRY_COLUMNS: &str = "id, year, unit_id, indicator_id, month, values_json, state, version, updated_by, updated_at";
const RECORD_COLUMNS: &str =
    "id, year, record_key, unit_id, indicator_id, date, points, note, state, version, created_by, created_at, updated_by, updated_at";

/// Whether two records say the same (a note left out and an empty one are the same,
/// as in the derived key).
fn same_record(a: &RecordRow, b: &RecordRow) -> bool {
    (&a.unit, &a.indicator, &a.date, a.note.as_deref().unwrap_or("")) == (&b.unit, &b.indicator, &b.date, b.note.as_deref().unwrap_or(""))
        && a.points.to_bits() == b.points.to_bits()
}

/// The month (1–12) of a checked record date `YYYY-MM-DD`.
fn record_month(row: &RecordRow) -> u8 {
    row.date.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1)
}

/// A record as the audit trail shows it.
fn record_json(key: &str, row: &RecordRow) -> Value {
    json!({"key": key, "unit": row.unit, "indicator": row.indicator, "date": row.date, "points": row.points, "note": row.note})
}

/// Shape checks of an entry row that need no scheme.
fn check_entry(year: i32, row: &EntryRow) -> std::result::Result<(), String> {
    let month: Month = row.month.parse().map_err(|e| format!("month: {e}"))?;
    if month.year != year {
        return Err(format!("month {} is outside the year {year}", row.month));
    }
    if row.indicator.is_empty() {
        return Err("the indicator is empty".into());
    }
    Ok(())
}

/// Shape checks of a record row that need no scheme.
fn check_record(year: i32, row: &RecordRow) -> std::result::Result<(), String> {
    let not_a_date = || format!("date `{}` is not a date like 2027-02-10", row.date);
    let date = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d").map_err(|_| not_a_date())?;
    // chrono accepts `2027-2-1`; stored dates are always written out in full so that
    // they sort and compare as text.
    if date.format("%Y-%m-%d").to_string() != row.date {
        return Err(not_a_date());
    }
    if date.year() != year {
        return Err(format!("date {} is outside the year {year}", row.date));
    }
    if !row.points.is_finite() {
        return Err("points must be a number".into());
    }
    if row.indicator.is_empty() {
        return Err("the indicator is empty".into());
    }
    Ok(())
}

/// The audit object id of an entry: `2027/u01/A1/2027-03`.
pub fn entry_object_id(year: i32, row: &EntryRow) -> String {
    format!("{year}/{}/{}/{}", row.unit, row.indicator, row.month)
}

/// The month (1–12) of a checked month text `YYYY-MM`.
fn month_of(month: &str) -> u8 {
    month.parse::<Month>().map_or(1, |m| m.month)
}

async fn unit_exists(tx: &mut WriteTx, unit: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM units WHERE id = $1").bind(unit).fetch_optional(tx.conn()).await?;
    Ok(found.is_some())
}

impl Store {
    /// Whether the entry at `expected_version` is accepted now (so that leaving that
    /// state changes the scores). Read at that version: if the entry has moved on, the
    /// write that follows fails with a conflict anyway.
    async fn was_accepted(
        &self,
        tx: &mut WriteTx,
        year: i32,
        unit: &str,
        indicator: &str,
        month: &str,
        expected_version: Option<i64>,
    ) -> Result<bool> {
        let Some(version) = expected_version else { return Ok(false) };
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state FROM entries WHERE year = $1 AND unit_id = $2 AND indicator_id = $3 AND month = $4 AND version = $5",
        )
        .bind(year)
        .bind(unit)
        .bind(indicator)
        .bind(month)
        .bind(version)
        .fetch_optional(tx.conn())
        .await?;
        Ok(state.as_deref() == Some("accepted"))
    }

    /// Writes one entry. `expected_version` is the version the caller read (`None`: it
    /// saw no entry). If the stored entry is at another version, or exists when `None`
    /// was given, returns `Conflict` and changes nothing. Returns the new version.
    pub async fn upsert_entry(&self, tx: &mut WriteTx, year: i32, row: &EntryRow, expected_version: Option<i64>) -> Result<i64> {
        self.save_entry(tx, year, row, expected_version, "accepted").await
    }

    /// Writes one entry's values and puts it in `state` (the reporting workflow,
    /// `core::workflow`), with the optimistic locking of `upsert_entry`.
    pub async fn save_entry(&self, tx: &mut WriteTx, year: i32, row: &EntryRow, expected_version: Option<i64>, state: &str) -> Result<i64> {
        check_entry(year, row).map_err(|m| StoreError::invalid(format!("entry {}: {m}", entry_object_id(year, row))))?;
        if !unit_exists(tx, &row.unit).await? {
            return Err(StoreError::invalid(format!("entry {}: unknown unit `{}`", entry_object_id(year, row), row.unit)));
        }
        let values = Value::Object(row.values.clone()).to_string();
        let at = self.now();
        let actor = tx.actor().to_string();
        let scored = state == "accepted" || self.was_accepted(tx, year, &row.unit, &row.indicator, &row.month, expected_version).await?;
        let written = match expected_version {
            // DO NOTHING rather than a failing INSERT: a failed statement would abort the
            // PostgreSQL transaction, and a concurrent insert of the same key waits for
            // the other transaction and then does nothing.
            None => sqlx::query(
                "INSERT INTO entries (year, unit_id, indicator_id, month, values_json, state, version, updated_by, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $8, 1, $6, $7) \
                 ON CONFLICT (year, unit_id, indicator_id, month) DO NOTHING",
            )
            .bind(year)
            .bind(&row.unit)
            .bind(&row.indicator)
            .bind(&row.month)
            .bind(&values)
            .bind(&actor)
            .bind(&at)
            .bind(state)
            .execute(tx.conn())
            .await?
            .rows_affected(),
            // The version test is in the WHERE clause, so the check and the write are one
            // atomic statement: PostgreSQL re-evaluates it after waiting for a concurrent
            // writer's row lock, SQLite has only one writer at a time.
            Some(v) => sqlx::query(
                "UPDATE entries SET values_json = $1, version = version + 1, updated_by = $2, updated_at = $3, \
                 state = $9 WHERE year = $4 AND unit_id = $5 AND indicator_id = $6 AND month = $7 AND version = $8",
            )
            .bind(&values)
            .bind(&actor)
            .bind(&at)
            .bind(year)
            .bind(&row.unit)
            .bind(&row.indicator)
            .bind(&row.month)
            .bind(v)
            .bind(state)
            .execute(tx.conn())
            .await?
            .rows_affected(),
        };
        if written == 1 {
            if scored {
                tx.rescore_from(year, month_of(&row.month));
            }
            return Ok(expected_version.map_or(1, |v| v + 1));
        }
        let current: Option<i64> =
            sqlx::query_scalar("SELECT version FROM entries WHERE year = $1 AND unit_id = $2 AND indicator_id = $3 AND month = $4")
                .bind(year)
                .bind(&row.unit)
                .bind(&row.indicator)
                .bind(&row.month)
                .fetch_optional(tx.conn())
                .await?;
        Err(StoreError::Conflict { what: format!("entry {}", entry_object_id(year, row)), expected: expected_version, current })
    }

    /// Moves an entry to `state` (a workflow step that does not change the values),
    /// if it is still at `expected_version`; returns the new version.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_entry_state(
        &self,
        tx: &mut WriteTx,
        year: i32,
        unit: &str,
        indicator: &str,
        month: &str,
        expected_version: i64,
        state: &str,
    ) -> Result<i64> {
        let scored = state == "accepted" || self.was_accepted(tx, year, unit, indicator, month, Some(expected_version)).await?;
        let done = sqlx::query(
            "UPDATE entries SET state = $1, version = version + 1, updated_by = $2, updated_at = $3 \
             WHERE year = $4 AND unit_id = $5 AND indicator_id = $6 AND month = $7 AND version = $8",
        )
        .bind(state)
        .bind(tx.actor().to_string())
        .bind(self.now())
        .bind(year)
        .bind(unit)
        .bind(indicator)
        .bind(month)
        .bind(expected_version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 1 {
            if scored {
                tx.rescore_from(year, month_of(month));
            }
            return Ok(expected_version + 1);
        }
        let current: Option<i64> =
            sqlx::query_scalar("SELECT version FROM entries WHERE year = $1 AND unit_id = $2 AND indicator_id = $3 AND month = $4")
                .bind(year)
                .bind(unit)
                .bind(indicator)
                .bind(month)
                .fetch_optional(tx.conn())
                .await?;
        Err(StoreError::Conflict { what: format!("entry {year}/{unit}/{indicator}/{month}"), expected: Some(expected_version), current })
    }

    /// A unit's entries of one month (a monthly form), every state, by indicator.
    pub async fn form_entries(&self, year: i32, unit: &str, month: &str) -> Result<Vec<StoredEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE year = $1 AND unit_id = $2 AND month = $3 ORDER BY indicator_id"
        )))
        .bind(year)
        .bind(unit)
        .bind(month)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// One entry with its version, if reported.
    pub async fn entry(&self, year: i32, unit: &str, indicator: &str, month: &str) -> Result<Option<StoredEntry>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE year = $1 AND unit_id = $2 AND indicator_id = $3 AND month = $4"
        )))
        .bind(year)
        .bind(unit)
        .bind(indicator)
        .bind(month)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// A year's entries by unit, indicator and month (code-point order of the ids).
    pub async fn entries(&self, year: i32) -> Result<Vec<EntryRow>> {
        Ok(self.stored_entries(year).await?.into_iter().map(|e| e.row).collect())
    }

    /// A year's entries with versions, by unit, indicator and month.
    pub async fn stored_entries(&self, year: i32) -> Result<Vec<StoredEntry>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE year = $1 ORDER BY unit_id, indicator_id, month"
        )))
        .bind(year)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// (unit, indicator, state, updated_at) of every entry of one month, for
    /// timeliness (read joined: see `rows_joined`).
    pub async fn month_states(&self, year: i32, month: &str) -> Result<Vec<(String, String, String, String)>> {
        month.parse::<Month>().map_err(|e: jixiao_core::period::PeriodError| StoreError::invalid(e.to_string()))?;
        let mut conn = self.pool().acquire().await?;
        let sql = "SELECT {join}(unit_id || $1 || indicator_id || $1 || state || $1 || updated_at, $2) FROM entries WHERE year = $3 AND month = $4";
        match crate::rows_joined(&mut conn, self.backend(), sql, 4, &[crate::Param::Int(year), crate::Param::Text(month)]).await? {
            Some(rows) => Ok(rows
                .into_iter()
                .map(|mut r| (std::mem::take(&mut r[0]), std::mem::take(&mut r[1]), std::mem::take(&mut r[2]), std::mem::take(&mut r[3])))
                .collect()),
            None => Ok(self
                .stored_entries(year)
                .await?
                .into_iter()
                .filter(|e| e.row.month == month)
                .map(|e| (e.row.unit, e.row.indicator, e.state, e.updated_at))
                .collect()),
        }
    }

    /// A cheap fingerprint of one month's entries — their number and latest change —
    /// so a reader can tell whether what it derived from them is still current.
    pub async fn month_fingerprint(&self, year: i32, month: &str) -> Result<(i64, Option<String>)> {
        Ok(sqlx::query_as("SELECT COUNT(*), MAX(updated_at) FROM entries WHERE year = $1 AND month = $2")
            .bind(year)
            .bind(month)
            .fetch_one(self.pool())
            .await?)
    }

    /// The latest month of `year` in which `unit` has accepted data, e.g. `2027-11`.
    pub async fn latest_accepted_month(&self, year: i32, unit: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT MAX(month) FROM entries WHERE year = $1 AND unit_id = $2 AND state = 'accepted'")
            .bind(year)
            .bind(unit)
            .fetch_one(self.pool())
            .await?)
    }

    /// (unit, indicator) of every entry reported for one month, e.g. `2027-03`.
    pub async fn reported_in_month(&self, year: i32, month: &str) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT unit_id, indicator_id FROM entries WHERE year = $1 AND month = $2")
            .bind(year)
            .bind(month)
            .fetch_all(self.pool())
            .await?)
    }

    /// Adds a record under the key derived from it (`jixiao_core::data::derived_key`,
    /// occurrence 1), or finds it if that key is stored already — so adding the same
    /// record twice keeps one, which makes rules that add records (lateness) idempotent.
    /// Returns its id.
    pub async fn add_record(&self, tx: &mut WriteTx, year: i32, row: &RecordRow) -> Result<i64> {
        Ok(self.put_record(tx, year, None, row).await?.0)
    }

    /// Writes a record under `key`, or under its derived key when `None`: adds it if the
    /// key is new, replaces the stored record of that key if it says something else
    /// (with a `record.replace` audit entry of before and after), else leaves it. Returns
    /// its id and what happened.
    pub async fn put_record(&self, tx: &mut WriteTx, year: i32, key: Option<&str>, row: &RecordRow) -> Result<(i64, RecordWrite)> {
        check_record(year, row).map_err(|m| StoreError::invalid(format!("record for {}: {m}", row.unit)))?;
        if let Some(key) = key {
            jixiao_core::data::check_key(key).map_err(|m| StoreError::invalid(format!("record for {}: {m}", row.unit)))?;
        }
        if !unit_exists(tx, &row.unit).await? {
            return Err(StoreError::invalid(format!("record: unknown unit `{}`", row.unit)));
        }
        let key = key.map_or_else(|| jixiao_core::data::derived_key(row, 1), str::to_string);
        let found = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM records WHERE year = $1 AND record_key = $2")))
            .bind(year)
            .bind(&key)
            .fetch_optional(tx.conn())
            .await?;
        if let Some(found) = found {
            let stored = record_from_row(&found)?;
            if same_record(&stored.row, row) {
                return Ok((stored.id, RecordWrite::Unchanged));
            }
            self.replace_record(tx, &stored, row).await?;
            return Ok((stored.id, RecordWrite::Replaced));
        }
        let actor = tx.actor().to_string();
        let at = self.now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO records (year, record_key, unit_id, indicator_id, date, points, note, state, version, created_by, created_at, \
             updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'accepted', 1, $8, $9, $8, $9) RETURNING id",
        )
        .bind(year)
        .bind(&key)
        .bind(&row.unit)
        .bind(&row.indicator)
        .bind(&row.date)
        .bind(row.points)
        .bind(row.note.as_deref())
        .bind(actor)
        .bind(at)
        .fetch_one(tx.conn())
        .await?;
        tx.rescore_from(year, record_month(row));
        Ok((id, RecordWrite::Added))
    }

    /// Gives the stored record `old` the content `row` (same id and key, next version)
    /// with its `record.replace` audit entry.
    async fn replace_record(&self, tx: &mut WriteTx, old: &StoredRecord, row: &RecordRow) -> Result<()> {
        let actor = tx.actor().to_string();
        sqlx::query(
            "UPDATE records SET unit_id = $1, indicator_id = $2, date = $3, points = $4, note = $5, version = version + 1, \
             updated_by = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&row.unit)
        .bind(&row.indicator)
        .bind(&row.date)
        .bind(row.points)
        .bind(row.note.as_deref())
        .bind(actor)
        .bind(self.now())
        .bind(old.id)
        .execute(tx.conn())
        .await?;
        tx.rescore_from(old.year, record_month(&old.row).min(record_month(row)));
        let object = format!("{}/{}", old.year, old.key);
        tx.audit("record.replace", "record", &object, Some(record_json(&old.key, &old.row)), Some(record_json(&old.key, row))).await
    }

    /// A year's records in the order they were added.
    pub async fn records(&self, year: i32) -> Result<Vec<StoredRecord>> {
        let mut conn = self.pool().acquire().await?;
        records_on(&mut conn, year).await
    }

    /// Deletes a record; returns it (for the audit entry's `before`).
    pub async fn delete_record(&self, tx: &mut WriteTx, id: i64) -> Result<StoredRecord> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM records WHERE id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("record {id}")))?;
        let record = record_from_row(&row)?;
        sqlx::query("DELETE FROM records WHERE id = $1").bind(id).execute(tx.conn()).await?;
        tx.rescore_from(record.year, record_month(&record.row));
        Ok(record)
    }

    /// A year's data as a data file, for scoring: the accepted entries (the reporting
    /// workflow's drafts and submissions do not count yet) by unit, indicator and month,
    /// records in the order they were added.
    pub async fn data_file(&self, year: i32) -> Result<DataFile> {
        Ok(DataFile {
            entries: self.accepted_entries(year).await?.0,
            records: self.records(year).await?.into_iter().map(|r| r.row).collect(),
        })
    }

    /// A year's data as the data file `jixiao data export` writes: `data_file` with
    /// every record's key, so that importing it again replaces what it holds and adds
    /// nothing.
    pub async fn export_data(&self, year: i32) -> Result<KeyedDataFile> {
        let mut conn = self.pool().acquire().await?;
        export_on(&mut conn, self.backend(), year).await
    }

    /// `export_data` as `tx` sees it: what an import compares its file with, so that
    /// nothing written by another writer in between is taken for unchanged.
    pub async fn export_data_in(&self, tx: &mut WriteTx, year: i32) -> Result<KeyedDataFile> {
        export_on(tx.conn(), self.backend(), year).await
    }

    /// The accepted entries of a year by unit, indicator and month, with each one's
    /// (version, updated_at) by (unit, indicator, month).
    pub(crate) async fn accepted_entries(&self, year: i32) -> Result<(Vec<EntryRow>, HashMap<(String, String, String), (i64, String)>)> {
        let mut conn = self.pool().acquire().await?;
        accepted_entries_on(&mut conn, self.backend(), year).await
    }

    /// Writes a whole data file into a year: entries are inserted or replaced (a
    /// replaced entry's version goes up by one), records are put by their derived keys
    /// (see `import_keyed_data`). Every row is checked first and any bad row is reported
    /// with its position (`entries[3]`) and nothing is written; a database failure
    /// part-way leaves the transaction to be dropped, which undoes everything.
    pub async fn import_data(&self, tx: &mut WriteTx, year: i32, file: &DataFile) -> Result<ImportSummary> {
        self.import_rows(tx, year, &file.entries, file.records.iter().map(|r| (None, r)).collect()).await
    }

    /// `import_data` for a file whose records may carry keys: each record is added under
    /// its key (given, or derived), or replaces the stored record of that key, or is
    /// left alone if that record says the same. So importing an export of the year again
    /// adds nothing. A key that repeats within the file, or a bad given key, is a bad
    /// row.
    pub async fn import_keyed_data(&self, tx: &mut WriteTx, year: i32, file: &KeyedDataFile) -> Result<ImportSummary> {
        self.import_rows(tx, year, &file.entries, file.records.iter().map(|r| (r.key.as_deref(), &r.row)).collect()).await
    }

    async fn import_rows(
        &self,
        tx: &mut WriteTx,
        year: i32,
        entries: &[EntryRow],
        records: Vec<(Option<&str>, &RecordRow)>,
    ) -> Result<ImportSummary> {
        let units: HashSet<String> = sqlx::query_scalar("SELECT id FROM units").fetch_all(tx.conn()).await?.into_iter().collect();
        let mut errors = Vec::new();
        let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
        let mut values = Vec::with_capacity(entries.len());
        for (i, row) in entries.iter().enumerate() {
            let mut problem = check_entry(year, row).err();
            if problem.is_none() && !units.contains(&row.unit) {
                problem = Some(format!("unknown unit `{}`", row.unit));
            }
            if problem.is_none()
                && let Some(first) = seen.insert((&row.unit, &row.indicator, &row.month), i)
            {
                problem =
                    Some(format!("duplicate entry: entries[{first}] already reports {} for {} in {}", row.indicator, row.unit, row.month));
            }
            match problem {
                Some(message) => errors.push(RowError { location: format!("entries[{i}]"), message }),
                None => values.push(Value::Object(row.values.clone()).to_string()),
            }
        }
        for (i, (_, row)) in records.iter().enumerate() {
            let mut problem = check_record(year, row).err();
            if problem.is_none() && !units.contains(&row.unit) {
                problem = Some(format!("unknown unit `{}`", row.unit));
            }
            if let Some(message) = problem {
                errors.push(RowError { location: format!("records[{i}]"), message });
            }
        }
        let keys = match jixiao_core::data::assign_keys(records.iter().copied()) {
            Ok(keys) => keys,
            Err(e) => {
                errors.extend(e.rows);
                Vec::new()
            }
        };
        if !errors.is_empty() {
            return Err(StoreError::InvalidData(DataError { rows: errors }));
        }

        let at = self.now();
        let actor = tx.actor().to_string();
        for (chunk, chunk_values) in entries.chunks(BATCH).zip(values.chunks(BATCH)) {
            // $1 year, $2 actor, $3 time are shared by every row of the statement.
            let mut sql = String::with_capacity(120 + chunk.len() * 40);
            sql.push_str(
                "INSERT INTO entries (year, unit_id, indicator_id, month, values_json, state, version, updated_by, \
                 updated_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let p = 4 + i * 4;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("($1,${},${},${},${},'accepted',1,$2,$3)", p, p + 1, p + 2, p + 3));
            }
            sql.push_str(
                " ON CONFLICT (year, unit_id, indicator_id, month) DO UPDATE SET values_json = excluded.values_json, \
                 state = excluded.state, version = entries.version + 1, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(year).bind(&actor).bind(&at);
            for (row, v) in chunk.iter().zip(chunk_values) {
                query = query.bind(&row.unit).bind(&row.indicator).bind(&row.month).bind(v);
            }
            query.execute(tx.conn()).await?;
        }
        // Records: those whose key is stored are replaced where they differ; the rest are
        // inserted, in file order.
        let stored: HashMap<String, StoredRecord> = records_on(tx.conn(), year).await?.into_iter().map(|r| (r.key.clone(), r)).collect();
        let mut added = Vec::new();
        let mut replaced = 0;
        for (key, (_, row)) in keys.iter().zip(&records) {
            match stored.get(key) {
                Some(old) if same_record(&old.row, row) => {}
                Some(old) => {
                    self.replace_record(tx, old, row).await?;
                    replaced += 1;
                }
                None => added.push((key, *row)),
            }
        }
        for chunk in added.chunks(BATCH) {
            let mut sql = String::with_capacity(160 + chunk.len() * 40);
            sql.push_str(
                "INSERT INTO records (year, record_key, unit_id, indicator_id, date, points, note, state, version, created_by, \
                 created_at, updated_by, updated_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let p = 4 + i * 6;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("($1,${},${},${},${},${},${},'accepted',1,$2,$3,$2,$3)", p, p + 1, p + 2, p + 3, p + 4, p + 5));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(year).bind(&actor).bind(&at);
            for (key, row) in chunk {
                query = query.bind(*key).bind(&row.unit).bind(&row.indicator).bind(&row.date).bind(row.points).bind(row.note.as_deref());
            }
            query.execute(tx.conn()).await?;
        }
        let first = entries.iter().map(|e| month_of(&e.month)).chain(added.iter().map(|(_, r)| record_month(r))).min();
        if let Some(month) = first {
            tx.rescore_from(year, month);
        }
        Ok(ImportSummary { entries: entries.len(), records: records.len(), records_added: added.len(), records_replaced: replaced })
    }
}

impl Store {
    /// Records still holding the placeholder key migration 10 gave them.
    pub(crate) async fn records_waiting_for_keys(&self) -> Result<i64> {
        let prefix = format!("{}%", jixiao_core::data::RESERVED_PREFIX);
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE record_key LIKE $1").bind(prefix).fetch_one(self.pool()).await?)
    }

    /// Gives the records that migration 10 left with a placeholder key their derived
    /// key, in one audited transaction (`record.keys`, by `system:migrate`): per year in
    /// id order, occurrences counted past the keys already taken, so exact duplicates
    /// stored before keys existed are kept, as occurrences 1, 2, … of one content (a
    /// data file written before keys, imported again, finds them all). Nothing changes
    /// in what is scored (keys are not), so no rescore.
    pub(crate) async fn fill_record_keys(&self) -> Result<usize> {
        if self.records_waiting_for_keys().await? == 0 {
            return Ok(0);
        }
        let mut tx = self.begin("system:migrate").await?;
        let all = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM records ORDER BY year, id")))
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(record_from_row)
            .collect::<Result<Vec<_>>>()?;
        let mut taken: HashSet<(i32, String)> = all.iter().map(|r| (r.year, r.key.clone())).collect();
        let mut filled = 0;
        for r in all.iter().filter(|r| r.key.starts_with(jixiao_core::data::RESERVED_PREFIX)) {
            let key = (1..)
                .map(|n| jixiao_core::data::derived_key(&r.row, n))
                .find(|k| !taken.contains(&(r.year, k.clone())))
                .unwrap_or_default();
            sqlx::query("UPDATE records SET record_key = $1 WHERE id = $2").bind(&key).bind(r.id).execute(tx.conn()).await?;
            taken.insert((r.year, key));
            filled += 1;
        }
        tx.audit("record.keys", "records", "*", None, Some(json!({"filled": filled}))).await?;
        tx.commit().await?;
        Ok(filled)
    }
}

/// A year's records in the order they were added, on `conn`.
pub(crate) async fn records_on(conn: &mut AnyConnection, year: i32) -> Result<Vec<StoredRecord>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM records WHERE year = $1 ORDER BY id")))
        .bind(year)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(record_from_row).collect()
}

/// The accepted entries of a year by unit, indicator and month, with each one's
/// (version, updated_at) by (unit, indicator, month), on `conn`. Read as one joined
/// text: this runs whenever a rescore starts over, and thousands of rows read one by
/// one cost ten times more.
async fn export_on(conn: &mut AnyConnection, backend: crate::Backend, year: i32) -> Result<KeyedDataFile> {
    Ok(KeyedDataFile {
        entries: accepted_entries_on(conn, backend, year).await?.0,
        records: records_on(conn, year).await?.into_iter().map(|r| KeyedRecord { key: Some(r.key), row: r.row }).collect(),
    })
}

pub(crate) async fn accepted_entries_on(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    year: i32,
) -> Result<(Vec<EntryRow>, HashMap<(String, String, String), (i64, String)>)> {
    let joined = crate::rows_joined(
        conn,
        backend,
        "SELECT {join}(unit_id || $1 || indicator_id || $1 || month || $1 || CAST(version AS TEXT) || $1 || updated_at || $1 || values_json, $2) \
         FROM entries WHERE year = $3 AND state = 'accepted'",
        6,
        &[crate::Param::Int(year)],
    )
    .await?;
    let mut rows: Vec<(EntryRow, i64, String)> = match joined {
        Some(rows) => rows
            .into_iter()
            .map(|mut r| {
                let values = values_of(&r[5])?;
                let version = r[3].parse().map_err(|_| StoreError::invalid(format!("stored entry version `{}` is not a number", r[3])))?;
                let at = std::mem::take(&mut r[4]);
                let month = std::mem::take(&mut r[2]);
                let indicator = std::mem::take(&mut r[1]);
                Ok((EntryRow { unit: std::mem::take(&mut r[0]), indicator, month, values }, version, at))
            })
            .collect::<Result<Vec<_>>>()?,
        None => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE year = $1 AND state = 'accepted'")))
            .bind(year)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| entry_from_row(row).map(|e| (e.row, e.version, e.updated_at)))
            .collect::<Result<Vec<_>>>()?,
    };
    rows.sort_by(|a, b| (&a.0.unit, &a.0.indicator, &a.0.month).cmp(&(&b.0.unit, &b.0.indicator, &b.0.month)));
    let versions = rows.iter().map(|(e, v, at)| ((e.unit.clone(), e.indicator.clone(), e.month.clone()), (*v, at.clone()))).collect();
    Ok((rows.into_iter().map(|r| r.0).collect(), versions))
}
