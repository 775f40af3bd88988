//! Scores as people and programs see them (绩效评分): a period's stored results (spec
//! §8, the numbers `jixiao score` gives) with each unit's warning lights, what of them
//! an actor may see, and the engine's explanation of one score. The ranking page, a
//! unit's page, the drill-down and `/api/v1/scores` all read through here, so they
//! show the same numbers under the same rule.
//!
//! The one visibility rule (`visible`): a unit's result is shown to whoever may view
//! the unit; its indicator scores only where the actor may view that indicator of that
//! unit (an assessor: the indicators it leads). Categories and the total stay, as the
//! pages have always shown them.

use std::collections::HashMap;
use std::sync::Arc;

use jixiao_core::data::Dataset;
use jixiao_core::lights::Lit;
use jixiao_core::org::{Action, Target};
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::Scheme;
use jixiao_core::score::{Explanation, explain, score_period};
use jixiao_core::workflow::Timeliness;
use serde_json::Value;

use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::{App, collection};

/// A period's results as stored, with the scheme version that scored them.
pub struct PeriodScores {
    pub scheme: Arc<Scheme>,
    /// Spec §8 unit report by unit id.
    pub reports: HashMap<String, Value>,
    /// Units whose report of the period's month came late (month periods only).
    pub late: Vec<String>,
}

impl PeriodScores {
    /// Every indicator's light (by node index) and the unit's light.
    pub fn lights(&self, unit: &str) -> Option<(HashMap<usize, Lit>, Lit)> {
        let report = self.reports.get(unit)?;
        Some(lights_of(&self.scheme, report, self.late.iter().any(|u| u == unit)))
    }
}

pub fn parse_period(text: &str) -> Result<Period> {
    text.parse::<Period>().map_err(|e| AppError::invalid(format!("period `{text}`: {e}")))
}

/// The stored results of `period` (latest scheme version). `NotFound` for a year
/// without a scheme.
pub async fn load(app: &App, period: Period) -> Result<PeriodScores> {
    let (info, scheme) = app.latest_scheme(period.year()).await?.ok_or(AppError::NotFound)?;
    let reports =
        app.store.scores(period.year(), info.version, &period.to_string()).await?.into_iter().map(|r| (r.unit_id, r.result)).collect();
    let late = match period {
        Period::Month(m) => collection::timeliness_by_unit(app, &scheme, m)
            .await?
            .into_iter()
            .filter(|(_, t)| *t == Timeliness::Late)
            .map(|(u, _)| u)
            .collect(),
        _ => Vec::new(),
    };
    Ok(PeriodScores { scheme, reports, late })
}

/// Every indicator's light (by node index) and the unit's light, from its report.
pub fn lights_of(scheme: &Scheme, report: &Value, late: bool) -> (HashMap<usize, Lit>, Lit) {
    let empty = serde_json::Map::new();
    let map = |key: &str| report[key].as_object().unwrap_or(&empty);
    let (indicators, unit) = jixiao_core::lights::of_unit(scheme, map("scores"), map("status"), map("errors"), late);
    (indicators.into_iter().collect(), unit)
}

/// Whether `actor` sees node `node` of `unit`'s result: categories and the total with
/// the unit, indicators one by one.
pub fn sees_node(actor: &Actor, scheme: &Scheme, unit: &str, node: &str) -> bool {
    match scheme.node_index(node).map(|n| scheme.nodes[n].indicator.is_some()) {
        Some(true) => actor.can(Action::ViewUnit, Target::Indicator { unit, indicator: node }),
        _ => true,
    }
}

/// `unit`'s spec §8 result as `actor` may see it (see the module documentation);
/// `None` when the actor may not view the unit at all.
pub fn visible(actor: &Actor, scheme: &Scheme, unit: &str, report: &Value) -> Option<Value> {
    if !actor.can(Action::ViewUnit, Target::Unit(unit)) {
        return None;
    }
    let mut out = report.clone();
    for key in ["scores", "status", "errors"] {
        if let Some(map) = out.get_mut(key).and_then(Value::as_object_mut) {
            map.retain(|node, _| sees_node(actor, scheme, unit, node));
        }
    }
    Some(out)
}

/// The unit's stored month results of `year`, months without any accepted data left
/// out (they are all zeros, not part of a trend).
pub async fn months_of(app: &App, year: i32, unit: &str) -> Result<Vec<(u8, Value)>> {
    let Some((info, _)) = app.latest_scheme(year).await? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for m in 1..=12u8 {
        let month = Month { year, month: m };
        if let Some(r) = app.store.scores(year, info.version, &month.to_string()).await?.into_iter().find(|r| r.unit_id == unit)
            && r.result["status"].as_object().is_some_and(|s| s.values().any(|v| v == "ok"))
        {
            out.push((m, r.result));
        }
    }
    Ok(out)
}

/// The engine's explanation of `unit`'s score of `indicator` in `period`: formula,
/// window, inputs with their months or records, raw result, clamp.
pub async fn explanation(app: &App, actor: &Actor, period: Period, unit: &str, indicator: &str) -> Result<Explanation> {
    actor.require(Action::ViewUnit, Target::Indicator { unit, indicator })?;
    let (_, scheme) = app.latest_scheme(period.year()).await?.ok_or(AppError::NotFound)?;
    let u = scheme.unit_index(unit).ok_or(AppError::NotFound)?;
    let n = scheme.node_index(indicator).ok_or(AppError::NotFound)?;
    let data = Dataset::load(&scheme, &app.store.data_file(period.year()).await?).map_err(AppError::internal)?;
    let result = score_period(&scheme, &data, period);
    explain(&scheme, &data, &result, u, n).ok_or(AppError::NotFound)
}
