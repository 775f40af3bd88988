//! Deadline reminders (催报) as messages: in the last days before a month's report
//! deadline, and after it, every reporter (单位填报员) of a unit with indicators still
//! not reported gets an SMS in the outbox — at most one per user, unit, month and day,
//! however often the office presses the button, the daily job runs or cron runs
//! `jixiao data remind`.
//!
//! The same rule decides the reminder on the unit's dashboard. The message goes to
//! `user:<username>`: the SMS sender looks up the number.

use jixiao_core::org::{Action, Role, Target};
use jixiao_core::period::Month;
use jixiao_store::NewMessage;
use serde_json::json;

use crate::App;
use crate::actor::Actor;
use crate::collection::due_indicators;
use crate::error::AppError;
use crate::i18n::Tr;

/// Reminders start this many days before the deadline.
pub const REMINDER_DAYS: i64 = 5;

/// The reminder text for a unit with `open` indicators not reported and `days_left`
/// until the deadline (negative once passed), if one is due.
pub fn reminder_text(tr: &Tr, deadline: &str, days_left: i64, open: usize) -> Option<String> {
    match (open, days_left) {
        (0, _) => None,
        (n, left) if left < 0 => Some(tr.f("home.reminder_late", &[&deadline, &n])),
        (n, left) if left <= REMINDER_DAYS => Some(tr.f("home.reminder", &[&deadline, &left, &n])),
        _ => None,
    }
}

/// Queues the reminders of `month` as of today, with their audit entry, in one
/// transaction; returns how many messages were new.
pub async fn queue(app: &App, actor: &Actor, month: Month) -> Result<usize, AppError> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let (store, today) = (&app.store, app.clock.today());
    let (_, scheme) = app.scheme_of(month.year).await?;
    let scheme = scheme.as_ref();
    let deadline = crate::calendar::deadline(store, month).await?;
    let days_left = (deadline - today).num_days();
    let reported: std::collections::HashSet<(String, String)> =
        store.reported_in_month(month.year, &month.to_string()).await?.into_iter().collect();
    // Messages are data, written in the default language.
    let tr = Tr::default();
    let mut reporters: Vec<(String, String)> = Vec::new();
    for user in store.users().await?.into_iter().filter(|u| !u.disabled) {
        let Some(unit) = user.unit_id.clone() else { continue };
        if store.roles(user.id).await?.iter().any(|g| g.role == Role::Reporter.code()) {
            reporters.push((unit, user.username));
        }
    }
    let mut tx = store.begin(&actor.name).await?;
    let mut queued = 0;
    for (u, unit) in scheme.units.iter().enumerate() {
        let open = due_indicators(scheme, u, month.month)
            .into_iter()
            .filter(|&n| !reported.contains(&(unit.id.clone(), scheme.nodes[n].id.clone())))
            .count();
        let Some(text) = reminder_text(&tr, &deadline.to_string(), days_left, open) else { continue };
        for (_, username) in reporters.iter().filter(|(r, _)| *r == unit.id) {
            let message = NewMessage {
                channel: "sms".into(),
                recipient: format!("user:{username}"),
                body: format!("【{}】{}：{text}", tr.t("app.name"), unit.name),
                purpose: "reminder".into(),
                dedupe_key: Some(format!("reminder:{month}:{}:{username}:{today}", unit.id)),
            };
            if crate::service::sms::queue(app, &mut tx, &message).await?.is_some() {
                queued += 1;
            }
        }
    }
    tx.audit(
        "outbox.reminders",
        "outbox",
        &month.to_string(),
        None,
        Some(json!({"queued": queued, "today": today.to_string(), "deadline": deadline.to_string()})),
    )
    .await?;
    tx.commit().await?;
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn reminders_before_and_after_the_deadline() {
        let tr = Tr::new(Lang::Zh);
        assert_eq!(reminder_text(&tr, "2027-04-15", 6, 3), None, "too early");
        assert_eq!(reminder_text(&tr, "2027-04-15", 2, 0), None, "nothing open");
        let soon = reminder_text(&tr, "2027-04-15", 5, 3).unwrap();
        assert!(soon.contains("2027-04-15") && soon.contains("5 天") && soon.contains("3 项"), "{soon}");
        let late = reminder_text(&tr, "2027-04-15", -1, 2).unwrap();
        assert!(late.contains("已于 2027-04-15 截止") && late.contains("2 项"), "{late}");
    }
}
