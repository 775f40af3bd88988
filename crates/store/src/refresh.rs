//! Keeping stored scores current: the engine's results for the periods of a year,
//! saved per scheme version so pages read them instead of recomputing. Past periods
//! keep the results of the version they were scored with, because a new version's
//! results are stored beside the old ones, never over them.
//!
//! A change to month `m` reaches exactly the periods that end in `m` or later: a
//! `ytd` window runs from January to the period's end, a `period` window covers the
//! period's own months, so no period ending before `m` reads it.
//!
//! Each year's results are kept in memory between refreshes (a `Scoreboard`, with
//! the versions of the accepted entries it holds and what the stored rows hold). A
//! refresh reads the entries changed since (`updated_at` at or after the latest it
//! holds), applies them — only the periods and units they reach are rescored — and
//! then checks the year's stamp in the database (number of accepted entries, the sum
//! of their versions, the latest change; number and last id of the records) against
//! its own. Any difference — a change it did not see, a record added or removed, a new
//! scheme version, another process — and it starts over from the database, as the
//! first refresh of a year does: a full recompute compared with the stored rows of
//! every period (of the periods reached, for a year too large to keep). Either way
//! only rows whose result changed are written.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use jixiao_core::data::{DataFile, Dataset, EntryRow, validate_entry};
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::Scheme;
use jixiao_core::score::{PeriodReport, Scoreboard};
use serde_json::Value;
use sqlx::Row;

use crate::{Result, Store, StoreError, now};

/// Above this many accepted entries a year is not kept in memory (a province's year
/// would hold hundreds of megabytes); each refresh then recomputes from the database.
const BOARD_LIMIT: usize = 200_000;

/// Each year's board, by year.
pub(crate) type Boards = tokio::sync::Mutex<HashMap<i32, Board>>;

type EntryKey = (String, String, String);

pub(crate) struct Board {
    version: i32,
    scheme: Arc<Scheme>,
    board: Scoreboard,
    /// (unit, indicator, month) → (version, updated_at) of the accepted entries held.
    entries: HashMap<EntryKey, (i64, String)>,
    /// Number and last id of the year's records.
    records: (i64, i64),
    /// (period, unit) → hash of the stored result text.
    stored: HashMap<(String, String), u64>,
}

impl Board {
    fn version_sum(&self) -> i64 {
        self.entries.values().map(|v| v.0).sum()
    }

    fn latest(&self) -> Option<&str> {
        self.entries.values().map(|v| v.1.as_str()).max()
    }
}

fn text_hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

fn result_text(u: &jixiao_core::score::UnitReport) -> Result<String> {
    Ok(serde_json::to_value(u).map_err(|e| StoreError::invalid(e.to_string()))?.to_string())
}

impl Store {
    /// Recomputes all 17 periods of `year` with its latest scheme version and saves
    /// what changed. Returns the scheme version used.
    pub async fn refresh_scores(&self, year: i32) -> Result<i32> {
        self.refresh_scores_from(year, 1).await
    }

