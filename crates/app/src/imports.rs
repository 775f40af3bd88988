//! The one path of data files into the store (数据导入): the office's upload on the
//! reporting page and `jixiao data import` alike. A file is the spec §3 JSON (entries
//! and records) or a whole month as the month workbook (`xlsx::month`).
//!
//! Checked whole before anything is written: every row against the year's scheme
//! (`Dataset::load`). Only what differs from the stored data is a change
//! (`KeyedDataFile::changes_from`) — so an export imported again changes nothing — and
//! no change may fall in a closed or locked month (a closed month changes only through
//! an approved correction request, from every front end) or be an entry of a
//! system-filled indicator (filled by the service platform, never by hand).
//! Then one transaction loads it as accepted data with its audit entry, the stored
//! scores it reaches rescored in the same transaction. A record carries a key (given
//! in the file or derived from its content, `core::data::keys`): importing a record
//! again replaces the one of its key instead of adding a copy.

use jixiao_core::data::{Dataset, KeyedDataFile};
use jixiao_core::org::{Action, Target};
use jixiao_core::period::Month;
use serde_json::json;

use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::xlsx::{self, sheet::read_upload};
use crate::{App, periods};

/// What an import loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Entries and records written (new or changed).
    pub entries: usize,
    pub records: usize,
    /// Rows of the file already stored as they are.
    pub unchanged: usize,
    /// The month of a month workbook.
    pub month: Option<Month>,
}

/// Reads a data file's bytes: a month workbook (a zip) checked cell by cell against
/// the scheme, or spec §3 JSON.
pub async fn read(app: &App, tr: &Tr, year: i32, bytes: Vec<u8>) -> Result<(KeyedDataFile, Option<Month>)> {
    let (_, scheme) = app.scheme_of(year).await?;
    if xlsx::is_xlsx(&bytes) {
        match read_upload(move || xlsx::month::read(&bytes, Some(&scheme))).await? {
            Ok(book) => Ok((book.file.into(), Some(book.month))),
            Err(errors) => {
                let lines: Vec<String> =
                    std::iter::once(tr.t("report.xlsx_rejected").to_string()).chain(errors.iter().map(ToString::to_string)).collect();
                Err(AppError::invalid(lines.join("\n")))
            }
        }
    } else {
        let file: KeyedDataFile = serde_json::from_slice(&bytes).map_err(|e| AppError::invalid(tr.f("report.bad_data_file", &[&e])))?;
        Ok((file, None))
    }
}

/// Loads `file` into `year` as accepted data, all or nothing (see the module
/// documentation); `source` names where it came from, for the audit entry.
pub async fn import(app: &App, actor: &Actor, tr: &Tr, year: i32, keyed: &KeyedDataFile, source: &str) -> Result<Imported> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let (_, scheme) = app.scheme_of(year).await?;
    Dataset::load(&scheme, &keyed.unkeyed()).map_err(|e| AppError::invalid(e.to_string()))?;
    let mut tx = app.store.begin(&actor.name).await?;
    let stored = app.store.export_data_in(&mut tx, year).await?;
    let changes = keyed.changes_from(&stored).map_err(|e| AppError::invalid(e.to_string()))?;
    let closed = periods::closed_months(app, year).await?;
    let mut refused: Vec<String> = Vec::new();
    for (i, e) in &changes.entries {
        let at = format!("entries[{i}]: {} {} {}", e.unit, e.indicator, e.month);
        if closed.contains(&e.month) {
            refused.push(format!("{at} — {}", tr.f("report.closed", &[&e.month])));
        }
        if scheme.node_index(&e.indicator).and_then(|n| scheme.indicator(n)).is_some_and(|ind| ind.system_filled()) {
            refused.push(format!("{at} — {}", tr.f("report.system_filled", &[&e.indicator])));
        }
    }
    for (i, r) in &changes.records {
        let month = r.row.date.get(..7).unwrap_or_default();
        if closed.iter().any(|c| c == month) {
            refused.push(format!("records[{i}]: {} {} {} — {}", r.row.unit, r.row.indicator, r.row.date, tr.f("report.closed", &[&month])));
        }
    }
    if !refused.is_empty() {
        return Err(AppError::invalid(refused.join("\n")));
    }
    let unchanged = changes.unchanged;
    let changed = changes.file();
    if changed.entries.is_empty() && changed.records.is_empty() {
        return Ok(Imported { entries: 0, records: 0, unchanged, month: None });
    }
    let summary = app.store.import_keyed_data(&mut tx, year, &changed).await?;
    tx.audit(
        "data.import",
        "data",
        &year.to_string(),
        None,
        Some(json!({"source": source, "entries": summary.entries, "records": summary.records, "unchanged": unchanged})),
    )
    .await?;
    tx.commit().await?;
    Ok(Imported { entries: summary.entries, records: summary.records, unchanged, month: None })
}

/// Reads and imports a file's bytes (`read`, then `import`).
pub async fn import_bytes(app: &App, actor: &Actor, tr: &Tr, year: i32, bytes: Vec<u8>, source: &str) -> Result<Imported> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let (file, month) = read(app, tr, year, bytes).await?;
    let imported = import(app, actor, tr, year, &file, source).await?;
    Ok(Imported { month, ..imported })
}

/// The month's workbook for a whole-month import (`xlsx::month`): one row for every
/// field due from every unit in `actor`'s scope, with the accepted values already
/// in, names beside the ids.
pub async fn template(app: &App, actor: &Actor, month: Month) -> Result<Vec<u8>> {
    use jixiao_core::workflow::EntryState;
    use serde_json::{Map, Value};
    use std::collections::HashMap;
    use xlsx::month::{Cell, Row};
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let (_, scheme) = app.scheme_of(month.year).await?;
    let accepted: HashMap<(String, String), Map<String, Value>> = app
        .store
        .stored_entries(month.year)
        .await?
        .into_iter()
        .filter(|e| e.row.month == month.to_string() && e.state == EntryState::Accepted.code())
        .map(|e| ((e.row.unit, e.row.indicator), e.row.values))
        .collect();
    let mut rows = Vec::new();
    for (ui, unit) in scheme.units.iter().enumerate() {
        if !actor.can(Action::ViewUnit, Target::Unit(&unit.id)) {
            continue;
        }
        for n in crate::collection::due_indicators(&scheme, ui, month.month) {
            let node = &scheme.nodes[n];
            let Some(ind) = &node.indicator else { continue };
            let values = accepted.get(&(unit.id.clone(), node.id.clone()));
            for f in &ind.fields {
                let value = match values.and_then(|v| v.get(&f.key)) {
                    Some(Value::Bool(b)) => Cell::Bool(*b),
                    Some(v) => v.as_f64().map_or(Cell::Empty, Cell::Number),
                    None => Cell::Empty,
                };
                let field_name = if f.name.is_empty() { f.key.as_str() } else { f.name.as_str() };
                rows.push(Row {
                    unit: &unit.id,
                    indicator: &node.id,
                    field: &f.key,
                    value,
                    names: Some((&unit.name, &node.name, field_name)),
                });
            }
        }
    }
    let (bytes, _) = xlsx::month::write(&month.to_string(), rows).map_err(AppError::internal)?;
    Ok(bytes)
}
