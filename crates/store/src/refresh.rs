//! Keeping stored scores current: the engine's results for the periods of a year,
//! saved per scheme version so pages read them instead of recomputing. Past periods
//! keep the results of the version they were scored with, because a new version's
//! results are stored beside the old ones, never over them.
//!
//! Rescoring is part of the transaction that changes the data (`WriteTx::commit`, see
//! `tx`): `rescore_on` runs on that transaction's connection, writes the rows whose
//! result changed and the year's data stamp (`stamp`), and the transaction commits
//! data, scores and stamp together. `refresh_scores_from` and `repair_stale_scores`
//! run the same routine in a transaction of their own when the stored stamp shows the
//! scores behind the data — otherwise they only compare the two stamps.
//!
//! A change to month `m` reaches exactly the periods that end in `m` or later: a
//! `ytd` window runs from January to the period's end, a `period` window covers the
//! period's own months, so no period ending before `m` reads it.
//!
//! Each year's results are kept in memory between rescores (a `Board`: the engine's
//! `Scoreboard`, the versions of the accepted entries it holds and what the stored
//! rows hold). A rescore reads the entries changed since (`updated_at` at or after the
//! latest it holds), applies them — only the periods and units they reach are
//! rescored — and then checks the year's data stamp against its own. Any difference —
//! a change it did not see, a record added, replaced or removed, a new scheme version,
//! another process — and it starts over from the database, as the first rescore of a
//! year does: a full recompute compared with the stored rows of every period (of the
//! periods reached, for a year too large to keep). Either way only rows whose result
//! changed are written.
//!
//! What a board remembers of the stored rows is trusted only while `score_stamps`
//! holds the stamp it wrote itself. After another process has rescored the year (its
//! stamp is there), the board still follows the data — it applies that process's
//! entries like its own — but compares every unit of the periods reached with the
//! rows in the database: a change the other process stored and this one's undid
//! would otherwise look like no change at all to this board, and the other
//! process's rows would stay. Without any stamp (rows written by `save_scores`, or by
//! hand) the board starts over.
//!
//! A board advanced inside a transaction has seen uncommitted data, and the rows it
//! believes stored are that transaction's writes: the transaction holds it until it
//! commits and only then puts it back; one that rolls back, fails or is abandoned
//! drops it, so the next rescore starts over (the stamp check would notice the data it
//! saw, but not that the rows it wrote were rolled back).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use jixiao_core::data::{DataError, DataFile, Dataset, EntryRow, validate_entry};
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::Scheme;
use jixiao_core::score::{PeriodReport, PeriodResult, Scoreboard, UnitReport};
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::stamp::{self, DataStamp, EntryStamp, RecordStamp};
use crate::{Backend, Result, Store, StoreError, now};

/// Above this many accepted entries a year is not kept in memory (a province's year
/// would hold hundreds of megabytes); each rescore then recomputes from the database.
const BOARD_LIMIT: usize = 200_000;

/// The first key of PostgreSQL's two-key advisory locks that serialise rescoring a
/// year (the second is the year); "jx" and 1, so other users of advisory locks can
/// keep clear of it.
const ADVISORY_LOCK_SPACE: i32 = 0x6a78_0001;

/// Each year's board, by year. A plain mutex, only held to take or put a board (never
/// across an await): the board itself is owned by whoever rescored with it.
pub(crate) type Boards = std::sync::Mutex<HashMap<i32, Board>>;

type EntryKey = (String, String, String);

pub(crate) struct Board {
    version: i32,
    scheme: Arc<Scheme>,
    board: Scoreboard,
    /// (unit, indicator, month) → (version, updated_at) of the accepted entries held.
    entries: HashMap<EntryKey, (i64, String)>,
    /// The year's records as the board read them (records are not applied one by one:
    /// any change to them starts over).
    records: RecordStamp,
    /// (period, unit) → hash of the stored result text, as this board last wrote or
    /// read the rows.
    stored: HashMap<(String, String), u64>,
    /// (scheme version, stamp) stored with the rows when this board last wrote or read
    /// them. Another stamp in `score_stamps` means another process has rescored since:
    /// `stored` no longer says what the rows hold.
    rows_stamp: (i32, String),
}

impl Board {
    fn entry_stamp(&self) -> EntryStamp {
        EntryStamp {
            count: self.entries.len() as i64,
            version_sum: self.entries.values().map(|v| v.0).sum(),
            latest: self.latest().unwrap_or("").to_string(),
        }
    }

    fn latest(&self) -> Option<&str> {
        self.entries.values().map(|v| v.1.as_str()).max()
    }
}

/// What a rescore did.
pub(crate) struct Rescored {
    /// The board to keep, if the year is small enough.
    pub board: Option<Board>,
    /// The scheme version scored with (`None`: the year has no scheme, nothing to do).
    pub version: Option<i32>,
    /// Score rows written (updated, inserted or deleted).
    pub rows: usize,
}

fn text_hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

