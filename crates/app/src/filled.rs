//! System-filled entries (`filled_by`, jixiao's scheme extension): the one writer of
//! the entries the system fills from a source's monthly metrics — service requests
//! (`service::metrics`) and supervision tasks (`supervision::metrics`). For every unit
//! and month with metrics, each indicator filled by the source gets an entry with the
//! values its field keys name, saved `accepted` by `system:<source>`, skipping months
//! that are not open and entries already so, in one transaction with an audit entry
//! (`<source>.metrics`) listing what changed; its commit rescores the year.

use std::collections::{BTreeMap, HashMap};

use jixiao_core::data::EntryRow;
use jixiao_core::period::Month;
use jixiao_core::scheme::{FilledBy, Scheme};
use jixiao_store::PeriodState;
use serde_json::{Map, Value, json};

use crate::App;
use crate::error::AppError;

/// The indicators of `scheme` filled by `source`, with their field keys.
pub fn indicators(scheme: &Scheme, source: FilledBy) -> Vec<(String, Vec<String>)> {
    scheme
        .indicators
        .iter()
        .filter_map(|&n| {
            let ind = scheme.nodes[n].indicator.as_ref()?;
            (ind.filled_by == Some(source)).then(|| (scheme.nodes[n].id.clone(), ind.fields.iter().map(|f| f.key.clone()).collect()))
        })
        .collect()
}

/// Writes the entries of `year` of the `filled` indicators (from `indicators`) from the
/// metrics per (unit, month); the number of entries changed.
pub async fn write(
    app: &App,
    scheme: &Scheme,
    year: i32,
    source: FilledBy,
    filled: &[(String, Vec<String>)],
    metrics: &[((String, Month), BTreeMap<&'static str, f64>)],
) -> Result<usize, AppError> {
    let store = &app.store;
    let mut open: HashMap<String, bool> = HashMap::new();
    let mut tx = store.begin(&format!("system:{}", source.code())).await?;
    let mut changed = Vec::new();
    for ((unit, month), values) in metrics {
        if month.year != year || scheme.unit_index(unit).is_none() {
            continue;
        }
        let month_text = month.to_string();
        if !*open.entry(month_text.clone()).or_insert(store.period_state(year, &month_text).await? == PeriodState::Open) {
            continue;
        }
        for (indicator, keys) in filled {
            let mut row_values = Map::new();
            for k in keys {
                if let Some(v) = values.get(k.as_str()) {
                    row_values.insert(k.clone(), json!(jixiao_core::round::round_half_away(*v, 4)));
                }
            }
            if row_values.is_empty() {
                continue;
            }
            let current = store.entry(year, unit, indicator, &month_text).await?;
            if current.as_ref().is_some_and(|e| e.row.values == row_values && e.state == "accepted") {
                continue;
            }
            let row = EntryRow { unit: unit.clone(), indicator: indicator.clone(), month: month_text.clone(), values: row_values.clone() };
            store.save_entry(&mut tx, year, &row, current.as_ref().map(|e| e.version), "accepted").await?;
            changed.push(json!({"unit": unit, "indicator": indicator, "month": month_text, "values": Value::Object(row_values)}));
        }
    }
    if changed.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let n = changed.len();
    tx.audit(&format!("{}.metrics", source.code()), "scores", &year.to_string(), None, Some(json!({"entries": changed}))).await?;
    tx.commit().await?;
    Ok(n)
}
