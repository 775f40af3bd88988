//! The leader's dashboard (领导驾驶舱): the warning lights and rank moves of the units
//! the leader oversees (分管) in the month last reported, their red indicators (each a
//! task waiting to be opened), their overdue tasks, and the verified tasks waiting
//! for the leader's evaluation. The office sees it for every unit.

use jixiao_core::lights::Light as UnitLight;
use jixiao_core::org::{Action, Target};
use jixiao_core::period::{Month, Period};
use jixiao_core::service::Light;
use jixiao_store::SupervisionTask;

use super::ledger::{LedgerFilter, LedgerRow, rows};
use crate::App;
use crate::actor::Actor;
use crate::collection::{due_month, previous};
use crate::error::Result;
use crate::i18n::Tr;

/// One unit on the dashboard.
#[derive(Debug, Clone)]
pub struct UnitLine {
    pub unit: String,
    pub name: String,
    pub light: UnitLight,
    pub total: Option<f64>,
    pub rank: Option<i64>,
    /// The rank the month before (`None` in January or without a result).
    pub previous_rank: Option<i64>,
    /// The indicators with a red light: (id, name).
    pub red: Vec<(String, String)>,
}

impl UnitLine {
    /// Places moved up (positive) or down since the month before.
    pub fn moved(&self) -> Option<i64> {
        Some(self.previous_rank? - self.rank?)
    }
}

/// What the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub month: Month,
    pub units: Vec<UnitLine>,
    pub overdue: Vec<LedgerRow>,
    pub awaiting_evaluation: Vec<SupervisionTask>,
}

/// The dashboard of `actor` (a leader, or the office): units in the actor's
/// supervision scope, red units first.
pub async fn build(app: &App, actor: &Actor, tr: &Tr) -> Result<Dashboard> {
    actor.require(Action::AssignSupervision, Target::Nothing)?;
    // The month last reported: the month due, or the latest before it that units
    // reported anything in (a month nobody has reported yet is all red for missing
    // data; the system's own entries do not count).
    let mut month = due_month(app);
    for _ in 0..11 {
        let reported =
            match app.latest_scheme(month.year).await? {
                Some((_, scheme)) => app.store.reported_in_month(month.year, &month.to_string()).await?.iter().any(|(_, indicator)| {
                    scheme.node_index(indicator).and_then(|n| scheme.indicator(n)).is_some_and(|i| !i.system_filled())
                }),
                None => false,
            };
        if reported {
            break;
        }
        month = previous(month);
    }
    let units: Vec<_> =
        app.store.units().await?.into_iter().filter(|u| !u.disabled && actor.can(Action::AssignSupervision, Target::Unit(&u.id))).collect();
    let now = crate::scores::load(app, Period::Month(month)).await;
    let before = if month.month > 1 { crate::scores::load(app, Period::Month(previous(month))).await.ok() } else { None };
    let mut lines = Vec::new();
    for u in &units {
        let mut line = UnitLine {
            unit: u.id.clone(),
            name: u.name.clone(),
            light: UnitLight::None,
            total: None,
            rank: None,
            previous_rank: None,
            red: Vec::new(),
        };
        if let Ok(scores) = &now
            && let Some(report) = scores.reports.get(&u.id)
        {
            line.total = report["total"].as_f64();
            line.rank = report["rank"].as_i64();
            if let Some((indicators, unit_lit)) = scores.lights(&u.id) {
                line.light = unit_lit.light;
                let mut red: Vec<usize> = indicators.iter().filter(|(_, l)| l.light == UnitLight::Red).map(|(n, _)| *n).collect();
                red.sort_unstable();
                line.red = red.into_iter().map(|n| (scores.scheme.nodes[n].id.clone(), scores.scheme.nodes[n].name.clone())).collect();
            }
        }
        line.previous_rank = before.as_ref().and_then(|b| b.reports.get(&u.id)).and_then(|r| r["rank"].as_i64());
        lines.push(line);
    }
    let order = |l: UnitLight| match l {
        UnitLight::Red => 0,
        UnitLight::Yellow => 1,
        UnitLight::Green => 2,
        UnitLight::None => 3,
    };
    lines.sort_by_key(|l| (order(l.light), l.rank.unwrap_or(i64::MAX)));
    let all = rows(app, actor, tr, &LedgerFilter::default()).await?;
    let overdue = all.iter().filter(|r| r.light == Some(Light::Red) || (r.overdue == Some(true) && r.light.is_some())).cloned().collect();
    let awaiting_evaluation = all
        .into_iter()
        .map(|r| r.task)
        .filter(|t| t.state == "verified" && t.lead_unit().is_some_and(|l| actor.can(Action::AssignSupervision, Target::Unit(l))))
        .collect();
    Ok(Dashboard { month, units: lines, overdue, awaiting_evaluation })
}

/// Whether the actor has a dashboard at all.
pub fn available(actor: &Actor) -> bool {
    actor.can(Action::AssignSupervision, Target::Nothing)
}
