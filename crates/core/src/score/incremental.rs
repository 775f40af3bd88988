//! A year of results kept current as data changes (issue: incremental recompute).
//!
//! After one entry or record changes, only the periods whose window contains its
//! month are touched; in each, only that unit's indicator (or, for a formula with
//! peer functions, the unit's whole group) is rescored, then those units' categories
//! and totals, then the group's ranks and grades. The same functions as a full
//! recompute do the work, so the results are identical.

use std::sync::Arc;

use crate::data::{Dataset, Entry, Record};
use crate::period::Period;
use crate::scheme::Scheme;

use super::indicator::{self, Scratch};
use super::{PeriodResult, Plan, rollup};

pub struct Scoreboard {
    scheme: Arc<Scheme>,
    plan: Plan,
    data: Dataset,
    /// In `Period::all_in_year` order: 12 months, 4 quarters, the year.
    periods: Vec<PeriodResult>,
    scratch: Scratch,
}

impl Scoreboard {
    /// Scores all 17 periods of the scheme's year.
    pub fn new(scheme: Arc<Scheme>, data: Dataset) -> Scoreboard {
        let plan = Plan::new(&scheme);
        let periods = super::score_periods(&scheme, &data, &Period::all_in_year(scheme.year));
        Scoreboard { scheme, plan, data, periods, scratch: Scratch::default() }
    }

    pub fn scheme(&self) -> &Arc<Scheme> {
        &self.scheme
    }

    pub fn data(&self) -> &Dataset {
        &self.data
    }

    pub fn periods(&self) -> &[PeriodResult] {
        &self.periods
    }

    pub fn period(&self, period: Period) -> Option<&PeriodResult> {
        self.periods.iter().find(|r| r.period == period)
    }

    /// Stores an entry (validated against this scheme) and rescores what it reaches.
    /// Returns the periods whose results changed or may have.
    pub fn set_entry(&mut self, entry: &Entry) -> Vec<Period> {
        self.data.set_entry(entry);
        self.refresh(entry.indicator, entry.unit, entry.month)
    }

    pub fn remove_entry(&mut self, indicator: usize, unit: usize, month: u8) -> Vec<Period> {
        self.data.remove_entry(indicator, unit, month);
        self.refresh(indicator, unit, month)
    }

    pub fn push_record(&mut self, record: Record) -> Vec<Period> {
        let (indicator, unit, month) = (record.indicator, record.unit, record.month());
        self.data.push_record(record);
        self.refresh(indicator, unit, month)
    }

    pub fn remove_record(&mut self, indicator: usize, unit: usize, position: usize) -> Vec<Period> {
        match self.data.remove_record(indicator, unit, position) {
            Some(record) => self.refresh(indicator, unit, record.month()),
            None => Vec::new(),
        }
    }

    fn refresh(&mut self, node: usize, unit: usize, month: u8) -> Vec<Period> {
        let scheme = &self.scheme;
        let Some(ind) = scheme.indicator(node) else { return Vec::new() };
        if !ind.is_assigned(unit) {
            return Vec::new();
        }
        let group = scheme.units[unit].group;
        let one = [unit];
        let units: &[usize] = if ind.formula.uses_peers() { &self.plan.group_units[group] } else { &one };
        let mut touched = Vec::new();
        for result in &mut self.periods {
            let win = indicator::window(ind, result.period);
            if !(win.first..=win.last).contains(&month) {
                continue;
            }
            indicator::score_units(scheme, &self.data, node, units, result, &mut self.scratch);
            for &u in units {
                rollup::roll_up_unit(scheme, &self.plan, u, result);
            }
            rollup::rank_group(scheme, &self.plan, group, result);
            touched.push(result.period);
        }
        touched
    }
}

/// One period from scratch, with a plan and buffers reused across periods.
pub(crate) fn compute_period(scheme: &Scheme, plan: &Plan, data: &Dataset, period: Period, scratch: &mut Scratch) -> PeriodResult {
    let mut result = PeriodResult::new(scheme, period);
    let all_units: Vec<usize> = (0..scheme.units.len()).collect();
    for &node in &scheme.indicators {
        indicator::score_units(scheme, data, node, &all_units, &mut result, scratch);
    }
    for unit in 0..scheme.units.len() {
        rollup::roll_up_unit(scheme, plan, unit, &mut result);
    }
    for group in 0..scheme.groups.len() {
        rollup::rank_group(scheme, plan, group, &mut result);
    }
    result
}
