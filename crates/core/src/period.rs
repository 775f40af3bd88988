//! Assessment periods (考核期): a month `2027-03`, a quarter `2027-Q1` or the year
//! `2027` (spec §1, §5), and the reporting deadline of a month.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::calendar::Calendar;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One calendar month of an assessment year, e.g. `2027-03`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1–12.
    pub month: u8,
}

impl Month {
    pub fn new(year: i32, month: u8) -> Result<Month, PeriodError> {
        if (1..=12).contains(&month) && (1..=9999).contains(&year) {
            Ok(Month { year, month })
        } else {
            Err(PeriodError(format!("{year:04}-{month:02}")))
        }
    }

    /// The month a date falls in.
    pub fn of_date(date: NaiveDate) -> Month {
        Month { year: date.year(), month: date.month() as u8 }
    }

    /// The month after this one.
    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { year: self.year, month: self.month + 1 } }
    }

    /// The day this month's report is due: `due_day` of the following month
    /// (15 by default, DESIGN §2), or that month's last day if it is shorter.
    pub fn report_deadline(self, due_day: u8) -> NaiveDate {
        let next = self.next();
        let first = NaiveDate::from_ymd_opt(next.year, u32::from(next.month), 1).expect("a valid month has a first day");
        let last_day = first.checked_add_months(chrono::Months::new(1)).and_then(|d| d.pred_opt()).map_or(28, |d| d.day());
        let day = u32::from(due_day.max(1)).min(last_day);
        first.with_day(day).unwrap_or(first)
    }

    /// The deadline under the office's working calendar: `report_deadline(due_day)`,
    /// moved on to the next working day when it falls on a weekend or a day off
    /// (顺延), unless the weekend day is a working day (调休).
    pub fn report_deadline_in(self, due_day: u8, calendar: &Calendar) -> NaiveDate {
        let mut day = self.report_deadline(due_day);
        // A calendar never lists a year of days off; the bound only keeps this finite.
        for _ in 0..366 {
            if calendar.is_working(day) {
                break;
            }
            day = day.succ_opt().unwrap_or(day);
        }
        day
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Month, PeriodError> {
        let err = || PeriodError(s.to_string());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 || !is_digits(y) || !is_digits(m) {
            return Err(err());
        }
        Month::new(y.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?).map_err(|_| err())
    }
}

/// A month, a quarter or a whole year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month(Month),
    Quarter { year: i32, quarter: u8 },
    Year(i32),
}

impl Period {
    pub fn year(self) -> i32 {
        match self {
            Period::Month(m) => m.year,
            Period::Quarter { year, .. } | Period::Year(year) => year,
        }
    }

    /// First and last month (1–12) of the period.
    pub fn month_range(self) -> (u8, u8) {
        match self {
            Period::Month(m) => (m.month, m.month),
            Period::Quarter { quarter, .. } => (quarter * 3 - 2, quarter * 3),
            Period::Year(_) => (1, 12),
        }
    }

    /// The period's last month, 1–12 (`end` in spec §5, the formula variable `month`).
    pub fn end_month(self) -> u8 {
        self.month_range().1
    }

    /// `end / 12` (the formula variable `progress`).
    pub fn progress(self) -> f64 {
        f64::from(self.end_month()) / 12.0
    }

    pub fn contains(self, month: Month) -> bool {
        let (first, last) = self.month_range();
        month.year == self.year() && (first..=last).contains(&month.month)
    }

