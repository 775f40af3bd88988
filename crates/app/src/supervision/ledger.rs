//! The ledger (督办台账): the tasks the actor sees, filtered by unit, leader in charge,
//! source, state and month of assignment, each with its overdue light, its figures
//! by state, and the same rows as a workbook.

use chrono::NaiveDate;
use jixiao_core::org::{Action, Target};
use jixiao_core::service::Light;
use jixiao_core::supervision::metrics::overdue;
use jixiao_core::supervision::{Source, TaskState};
use jixiao_store::SupervisionTask;
use serde::Deserialize;

use super::{bad, tasks};
use crate::App;
use crate::actor::Actor;
use crate::error::Result;
use crate::i18n::Tr;

/// The ledger's filters; empty ones do not filter.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LedgerFilter {
    #[serde(default)]
    pub unit: String,
    /// Part of the name of a unit's leader in charge (分管领导).
    #[serde(default)]
    pub leader: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub state: String,
    /// Month of assignment, `2027-03`.
    #[serde(default)]
    pub month: String,
}

/// A row of the ledger.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub task: SupervisionTask,
    /// The overdue light of an open task.
    pub light: Option<Light>,
    /// Finished late or past its deadline (`None`: not decided yet).
    pub overdue: Option<bool>,
}

/// The ledger's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub total: usize,
    pub open: usize,
    pub finished: usize,
    pub on_time: usize,
    pub overdue: usize,
    pub red: usize,
    pub yellow: usize,
}

/// The rows the actor sees under `f`, newest first. A filter value that is not one of
/// the known ones (a state, a source, a month) or a unit outside the actor's scope is
/// refused naming it.
pub async fn rows(app: &App, actor: &Actor, tr: &Tr, f: &LedgerFilter) -> Result<Vec<LedgerRow>> {
    let state = match f.state.trim() {
        "" => None,
        s => Some(
            s.parse::<TaskState>().map_err(|_| bad("state", tr.f("supervision.error.filter", &[&tr.t("supervision.field.state"), &s])))?,
        ),
    };
    let source = match f.source.trim() {
        "" => None,
        s if Source::KINDS.contains(&s) => Some(s.to_string()),
        s => return Err(bad("source", tr.f("supervision.error.filter", &[&tr.t("supervision.field.source"), &s]))),
    };
    let month = match f.month.trim() {
        "" => None,
        m => Some(
            m.parse::<jixiao_core::period::Month>()
                .map_err(|_| bad("month", tr.f("supervision.error.filter", &[&tr.t("supervision.field.month"), &m])))?,
        ),
    };
    let unit = f.unit.trim();
    if !unit.is_empty() && !actor.can(Action::ViewSupervision, Target::Unit(unit)) {
        return Err(bad("unit", tr.f("supervision.error.filter", &[&tr.t("supervision.field.unit"), &unit])));
    }
    let leader = f.leader.trim().to_lowercase();
    let calendar = super::calendar(app).await?;
    let today = app.clock.today();
    let mut out = Vec::new();
    for t in tasks::list(app, actor).await? {
        if state.is_some_and(|s| s.code() != t.state)
            || source.as_ref().is_some_and(|s| *s != t.source_kind)
            || (!unit.is_empty() && !t.has_unit(unit))
            || (!leader.is_empty() && !t.units.iter().any(|u| u.leader_name.to_lowercase().contains(&leader)))
        {
            continue;
        }
        if let Some(m) = month {
            let assigned = app.clock.from_stored(&t.created_at).map(|d| jixiao_core::period::Month::of_date(d.date()));
            if assigned != Some(m) {
                continue;
            }
        }
        let light = tasks::light(&t, &calendar, today);
        let overdue = super::metrics::facts(&app.clock, &t).and_then(|f| overdue(&f, today));
        out.push(LedgerRow { task: t, light, overdue });
    }
    Ok(out)
}

/// The figures of a set of rows.
pub fn figures(rows: &[LedgerRow]) -> Figures {
    let mut f = Figures { total: rows.len(), ..Figures::default() };
    for r in rows {
        if r.task.state.parse::<TaskState>().is_ok_and(TaskState::is_open) {
            f.open += 1;
        } else {
            f.finished += 1;
        }
        match r.overdue {
            Some(true) => f.overdue += 1,
            Some(false) => f.on_time += 1,
            None => {}
        }
        match r.light {
            Some(Light::Red) => f.red += 1,
            Some(Light::Yellow) => f.yellow += 1,
            _ => {}
        }
    }
    f
}

/// The ledger as a workbook: one row per task with its units, names, dates, state,
/// light and evaluation.
pub async fn workbook(app: &App, tr: &Tr, rows: &[LedgerRow]) -> Result<Vec<u8>> {
    let units = app.store.units().await?;
    let name = |id: &str| units.iter().find(|u| u.id == id).map_or(id.to_string(), |u| u.name.clone());
    let day = |s: &Option<String>| s.as_deref().and_then(|t| app.clock.from_stored(t)).map(|d| d.date().to_string()).unwrap_or_default();
    let lines: Vec<Vec<crate::xlsx::supervision::Cell>> = rows
        .iter()
        .map(|r| {
            use crate::xlsx::supervision::Cell::{Number, Text};
            let t = &r.task;
            let lead = t.units.iter().find(|u| u.lead);
            let co: Vec<String> = t.units.iter().filter(|u| !u.lead).map(|u| name(&u.unit_id)).collect();
            let scores: Vec<f64> = t.units.iter().filter_map(|u| u.score).collect();
            vec![
                Text(t.code.clone()),
                Text(t.title.clone()),
                Text(tr.t(&format!("supervision.source.{}", t.source_kind)).to_string()),
                Text(t.source_ref.clone()),
                Text(tr.t(&format!("supervision.priority.{}", t.priority)).to_string()),
                Text(lead.map(|u| name(&u.unit_id)).unwrap_or_default()),
                Text(co.join("、")),
                Text(lead.map(|u| u.leader_name.clone()).unwrap_or_default()),
                Text(lead.map(|u| u.person_name.clone()).unwrap_or_default()),
                Text(day(&Some(t.created_at.clone()))),
                Text(t.original_deadline.clone()),
                Text(t.deadline.clone()),
                Text(tr.t(&format!("supervision.state.{}", t.state)).to_string()),
                Text(r.light.map(|l| tr.t(&format!("lights.{}", l.code())).to_string()).unwrap_or_default()),
                Text(match r.overdue {
                    Some(true) => tr.t("supervision.overdue_yes").to_string(),
                    Some(false) => tr.t("supervision.overdue_no").to_string(),
                    None => String::new(),
                }),
                Text(day(&t.claimed_at)),
                if scores.is_empty() { Text(String::new()) } else { Number(scores.iter().sum::<f64>() / scores.len() as f64) },
                Text(t.requirement.clone()),
            ]
        })
        .collect();
    let header: Vec<String> = [
        "code",
        "title",
        "source",
        "source_ref",
        "priority",
        "lead_unit",
        "co_units",
        "leader_name",
        "person_name",
        "assigned",
        "original_deadline",
        "deadline",
        "state",
        "light",
        "overdue",
        "claimed",
        "evaluation",
        "requirement",
    ]
    .iter()
    .map(|k| tr.t(&format!("supervision.field.{k}")).to_string())
    .collect();
    crate::xlsx::supervision::write(tr.t("supervision.ledger_title"), &header, &lines).map_err(crate::error::AppError::internal)
}

/// The deadline as a date, for sorting and the dashboard.
pub fn deadline_of(t: &SupervisionTask) -> Option<NaiveDate> {
    super::date(&t.deadline)
}
