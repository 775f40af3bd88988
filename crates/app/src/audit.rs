//! Reading the audit log (处处留迹): entries newest first, filtered by actor, action
//! (or its prefix), object and days — for the audit page and `/api/v1/audit` alike.
//! Days are the site's calendar days (`Clock`). Nobody edits or deletes entries; the
//! store appends them with every change.

use chrono::NaiveDate;
use jixiao_core::org::{Action, Target};
use jixiao_store::{AuditEntry, AuditFilter};

use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;

/// A search as typed: each field optional, days as `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// First day included.
    pub from: Option<String>,
    /// Last day included.
    pub until: Option<String>,
    pub page: Option<usize>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The store's filter of a query; an unreadable day is refused, named.
pub fn filter_of(app: &App, tr: &Tr, q: &AuditQuery) -> Result<AuditFilter> {
    let day = |v: &Option<String>, after: i64, name: &str| -> Result<Option<String>> {
        let Some(text) = nonempty(v) else { return Ok(None) };
        let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| AppError::invalid(tr.f("audit.bad_day", &[&name, &text])))?
            + chrono::Duration::days(after);
        let start = date.and_hms_opt(0, 0, 0).ok_or_else(|| AppError::invalid(tr.f("audit.bad_day", &[&name, &text])))?;
        Ok(Some(app.clock.to_stored(start)))
    };
    Ok(AuditFilter {
        actor: nonempty(&q.actor),
        action: nonempty(&q.action),
        object_type: nonempty(&q.object_type),
        object_id: nonempty(&q.object_id),
        from: day(&q.from, 0, "from")?,
        // The whole `until` day is included.
        until: day(&q.until, 1, "until")?,
    })
}

/// One page of the entries `q` selects, and how many it selects in all.
pub async fn search(app: &App, actor: &Actor, tr: &Tr, q: &AuditQuery, offset: i64, limit: i64) -> Result<(Vec<AuditEntry>, i64)> {
    actor.require(Action::ViewAudit, Target::Nothing)?;
    let filter = filter_of(app, tr, q)?;
    Ok(app.store.search_audit(&filter, offset, limit).await?)
}
