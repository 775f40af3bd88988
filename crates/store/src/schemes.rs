//! Assessment schemes (考核方案) by year and version, and the periods of a year.
//!
//! A scheme is stored as its JSON file (spec §2), one row per version. Amending a year
//! in progress adds a version with a reason; past periods keep the version they were
//! scored with (`periods.scheme_version`, `scores.scheme_version`). Importing a scheme
//! also creates or renames its groups and units in the organisation tables, since
//! entries and scores refer to them.

use std::fmt;
use std::str::FromStr;

use jixiao_core::period::Period;
use jixiao_core::scheme::{Scheme, SchemeFile};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, flag};

/// A stored scheme version without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeVersionInfo {
    pub year: i32,
    pub version: i32,
    pub name: String,
    pub reason: String,
    pub published: bool,
    pub created_by: String,
    pub created_at: String,
}

/// A stored scheme version with its file.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeVersion {
    pub info: SchemeVersionInfo,
    pub file: SchemeFile,
}

impl SchemeVersion {
    /// Validates the file into a scheme ready for scoring.
    pub fn compile(&self) -> Result<Scheme> {
        Scheme::from_file(self.file.clone())
            .map_err(|e| StoreError::invalid(format!("stored scheme {} version {}: {e}", self.info.year, self.info.version)))
    }
}

/// The state of an assessment period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodState {
    /// Data can be reported and changed.
    Open,
    /// Reporting has ended; changes need a correction request.
    Closed,
    /// Final: results published.
    Locked,
}

impl PeriodState {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodState::Open => "open",
            PeriodState::Closed => "closed",
            PeriodState::Locked => "locked",
        }
    }
}

impl fmt::Display for PeriodState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PeriodState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<PeriodState> {
        match s {
            "open" => Ok(PeriodState::Open),
            "closed" => Ok(PeriodState::Closed),
            "locked" => Ok(PeriodState::Locked),
            other => Err(StoreError::invalid(format!("unknown period state `{other}`"))),
        }
    }
}

/// A period of a year and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodRow {
    pub year: i32,
    /// `2027-03`, `2027-Q1` or `2027`.
    pub period: String,
    pub state: PeriodState,
    /// The scheme version the period is scored with, once fixed.
    pub scheme_version: Option<i32>,
    pub closed_at: Option<String>,
}

const INFO_COLUMNS: &str = "year, version, name, reason, published, created_by, created_at";

fn info_from_row(row: &AnyRow) -> Result<SchemeVersionInfo> {
    Ok(SchemeVersionInfo {
        year: row.try_get("year")?,
        version: row.try_get("version")?,
        name: row.try_get("name")?,
        reason: row.try_get("reason")?,
        published: row.try_get::<i64, _>("published")? != 0,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A year's scheme on `conn` (also inside a transaction): `version`, or the latest.
pub(crate) async fn scheme_on(conn: &mut AnyConnection, year: i32, version: Option<i32>) -> Result<SchemeVersion> {
    let row = match version {
        Some(v) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INFO_COLUMNS}, body FROM scheme_versions WHERE year = $1 AND version = $2")))
                .bind(year)
                .bind(v)
                .fetch_optional(&mut *conn)
                .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {INFO_COLUMNS}, body FROM scheme_versions WHERE year = $1 ORDER BY version DESC LIMIT 1"
            )))
            .bind(year)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let row = row.ok_or_else(|| {
        StoreError::not_found(match version {
            Some(v) => format!("scheme {year} version {v}"),
            None => format!("a scheme for {year}"),
        })
    })?;
    let info = info_from_row(&row)?;
    let body: String = row.try_get("body")?;
    let file: SchemeFile = serde_json::from_str(&body)
        .map_err(|e| StoreError::invalid(format!("stored scheme {year} version {} is not a scheme file: {e}", info.version)))?;
    Ok(SchemeVersion { info, file })
}

