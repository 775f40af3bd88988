//! Public service requests (公共服务诉求) in the browser:
//! - `public` — the citizen's pages, without login: the request form (`/service`),
//!   the confirmation with case number and query password, and the query page
//!   (`/service/query`: case number + password → status history and replies, and
//!   the rating once verified), rate-limited per client address;
//! - `handling` — the office's dispatch queue (`/service/dispatch`), a department's
//!   queue (`/service/queue`), a request's page with the steps the viewer may take
//!   (`/service/requests/{id}`);
//! - `office` — the SMS outbox (`/service/outbox`) and the Open311 API keys
//!   (`/service/keys`);
//! - `categories` — the office's editor of the categories (`/service/categories`).
//!
//! `metrics_rows` is a department's monthly figures as its dashboard and the unit's
//! page show them.

pub mod categories;
pub mod handling;
pub mod office;
pub mod public;

use jixiao_store::ServiceCategory;

/// A category as the pages list it.
pub struct CategoryRow {
    pub code: String,
    pub name: String,
    pub group: String,
}

pub fn category_rows(categories: &[ServiceCategory]) -> Vec<CategoryRow> {
    categories.iter().map(|c| CategoryRow { code: c.code.clone(), name: c.name.clone(), group: c.group_name.clone() }).collect()
}

/// One month of a department's service metrics as pages show them.
pub struct MetricsRow {
    pub month: String,
    /// Whether it is the calendar month now (still counting).
    pub current: bool,
    pub received: u32,
    pub closed: u32,
    pub rated: u32,
    pub satisfied: u32,
    pub on_time_rate: String,
    pub satisfaction_rate: String,
    pub redo_rate: String,
    pub handling_hours: String,
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_string(), |r| format!("{}%", jixiao_core::round::round_half_away(r * 100.0, 1)))
}

/// The months a department's service figures are shown for: the month the dashboard
/// reports on (whose figures filled the indicators) and the calendar month now, in
/// which requests are still coming in.
pub fn metrics_months(state: &crate::AppState) -> Vec<jixiao_core::period::Month> {
    let now = jixiao_core::period::Month::of_date(state.clock.today());
    let mut months = vec![jixiao_app::collection::due_month(state), now];
    months.sort();
    months.dedup();
    months
}

/// Department `unit`'s service metrics of `months`, computed as the system-filled
/// indicator entries are (`service::metrics::unit_months`).
pub async fn metrics_rows(
    state: &crate::AppState,
    unit: &str,
    months: &[jixiao_core::period::Month],
) -> Result<Vec<MetricsRow>, crate::error::WebError> {
    let now = jixiao_core::period::Month::of_date(state.clock.today());
    Ok(jixiao_app::service::metrics::unit_months(state, unit, months)
        .await?
        .into_iter()
        .map(|(month, m)| MetricsRow {
            month: month.to_string(),
            current: month == now,
            received: m.received,
            closed: m.closed,
            rated: m.rated,
            satisfied: m.satisfied,
            on_time_rate: percent(m.on_time_rate()),
            satisfaction_rate: percent(m.satisfaction_rate()),
            redo_rate: percent(m.redo_rate()),
            handling_hours: m.handling_hours().map_or_else(|| "—".to_string(), |h| jixiao_core::round::round_half_away(h, 1).to_string()),
        })
        .collect())
}
