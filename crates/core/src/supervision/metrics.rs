//! What supervision tasks say about a unit in a month (督办事项指标): the
//! system-filled fields of indicators with `filled_by: supervision`.
//!
//! A task counts for every unit it was assigned to (the lead unit and the co-units):
//! - `assigned` (交办数): tasks assigned in the month;
//! - over the tasks whose deadline in force falls in the month:
//!   - `on_time` (按期办结数): finished — claimed done, and that claim verified by the
//!     office — by the end of the deadline day;
//!   - `overdue` (逾期数): finished after the deadline, or still not claimed once the
//!     deadline has passed (a claim made in time and waiting for the office's check
//!     counts as neither until the office decides);
//!   - `completion_rate` (办结率): `on_time / (on_time + overdue)`;
//! - `evaluation` (平均评价): the average of the unit's evaluation scores (0–100)
//!   given in the month.
//!
//! Counts are there for every (unit, month) a task touches; a rate without a
//! denominator is left out, so an indicator reading it is `missing` that month.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::period::Month;

/// The field keys of the metrics, as indicators name them.
pub const METRIC_KEYS: [&str; 5] = ["assigned", "on_time", "overdue", "completion_rate", "evaluation"];

/// What the metrics need of one task (local dates).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFacts {
    pub units: Vec<String>,
    pub assigned: NaiveDate,
    /// The deadline in force.
    pub deadline: NaiveDate,
    /// The day of the claim standing now (a returned claim is gone).
    pub claimed: Option<NaiveDate>,
    /// Whether the office verified the claim.
    pub verified: bool,
    /// (unit, score, day) of each evaluation.
    pub evaluations: Vec<(String, f64, NaiveDate)>,
}

/// One unit's month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthMetrics {
    pub assigned: u32,
    pub on_time: u32,
    pub overdue: u32,
    pub evaluation_sum: f64,
    pub evaluated: u32,
}

impl MonthMetrics {
    pub fn completion_rate(&self) -> Option<f64> {
        let due = self.on_time + self.overdue;
        (due > 0).then(|| f64::from(self.on_time) / f64::from(due))
    }

    pub fn evaluation(&self) -> Option<f64> {
        (self.evaluated > 0).then(|| self.evaluation_sum / f64::from(self.evaluated))
    }

    /// The field values, keyed as in [`METRIC_KEYS`]; values without a denominator are
    /// left out.
    pub fn fields(&self) -> BTreeMap<&'static str, f64> {
        let mut out = BTreeMap::from([
            ("assigned", f64::from(self.assigned)),
            ("on_time", f64::from(self.on_time)),
            ("overdue", f64::from(self.overdue)),
        ]);
        if let Some(v) = self.completion_rate() {
            out.insert("completion_rate", v);
        }
        if let Some(v) = self.evaluation() {
            out.insert("evaluation", v);
        }
        out
    }
}

/// Whether a task is overdue on `today`: finished late, or not claimed in time and
/// the deadline passed. `None` while it is not decided yet (open before its
/// deadline, or claimed in time and waiting for the office).
pub fn overdue(t: &TaskFacts, today: NaiveDate) -> Option<bool> {
    match (t.claimed, t.verified) {
        (Some(c), true) => Some(c > t.deadline),
        (Some(c), false) if c <= t.deadline => None,
        _ if today > t.deadline => Some(true),
        _ => None,
    }
}

/// The metrics of every (unit, month) the tasks touch, as of `today`.
pub fn monthly_metrics<'a>(tasks: impl IntoIterator<Item = &'a TaskFacts>, today: NaiveDate) -> BTreeMap<(String, Month), MonthMetrics> {
    let mut out: BTreeMap<(String, Month), MonthMetrics> = BTreeMap::new();
    for t in tasks {
        let late = overdue(t, today);
        for unit in &t.units {
            out.entry((unit.clone(), Month::of_date(t.assigned))).or_default().assigned += 1;
            let m = out.entry((unit.clone(), Month::of_date(t.deadline))).or_default();
            match late {
                Some(false) => m.on_time += 1,
                Some(true) => m.overdue += 1,
                None => {}
            }
        }
        for (unit, score, day) in &t.evaluations {
            let m = out.entry((unit.clone(), Month::of_date(*day))).or_default();
            m.evaluation_sum += score;
            m.evaluated += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, day).unwrap()
    }

    fn task(units: &[&str], deadline: NaiveDate, claimed: Option<NaiveDate>, verified: bool) -> TaskFacts {
        TaskFacts {
            units: units.iter().map(|u| u.to_string()).collect(),
            assigned: d(2, 20),
            deadline,
            claimed,
            verified,
            evaluations: Vec::new(),
        }
    }

    #[test]
    fn a_fixed_set_of_tasks() {
        let today = d(3, 20);
        let tasks = vec![
            // On time: claimed 3-10, due 3-15, verified.
            TaskFacts {
                evaluations: vec![("u01".into(), 90.0, d(3, 18)), ("u02".into(), 70.0, d(3, 18))],
                ..task(&["u01", "u02"], d(3, 15), Some(d(3, 10)), true)
            },
            // Late: claimed 3-16, due 3-15, verified.
            task(&["u01"], d(3, 15), Some(d(3, 16)), true),
            // Open past its deadline 3-19.
            task(&["u01"], d(3, 19), None, false),
            // Open, due 3-31: not decided.
            task(&["u01"], d(3, 31), None, false),
            // Claimed in time, waiting for the office: not decided.
            task(&["u01"], d(3, 12), Some(d(3, 12)), false),
            // Claimed late, not yet verified: overdue already.
            task(&["u01"], d(3, 5), Some(d(3, 8)), false),
        ];
        let m = monthly_metrics(&tasks, today);
        let feb = Month::new(2027, 2).unwrap();
        let march = Month::new(2027, 3).unwrap();
        assert_eq!(m[&("u01".to_string(), feb)].assigned, 6);
        assert_eq!(m[&("u02".to_string(), feb)].assigned, 1);
        let u01 = &m[&("u01".to_string(), march)];
        assert_eq!((u01.on_time, u01.overdue), (1, 3));
        assert_eq!(u01.completion_rate(), Some(0.25));
        assert_eq!(u01.evaluation(), Some(90.0));
        let u02 = &m[&("u02".to_string(), march)];
        assert_eq!((u02.on_time, u02.overdue, u02.completion_rate(), u02.evaluation()), (1, 0, Some(1.0), Some(70.0)));
        let feb_fields = m[&("u01".to_string(), feb)].fields();
        assert_eq!(feb_fields.keys().copied().collect::<Vec<_>>(), ["assigned", "on_time", "overdue"], "no rate without a denominator");
        // The same open task is not overdue the day before.
        assert_eq!(overdue(&tasks[2], d(3, 19)), None);
        assert_eq!(overdue(&tasks[2], d(3, 20)), Some(true));
    }
}
