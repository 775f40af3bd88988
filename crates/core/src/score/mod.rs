//! The scoring engine (spec §5–§7): from a scheme and a dataset to every
//! indicator score, category score, total, rank and grade of a period.
//!
//! `score_period` computes one period from scratch. `Scoreboard` keeps all 17
//! periods of a year and, after one entry or record changes, recomputes only what
//! that change can reach (see `incremental`). Both run the same functions, so an
//! incremental result is by construction the full result; a property test checks
//! it anyway.

mod explain;
mod incremental;
mod indicator;
mod report;
mod rollup;

use std::collections::HashMap;

use serde::Serialize;

use crate::data::Dataset;
use crate::period::Period;
use crate::scheme::Scheme;

pub use explain::{Explanation, InputExplanation, MonthValue, RecordValue, explain};
pub use incremental::Scoreboard;
pub use report::{PeriodReport, UnitReport};

/// The state of one indicator for one unit and period (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Status {
    /// The unit is not assigned the indicator (or the node is a category).
    #[default]
    #[serde(skip)]
    Unassigned,
    Ok,
    Missing,
    Pending,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unassigned => "unassigned",
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Pending => "pending",
            Status::Error => "error",
        }
    }
}

/// A unit's totals in a period (spec §6–§7).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UnitTotal {
    /// The regular part: S, or its normalised value.
    pub regular: f64,
    /// B: capped bonus.
    pub bonus: f64,
    /// D: capped deduction (positive).
    pub deduction: f64,
    pub total: f64,
    /// 1-based, within the unit's group.
    pub rank: usize,
    /// Index into `Scheme::grades`.
    pub grade: Option<usize>,
}

/// Everything computed for one period.
#[derive(Debug, Clone)]
pub struct PeriodResult {
    pub period: Period,
    nodes: usize,
    /// `[unit × nodes + node]`; NaN where the node is not shown for the unit.
    scores: Vec<f64>,
    /// `[unit × nodes + node]`; `Unassigned` for categories.
    status: Vec<Status>,
    /// Evaluation errors by (unit, node).
    errors: HashMap<(usize, usize), String>,
    /// Per unit.
    pub totals: Vec<UnitTotal>,
}

/// Equal when every score is the same double (NaN placeholders included),
/// every status, error and total the same.
impl PartialEq for PeriodResult {
    fn eq(&self, other: &PeriodResult) -> bool {
        self.period == other.period
            && self.nodes == other.nodes
            && self.scores.len() == other.scores.len()
            && self.scores.iter().zip(&other.scores).all(|(a, b)| a.to_bits() == b.to_bits())
            && self.status == other.status
            && self.errors == other.errors
            && self.totals == other.totals
    }
}

impl PeriodResult {
    fn new(scheme: &Scheme, period: Period) -> PeriodResult {
        let n = scheme.nodes.len() * scheme.units.len();
        PeriodResult {
            period,
            nodes: scheme.nodes.len(),
            scores: vec![f64::NAN; n],
            status: vec![Status::Unassigned; n],
            errors: HashMap::new(),
            totals: vec![UnitTotal::default(); scheme.units.len()],
        }
    }

    /// The score of a node for a unit: an indicator's (rounded, clamped) score, a
    /// category's sum, a capped bonus/deduction top-level amount; `None` where the
    /// node does not apply to the unit.
    pub fn score(&self, unit: usize, node: usize) -> Option<f64> {
        let s = self.scores[unit * self.nodes + node];
        (!s.is_nan()).then_some(s)
    }

    pub fn status(&self, unit: usize, node: usize) -> Status {
        self.status[unit * self.nodes + node]
    }

    pub fn error(&self, unit: usize, node: usize) -> Option<&str> {
        self.errors.get(&(unit, node)).map(String::as_str)
    }

    pub fn total(&self, unit: usize) -> &UnitTotal {
        &self.totals[unit]
    }

    /// Whether `unit`'s results are the same in both (every node's score to the
    /// bit, status and error, and its totals, rank and grade): what a store compares
    /// to write only the units a change reached.
    pub fn unit_equal(&self, other: &PeriodResult, unit: usize) -> bool {
        let range = unit * self.nodes..(unit + 1) * self.nodes;
        self.nodes == other.nodes
            && self.scores[range.clone()].iter().zip(&other.scores[range.clone()]).all(|(a, b)| a.to_bits() == b.to_bits())
            && self.status[range.clone()] == other.status[range]
            && (0..self.nodes).all(|n| self.error(unit, n) == other.error(unit, n))
            && self.totals[unit] == other.totals[unit]
    }

    /// Bytes this result holds on the heap (benchmarks report it).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.scores.capacity() * size_of::<f64>()
            + self.status.capacity() * size_of::<Status>()
            + self.totals.capacity() * size_of::<UnitTotal>()
            + self.errors.capacity() * size_of::<((usize, usize), String)>()
            + self.errors.values().map(String::capacity).sum::<usize>()
    }

    fn set(&mut self, unit: usize, node: usize, score: f64, status: Status) {
        let i = unit * self.nodes + node;
        self.scores[i] = score;
        self.status[i] = status;
    }
}

/// Computes one period from scratch.
pub fn score_period(scheme: &Scheme, data: &Dataset, period: Period) -> PeriodResult {
    let plan = Plan::new(scheme);
    incremental::compute_period(scheme, &plan, data, period, &mut indicator::Scratch::default())
}

/// Computes several periods, sharing the per-scheme preparation. Periods are
/// independent, so they are computed in parallel on rayon's pool; the results
/// are the same bits as computing them one by one.
pub fn score_periods(scheme: &Scheme, data: &Dataset, periods: &[Period]) -> Vec<PeriodResult> {
    use rayon::prelude::*;
    let plan = Plan::new(scheme);
    periods
        .par_iter()
        .map_init(indicator::Scratch::default, |scratch, &p| incremental::compute_period(scheme, &plan, data, p, scratch))
        .collect()
}

/// What the engine precomputes once per scheme.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Per node: the indicators at or below it, in tree order.
    pub below: Vec<Vec<usize>>,
    /// Per group: its units in scheme order.
    pub group_units: Vec<Vec<usize>>,
}

impl Plan {
    pub fn new(scheme: &Scheme) -> Plan {
        let mut below: Vec<Vec<usize>> = vec![Vec::new(); scheme.nodes.len()];
        // Nodes are in tree order, so walking indicators in order and adding each
        // to all its ancestors keeps every list in tree order.
        for &ind in &scheme.indicators {
            let mut at = Some(ind);
            while let Some(n) = at {
                below[n].push(ind);
                at = scheme.nodes[n].parent;
            }
        }
        let group_units = (0..scheme.groups.len()).map(|g| scheme.units_of_group(g).collect()).collect();
        Plan { below, group_units }
    }
}

#[cfg(test)]
mod tests;