impl Store {
    /// Stores a scheme as the next version of its year and creates or renames its
    /// groups and units. The file must be a valid scheme (spec §2). Every version after
    /// the first needs a reason (the amendment is recorded). Returns the new version.
    /// If the year has data, its stored scores are computed with the new version when
    /// the transaction commits (beside those of earlier versions), which fails if the
    /// data does not fit it.
    pub async fn import_scheme(&self, tx: &mut WriteTx, file: &SchemeFile, reason: &str) -> Result<i32> {
        Scheme::from_file(file.clone()).map_err(|e| StoreError::invalid(e.to_string()))?;
        let latest: Option<i32> =
            sqlx::query_scalar("SELECT MAX(version) FROM scheme_versions WHERE year = $1").bind(file.year).fetch_one(tx.conn()).await?;
        let version = latest.unwrap_or(0) + 1;
        if version > 1 && reason.trim().is_empty() {
            return Err(StoreError::invalid(format!(
                "scheme {} already has version {}: amending it needs a reason",
                file.year,
                version - 1
            )));
        }
        for group in &file.groups {
            self.upsert_group(tx, &group.id, &group.name).await?;
        }
        for (i, unit) in file.units.iter().enumerate() {
            self.upsert_unit(tx, &unit.id, &unit.name, &unit.group, i64::try_from(i).unwrap_or(i64::MAX)).await?;
        }
        let body = serde_json::to_string(file).map_err(|e| StoreError::invalid(format!("scheme to JSON: {e}")))?;
        let created_by = tx.actor().to_string();
        // On PostgreSQL two concurrent imports of one year may both pick this version;
        // the primary key lets only one insert, and the other gets a Conflict.
        let inserted = sqlx::query(
            "INSERT INTO scheme_versions (year, version, name, body, reason, published, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7) ON CONFLICT (year, version) DO NOTHING",
        )
        .bind(file.year)
        .bind(version)
        .bind(&file.name)
        .bind(body)
        .bind(reason)
        .bind(created_by)
        .bind(self.now())
        .execute(tx.conn())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!("scheme {}", file.year),
                expected: latest.map(i64::from),
                current: Some(i64::from(version)),
            });
        }
        // With data to score, the new version's scores commit with it. A year without
        // any has nothing to score yet: its scores are computed with its first data (or
        // by `refresh_scores`), so a scheme set up ahead of the year stores no rows of
        // zeros.
        let scored_data: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM entries WHERE year = $1 AND state = 'accepted' LIMIT 1) e) \
             + (SELECT COUNT(*) FROM (SELECT 1 FROM records WHERE year = $1 LIMIT 1) r)",
        )
        .bind(file.year)
        .fetch_one(tx.conn())
        .await?;
        if scored_data > 0 {
            tx.rescore_from(file.year, 1);
        }
        Ok(version)
    }

    /// A year's scheme: `version`, or the latest if `None`.
    pub async fn scheme(&self, year: i32, version: Option<i32>) -> Result<SchemeVersion> {
        let mut conn = self.pool().acquire().await?;
        scheme_on(&mut conn, year, version).await
    }

    /// Every version of a year's scheme, oldest first.
    pub async fn scheme_versions(&self, year: i32) -> Result<Vec<SchemeVersionInfo>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INFO_COLUMNS} FROM scheme_versions WHERE year = $1 ORDER BY version")))
            .bind(year)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// The years that have a scheme, ascending.
    pub async fn scheme_years(&self) -> Result<Vec<i32>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT year FROM scheme_versions ORDER BY year").fetch_all(self.pool()).await?)
    }

    /// Marks a version published (or not).
    pub async fn set_scheme_published(&self, tx: &mut WriteTx, year: i32, version: i32, published: bool) -> Result<()> {
        let done = sqlx::query("UPDATE scheme_versions SET published = $1 WHERE year = $2 AND version = $3")
            .bind(flag(published))
            .bind(year)
            .bind(version)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(format!("scheme {year} version {version}")));
        }
        Ok(())
    }

    /// Sets a period's state and, optionally, the scheme version it is scored with.
    pub async fn set_period(&self, tx: &mut WriteTx, period: Period, state: PeriodState, scheme_version: Option<i32>) -> Result<()> {
        let year = period.year();
        if let Some(v) = scheme_version {
            let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM scheme_versions WHERE year = $1 AND version = $2")
                .bind(year)
                .bind(v)
                .fetch_optional(tx.conn())
                .await?;
            if found.is_none() {
                return Err(StoreError::invalid(format!("period {period}: there is no scheme {year} version {v}")));
            }
        }
        let closed_at = (state != PeriodState::Open).then(|| self.now());
        sqlx::query(
            "INSERT INTO periods (year, period, state, scheme_version, closed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (year, period) DO UPDATE SET state = excluded.state, \
             scheme_version = COALESCE(excluded.scheme_version, periods.scheme_version), closed_at = excluded.closed_at",
        )
        .bind(year)
        .bind(period.to_string())
        .bind(state.as_str())
        .bind(scheme_version)
        .bind(closed_at)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// The periods of a year that have a state, by period text.
    pub async fn periods(&self, year: i32) -> Result<Vec<PeriodRow>> {
        let rows = sqlx::query("SELECT year, period, state, scheme_version, closed_at FROM periods WHERE year = $1 ORDER BY period")
            .bind(year)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(PeriodRow {
                    year: row.try_get("year")?,
                    period: row.try_get("period")?,
                    state: row.try_get::<String, _>("state")?.parse()?,
                    scheme_version: row.try_get("scheme_version")?,
                    closed_at: row.try_get("closed_at")?,
                })
            })
            .collect()
    }
}
