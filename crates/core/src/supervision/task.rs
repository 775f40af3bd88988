//! What a supervision task is, in its own words: where it came from (`Source`), how
//! urgent it is (`Priority`) and the grades of its evaluation (`Grade`).

use std::fmt;
use std::str::FromStr;

use crate::period::Month;

/// Where a task came from (来源). Stored as a kind and a reference text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Opened by hand (领导交办 / 考核办交办).
    Manual,
    /// A red warning light of a unit's indicator in a month (红灯预警).
    RedLight { unit: String, month: Month, indicator: String },
    /// An escalated public service request (诉求升级督办), by case number.
    ServiceRequest { case_no: String },
    /// A leader's comment (领导点评), by its id.
    Comment { id: i64 },
}

impl Source {
    pub const KINDS: [&'static str; 4] = ["manual", "red_light", "service_request", "comment"];

    pub fn kind(&self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::RedLight { .. } => "red_light",
            Source::ServiceRequest { .. } => "service_request",
            Source::Comment { .. } => "comment",
        }
    }

    /// The reference kept with the kind: `u01/2027-03/A1`, `QK-2027-000123`, `17`, or
    /// empty.
    pub fn reference(&self) -> String {
        match self {
            Source::Manual => String::new(),
            Source::RedLight { unit, month, indicator } => format!("{unit}/{month}/{indicator}"),
            Source::ServiceRequest { case_no } => case_no.clone(),
            Source::Comment { id } => id.to_string(),
        }
    }

    /// Reads a stored or submitted kind and reference.
    pub fn parse(kind: &str, reference: &str) -> Result<Source, String> {
        let reference = reference.trim();
        match kind {
            "manual" | "" => Ok(Source::Manual),
            "red_light" => {
                let parts: Vec<&str> = reference.split('/').collect();
                match parts.as_slice() {
                    [unit, month, indicator] if !unit.is_empty() && !indicator.is_empty() => Ok(Source::RedLight {
                        unit: unit.to_string(),
                        month: month.parse().map_err(|e| format!("red light `{reference}`: {e}"))?,
                        indicator: indicator.to_string(),
                    }),
                    _ => Err(format!("red light `{reference}`: expected unit/month/indicator")),
                }
            }
            "service_request" if !reference.is_empty() => Ok(Source::ServiceRequest { case_no: reference.to_uppercase() }),
            "comment" => reference.parse::<i64>().map(|id| Source::Comment { id }).map_err(|_| format!("comment `{reference}`: not an id")),
            "service_request" => Err("a service request source needs its case number".into()),
            other => Err(format!("unknown source `{other}`")),
        }
    }
}

/// How urgent a task is (紧急程度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// 一般
    Normal,
    /// 重要
    High,
    /// 紧急
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Normal, Priority::High, Priority::Urgent];

    pub fn code(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Priority, String> {
        Priority::ALL.into_iter().find(|p| p.code() == s).ok_or_else(|| format!("unknown priority `{s}`"))
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The grade of a unit's work on a task (评价等次), each standing for a score out of
/// 100 when no score is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grade {
    /// 优秀
    Excellent,
    /// 良好
    Good,
    /// 合格
    Pass,
    /// 不合格
    Fail,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Grade::Excellent, Grade::Good, Grade::Pass, Grade::Fail];

    pub fn code(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Good => "good",
            Grade::Pass => "pass",
            Grade::Fail => "fail",
        }
    }

    /// The score a grade stands for.
    pub fn score(self) -> f64 {
        match self {
            Grade::Excellent => 95.0,
            Grade::Good => 85.0,
            Grade::Pass => 70.0,
            Grade::Fail => 50.0,
        }
    }
}

impl FromStr for Grade {
    type Err = String;
    fn from_str(s: &str) -> Result<Grade, String> {
        Grade::ALL.into_iter().find(|g| g.code() == s).ok_or_else(|| format!("unknown grade `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip_and_bad_ones_are_named() {
        let light = Source::RedLight { unit: "u01".into(), month: Month::new(2027, 3).unwrap(), indicator: "A1".into() };
        assert_eq!(light.reference(), "u01/2027-03/A1");
        assert_eq!(Source::parse("red_light", "u01/2027-03/A1").unwrap(), light);
        assert_eq!(
            Source::parse("service_request", "qk-2027-000001").unwrap(),
            Source::ServiceRequest { case_no: "QK-2027-000001".into() }
        );
        assert_eq!(Source::parse("comment", "17").unwrap(), Source::Comment { id: 17 });
        assert_eq!(Source::parse("manual", "").unwrap(), Source::Manual);
        assert!(Source::parse("red_light", "u01/2027-13/A1").unwrap_err().contains("u01/2027-13/A1"));
        assert!(Source::parse("red_light", "u01").is_err());
        assert!(Source::parse("comment", "x").is_err());
        assert!(Source::parse("rumour", "").unwrap_err().contains("rumour"));
        assert_eq!("urgent".parse::<Priority>().unwrap(), Priority::Urgent);
        assert_eq!("good".parse::<Grade>().unwrap().score(), 85.0);
    }
}
