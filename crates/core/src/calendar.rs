//! The office's working calendar (工作日历): which days are working days, for report
//! deadlines (`period::Month::report_deadline_in`) and the time limits of service
//! requests (`service::sla`) alike.
//!
//! Monday to Friday are working days, Saturday and Sunday are not — unless the office
//! lists the day as a day off (`holidays`: 法定节假日) or as a working weekend day
//! (`workdays`: 调休上班日). China moves weekend days around its holidays every year,
//! so both lists are needed.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, Weekday};

/// The office's working calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// Days off that would otherwise be working days (and weekend days listed as off).
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are working days (调休).
    pub workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>, workdays: impl IntoIterator<Item = NaiveDate>) -> Calendar {
        Calendar { holidays: holidays.into_iter().collect(), workdays: workdays.into_iter().collect() }
    }

    pub fn is_working(&self, day: NaiveDate) -> bool {
        if self.holidays.contains(&day) {
            return false;
        }
        if self.workdays.contains(&day) {
            return true;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The `n`-th working day after `day` (`n` = 0: `day` itself).
    pub fn add_working_days(&self, day: NaiveDate, n: u32) -> NaiveDate {
        let mut d = day;
        let mut left = n;
        // A calendar of only days off would loop forever: stop after ten years.
        let mut guard = 0;
        while left > 0 && guard < 3660 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_working(d) {
                left -= 1;
            }
            guard += 1;
        }
        d
    }

    /// Working days from the day after `from` through `to` (0 when `to` ≤ `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.succ_opt().unwrap_or(to);
            if self.is_working(d) {
                n += 1;
            }
        }
        n
    }
}
