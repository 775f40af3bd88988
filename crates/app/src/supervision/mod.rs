//! Supervision tasks (督办事项): assigning a task (`tasks::create`, from a red light,
//! an escalated service request, a leader's comment or by hand), who sees which task
//! and the steps of its lifecycle (`tasks`), the ledger with its filters and workbook
//! (`ledger`), the system-filled metrics per unit and month (`metrics`), the daily
//! overdue pass — reminders into the outbox and the optional deduction record
//! (`overdue`) — and the leader's dashboard (`dashboard`).
//!
//! Times are stored in UTC; deadlines are local dates of the site, and the overdue
//! light counts working days of the site's working calendar (the one of report
//! deadlines and service time limits).

pub mod dashboard;
pub mod ledger;
pub mod metrics;
pub mod overdue;
pub mod tasks;

use jixiao_core::calendar::Calendar;

use crate::App;
use crate::error::{AppError, Result};
use crate::i18n::Tr;

/// A stored or typed date (`2027-03-10`); every module of tasks reads deadlines so.
pub fn date(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// The working calendar of deadlines.
pub async fn calendar(app: &App) -> Result<Calendar> {
    crate::service::calendar(app).await
}

/// `Ok` if `text` has at most `max` characters, else the refusal naming the field by
/// its label `supervision.field.<field>`.
pub(crate) fn bounded(tr: &Tr, field: &str, text: &str, max: usize) -> Result<()> {
    if crate::input::fits(text, max) {
        Ok(())
    } else {
        let key = format!("supervision.field.{field}");
        let label = tr.t(&key);
        Err(AppError::invalid_with(
            tr.f("input.field_too_long", &[&label, &max, &text.chars().count()]),
            serde_json::json!({"field": field}),
        ))
    }
}

/// A refusal of `field` (the message names it for people; the details for programs).
pub(crate) fn bad(field: &str, message: String) -> AppError {
    AppError::invalid_with(message, serde_json::json!({"field": field}))
}
