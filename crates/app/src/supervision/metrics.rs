//! Supervision metrics as system-filled entries.
//!
//! An indicator with `"filled_by": "supervision"` has its fields filled by the system:
//! for every unit with tasks in a month, an entry of that indicator and month with the
//! metric values its field keys name (`core::supervision::metrics`), saved `accepted`
//! by `system:supervision`. The entries are rewritten after every step of a task and
//! by the daily overdue pass (a task turns overdue with time alone), skipping months
//! that are closed, in one transaction with an audit entry listing what changed; its
//! commit rescores the year (the writing is `filled`'s, shared with the service).

use jixiao_core::period::Month;
use jixiao_core::scheme::FilledBy;
use jixiao_core::supervision::{MonthMetrics, TaskFacts, monthly_metrics};
use jixiao_store::SupervisionTask;

use super::date;
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
    let filled = crate::filled::indicators(scheme, FilledBy::Supervision);
    if filled.is_empty() {
        return Ok(0);
    }
    let tasks = store.supervision_tasks(None).await?;
    let facts: Vec<TaskFacts> = tasks.iter().filter_map(|t| facts(&app.clock, t)).collect();
    let metrics = monthly_metrics(&facts, app.clock.today());
    crate::filled::write(
        app,
        scheme,
        year,
        FilledBy::Supervision,
        &filled,
        &metrics.iter().map(|(key, m)| (key.clone(), m.fields())).collect::<Vec<_>>(),
    )
    .await
}

/// The metrics of `unit` in each of `months` as of today, as the system-filled entries
/// have them; a month without tasks is all zero.
pub async fn unit_months(app: &App, unit: &str, months: &[Month]) -> Result<Vec<(Month, MonthMetrics)>, AppError> {
    let tasks = app.store.supervision_tasks(Some(&[unit.to_string()])).await?;
    let facts: Vec<TaskFacts> = tasks.iter().filter_map(|t| facts(&app.clock, t)).collect();
    let mut metrics = monthly_metrics(&facts, app.clock.today());
    Ok(months.iter().map(|m| (*m, metrics.remove(&(unit.to_string(), *m)).unwrap_or_default())).collect())
}