fn result_text(u: &UnitReport) -> Result<String> {
    Ok(serde_json::to_value(u).map_err(|e| StoreError::invalid(e.to_string()))?.to_string())
}

/// Takes the year's advisory lock for the rest of the transaction (PostgreSQL; SQLite
/// transactions already hold the one write lock).
pub(crate) async fn lock_year(conn: &mut AnyConnection, backend: Backend, year: i32) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query_scalar::<_, i32>("SELECT CAST(1 AS INTEGER) FROM pg_advisory_xact_lock($1, $2)")
            .bind(ADVISORY_LOCK_SPACE)
            .bind(year)
            .fetch_one(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The message for stored data that does not fit the scheme: each bad row named by
/// what it is (the positions of `DataError` are those of the file the store put
/// together, which nobody has seen).
fn misfit(year: i32, version: i32, file: &DataFile, error: &DataError) -> StoreError {
    const SHOWN: usize = 20;
    let mut lines: Vec<String> = error
        .rows
        .iter()
        .take(SHOWN)
        .map(|row| {
            let index = |prefix: &str| row.location.strip_prefix(prefix)?.strip_suffix(']')?.parse::<usize>().ok();
            let what = match (index("entries["), index("records[")) {
                (Some(i), _) => file.entries.get(i).map(|e| format!("entry {}/{}/{}", e.unit, e.indicator, e.month)),
                (_, Some(i)) => file.records.get(i).map(|r| format!("record of {} for {} on {}", r.unit, r.indicator, r.date)),
                _ => None,
            };
            format!("{}: {}", what.unwrap_or_else(|| row.location.clone()), row.message)
        })
        .collect();
    if error.rows.len() > SHOWN {
        lines.push(format!("… and {} more", error.rows.len() - SHOWN));
    }
    StoreError::invalid(format!(
        "the stored data of {year} does not fit scheme version {version}, so it cannot be scored (nothing was changed):\n  {}",
        lines.join("\n  ")
    ))
}

impl Store {
    pub(crate) fn take_board(&self, year: i32) -> Option<Board> {
        self.boards.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&year)
    }

    pub(crate) fn keep_board(&self, year: i32, board: Board) {
        self.boards.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(year, board);
    }

    /// Makes sure the stored scores of `year` reflect the committed data, and returns
    /// the scheme version they are of. Commits rescore what they change, so this is a
    /// comparison of two stamps unless something changed the data without rescoring
    /// (see `repair_stale_scores`); then it rescores the year.
    pub async fn refresh_scores(&self, year: i32) -> Result<i32> {
        self.refresh_scores_from(year, 1).await
    }

    /// `refresh_scores`, for callers that know the change began in month `from`. Kept
    /// for the callers that rescored after committing; since commits rescore, it only
    /// checks the stamps, and a stale year found that way is rescored whole (what
    /// changed it is unknown).
    pub async fn refresh_scores_from(&self, year: i32, from: u8) -> Result<i32> {
        let _ = from;
        {
            let mut conn = self.pool().acquire().await?;
            if let Some(version) = stamp::current(&mut conn, year).await? {
                return Ok(version);
            }
        }
        self.rescore_year(year, false).await?;
        let mut conn = self.pool().acquire().await?;
        DataStamp::read(&mut conn, year).await?.scheme_version.ok_or_else(|| StoreError::not_found(format!("a scheme for {year}")))
    }

    /// Rescores `year` in a transaction of its own if its stamps differ (checked again
    /// under the year's lock); `discard` starts over even from a board kept in memory.
    /// The rows written, or `None` if it was current after all.
    pub(crate) async fn rescore_year(&self, year: i32, discard: bool) -> Result<Option<usize>> {
        let mut tx = self.begin_unaudited().await?;
        lock_year(&mut tx, self.backend(), year).await?;
        if stamp::current(&mut tx, year).await?.is_some() {
            return Ok(None);
        }
        let kept = self.take_board(year).filter(|_| !discard);
        let done = self.rescore_on(&mut tx, year, 1, kept).await?;
        tx.commit().await?;
        if let Some(board) = done.board {
            self.keep_board(year, board);
        }
        Ok(done.version.map(|_| done.rows))
    }

    /// Brings the stored scores of `year` up to date on `conn`, a transaction holding
    /// the year's lock, after a change to month `from` (1–12) or later; writes the rows
    /// that changed and the data stamp. `kept` is the year's board, if this process has
    /// one. Nothing is committed here.
    pub(crate) async fn rescore_on(&self, conn: &mut AnyConnection, year: i32, from: u8, kept: Option<Board>) -> Result<Rescored> {
        let now_stamp = DataStamp::read(conn, year).await?;
        let Some(version) = now_stamp.scheme_version else {
            return Ok(Rescored { board: None, version: None, rows: 0 });
        };
        let stored_stamp = stamp::stored(conn, year).await?;
        // A board is of use with the same scheme version and rows it can vouch for: the
        // stamp it last wrote, or another process's (a rescore too, which left the rows
        // equal to a recompute; then the rows of the periods reached are compared with
        // the database instead of with what the board remembers). Without a stamp the
        // rows are anyone's guess: start over.
        if let Some(mut b) = kept.filter(|b| b.version == version && stored_stamp.is_some())
            && let Some((touched, before)) = self.advance(conn, year, &mut b, &now_stamp).await?
        {
            let rows_known = stored_stamp.as_ref() == Some(&b.rows_stamp);
            let rows = self.save_touched(conn, year, &mut b, &before, &touched, rows_known).await?;
            stamp::write(conn, year, version, &now_stamp).await?;
            b.rows_stamp = (version, now_stamp.text());
            return Ok(Rescored { board: Some(b), version: Some(version), rows });
        }
        let stored = crate::schemes::scheme_on(conn, year, Some(version)).await?;
        let scheme = Arc::new(stored.compile()?);
        let (entries, versions) = crate::data::accepted_entries_on(conn, self.backend(), year).await?;
        let keep = versions.len() <= BOARD_LIMIT;
        // Starting over compares every period with the stored rows when the year is kept
        // (once; a difference may lie anywhere), and when the stored rows are not known
        // to reflect the data before this change (no stamp, another version); a year too
        // large to keep is otherwise recomputed from `from`.
        let from = if keep || stored_stamp.as_ref().map(|s| s.0) != Some(version) { 1 } else { from };
        let records = crate::data::records_on(conn, year).await?;
        let file = DataFile { entries, records: records.into_iter().map(|r| r.row).collect() };
        let data = Dataset::load(&scheme, &file).map_err(|e| misfit(year, version, &file, &e))?;
        drop(file);
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
        let mut rows = 0;
        for (period, units) in &reports {
            rows += crate::scores::update(conn, self.backend(), year, version, period, units).await?;
        }
        stamp::write(conn, year, version, &now_stamp).await?;
        let board = keep.then(|| Board {
            version,
            scheme,
            board,
            entries: versions,
            records: now_stamp.records.clone(),
            stored: stored_hashes,
            rows_stamp: (version, now_stamp.text()),
        });
        Ok(Rescored { board, version: Some(version), rows })
    }

    /// Applies the entries changed since the board's latest; the periods they reach
    /// with those periods' results before, or `None` when the database holds
    /// something the board did not see (then the board is spoilt: start over).
    async fn advance(
        &self,
        conn: &mut AnyConnection,
        year: i32,
        b: &mut Board,
        stamp: &DataStamp,
    ) -> Result<Option<(Vec<Period>, Vec<PeriodResult>)>> {
        if stamp.records != b.records {
            return Ok(None);
        }
        let since = b.latest().unwrap_or("").to_string();
        let rows = sqlx::query(
            "SELECT unit_id, indicator_id, month, values_json, state, version, updated_at FROM entries \
             WHERE year = $1 AND updated_at >= $2",
        )
        .bind(year)
        .bind(&since)
        .fetch_all(&mut *conn)
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
                if b.entries.get(&key).is_some_and(|v| v.0 == version && v.1 == at) {
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
        if stamp.entries != b.entry_stamp() {
            return Ok(None);
        }
        touched.sort_by_key(|p| p.to_string());
        touched.dedup();
        Ok(Some((touched, before)))
    }

    /// Writes the results of the units whose results in the touched periods differ
    /// from `before` (or whose stored text is not known to be current); the number of
    /// rows written. Unless `rows_known` (the rows are as the board last left them),
    /// every unit of those periods is compared with the row in the database.
    async fn save_touched(
        &self,
        conn: &mut AnyConnection,
        year: i32,
        b: &mut Board,
        before: &[PeriodResult],
        touched: &[Period],
        rows_known: bool,
    ) -> Result<usize> {
        let mut changed = Vec::new();
        for &p in touched {
            let (Some(result), Some(old)) = (b.board.period(p), before.iter().find(|r| r.period == p)) else { continue };
            let period = p.to_string();
            if !rows_known {
                let texts = crate::scores::stored_texts(conn, self.backend(), year, b.version, &period).await?;
                b.stored.retain(|(q, _), _| *q != period);
                b.stored.extend(texts.into_iter().map(|(unit, text)| ((period.clone(), unit), text_hash(&text))));
            }
            for (unit, u) in b.scheme.units.iter().enumerate() {
                let key = (period.clone(), u.id.clone());
                if rows_known && result.unit_equal(old, unit) && b.stored.contains_key(&key) {
                    continue;
                }
                let text = result_text(&UnitReport::new(&b.scheme, result, unit))?;
                let hash = text_hash(&text);
                if b.stored.get(&key) != Some(&hash) {
                    changed.push((period.clone(), u.id.clone(), text, hash));
                }
            }
        }
        let at = now();
        for (period, unit, text, _) in &changed {
            crate::scores::write_row(conn, year, b.version, period, unit, text, &at).await?;
        }
        let rows = changed.len();
        for (period, unit, _, hash) in changed {
            b.stored.insert((period, unit), hash);
        }
        Ok(rows)
    }
}
