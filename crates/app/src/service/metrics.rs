//! Service-request metrics as system-filled entries.
//!
//! An indicator with `"filled_by": "service"` (jixiao's scheme extension) has its
//! fields filled by the system: for every unit with requests in a month, an entry
//! of that indicator and month with the metric values its field keys name
//! (`core::service::metrics`), saved `accepted` by `system:service`. From there the
//! engine scores it like any entry. The entries are rewritten whenever a request
//! closes (or is reopened by a redo), skipping months that are closed or locked, in
//! one transaction with an audit entry listing what changed; then the year is
//! rescored before the step returns.
//!
//! Pages that show a department's metrics (its dashboard, the unit's page) read them
//! through `unit_months`, which computes them the same way — the same `facts` of
//! each request and `core::service::monthly_metrics` — so a page and an indicator
//! never disagree.

use std::collections::HashMap;

use jixiao_core::data::EntryRow;
use jixiao_core::period::Month;
use jixiao_core::service::{MonthMetrics, RequestFacts, monthly_metrics};
use jixiao_store::{PeriodState, ServiceRequest};
use serde_json::{Map, Value, json};

use crate::error::AppError;
use crate::{App, Clock};

/// What the metrics need of a stored request, in the site's wall-clock time.
pub fn facts(clock: &Clock, r: &ServiceRequest) -> RequestFacts {
    let local = |t: &str| clock.from_stored(t);
    RequestFacts {
        unit: r.unit_id.clone(),
        first_dispatched: r.first_dispatched_at.as_deref().and_then(local),
        deadline: r.deadline.as_deref().and_then(local),
        done: r.done_at.as_deref().and_then(local),
        closed: if r.merged_into.is_some() { None } else { r.closed_at.as_deref().and_then(local) },
        rating: r.rating.as_deref().and_then(|x| x.parse().ok()),
        redo_count: u32::try_from(r.redo_count).unwrap_or(0),
    }
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
            (ind.filled_by == Some(jixiao_core::scheme::FilledBy::Service))
                .then(|| (scheme.nodes[n].id.clone(), ind.fields.iter().map(|f| f.key.clone()).collect()))
        })
        .collect();
    if filled.is_empty() {
        return Ok(0);
    }
    // A request filed in December may close in January: last year's count too.
    let mut requests = store.dispatched_service_requests(year - 1).await?;
    requests.extend(store.dispatched_service_requests(year).await?);
    let facts: Vec<RequestFacts> = requests.iter().map(|r| facts(&app.clock, r)).collect();
    let metrics = monthly_metrics(&facts);
    let mut open: HashMap<String, bool> = HashMap::new();
    let mut tx = store.begin("system:service").await?;
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
    tx.audit("service.metrics", "scores", &year.to_string(), None, Some(json!({"entries": changed}))).await?;
    tx.commit().await?;
    Ok(n)
}

/// The metrics of department `unit` in each of `months` (local calendar months), as
/// the system-filled entries have them; a month without requests is all zero.
pub async fn unit_months(app: &App, unit: &str, months: &[Month]) -> Result<Vec<(Month, MonthMetrics)>, AppError> {
    let Some(first) = months.iter().min() else { return Ok(Vec::new()) };
    let start = chrono::NaiveDate::from_ymd_opt(first.year, u32::from(first.month), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| AppError::Internal(format!("month {first}")))?;
    // Stored times are UTC: start a day early, the months are then picked in local time.
    let since = app.clock.to_stored(start - chrono::Duration::days(1));
    let requests = app.store.unit_service_requests_since(unit, &since).await?;
    let facts: Vec<RequestFacts> = requests.iter().map(|r| facts(&app.clock, r)).collect();
    let mut metrics = monthly_metrics(&facts);
    Ok(months.iter().map(|m| (*m, metrics.remove(&(unit.to_string(), *m)).unwrap_or_default())).collect())
}
