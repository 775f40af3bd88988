//! The overdue light (督办预警) of an open task, by working days of the office's
//! working calendar (`core::calendar`): a task is due by the end of its deadline day
//! (local time). Red once that day has passed; yellow while fewer than
//! [`YELLOW_WORKING_DAYS`] working days are left after today (so on the deadline's
//! day, and the two working days before it); green otherwise. Finished tasks (claimed
//! and after) have no light.

use chrono::NaiveDate;

use crate::calendar::Calendar;
use crate::service::Light;

/// A task turns yellow when fewer working days than this are left after today.
pub const YELLOW_WORKING_DAYS: u32 = 3;

/// The light of an open task due on `deadline`, seen on `today`.
pub fn light(calendar: &Calendar, deadline: NaiveDate, today: NaiveDate) -> Light {
    if today > deadline {
        Light::Red
    } else if calendar.working_days_between(today, deadline) < YELLOW_WORKING_DAYS {
        Light::Yellow
    } else {
        Light::Green
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, day).unwrap()
    }

    #[test]
    fn yellow_in_the_last_working_days_red_after() {
        let cal = Calendar::default();
        // Due Friday 2027-03-12. Working days left after Monday 3-8: 9, 10, 11, 12 = 4.
        assert_eq!(light(&cal, d(3, 12), d(3, 8)), Light::Green);
        // Tuesday 3-9: 10, 11, 12 = 3 left, still green.
        assert_eq!(light(&cal, d(3, 12), d(3, 9)), Light::Green);
        assert_eq!(light(&cal, d(3, 12), d(3, 10)), Light::Yellow, "two working days left");
        assert_eq!(light(&cal, d(3, 12), d(3, 12)), Light::Yellow, "the deadline's day");
        assert_eq!(light(&cal, d(3, 12), d(3, 13)), Light::Red, "the Saturday after");
        // Due Monday 3-15: from Wednesday 3-10 three working days (11, 12, 15) are left.
        assert_eq!(light(&cal, d(3, 15), d(3, 10)), Light::Green);
        assert_eq!(light(&cal, d(3, 15), d(3, 11)), Light::Yellow);
        // A holiday on Thursday 3-11 brings yellow a day earlier.
        let cal = Calendar::new([d(3, 11)], []);
        assert_eq!(light(&cal, d(3, 15), d(3, 10)), Light::Yellow);
        // A working Saturday (调休) counts.
        let cal = Calendar::new([], [d(3, 13)]);
        assert_eq!(light(&cal, d(3, 15), d(3, 10)), Light::Green);
        assert_eq!(light(&cal, d(3, 15), d(3, 11)), Light::Green, "12, 13 and 15 are left");
    }
}
