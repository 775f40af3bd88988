//! Public service requests (公共服务诉求): intake from every channel (`intake`), the
//! steps of handling (`flow`), the department metrics written as system-filled
//! entries (`metrics`), the SMS sender (`sms`), and the citizens' query passwords
//! (`privacy`: derived with a key, stored only as a keyed hash, filled into the SMS
//! at send time). The pages, Open311 and the jobs
//! call these, so the form, the queues and the API apply the same rules.
//!
//! Times of requests are stored in UTC; the time limits and overdue lights of
//! `core::service` work on the site's wall-clock time (`Clock::from_stored`,
//! `Clock::to_stored`) and the site's working calendar (`calendar`).

pub mod categories;
pub mod flow;
pub mod intake;
pub mod metrics;
pub mod privacy;
pub mod requests;
pub mod sms;

use jixiao_core::service::Calendar;

use crate::calendar::WorkingCalendar;
use crate::error::Result;
use crate::settings::PUBLIC_BASE_URL;
use crate::{App, Store};

/// The working calendar of time limits: the one of report deadlines.
pub async fn calendar(app: &App) -> Result<Calendar> {
    Ok(WorkingCalendar::load(&app.store).await?.days)
}

/// The link to a request's query page under the public base URL
/// (`service.public_base_url`, set on the settings page), for SMS to citizens; `None`
/// while no address is set (a relative link means nothing in an SMS).
pub async fn query_link(store: &Store, case_no: &str) -> Result<Option<String>> {
    let base = store.setting(PUBLIC_BASE_URL).await?.unwrap_or_default();
    let base = base.trim().trim_end_matches('/');
    Ok((!base.is_empty()).then(|| format!("{base}/service/query?case={}", crate::text::url_encode(case_no))))
}
