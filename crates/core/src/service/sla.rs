//! Time limits (办理时限) of service requests, in working days of the office's
//! working calendar (`core::calendar`, the same that moves report deadlines).
//!
//! A limit of N working days from a dispatch ends at the end (23:59:59, local time)
//! of the N-th working day after the day of dispatch; the day of dispatch does not
//! count. The overdue light is green while more than one working day is left,
//! yellow on the deadline's day (no working day left before it), red after the
//! deadline.

use chrono::NaiveDateTime;

pub use crate::calendar::Calendar;

/// The deadline of a limit of `days` working days for a request dispatched at
/// `dispatched` (local time): the end of the `days`-th working day after that day.
pub fn deadline(calendar: &Calendar, dispatched: NaiveDateTime, days: u32) -> NaiveDateTime {
    let day = calendar.add_working_days(dispatched.date(), days.max(1));
    day.and_hms_opt(23, 59, 59).unwrap_or(dispatched)
}

/// The overdue light (警示灯) of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Light {
    pub fn code(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
        }
    }
}

/// The light of a request with `deadline`, seen at `now` (or, for a finished one, at
/// the time it was done): red past the deadline, yellow on the deadline's day,
/// green otherwise.
pub fn light(calendar: &Calendar, deadline: NaiveDateTime, now: NaiveDateTime) -> Light {
    if now > deadline {
        Light::Red
    } else if calendar.working_days_between(now.date(), deadline.date()) == 0 {
        Light::Yellow
    } else {
        Light::Green
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, day).unwrap()
    }

    fn at(m: u32, day: u32, h: u32) -> NaiveDateTime {
        d(m, day).and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        // 2027-04-30 is a Friday; 5-1..5-5 the Labour Day holiday; 5-8 (Saturday) worked.
        let cal = Calendar::new((1..=5).map(|x| d(5, x)), [d(5, 8)]);
        assert!(!cal.is_working(d(5, 3)), "a Monday in the holiday");
        assert!(cal.is_working(d(5, 8)), "a Saturday worked in exchange");
        assert!(!cal.is_working(d(5, 9)));
        // Dispatched Friday 4-30 with 3 working days: 5-6, 5-7, 5-8.
        assert_eq!(deadline(&cal, at(4, 30, 15), 3), d(5, 8).and_hms_opt(23, 59, 59).unwrap());
        // Without the calendar: Mon 5-3, Tue 5-4, Wed 5-5.
        assert_eq!(deadline(&Calendar::default(), at(4, 30, 15), 3).date(), d(5, 5));
        assert_eq!(cal.working_days_between(d(4, 30), d(5, 8)), 3);
        assert_eq!(cal.working_days_between(d(5, 8), d(5, 8)), 0);
    }

    #[test]
    fn lights_turn_yellow_then_red() {
        let cal = Calendar::default();
        // Monday 3-1 + 2 working days: Wednesday 3-3, end of day.
        let due = deadline(&cal, at(3, 1, 9), 2);
        assert_eq!(light(&cal, due, at(3, 1, 10)), Light::Green);
        assert_eq!(light(&cal, due, at(3, 2, 10)), Light::Green);
        assert_eq!(light(&cal, due, at(3, 3, 10)), Light::Yellow, "the last day");
        assert_eq!(light(&cal, due, d(3, 3).and_hms_opt(23, 59, 59).unwrap()), Light::Yellow, "the last second");
        assert_eq!(light(&cal, due, at(3, 4, 0)), Light::Red);
        // A Monday deadline: the Friday before still has a working day left.
        let monday = deadline(&cal, at(3, 4, 9), 2);
        assert_eq!(monday.date(), d(3, 8));
        assert_eq!(light(&cal, monday, at(3, 5, 12)), Light::Green);
        assert_eq!(light(&cal, monday, at(3, 6, 12)), Light::Green, "Saturday: Monday is still ahead");
        assert_eq!(light(&cal, monday, at(3, 8, 12)), Light::Yellow);
    }
}
