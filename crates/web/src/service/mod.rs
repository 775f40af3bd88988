//! Public service requests in the web layer: intake from every channel (`intake`),
//! the steps of handling (`flow`), the department metrics written as system-filled
//! entries (`metrics`), and the SMS sender (`sms`). Pages (`pages::service`) and
//! Open311 (`open311`) call these, so the form, the queues and the API apply the same
//! rules.

pub mod flow;
pub mod intake;
pub mod metrics;
pub mod sms;

use chrono::{DateTime, Local, NaiveDateTime, Utc};
use jixiao_core::service::Calendar;

use crate::AppState;
use crate::error::WebError;

/// A stored time (RFC 3339 UTC) as local time, for the SLA rules.
pub fn local(stored: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(stored).ok().map(|t| t.with_timezone(&Local).naive_local())
}

/// A local time as stored.
pub fn stored(local: NaiveDateTime) -> String {
    let utc = local.and_local_timezone(Local).earliest().map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc));
    jixiao_store::timestamp(utc)
}

/// The working calendar: the office's days off (`collection.holidays`, shared with
/// reporting deadlines) and working weekend days (`service.workdays`).
pub async fn calendar(state: &AppState) -> Result<Calendar, WebError> {
    let (_, holidays) = crate::collection::calendar(state).await?;
    let workdays = state
        .store
        .setting("service.workdays")
        .await?
        .unwrap_or_default()
        .split([',', ' ', '\n', '，'])
        .filter_map(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .collect::<Vec<_>>();
    Ok(Calendar::new(holidays, workdays))
}

/// The link to a request's query page under the public base URL
/// (`service.public_base_url`, set on the settings page), for SMS to citizens; `None`
/// while no address is set (a relative link means nothing in an SMS).
pub async fn query_link(store: &jixiao_store::Store, case_no: &str) -> Result<Option<String>, WebError> {
    let base = store.setting(crate::pages::admin::settings::PUBLIC_BASE_URL).await?.unwrap_or_default();
    let base = base.trim().trim_end_matches('/');
    Ok((!base.is_empty()).then(|| format!("{base}/service/query?case={}", crate::view::encode_query_value(case_no))))
}