    /// All 17 periods of a year: the 12 months, the 4 quarters, then the year.
    pub fn all_in_year(year: i32) -> Vec<Period> {
        let months = (1..=12).map(|m| Period::Month(Month { year, month: m }));
        let quarters = (1..=4).map(|q| Period::Quarter { year, quarter: q });
        months.chain(quarters).chain([Period::Year(year)]).collect()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Period::Year(year) => write!(f, "{year:04}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Period, PeriodError> {
        let err = || PeriodError(s.to_string());
        if s.len() == 4 && is_digits(s) {
            let year: i32 = s.parse().map_err(|_| err())?;
            return if year >= 1 { Ok(Period::Year(year)) } else { Err(err()) };
        }
        if let Some((y, q)) = s.split_once("-Q") {
            if y.len() == 4 && is_digits(y) && q.len() == 1 && is_digits(q) {
                let quarter: u8 = q.parse().map_err(|_| err())?;
                let year: i32 = y.parse().map_err(|_| err())?;
                if (1..=4).contains(&quarter) && year >= 1 {
                    return Ok(Period::Quarter { year, quarter });
                }
            }
            return Err(err());
        }
        s.parse::<Month>().map(Period::Month).map_err(|_| err())
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A text that is not a period: `2027-13`, `2027-Q5`, `27`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a period: write a month `2027-03`, a quarter `2027-Q1` or a year `2027`")]
pub struct PeriodError(pub String);

macro_rules! serde_by_text {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_by_text!(Month);
serde_by_text!(Period);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holidays_move_the_deadline() {
        let march = Month::new(2027, 3).unwrap();
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        // 15 April 2027 is a Thursday.
        let none = Calendar::default();
        assert_eq!(march.report_deadline_in(15, &none), d(4, 15));
        // Thursday and Friday off, the weekend, Monday off: Tuesday the 20th.
        let off = Calendar::new([d(4, 15), d(4, 16), d(4, 19)], []);
        assert_eq!(march.report_deadline_in(15, &off), d(4, 20));
        // The same with Saturday the 17th a working day (调休).
        let swapped = Calendar::new([d(4, 15), d(4, 16), d(4, 19)], [d(4, 17)]);
        assert_eq!(march.report_deadline_in(15, &swapped), d(4, 17));
        assert_eq!(march.report_deadline_in(10, &off), d(4, 12), "Saturday the 10th moves to Monday the 12th");
        // May 15, 2027 is a Saturday: the deadline is Monday the 17th.
        assert_eq!(Month { year: 2027, month: 4 }.report_deadline_in(15, &none), d(5, 17));
    }

    #[test]
    fn parses_and_formats_each_kind() {
        for text in ["2027-03", "2027-Q1", "2027", "2027-12", "2027-Q4"] {
            assert_eq!(text.parse::<Period>().unwrap().to_string(), text);
        }
        assert_eq!("2027-Q2".parse::<Period>().unwrap(), Period::Quarter { year: 2027, quarter: 2 });
    }

    #[test]
    fn rejects_malformed_periods() {
        for text in ["2027-13", "2027-00", "2027-Q0", "2027-Q5", "27", "2027-3", "", "2027-Q", "abcd", "2027-03-01", "0000"] {
            assert!(text.parse::<Period>().is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn months_progress_and_containment() {
        let q1: Period = "2027-Q1".parse().unwrap();
        assert_eq!(q1.month_range(), (1, 3));
        assert_eq!(q1.progress(), 0.25);
        assert!(q1.contains("2027-02".parse().unwrap()));
        assert!(!q1.contains("2027-04".parse().unwrap()));
        assert!(!q1.contains("2026-02".parse().unwrap()));
        let year: Period = "2027".parse().unwrap();
        assert_eq!(year.end_month(), 12);
        assert_eq!(year.progress(), 1.0);
        assert_eq!(Period::all_in_year(2027).len(), 17);
    }

    #[test]
    fn deadline_is_due_day_of_following_month() {
        let march: Month = "2027-03".parse().unwrap();
        assert_eq!(march.report_deadline(15), NaiveDate::from_ymd_opt(2027, 4, 15).unwrap());
        let december: Month = "2027-12".parse().unwrap();
        assert_eq!(december.report_deadline(15), NaiveDate::from_ymd_opt(2028, 1, 15).unwrap());
        let january: Month = "2027-01".parse().unwrap();
        assert_eq!(january.report_deadline(31), NaiveDate::from_ymd_opt(2027, 2, 28).unwrap());
    }
}