    /// Brings the stored scores of `year` up to date after a change to month `from`
    /// (1–12) or later, and saves what changed (see the module documentation).
    pub async fn refresh_scores_from(&self, year: i32, from: u8) -> Result<i32> {
        // The latest version's number first: its file is read only to start over.
        let latest: Option<i32> =
            sqlx::query_scalar("SELECT MAX(version) FROM scheme_versions WHERE year = $1").bind(year).fetch_one(self.pool()).await?;
        let mut boards = self.boards.lock().await;
        if let Some(b) = boards.get_mut(&year).filter(|b| Some(b.version) == latest)
            && let Some((touched, before)) = self.advance(year, b).await?
        {
            self.save_touched(year, b, &before, &touched).await?;
            return Ok(b.version);
        }
        boards.remove(&year);
        let stored = self.scheme(year, None).await?;
        let version = stored.info.version;
        let scheme = Arc::new(stored.compile()?);
        let (entries, versions) = self.accepted_entries(year).await?;
        // Starting over compares every period with the stored rows when the year is
        // kept (once; a difference may lie anywhere); a year too large to keep is
        // recomputed from `from` each time.
        let from = if versions.len() <= BOARD_LIMIT { 1 } else { from };
        let records = self.records(year).await?;
        let records_stamp = (records.len() as i64, records.iter().map(|r| r.id).max().unwrap_or(0));
        let file = DataFile { entries, records: records.into_iter().map(|r| r.row).collect() };
        let data = Dataset::load(&scheme, &file)
            .map_err(|e| StoreError::invalid(format!("stored data of {year} no longer fits scheme version {version}: {e}")))?;
        // Scoring is CPU work: off the async workers, so requests keep being served.
        let compiled = scheme.clone();
        let (board, reports) = tokio::task::spawn_blocking(move || {
            let board = Scoreboard::new(compiled.clone(), data);
            let reports = board
                .periods()
                .iter()
                .filter(|r| r.period.end_month() >= from)
                .map(|result| {
                    let rows = PeriodReport::new(&compiled, result)
                        .units
                        .iter()
                        .map(|u| Ok((u.unit.clone(), serde_json::to_value(u).map_err(|e| StoreError::invalid(e.to_string()))?)))
                        .collect::<Result<Vec<_>>>()?;
                    Ok((result.period.to_string(), rows))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok::<_, StoreError>((board, reports))
        })
        .await
        .map_err(|e| StoreError::invalid(format!("scoring did not finish: {e}")))??;
        let stored_hashes = reports
            .iter()
            .flat_map(|(p, rows)| rows.iter().map(move |(u, v)| ((p.clone(), u.clone()), text_hash(&v.to_string()))))
            .collect();
        self.update_scores(year, version, reports).await?;
        if versions.len() <= BOARD_LIMIT {
            boards.insert(year, Board { version, scheme, board, entries: versions, records: records_stamp, stored: stored_hashes });
        }
        Ok(version)
    }

    /// Applies the entries changed since the board's latest; the periods they reach
    /// with those periods' results before, or `None` when the database holds
    /// something the board did not see.
    async fn advance(&self, year: i32, b: &mut Board) -> Result<Option<(Vec<Period>, Vec<jixiao_core::score::PeriodResult>)>> {
        let (count, last): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MAX(id) FROM records WHERE year = $1").bind(year).fetch_one(self.pool()).await?;
        if (count, last.unwrap_or(0)) != b.records {
            return Ok(None);
        }
        let since = b.latest().unwrap_or("").to_string();
        let rows = sqlx::query(
            "SELECT unit_id, indicator_id, month, values_json, state, version, updated_at FROM entries \
             WHERE year = $1 AND updated_at >= $2",
        )
        .bind(year)
        .bind(&since)
        .fetch_all(self.pool())
        .await?;
        // The periods the changed months reach, as they are before.
        let first =
            rows.iter().filter_map(|r| r.try_get::<String, _>("month").ok()?.parse::<Month>().ok()).map(|m| m.month).min().unwrap_or(13);
        let before: Vec<_> = b.board.periods().iter().filter(|r| r.period.end_month() >= first).cloned().collect();
        let mut touched = Vec::new();
        for row in &rows {
            let key: EntryKey = (row.try_get("unit_id")?, row.try_get("indicator_id")?, row.try_get("month")?);
            let (state, version, at): (String, i64, String) = (row.try_get("state")?, row.try_get("version")?, row.try_get("updated_at")?);
            if state == "accepted" {
                if b.entries.get(&key).is_some_and(|v| v.0 == version) {
                    continue;
                }
                let values = serde_json::from_str::<serde_json::Map<String, Value>>(&row.try_get::<String, _>("values_json")?)
                    .map_err(|e| StoreError::invalid(format!("stored entry values are not a JSON object: {e}")))?;
                let entry = EntryRow { unit: key.0.clone(), indicator: key.1.clone(), month: key.2.clone(), values };
                let Ok(entry) = validate_entry(&b.scheme, &entry) else { return Ok(None) };
                touched.extend(b.board.set_entry(&entry));
                b.entries.insert(key, (version, at));
            } else if b.entries.remove(&key).is_some() {
                let (Some(unit), Some(node), Ok(month)) =
                    (b.scheme.unit_index(&key.0), b.scheme.node_index(&key.1), key.2.parse::<Month>())
                else {
                    return Ok(None);
                };
                touched.extend(b.board.remove_entry(node, unit, month.month));
            }
        }
        let (count, sum, latest): (i64, i64, Option<String>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(version), 0) AS BIGINT), MAX(updated_at) FROM entries WHERE year = $1 AND state = 'accepted'",
        )
        .bind(year)
        .fetch_one(self.pool())
        .await?;
        if (count as usize, sum, latest.as_deref()) != (b.entries.len(), b.version_sum(), b.latest()) {
            return Ok(None);
        }
        touched.sort_by_key(|p| p.to_string());
        touched.dedup();
        Ok(Some((touched, before)))
    }

    /// Writes the results of the units whose results in the touched periods differ
    /// from `before` (or whose stored text is not known to be current).
    async fn save_touched(&self, year: i32, b: &mut Board, before: &[jixiao_core::score::PeriodResult], touched: &[Period]) -> Result<()> {
        let mut changed = Vec::new();
        for &p in touched {
            let (Some(result), Some(old)) = (b.board.period(p), before.iter().find(|r| r.period == p)) else { continue };
            let period = p.to_string();
            for (unit, u) in b.scheme.units.iter().enumerate() {
                let key = (period.clone(), u.id.clone());
                if result.unit_equal(old, unit) && b.stored.contains_key(&key) {
                    continue;
                }
                let text = result_text(&jixiao_core::score::UnitReport::new(&b.scheme, result, unit))?;
                let hash = text_hash(&text);
                if b.stored.get(&key) != Some(&hash) {
                    changed.push((period.clone(), u.id.clone(), text, hash));
                }
            }
        }
        if changed.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_unaudited().await?;
        let at = now();
        for (period, unit, text, _) in &changed {
            crate::scores::write_row(&mut tx, year, b.version, period, unit, text, &at).await?;
        }
        tx.commit().await?;
        for (period, unit, _, hash) in changed {
            b.stored.insert((period, unit), hash);
        }
        Ok(())
    }
}
