//! What service requests say about a department in a month (部门诉求办理指标): the
//! system-filled fields indicators read.
//!
//! A request counts for the department it was last dispatched to:
//! - `received` (受理量): requests first dispatched to the department in the month;
//! - the rest over requests *closed* in the month (rated, closed unrated; merged
//!   duplicates, never dispatched, do not count):
//!   - `on_time_rate` (按时办结率): done by the deadline of their last dispatch;
//!   - `satisfaction_rate` (满意率): 满意 or 基本满意 among the rated ones;
//!   - `redo_rate` (重办率): sent back for redo at least once;
//!   - `handling_hours` (平均办理时长): from first dispatch to the last reply.
//!
//! Rates are fractions 0–1 (the scheme's `percent` type). A month with nothing to
//! divide by has no value for that rate, so an indicator reading it is `missing`
//! that month, as the spec says of unreported fields.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use crate::period::Month;

use super::lifecycle::Rating;

/// The field keys of the metrics, as indicators name them.
pub const METRIC_KEYS: [&str; 5] = ["received", "on_time_rate", "satisfaction_rate", "redo_rate", "handling_hours"];

/// What the metrics need of one request (local times).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFacts {
    /// The department it was last dispatched to (`None`: never dispatched).
    pub unit: Option<String>,
    pub first_dispatched: Option<NaiveDateTime>,
    /// The deadline of the last dispatch.
    pub deadline: Option<NaiveDateTime>,
    /// The last reply (marked done).
    pub done: Option<NaiveDateTime>,
    pub closed: Option<NaiveDateTime>,
    pub rating: Option<Rating>,
    pub redo_count: u32,
}

/// One department's month.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonthMetrics {
    pub received: u32,
    pub closed: u32,
    pub on_time: u32,
    pub rated: u32,
    pub satisfied: u32,
    pub redone: u32,
    pub handling_hours_sum: f64,
    pub handled: u32,
}

impl MonthMetrics {
    pub fn on_time_rate(&self) -> Option<f64> {
        ratio(self.on_time, self.closed)
    }
    pub fn satisfaction_rate(&self) -> Option<f64> {
        ratio(self.satisfied, self.rated)
    }
    pub fn redo_rate(&self) -> Option<f64> {
        ratio(self.redone, self.closed)
    }
    pub fn handling_hours(&self) -> Option<f64> {
        (self.handled > 0).then(|| self.handling_hours_sum / f64::from(self.handled))
    }

    /// The field values, keyed as in [`METRIC_KEYS`]; rates without a denominator are
    /// left out.
    pub fn fields(&self) -> BTreeMap<&'static str, f64> {
        let mut out = BTreeMap::from([("received", f64::from(self.received))]);
        for (k, v) in [
            ("on_time_rate", self.on_time_rate()),
            ("satisfaction_rate", self.satisfaction_rate()),
            ("redo_rate", self.redo_rate()),
            ("handling_hours", self.handling_hours()),
        ] {
            if let Some(v) = v {
                out.insert(k, v);
            }
        }
        out
    }
}

fn ratio(n: u32, d: u32) -> Option<f64> {
    (d > 0).then(|| f64::from(n) / f64::from(d))
}

/// The metrics of every (department, month) the requests touch.
pub fn monthly_metrics<'a>(requests: impl IntoIterator<Item = &'a RequestFacts>) -> BTreeMap<(String, Month), MonthMetrics> {
    let mut out: BTreeMap<(String, Month), MonthMetrics> = BTreeMap::new();
    for r in requests {
        let Some(unit) = &r.unit else { continue };
        if let Some(first) = r.first_dispatched {
            out.entry((unit.clone(), Month::of_date(first.date()))).or_default().received += 1;
        }
        let Some(closed) = r.closed else { continue };
        let m = out.entry((unit.clone(), Month::of_date(closed.date()))).or_default();
        m.closed += 1;
        if let (Some(done), Some(deadline)) = (r.done, r.deadline)
            && done <= deadline
        {
            m.on_time += 1;
        }
        if let Some(rating) = r.rating {
            m.rated += 1;
            if rating.counts_satisfied() {
                m.satisfied += 1;
            }
        }
        if r.redo_count > 0 {
            m.redone += 1;
        }
        if let (Some(first), Some(done)) = (r.first_dispatched, r.done) {
            m.handled += 1;
            m.handling_hours_sum += (done - first).num_seconds() as f64 / 3600.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(m: u32, d: u32, h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2027, m, d).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    fn closed(unit: &str, done_day: u32, rating: Option<Rating>, redo: u32) -> RequestFacts {
        RequestFacts {
            unit: Some(unit.into()),
            first_dispatched: Some(at(3, 1, 9)),
            deadline: Some(at(3, 5, 23)),
            done: Some(at(3, done_day, 9)),
            closed: Some(at(3, done_day, 18)),
            rating,
            redo_count: redo,
        }
    }

    #[test]
    fn a_fixed_set_of_requests() {
        let requests = vec![
            closed("u01", 2, Some(Rating::Satisfied), 0),
            closed("u01", 4, Some(Rating::Basic), 0),
            closed("u01", 8, Some(Rating::Dissatisfied), 1),
            closed("u01", 3, None, 0),
            // Open: counts as received only.
            RequestFacts { closed: None, done: None, rating: None, ..closed("u01", 2, None, 0) },
            // Never dispatched (merged): counts nowhere.
            RequestFacts { unit: None, ..closed("u01", 2, None, 0) },
            closed("u02", 2, Some(Rating::Satisfied), 0),
        ];
        let m = monthly_metrics(&requests);
        let march = Month::new(2027, 3).unwrap();
        let u01 = &m[&("u01".to_string(), march)];
        assert_eq!((u01.received, u01.closed, u01.on_time, u01.rated, u01.satisfied, u01.redone), (5, 4, 3, 3, 2, 1));
        assert_eq!(u01.on_time_rate(), Some(0.75));
        assert_eq!(u01.satisfaction_rate(), Some(2.0 / 3.0));
        assert_eq!(u01.redo_rate(), Some(0.25));
        // (24 + 72 + 168 + 48) / 4 hours.
        assert_eq!(u01.handling_hours(), Some(78.0));
        assert_eq!(m[&("u02".to_string(), march)].fields()["satisfaction_rate"], 1.0);
        assert_eq!(m.len(), 2);
        let open_only = MonthMetrics { received: 3, ..MonthMetrics::default() };
        assert_eq!(open_only.fields().keys().copied().collect::<Vec<_>>(), ["received"], "no rate without a denominator");
    }
}
