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

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use jixiao_core::data::{DataError, DataFile, EntryRow, RecordRow, RowError};
use jixiao_core::period::Month;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

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
    pub row: RecordRow,
    pub state: String,
    pub created_by: String,
    pub created_at: String,
}

/// What `import_data` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Entries inserted or replaced.
    pub entries: usize,
    /// Records added.
    pub records: usize,
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
        row: RecordRow {
            unit: row.try_get("unit_id")?,
            indicator: row.try_get("indicator_id")?,
            date: row.try_get("date")?,
            points: row.try_get("points")?,
            note: row.try_get("note")?,
        },
        state: row.try_get("state")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

const ENTRY_COLUMNS: &str = "id, year, unit_id, indicator_id, month, values_json, state, version, updated_by, updated_at";
const RECORD_COLUMNS: &str = "id, year, unit_id, indicator_id, date, points, note, state, created_by, created_at";

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

async fn unit_exists(tx: &mut WriteTx, unit: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM units WHERE id = $1").bind(unit).fetch_optional(tx.conn()).await?;
    Ok(found.is_some())
}

impl Store {
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

    /// Adds a record; returns its id.
    pub async fn add_record(&self, tx: &mut WriteTx, year: i32, row: &RecordRow) -> Result<i64> {
        check_record(year, row).map_err(|m| StoreError::invalid(format!("record for {}: {m}", row.unit)))?;
        if !unit_exists(tx, &row.unit).await? {
            return Err(StoreError::invalid(format!("record: unknown unit `{}`", row.unit)));
        }
        let actor = tx.actor().to_string();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO records (year, unit_id, indicator_id, date, points, note, state, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'accepted', $7, $8) RETURNING id",
        )
        .bind(year)
        .bind(&row.unit)
        .bind(&row.indicator)
        .bind(&row.date)
        .bind(row.points)
        .bind(row.note.as_deref())
        .bind(actor)
        .bind(self.now())
        .fetch_one(tx.conn())
        .await?;
        Ok(id)
    }

    /// A year's records in the order they were added.
    pub async fn records(&self, year: i32) -> Result<Vec<StoredRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {RECORD_COLUMNS} FROM records WHERE year = $1 ORDER BY id")))
            .bind(year)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record_from_row).collect()
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

    /// The accepted entries of a year by unit, indicator and month, with each one's
    /// (version, updated_at) by (unit, indicator, month). Read as one joined text: this
    /// runs after every accepted change (the rescore), and thousands of rows read one
    /// by one cost ten times more.
    #[allow(clippy::type_complexity)]
    pub(crate) async fn accepted_entries(&self, year: i32) -> Result<(Vec<EntryRow>, HashMap<(String, String, String), (i64, String)>)> {
        let mut conn = self.pool().acquire().await?;
        let joined = crate::rows_joined(
            &mut conn,
            self.backend(),
            "SELECT {join}(unit_id || $1 || indicator_id || $1 || month || $1 || CAST(version AS TEXT) || $1 || updated_at || $1 || values_json, $2) \
             FROM entries WHERE year = $3 AND state = 'accepted'",
            6,
            &[crate::Param::Int(year)],
        )
        .await?;
        drop(conn);
        let mut rows: Vec<(EntryRow, i64, String)> = match joined {
            Some(rows) => rows
                .into_iter()
                .map(|mut r| {
                    let values = values_of(&r[5])?;
                    let version =
                        r[3].parse().map_err(|_| StoreError::invalid(format!("stored entry version `{}` is not a number", r[3])))?;
                    let at = std::mem::take(&mut r[4]);
                    let month = std::mem::take(&mut r[2]);
                    let indicator = std::mem::take(&mut r[1]);
                    Ok((EntryRow { unit: std::mem::take(&mut r[0]), indicator, month, values }, version, at))
                })
                .collect::<Result<Vec<_>>>()?,
            None => self
                .stored_entries(year)
                .await?
                .into_iter()
                .filter(|e| e.state == "accepted")
                .map(|e| (e.row, e.version, e.updated_at))
                .collect(),
        };
        rows.sort_by(|a, b| (&a.0.unit, &a.0.indicator, &a.0.month).cmp(&(&b.0.unit, &b.0.indicator, &b.0.month)));
        let versions = rows.iter().map(|(e, v, at)| ((e.unit.clone(), e.indicator.clone(), e.month.clone()), (*v, at.clone()))).collect();
        Ok((rows.into_iter().map(|r| r.0).collect(), versions))
    }

    /// Writes a whole data file into a year: entries are inserted or replaced (a
    /// replaced entry's version goes up by one), records are added. Every row is
    /// checked first and any bad row is reported with its position (`entries[3]`) and
    /// nothing is written; a database failure part-way leaves the transaction to be
    /// dropped, which undoes everything.
    pub async fn import_data(&self, tx: &mut WriteTx, year: i32, file: &DataFile) -> Result<ImportSummary> {
        let units: HashSet<String> = sqlx::query_scalar("SELECT id FROM units").fetch_all(tx.conn()).await?.into_iter().collect();
        let mut errors = Vec::new();
        let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
        let mut values = Vec::with_capacity(file.entries.len());
        for (i, row) in file.entries.iter().enumerate() {
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
        for (i, row) in file.records.iter().enumerate() {
            let mut problem = check_record(year, row).err();
            if problem.is_none() && !units.contains(&row.unit) {
                problem = Some(format!("unknown unit `{}`", row.unit));
            }
            if let Some(message) = problem {
                errors.push(RowError { location: format!("records[{i}]"), message });
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::InvalidData(DataError { rows: errors }));
        }

        let at = self.now();
        let actor = tx.actor().to_string();
        for (chunk, chunk_values) in file.entries.chunks(BATCH).zip(values.chunks(BATCH)) {
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
        for chunk in file.records.chunks(BATCH) {
            let mut sql = String::with_capacity(120 + chunk.len() * 40);
            sql.push_str(
                "INSERT INTO records (year, unit_id, indicator_id, date, points, note, state, created_by, created_at) \
                 VALUES ",
            );
            for i in 0..chunk.len() {
                let p = 4 + i * 5;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("($1,${},${},${},${},${},'accepted',$2,$3)", p, p + 1, p + 2, p + 3, p + 4));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(year).bind(&actor).bind(&at);
            for row in chunk {
                query = query.bind(&row.unit).bind(&row.indicator).bind(&row.date).bind(row.points).bind(row.note.as_deref());
            }
            query.execute(tx.conn()).await?;
        }
        Ok(ImportSummary { entries: file.entries.len(), records: file.records.len() })
    }
}
