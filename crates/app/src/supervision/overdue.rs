//! The daily overdue pass (督办预警): for every open task with a yellow or red light,
//! a reminder to the reporters and heads of each of its units that has not finished
//! it, into the outbox (at most one per task, user and day, however often it runs);
//! for every task that turned overdue, once, the deduction record of the scheme's
//! `supervision` rule for its lead unit (dated the deadline's day, so it counts in
//! that month); then the year's system-filled metrics, which move with time alone.
//!
//! Run by the daily job `supervision` and by the office's button on the ledger.

use std::collections::HashMap;

use jixiao_core::org::{Action, Role, Target};
use jixiao_core::service::Light;
use jixiao_core::supervision::metrics::overdue;
use jixiao_store::{NewMessage, NewTaskEvent};
use serde_json::json;

use super::date;
use super::tasks::light;
use crate::App;
use crate::actor::Actor;
use crate::error::AppError;
use crate::i18n::Tr;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub reminders: usize,
    pub deductions: usize,
    pub entries: usize,
}

/// One overdue pass as `actor` (the office or the job acting as it).
pub async fn run(app: &App, actor: &Actor) -> Result<Pass, AppError> {
    actor.require(Action::VerifySupervision, Target::Nothing)?;
    let store = &app.store;
    let today = app.clock.today();
    let calendar = super::calendar(app).await?;
    let tasks = store.supervision_tasks(None).await?;
    let units: HashMap<String, String> = store.units().await?.into_iter().map(|u| (u.id, u.name)).collect();
    // Who hears of a unit's task: its enabled reporters and heads.
    let mut people: Vec<(String, String)> = Vec::new();
    for user in store.users().await?.into_iter().filter(|u| !u.disabled) {
        let Some(unit) = user.unit_id.clone() else { continue };
        if store.roles(user.id).await?.iter().any(|g| g.role == Role::Reporter.code() || g.role == Role::Head.code()) {
            people.push((unit, user.username));
        }
    }
    // Messages and records are data, written in the default language.
    let tr = Tr::default();
    let mut pass = Pass::default();
    let mut tx = store.begin(&actor.name).await?;
    for t in &tasks {
        let Some(lit) = light(t, &calendar, today) else { continue };
        if lit == Light::Green {
            continue;
        }
        let key = if lit == Light::Red { "supervision.sms.overdue" } else { "supervision.sms.due_soon" };
        let text = tr.f(key, &[&tr.t("sms.sender"), &t.code, &t.title, &t.deadline]);
        for u in &t.units {
            for (_, username) in people.iter().filter(|(unit, _)| *unit == u.unit_id) {
                let message = NewMessage {
                    channel: "sms".into(),
                    recipient: format!("user:{username}"),
                    body: format!("{text}（{}）", units.get(&u.unit_id).map_or(u.unit_id.as_str(), String::as_str)),
                    purpose: "supervision".into(),
                    dedupe_key: Some(format!("supervision:{}:{}:{username}:{today}", t.code, u.unit_id)),
                };
                if crate::service::sms::queue(app, &mut tx, &message).await?.is_some() {
                    pass.reminders += 1;
                }
            }
        }
    }
    let mut years_touched = vec![chrono::Datelike::year(&today)];
    for t in tasks.iter().filter(|t| !t.deducted) {
        let Some(f) = super::metrics::facts(&app.clock, t) else { continue };
        if overdue(&f, today) != Some(true) {
            continue;
        }
        let Some(deadline) = date(&t.deadline) else { continue };
        let year = chrono::Datelike::year(&deadline);
        let Some((_, scheme)) = app.latest_scheme(year).await? else { continue };
        let Some(rule) = scheme.file.supervision.clone() else { continue };
        let Some(lead) = t.lead_unit() else { continue };
        if rule.overdue_points == 0.0 || scheme.unit_index(lead).is_none() {
            continue;
        }
        let note = tr.f("supervision.deduction_note", &[&t.code, &t.title]);
        let row = jixiao_core::data::RecordRow {
            unit: lead.to_string(),
            indicator: rule.deduction.clone(),
            date: deadline.to_string(),
            points: rule.overdue_points,
            note: Some(note.clone()),
        };
        let id = store.add_record(&mut tx, year, &row).await?;
        tx.audit(
            "record.add",
            "record",
            &id.to_string(),
            None,
            Some(json!({"unit": lead, "indicator": rule.deduction, "date": deadline.to_string(), "points": rule.overdue_points, "note": note})),
        )
        .await?;
        let mut after = t.clone();
        after.deducted = true;
        store.update_supervision_task(&mut tx, &after).await?;
        let event = NewTaskEvent {
            step: "deduct".into(),
            from_state: Some(t.state.clone()),
            to_state: t.state.clone(),
            unit_id: Some(lead.to_string()),
            text: note,
            data: json!({"record": id, "indicator": rule.deduction, "points": rule.overdue_points}),
            at: None,
        };
        store.add_supervision_event(&mut tx, t.id, &event).await?;
        tx.audit("supervision.deduct", "supervision_task", &t.code, None, Some(json!({"record": id, "points": rule.overdue_points})))
            .await?;
        pass.deductions += 1;
        years_touched.push(year);
    }
    tx.audit(
        "supervision.overdue",
        "outbox",
        &today.to_string(),
        None,
        Some(json!({"reminders": pass.reminders, "deductions": pass.deductions})),
    )
    .await?;
    tx.commit().await?;
    years_touched.sort_unstable();
    years_touched.dedup();
    for y in years_touched {
        pass.entries += super::metrics::refresh_year(app, y).await?;
    }
    Ok(pass)
}
