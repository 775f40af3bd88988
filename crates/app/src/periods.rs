//! Reporting periods (考核期) and corrections (更正申请): each month's state (open,
//! closed, locked) and the office's queue of correction requests for closed months.
//!
//! Closing a month locks its data: the form, the API, imports and the command line
//! refuse changes, and a unit asks for a correction instead. An approved correction
//! gives the entry its new values (still accepted, version up) in the same transaction
//! as the decision, and the year is rescored; the old values stay in the request and
//! the audit trail.

use std::collections::HashMap;

use chrono::Datelike;
use jixiao_core::data::{EntryRow, validate_entry};
use jixiao_core::org::{Action, Target};
use jixiao_core::period::{Month, Period};
use jixiao_core::workflow::{self, Step};
use jixiao_store::{Correction, PeriodState};
use serde_json::{Map, Value, json};

use crate::App;
use crate::actor::Actor;
use crate::collection;
use crate::error::{AppError, Result};
use crate::i18n::Tr;

/// The year a periods page opens at: this year's scheme, else the latest.
pub async fn default_year(app: &App) -> Result<i32> {
    let years = app.store.scheme_years().await?;
    let this = app.clock.today().year();
    Ok(years.iter().copied().filter(|&y| y <= this).max().or_else(|| years.iter().copied().max()).unwrap_or(this))
}

/// The state of each month of `year`.
pub async fn months(app: &App, year: i32) -> Result<Vec<(Month, PeriodState)>> {
    let stored = app.store.periods(year).await?;
    Ok((1..=12)
        .filter_map(|m| Month::new(year, m).ok())
        .map(|m| (m, stored.iter().find(|p| p.period == m.to_string()).map_or(PeriodState::Open, |p| p.state)))
        .collect())
}

/// Opens, closes or locks a month. A locked month stays locked.
pub async fn set_state(app: &App, actor: &Actor, tr: &Tr, month: Month, new: PeriodState) -> Result<()> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let before = app.store.period_state(month.year, &month.to_string()).await?;
    if before == PeriodState::Locked && new != PeriodState::Locked {
        return Err(AppError::invalid(tr.f("periods.locked_for_good", &[&month])));
    }
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.set_period(&mut tx, Period::Month(month), new, None).await?;
    tx.audit("period.state", "period", &month.to_string(), Some(json!(before.as_str())), Some(json!(new.as_str()))).await?;
    tx.commit().await?;
    Ok(())
}

/// The months of `year` that are closed or locked, as `2027-03` texts.
pub async fn closed_months(app: &App, year: i32) -> Result<Vec<String>> {
    Ok(app.store.periods(year).await?.into_iter().filter(|p| p.state != PeriodState::Open).map(|p| p.period).collect())
}

/// The correction requests of `year` waiting for the office's decision.
pub async fn open_requests(app: &App, actor: &Actor, year: i32) -> Result<Vec<Correction>> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    Ok(app.store.corrections(year, Some("requested")).await?)
}

/// Asks the office to change `unit`'s entry of `indicator` in closed `month`: the new
/// values (`key → text as typed`) and a reason. Whoever could save the entry were the
/// month open may ask. The request's id.
#[allow(clippy::too_many_arguments)]
pub async fn request_correction(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    unit: &str,
    month: Month,
    indicator: &str,
    typed: &HashMap<String, String>,
    reason: &str,
) -> Result<i64> {
    if workflow::acting_role(&actor.grants, Step::Save, unit, indicator).is_none() {
        return Err(AppError::Forbidden);
    }
    crate::input::bounded(tr, "reason", reason.trim(), crate::input::REASON)?;
    if app.store.period_state(month.year, &month.to_string()).await? == PeriodState::Open {
        return Err(AppError::invalid(tr.t("correction.month_open")));
    }
    let data = collection::load(app, unit, month).await?;
    let node = data
        .scheme
        .node_index(indicator)
        .filter(|n| data.due.contains(n))
        .ok_or_else(|| AppError::invalid(tr.f("report.not_due", &[&indicator, &month])))?;
    let ind = data.scheme.indicator(node).ok_or(AppError::NotFound)?;
    let values: Map<String, Value> = ind
        .fields
        .iter()
        .filter_map(|f| {
            typed.get(&f.key).map(|t| t.trim()).filter(|t| !t.is_empty()).map(|t| (f.key.clone(), collection::typed_value(f.field_type, t)))
        })
        .collect();
    let row = EntryRow { unit: unit.to_string(), indicator: indicator.to_string(), month: month.to_string(), values: values.clone() };
    validate_entry(&data.scheme, &row).map_err(AppError::invalid)?;
    if values.is_empty() {
        return Err(AppError::invalid(tr.t("form.required")));
    }
    let old = data.current.get(indicator).map(|e| e.row.values.clone());
    let mut tx = app.store.begin(&actor.name).await?;
    let id = app.store.request_correction(&mut tx, month.year, unit, indicator, &month.to_string(), old.as_ref(), &values, reason).await?;
    tx.audit(
        "correction.request",
        "correction",
        &id.to_string(),
        None,
        Some(json!({"entry": format!("{}/{unit}/{indicator}/{month}", month.year), "old": old, "new": values, "reason": reason.trim()})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Approves or rejects a correction request (a rejection needs a note); an approved
/// one changes the entry and rescores. The decided request.
pub async fn decide(app: &App, actor: &Actor, tr: &Tr, id: i64, approved: bool, note: &str) -> Result<Correction> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    if !approved && note.trim().is_empty() {
        return Err(AppError::invalid(tr.t("correction.note_needed")));
    }
    crate::input::bounded(tr, "note", note.trim(), crate::input::REASON)?;
    let mut tx = app.store.begin(&actor.name).await?;
    let c = app.store.decide_correction(&mut tx, id, approved, note).await?;
    let entry = format!("{}/{}/{}/{}", c.year, c.unit_id, c.indicator_id, c.month);
    if approved {
        let current = app.store.entry(c.year, &c.unit_id, &c.indicator_id, &c.month).await?;
        let row =
            EntryRow { unit: c.unit_id.clone(), indicator: c.indicator_id.clone(), month: c.month.clone(), values: c.new_values.clone() };
        let version = app.store.save_entry(&mut tx, c.year, &row, current.as_ref().map(|e| e.version), "accepted").await?;
        tx.audit(
            "entry.correct",
            "entry",
            &entry,
            current.map(|e| json!({"state": e.state, "values": e.row.values, "version": e.version})),
            Some(json!({"state": "accepted", "values": c.new_values, "version": version, "correction": id})),
        )
        .await?;
    }
    let action = if approved { "correction.approve" } else { "correction.reject" };
    tx.audit(
        action,
        "correction",
        &id.to_string(),
        Some(json!({"state": "requested"})),
        Some(json!({"state": if approved { "approved" } else { "rejected" }, "note": note.trim(), "entry": entry})),
    )
    .await?;
    tx.commit().await?;
    Ok(c)
}
