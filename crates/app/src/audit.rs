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

/// The settings key of how long audit entries are kept, in days.
pub const RETENTION_SETTING: &str = "audit.retention_days";
/// The least retention accepted (等保 2.0: six months), and the default.
pub const MIN_RETENTION_DAYS: i64 = 180;
/// The most: ten years.
pub const MAX_RETENTION_DAYS: i64 = 3650;

/// How long audit entries are kept, in days. Nothing in jixiao deletes them: the
/// setting is the site's promise (shown on the audit page), archives are copies.
pub async fn retention_days(app: &App) -> Result<i64> {
    let stored = app.store.setting(RETENTION_SETTING).await?;
    Ok(stored
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(d))
        .unwrap_or(MIN_RETENTION_DAYS))
}

/// Sets the retention (administrators; audited). Less than 180 days, or more than
/// ten years, is refused.
pub async fn set_retention(app: &App, actor: &Actor, tr: &Tr, days: i64) -> Result<()> {
    actor.require(Action::ManageSettings, Target::Nothing)?;
    if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(AppError::invalid(tr.f("audit_chain.retention_range", &[&days, &MIN_RETENTION_DAYS, &MAX_RETENTION_DAYS])));
    }
    let mut tx = app.store.begin(&actor.name).await?;
    let before = app.store.set_setting(&mut tx, RETENTION_SETTING, &days.to_string()).await?;
    tx.audit("setting.set", "setting", RETENTION_SETTING, before.map(|b| serde_json::json!(b)), Some(serde_json::json!(days.to_string())))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// An archive file of the audit log (`jixiao_store::write_archive`).
#[derive(Debug, Clone)]
pub struct Archive {
    pub text: String,
    pub entries: u64,
    pub first_seq: i64,
    pub last_seq: i64,
}

/// The entries of the days `q` names (`from`, `until`; the other filters are not
/// used: an archive is a consecutive piece of the chain), as an archive file that
/// `jixiao audit check-archive` verifies offline. The export is itself audited.
pub async fn export_archive(app: &App, actor: &Actor, q: &AuditQuery) -> Result<Archive> {
    actor.require(Action::ViewAudit, Target::Nothing)?;
    let keys = app.store.keys().ok_or_else(|| AppError::internal("the store was opened without the key file"))?.clone();
    let filter = filter_of(app, &Tr::new(crate::Lang::default()), q)?;
    let (mut entries, mut first_seq, mut last_seq) = (Vec::new(), 0, 0);
    if let Some((first, last)) = app.store.audit_seq_range(filter.from.as_deref(), filter.until.as_deref()).await? {
        (first_seq, last_seq) = (first, last);
        let mut after = first - 1;
        while after < last {
            let page = app.store.audit_entries(after, 2000).await?;
            let Some(end) = page.last().map(|e| e.seq) else { break };
            entries.extend(page.into_iter().filter(|e| e.seq <= last));
            after = end;
        }
    }
    let text = jixiao_store::write_archive(&entries, &keys, &app.store.now());
    let mut tx = app.store.begin(&actor.name).await?;
    tx.audit(
        "audit.export",
        "audit",
        &format!("{first_seq}-{last_seq}"),
        None,
        Some(serde_json::json!({"entries": entries.len(), "from": q.from, "until": q.until})),
    )
    .await?;
    tx.commit().await?;
    Ok(Archive { text, entries: entries.len() as u64, first_seq, last_seq })
}

/// Checks the whole chain and its anchor (for the audit page and the command line).
pub async fn verify(app: &App, actor: &Actor) -> Result<jixiao_store::AuditReport> {
    actor.require(Action::ViewAudit, Target::Nothing)?;
    Ok(app.store.verify_audit().await?)
}

/// A security event (等保 安全审计): who, from where, what, and the result. `when` is
/// the entry's own time. Written by `security_event`.
#[derive(Debug, Clone)]
pub struct SecurityEvent<'a> {
    /// The audit action, e.g. `security.forbidden`, `auth.login_failed`.
    pub action: &'a str,
    /// Who: a username, `api:<token>`, or `anonymous`.
    pub actor: &'a str,
    /// The client's address (see the web's trusted proxies).
    pub ip: &'a str,
    /// What it was about: a path, a username (cut, see `cut_name`), a case number.
    pub object: &'a str,
    /// `ok` or `refused`.
    pub result: &'a str,
    /// Anything else worth keeping (no secrets).
    pub detail: serde_json::Value,
}

