//! The data stamp of a year (数据戳): a cheap fingerprint of everything its scores are
//! computed from, stored beside the scores, so that any process — a fresh one after a
//! crash included — can tell whether the stored scores reflect the committed data.
//!
//! The stamp is computed by the database from the rows themselves: the latest scheme
//! version; the number of accepted entries, the sum of their versions and the latest
//! `updated_at`; the number of records, their highest id, the sum of their versions and
//! the latest `updated_at`. Every store function that changes scored data moves one of
//! these (an entry's version goes up with every change, accepted or not; a record
//! added, replaced or deleted changes the count, the sum or a time), so a stamp that
//! equals the stored one means the stored scores are current, whoever wrote the data.
//! It is deliberately not a counter that writers bump: a change that forgot to mark
//! its transaction, or a row written by hand with a new version or time, still shows.
//! What it cannot see is an edit by hand that keeps versions and times (an
//! `UPDATE entries SET values_json = …` alone), or stored score rows edited by hand.
//!
//! `score_stamps` holds, per year, the scheme version and stamp the stored scores of
//! that version were computed from; it is written in the same transaction as the score
//! rows (`refresh`). `Store::repair_stale_scores` compares every year's stamps and
//! rescores the stale ones.

use sqlx::AnyConnection;

use crate::error::Result;
use crate::{Store, now};

/// A year's data stamp as the database computes it now (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DataStamp {
    /// The latest scheme version, if the year has a scheme.
    pub scheme_version: Option<i32>,
    pub entries: EntryStamp,
    pub records: RecordStamp,
}

/// Number of accepted entries, the sum of their versions, their latest change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct EntryStamp {
    pub count: i64,
    pub version_sum: i64,
    pub latest: String,
}

/// Number of records, the highest id, the sum of their versions, their latest change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RecordStamp {
    pub count: i64,
    pub last_id: i64,
    pub version_sum: i64,
    pub latest: String,
}

impl DataStamp {
    /// Computes the stamp of `year` on `conn` (inside a transaction: with its own
    /// uncommitted writes).
    pub async fn read(conn: &mut AnyConnection, year: i32) -> Result<DataStamp> {
        let (version, e_count, e_sum, e_latest, r_count, r_last, r_sum, r_latest): (
            Option<i32>,
            i64,
            i64,
            Option<String>,
            i64,
            i64,
            i64,
            Option<String>,
        ) = sqlx::query_as(
            "SELECT v.latest, e.n, e.s, e.m, r.n, r.last, r.s, r.m FROM \
             (SELECT MAX(version) AS latest FROM scheme_versions WHERE year = $1) v, \
             (SELECT COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS s, MAX(updated_at) AS m \
              FROM entries WHERE year = $1 AND state = 'accepted') e, \
             (SELECT COUNT(*) AS n, CAST(COALESCE(MAX(id), 0) AS BIGINT) AS last, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS s, \
              MAX(updated_at) AS m FROM records WHERE year = $1) r",
        )
        .bind(year)
        .fetch_one(&mut *conn)
        .await?;
        Ok(DataStamp {
            scheme_version: version,
            entries: EntryStamp { count: e_count, version_sum: e_sum, latest: e_latest.unwrap_or_default() },
            records: RecordStamp { count: r_count, last_id: r_last, version_sum: r_sum, latest: r_latest.unwrap_or_default() },
        })
    }

    /// The stamp as stored: one line of text, readable in the table.
    pub fn text(&self) -> String {
        let (e, r) = (&self.entries, &self.records);
        format!(
            "entries {} Σversion {} latest {}; records {} last id {} Σversion {} latest {}",
            e.count, e.version_sum, e.latest, r.count, r.last_id, r.version_sum, r.latest
        )
    }
}

/// (scheme version, stamp) the stored scores of `year` were computed from, if any.
pub(crate) async fn stored(conn: &mut AnyConnection, year: i32) -> Result<Option<(i32, String)>> {
    Ok(sqlx::query_as("SELECT scheme_version, stamp FROM score_stamps WHERE year = $1").bind(year).fetch_optional(&mut *conn).await?)
}

/// Records that the stored scores of `year`, scheme version `version`, reflect `stamp`.
/// In the transaction that wrote them.
pub(crate) async fn write(conn: &mut AnyConnection, year: i32, version: i32, stamp: &DataStamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO score_stamps (year, scheme_version, stamp, computed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (year) DO UPDATE SET scheme_version = excluded.scheme_version, stamp = excluded.stamp, \
         computed_at = excluded.computed_at",
    )
    .bind(year)
    .bind(version)
    .bind(stamp.text())
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets what the stored scores of `year` reflect: for writers of score rows that
/// are not a rescore (`scores::save_scores` and its kin).
pub(crate) async fn forget(conn: &mut AnyConnection, year: i32) -> Result<()> {
    sqlx::query("DELETE FROM score_stamps WHERE year = $1").bind(year).execute(&mut *conn).await?;
    Ok(())
}

/// Whether the stored scores of `year` reflect the committed data: `Some(version)`
/// when they do, `None` when they may not (or the year has no scheme).
pub(crate) async fn current(conn: &mut AnyConnection, year: i32) -> Result<Option<i32>> {
    let stamp = DataStamp::read(conn, year).await?;
    let Some(version) = stamp.scheme_version else { return Ok(None) };
    Ok((stored(conn, year).await? == Some((version, stamp.text()))).then_some(version))
}

impl Store {
    /// The years with a scheme whose stored scores may not reflect the committed data:
    /// their data stamp differs from the one stored with the scores, or none is stored
    /// (a database from before stamps). Reads only.
    pub async fn stale_score_years(&self) -> Result<Vec<i32>> {
        let mut stale = Vec::new();
        let mut conn = self.pool().acquire().await?;
        for year in self.scheme_years().await? {
            if current(&mut conn, year).await?.is_none() {
                stale.push(year);
            }
        }
        Ok(stale)
    }

    /// Brings the stored scores of every stale year (`stale_score_years`) up to date:
    /// recomputes its 17 periods with the latest scheme version, rewrites the rows that
    /// differ and stores the data stamp, one transaction per year. Returns each stale
    /// year with the number of score rows rewritten (0 when only the stamp was behind).
    /// Run at start-up, it repairs what a process killed between committing data and
    /// writing its scores left behind (jixiao before stamps), and rows written by
    /// hand. A year whose data does not fit its scheme cannot be scored: it is logged
    /// and skipped, and stays stale.
    pub async fn repair_stale_scores(&self) -> Result<Vec<(i32, usize)>> {
        let mut repaired = Vec::new();
        for year in self.stale_score_years().await? {
            match self.rescore_year(year, true).await {
                Ok(Some(rows)) => repaired.push((year, rows)),
                Ok(None) => {}
                Err(crate::StoreError::Invalid(reason)) => {
                    tracing::error!(year, %reason, "stored scores are stale and the year cannot be scored");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(repaired)
    }
}
