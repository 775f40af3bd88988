//! The score output of spec §8: one JSON object per period, units ordered by group
//! id, rank and unit id; maps in tree order. Pages, the API, exports and
//! `jixiao score` all render from this.

use serde::{Deserialize, Serialize};

use crate::period::Period;
use crate::scheme::Scheme;

use super::{PeriodResult, Status};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodReport {
    pub period: Period,
    pub units: Vec<UnitReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitReport {
    pub unit: String,
    pub group: String,
    pub total: f64,
    pub rank: usize,
    pub grade: Option<String>,
    pub scores: serde_json::Map<String, serde_json::Value>,
    pub status: serde_json::Map<String, serde_json::Value>,
    pub errors: serde_json::Map<String, serde_json::Value>,
}

impl PeriodReport {
    pub fn new(scheme: &Scheme, result: &PeriodResult) -> PeriodReport {
        let mut units: Vec<UnitReport> = (0..scheme.units.len()).map(|u| unit_report(scheme, result, u)).collect();
        units.sort_by(|a, b| a.group.cmp(&b.group).then(a.rank.cmp(&b.rank)).then_with(|| a.unit.cmp(&b.unit)));
        PeriodReport { period: result.period, units }
    }
}

impl UnitReport {
    /// One unit's spec §8 result of a period.
    pub fn new(scheme: &Scheme, result: &PeriodResult, unit: usize) -> UnitReport {
        unit_report(scheme, result, unit)
    }
}

fn unit_report(scheme: &Scheme, result: &PeriodResult, unit: usize) -> UnitReport {
    let mut scores = serde_json::Map::new();
    let mut status = serde_json::Map::new();
    let mut errors = serde_json::Map::new();
    for (node, n) in scheme.nodes.iter().enumerate() {
        let Some(score) = result.score(unit, node) else { continue };
        scores.insert(n.id.clone(), number(score));
        let s = result.status(unit, node);
        if s != Status::Unassigned {
            status.insert(n.id.clone(), s.as_str().into());
        }
        if let Some(e) = result.error(unit, node) {
            errors.insert(n.id.clone(), e.into());
        }
    }
    let total = result.total(unit);
    UnitReport {
        unit: scheme.units[unit].id.clone(),
        group: scheme.groups[scheme.units[unit].group].id.clone(),
        total: total.total,
        rank: total.rank,
        grade: total.grade.map(|g| scheme.grades[g].name.clone()),
        scores,
        status,
        errors,
    }
}

/// A 2-decimal score as a JSON number (integers without a fraction, like the spec's examples).
fn number(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 1e15 { serde_json::Value::from(x as i64) } else { serde_json::Value::from(x) }
}
