//! Computed scores, per year, scheme version, period and unit.
//!
//! Scores are derived data: the engine recomputes them from the scheme and the entries
//! and records, all of which are audited. The scores a change leads to are written in
//! that change's own audited transaction, when it commits (`tx`, `refresh`), with no
//! audit entry of their own: an entry per recomputed row would flood the log with
//! entries that add nothing. Where scores are written in a transaction of their own —
//! `Store::save_scores`, `update_scores`, and the repair of stale scores
//! (`refresh_scores`, `repair_stale_scores`), which only make derived rows match
//! audited data again — that transaction has no audit entry: the one documented
//! exception to "every write carries an audit entry". When saving scores is itself an
//! act someone should answer for (publishing final results), use
//! `Store::save_scores_in`, which writes inside the caller's audited `WriteTx`.
//!
//! `save_scores`, `update_scores` and `save_scores_in` store whatever they are given,
//! so they drop the year's data stamp (`stamp`): the year then counts as stale, and
//! the next rescore compares every period with the stored rows instead of trusting
//! what it last wrote.

use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, now};

/// One unit's stored result.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    pub unit_id: String,
    /// Whatever the engine produced for the unit (total, items, ranks…).
    pub result: Value,
    pub computed_at: String,
}

const BATCH: usize = 1000;

async fn replace(conn: &mut AnyConnection, year: i32, version: i32, period: &str, rows: &[(String, Value)]) -> Result<usize> {
    let scheme: Option<i64> = sqlx::query_scalar("SELECT 1 FROM scheme_versions WHERE year = $1 AND version = $2")
        .bind(year)
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?;
    if scheme.is_none() {
        return Err(StoreError::invalid(format!("scores for a scheme that does not exist: {year} version {version}")));
    }
    period.parse::<jixiao_core::period::Period>().map_err(|e| StoreError::invalid(e.to_string()))?;
    sqlx::query("DELETE FROM scores WHERE year = $1 AND scheme_version = $2 AND period = $3")
        .bind(year)
        .bind(version)
        .bind(period)
        .execute(&mut *conn)
        .await?;
    insert(conn, year, version, period, rows, &now()).await?;
    Ok(rows.len())
}

