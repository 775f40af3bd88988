//! `GET /audit`: the audit log (处处留迹) with filters — actor, action (or its prefix),
//! object, time range — newest first, paginated in the database.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{NaiveDate, TimeZone};
use jixiao_store::AuditFilter;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, PER_PAGE, Pager, page_of};

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub page: Option<usize>,
}

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    rows: Vec<AuditRow>,
    pager: Pager,
    error: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A `YYYY-MM-DD` date as the start of that day in local time, stored form.
fn day_start(text: &str, days_after: i64) -> Option<String> {
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()? + chrono::Duration::days(days_after);
    let local = chrono::Local.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).earliest()?;
    Some(jixiao_store::timestamp(local.with_timezone(&chrono::Utc)))
}

/// The filter of a query; an unreadable date is an error named for the user.
pub fn filter_of(q: &AuditQuery) -> Result<AuditFilter, String> {
    let date = |v: &Option<String>, after: i64, name: &str| -> Result<Option<String>, String> {
        match nonempty(v) {
            None => Ok(None),
            Some(text) => day_start(&text, after).map(Some).ok_or_else(|| format!("{name}: `{text}` is not a date (YYYY-MM-DD)")),
        }
    };
    Ok(AuditFilter {
        actor: nonempty(&q.actor),
        action: nonempty(&q.action),
        object_type: nonempty(&q.object_type),
        object_id: nonempty(&q.object_id),
        from: date(&q.from, 0, "from")?,
        // The whole `until` day is included.
        until: date(&q.until, 1, "until")?,
    })
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/audit", "audit.title", vec![], None).await;
    let keep: Vec<(&str, String)> = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("object_type", &q.object_type),
        ("object_id", &q.object_id),
        ("from", &q.from),
        ("until", &q.until),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.clone().unwrap_or_default()))
    .collect();
    let (rows, pager, error) = match filter_of(&q) {
        Ok(filter) => {
            let page = q.page.unwrap_or(1).max(1);
            let offset = ((page - 1) * PER_PAGE) as i64;
            let (entries, total) = state.store.search_audit(&filter, offset, PER_PAGE as i64).await?;
            let (_, pager) = page_of(total as usize, page, "/audit", &keep);
            let rows = entries
                .into_iter()
                .map(|e| AuditRow {
                    seq: e.seq,
                    at: state.clock.short(&e.at),
                    actor: e.actor,
                    action: e.action,
                    object_type: chrome.tr.object(&e.object_type).to_string(),
                    object_id: e.object_id,
                    before: e.before_json.unwrap_or_default(),
                    after: e.after_json.unwrap_or_default(),
                })
                .collect();
            (rows, pager, None)
        }
        Err(message) => (Vec::new(), page_of(0, 1, "/audit", &keep).1, Some(message)),
    };
    render(AuditPage { chrome, q, rows, pager, error })
}