/// Identical events (same action, address and object) written per minute: one. The
/// rest are counted and the count is written with the next event that is written.
/// Events written per minute and process, all kinds together, at most
/// `EVENTS_PER_MINUTE`: a flood of refusals cannot turn into a flood of writes.
pub const EVENTS_PER_MINUTE: u32 = 120;

/// Keys remembered per minute before the oldest minute's are forgotten early.
const MAX_KEYS: usize = 10_000;

/// The bound on security events (see `EVENTS_PER_MINUTE`), per process.
#[derive(Debug, Default)]
pub struct EventGate {
    state: std::sync::Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    minute: i64,
    seen: std::collections::HashSet<(String, String, String)>,
    written: u32,
    /// Events not written (coalesced or over the cap) since the last one written.
    skipped: u64,
}

impl EventGate {
    /// Whether an event of `key` at `minute` is written; if so, how many were skipped
    /// before it.
    fn admit(&self, minute: i64, key: (String, String, String)) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if s.minute != minute || s.seen.len() >= MAX_KEYS {
            s.minute = minute;
            s.seen.clear();
            s.written = 0;
        }
        if s.written >= EVENTS_PER_MINUTE || !s.seen.insert(key) {
            s.skipped += 1;
            return None;
        }
        s.written += 1;
        Some(std::mem::take(&mut s.skipped))
    }
}

/// A typed username kept in the log only as its first four characters and its length:
/// people type their password into the name field, and an unknown name is often one.
pub fn cut_name(name: &str) -> String {
    let n = name.chars().count();
    if n <= 4 {
        return name.to_string();
    }
    format!("{}…({n})", name.chars().take(4).collect::<String>())
}

/// Text fit for an audit object id: no control characters, at most 200 characters.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Records a security event in the audit log (its own transaction), bounded by the
/// process's `EventGate`: returns whether it was written. A failure to write is
/// logged and reported, never hidden.
pub async fn security_event(app: &App, event: SecurityEvent<'_>) -> Result<bool> {
    let object = clean(event.object);
    let minute = app.clock.now().timestamp().div_euclid(60);
    let Some(skipped) = app.events.admit(minute, (event.action.to_string(), event.ip.to_string(), object.clone())) else {
        return Ok(false);
    };
    let mut after = serde_json::json!({"ip": event.ip, "result": event.result});
    if !event.detail.is_null() {
        after["detail"] = event.detail;
    }
    if skipped > 0 {
        after["not_written_before"] = skipped.into();
    }
    let actor = clean(event.actor);
    let actor = if actor.trim().is_empty() { "anonymous".to_string() } else { actor };
    let object = if object.is_empty() { "-".to_string() } else { object };
    let write = async {
        let mut tx = app.store.begin(&actor).await?;
        tx.audit(event.action, "security", &object, None, Some(after)).await?;
        tx.commit().await?;
        Ok::<(), AppError>(())
    };
    if let Err(e) = write.await {
        tracing::error!(error = %e, action = event.action, "a security event could not be written");
        return Err(e);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_events_are_written_once_a_minute_and_all_are_capped() {
        let gate = EventGate::default();
        let key = |n: u32| ("security.csrf".to_string(), "192.0.2.1".to_string(), format!("/p{n}"));
        assert_eq!(gate.admit(1, key(0)), Some(0));
        assert_eq!(gate.admit(1, key(0)), None);
        assert_eq!(gate.admit(1, key(0)), None);
        // Another object is another event; it says two were not written before it.
        assert_eq!(gate.admit(1, key(1)), Some(2));
        assert_eq!(gate.admit(2, key(0)), Some(0), "a new minute");
        for n in 1..EVENTS_PER_MINUTE {
            assert_eq!(gate.admit(2, key(n)), Some(0));
        }
        assert_eq!(gate.admit(2, key(EVENTS_PER_MINUTE)), None, "over the cap");
        assert_eq!(gate.admit(3, key(0)), Some(1));
    }

    #[test]
    fn typed_names_are_cut() {
        assert_eq!(cut_name("root"), "root");
        assert_eq!(cut_name("admin"), "admi…(5)");
        assert_eq!(cut_name("密码是Secret1"), "密码是S…(10)");
    }
}
