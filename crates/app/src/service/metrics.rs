//! Service-request metrics as system-filled entries.
//!
//! An indicator with `"filled_by": "service"` (jixiao's scheme extension) has its
//! fields filled by the system: for every unit with requests in a month, an entry
//! of that indicator and month with the metric values its field keys name
//! (`core::service::metrics`), saved `accepted` by `system:service`. From there the
//! engine scores it like any entry. The entries are rewritten whenever a request
//! closes (or is reopened by a redo), skipping months that are closed or locked, in
//! one transaction with an audit entry listing what changed (`filled`, shared with
//! supervision); its commit rescores the year.
//!
//! Pages that show a department's metrics (its dashboard, the unit's page) read them
//! through `unit_months`, which computes them the same way — the same `facts` of
//! each request and `core::service::monthly_metrics` — so a page and an indicator
//! never disagree.

use jixiao_core::period::Month;
use jixiao_core::scheme::FilledBy;
use jixiao_core::service::{MonthMetrics, RequestFacts, monthly_metrics};
use jixiao_store::ServiceRequest;

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
    let filled = crate::filled::indicators(scheme, FilledBy::Service);
    if filled.is_empty() {
        return Ok(0);
    }
    // A request filed in December may close in January: last year's count too.
    let mut requests = store.dispatched_service_requests(year - 1).await?;
    requests.extend(store.dispatched_service_requests(year).await?);
    let facts: Vec<RequestFacts> = requests.iter().map(|r| facts(&app.clock, r)).collect();
    let metrics = monthly_metrics(&facts);
    crate::filled::write(
        app,
        scheme,
        year,
        FilledBy::Service,
        &filled,
        &metrics.iter().map(|(key, m)| (key.clone(), m.fields())).collect::<Vec<_>>(),
    )
    .await
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
