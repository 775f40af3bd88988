//! Supervision metrics as system-filled entries.
//!
//! An indicator with `"filled_by": "supervision"` has its fields filled by the system:
//! for every unit with tasks in a month, an entry of that indicator and month with the
//! metric values its field keys name (`core::supervision::metrics`), saved `accepted`
//! by `system:supervision`. The entries are rewritten after every step of a task and
//! by the daily overdue pass (a task turns overdue with time alone), skipping months
//! that are closed, in one transaction with an audit entry listing what changed; its
//! commit rescores the year.

use std::collections::HashMap;

use jixiao_core::data::EntryRow;
use jixiao_core::period::Month;
use jixiao_core::scheme::FilledBy;
use jixiao_core::supervision::{MonthMetrics, TaskFacts, monthly_metrics};
use jixiao_store::{PeriodState, SupervisionTask};
use serde_json::{Map, Value, json};

use super::tasks::date;
use crate::error::AppError;
use crate::{App, Clock};

/// What the metrics need of a stored task, in the site's calendar.
pub fn facts(clock: &Clock, t: &SupervisionTask) -> Option<TaskFacts> {
    let day = |s: &str| clock.from_stored(s).map(|d| d.date());
    let verified = matches!(t.state.as_str(), "verified" | "evaluated");
    let evaluated = t.evaluated_at.as_deref().and_then(day);
    Some(TaskFacts {
        units: t.units.iter().map(|u| u.unit_id.clone()).collect(),
        assigned: day(&t.created_at)?,
        deadline: date(&t.deadline)?,
        claimed: t.claimed_at.as_deref().and_then(day),
        verified,
        evaluations: match evaluated {
            Some(d) => t.units.iter().filter_map(|u| u.score.map(|s| (u.unit_id.clone(), s, d))).collect(),
            None => Vec::new(),
        },
    })
}

/// Rewrites the system-filled entries of `year` (their commit rescores it); the number
/// of entries changed. A year without a scheme or without such indicators does nothing.
pub async fn refresh_year(app: &App, year: i32) -> Result<usize, AppError> {
    let Some((_, scheme)) = app.latest_scheme(year).await? else { return Ok(0) };
    write_entries(app, &scheme, year).await
}

/// Rewrites the system-filled entries of `year` for `scheme` (without rescoring);
/// the number of entries changed.
pub async fn write_entries(app: &App, scheme: &jixiao_core::scheme::Scheme, year: i32) -> Result<usize, AppError> {
    let store = &app.store;
    let filled: Vec<(String, Vec<String>)> = scheme
        .indicators
        .iter()
        .filter_map(|&n| {
            let ind = scheme.nodes[n].indicator.as_ref()?;
            (ind.filled_by == Some(FilledBy::Supervision))
                .then(|| (scheme.nodes[n].id.clone(), ind.fields.iter().map(|f| f.key.clone()).collect()))
        })
        .collect();
    if filled.is_empty() {
        return Ok(0);
    }
    let tasks = store.supervision_tasks(None).await?;
    let facts: Vec<TaskFacts> = tasks.iter().filter_map(|t| facts(&app.clock, t)).collect();
    let metrics = monthly_metrics(&facts, app.clock.today());
    let mut open: HashMap<String, bool> = HashMap::new();
    let mut tx = store.begin("system:supervision").await?;
    let mut changed = Vec::new();
    for ((unit, month), m) in &metrics {
        if month.year != year || scheme.unit_index(unit).is_none() {
            continue;
        }
        let month_text = month.to_string();
        if !*open.entry(month_text.clone()).or_insert(store.period_state(year, &month_text).await? == PeriodState::Open) {
            continue;
        }
        let values = m.fields();
        for (indicator, keys) in &filled {
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
    tx.audit("supervision.metrics", "scores", &year.to_string(), None, Some(json!({"entries": changed}))).await?;
    tx.commit().await?;
    Ok(n)
}

/// The metrics of `unit` in each of `months` as of today, as the system-filled entries
/// have them; a month without tasks is all zero.
pub async fn unit_months(app: &App, unit: &str, months: &[Month]) -> Result<Vec<(Month, MonthMetrics)>, AppError> {
    let tasks = app.store.supervision_tasks(Some(&[unit.to_string()])).await?;
    let facts: Vec<TaskFacts> = tasks.iter().filter_map(|t| facts(&app.clock, t)).collect();
    let mut metrics = monthly_metrics(&facts, app.clock.today());
    Ok(months.iter().map(|m| (*m, metrics.remove(&(unit.to_string(), *m)).unwrap_or_default())).collect())
}