async fn insert(conn: &mut AnyConnection, year: i32, version: i32, period: &str, rows: &[(String, Value)], at: &str) -> Result<()> {
    for chunk in rows.chunks(BATCH) {
        let mut sql = String::from("INSERT INTO scores (year, scheme_version, period, unit_id, result_json, computed_at) VALUES ");
        for i in 0..chunk.len() {
            let p = 5 + i * 2;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("($1,$2,$3,${},${},$4)", p, p + 1));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(year).bind(version).bind(period).bind(at);
        for (unit, result) in chunk {
            query = query.bind(unit).bind(result.to_string());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes one unit's result of a period: over the stored row, or as a new one.
pub(crate) async fn write_row(
    conn: &mut AnyConnection,
    year: i32,
    version: i32,
    period: &str,
    unit: &str,
    text: &str,
    at: &str,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE scores SET result_json = $1, computed_at = $2 WHERE year = $3 AND scheme_version = $4 AND period = $5 AND unit_id = $6",
    )
    .bind(text)
    .bind(at)
    .bind(year)
    .bind(version)
    .bind(period)
    .bind(unit)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        sqlx::query("INSERT INTO scores (year, scheme_version, period, unit_id, result_json, computed_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(year)
            .bind(version)
            .bind(period)
            .bind(unit)
            .bind(text)
            .bind(at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The stored result texts of one period, by unit.
pub(crate) async fn stored_texts(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    year: i32,
    version: i32,
    period: &str,
) -> Result<std::collections::HashMap<String, String>> {
    // One joined text rather than a row per unit (see `rows_joined`).
    let joined = crate::rows_joined(
        conn,
        backend,
        "SELECT {join}(unit_id || $1 || result_json, $2) FROM scores WHERE year = $3 AND scheme_version = $4 AND period = $5",
        2,
        &[crate::Param::Int(year), crate::Param::Int(version), crate::Param::Text(period)],
    )
    .await?;
    Ok(match joined {
        Some(rows) => rows.into_iter().map(|mut r| (std::mem::take(&mut r[0]), std::mem::take(&mut r[1]))).collect(),
        None => sqlx::query_as("SELECT unit_id, result_json FROM scores WHERE year = $1 AND scheme_version = $2 AND period = $3")
            .bind(year)
            .bind(version)
            .bind(period)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect(),
    })
}

/// The rows of one period that differ from what is stored, written; see
/// `Store::update_scores`. Returns the number of rows written (updated, inserted or
/// deleted).
pub(crate) async fn update(
    conn: &mut AnyConnection,
    backend: crate::Backend,
    year: i32,
    version: i32,
    period: &str,
    rows: &[(String, Value)],
) -> Result<usize> {
    let stored = stored_texts(conn, backend, year, version, period).await?;
    if stored.is_empty() {
        return replace(conn, year, version, period, rows).await;
    }
    let at = now();
    let mut inserts = Vec::new();
    let mut written = 0;
    for (unit, result) in rows {
        let text = result.to_string();
        match stored.get(unit) {
            Some(old) if *old == text => {}
            Some(_) => {
                write_row(conn, year, version, period, unit, &text, &at).await?;
                written += 1;
            }
            None => inserts.push((unit.clone(), result.clone())),
        }
    }
    for unit in stored.keys().filter(|u| !rows.iter().any(|(r, _)| r == *u)) {
        written += 1;
        sqlx::query("DELETE FROM scores WHERE year = $1 AND scheme_version = $2 AND period = $3 AND unit_id = $4")
            .bind(year)
            .bind(version)
            .bind(period)
            .bind(unit)
            .execute(&mut *conn)
            .await?;
    }
    insert(conn, year, version, period, &inserts, &at).await?;
    Ok(written + inserts.len())
}

impl Store {
    /// Replaces the scores of one period, in a transaction of its own and without an
    /// audit entry (scores are recomputable; see the module documentation).
    pub async fn save_scores(&self, year: i32, version: i32, period: &str, rows: Vec<(String, Value)>) -> Result<()> {
        let mut tx = self.begin_unaudited().await?;
        replace(&mut tx, year, version, period, &rows).await?;
        crate::stamp::forget(&mut tx, year).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Brings the stored scores of several periods to `periods` (period, rows by unit)
    /// in one transaction without an audit entry: rows whose result is unchanged are
    /// left alone (their `computed_at` is when the result last changed), changed ones
    /// are updated, new ones inserted, units no longer scored deleted. After one
    /// accepted entry this writes a handful of rows instead of every unit of the year.
    pub async fn update_scores(&self, year: i32, version: i32, periods: Vec<(String, Vec<(String, Value)>)>) -> Result<()> {
        let mut tx = self.begin_unaudited().await?;
        for (period, rows) in &periods {
            update(&mut tx, self.backend(), year, version, period, rows).await?;
        }
        crate::stamp::forget(&mut tx, year).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn begin_unaudited(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend() {
            crate::Backend::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await?,
            crate::Backend::Postgres => self.pool().begin().await?,
        })
    }

    /// Replaces the scores of one period inside an audited transaction.
    pub async fn save_scores_in(&self, tx: &mut WriteTx, year: i32, version: i32, period: &str, rows: Vec<(String, Value)>) -> Result<()> {
        replace(tx.conn(), year, version, period, &rows).await?;
        crate::stamp::forget(tx.conn(), year).await
    }

    /// The scores of one period, by unit id.
    pub async fn scores(&self, year: i32, version: i32, period: &str) -> Result<Vec<ScoreRow>> {
        let rows = sqlx::query(
            "SELECT unit_id, result_json, computed_at FROM scores \
             WHERE year = $1 AND scheme_version = $2 AND period = $3 ORDER BY unit_id",
        )
        .bind(year)
        .bind(version)
        .bind(period)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let text: String = row.try_get("result_json")?;
                Ok(ScoreRow {
                    unit_id: row.try_get("unit_id")?,
                    result: serde_json::from_str(&text).map_err(|e| StoreError::invalid(format!("stored score is not JSON: {e}")))?,
                    computed_at: row.try_get("computed_at")?,
                })
            })
            .collect()
    }
}
