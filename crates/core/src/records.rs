//! Records registered in the browser (加减分记录) and bonus applications (加分申报):
//! their topics and states, the points rule a record must keep, and who may take which
//! step.
//!
//! - The office registers bonus and deduction records for any unit; a functional
//!   department (an assessor) for the indicators it enters (`entered_by`, the same
//!   `Duty` as the reporting workflow) or leads (its indicator scope). Edits and
//!   cancellations carry a reason.
//! - A unit's reporter or head applies for a bonus in one of four categories, claiming
//!   an indicator of a bonus category (the rule) and points; the office approves — with
//!   the points claimed or fewer (partial), never more — or rejects with a reason.
//! - Points: a record's points are a positive amount with at most two decimals (a
//!   bonus adds them, a deduction takes them off: the sign is the indicator's kind),
//!   at most the cap of the indicator's top-level category, or else the indicator's
//!   own points, where the scheme sets one ([`points_bound`]).

use std::fmt;
use std::str::FromStr;

use crate::org::{Grant, Role, Target};
use crate::scheme::Scheme;
use crate::scheme::{Kind, Source};
use crate::workflow::Duty;

/// What a record is about, for the topic reports (专题统计).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// 创新项目
    Innovation,
    /// 信息调研成果
    Research,
    /// 上级表彰
    Commendation,
    /// 业务指导
    Guidance,
    /// 作风纪律
    Discipline,
    /// 其他
    Other,
}

impl Topic {
    pub const ALL: [Topic; 6] = [Topic::Innovation, Topic::Research, Topic::Commendation, Topic::Guidance, Topic::Discipline, Topic::Other];
    /// The categories a unit may apply for a bonus in.
    pub const APPLICABLE: [Topic; 4] = [Topic::Innovation, Topic::Research, Topic::Commendation, Topic::Guidance];
    /// The topics of the topic reports: innovation projects, discipline and conduct,
    /// information and research.
    pub const REPORTED: [Topic; 3] = [Topic::Innovation, Topic::Discipline, Topic::Research];

    pub fn code(self) -> &'static str {
        match self {
            Topic::Innovation => "innovation",
            Topic::Research => "research",
            Topic::Commendation => "commendation",
            Topic::Guidance => "guidance",
            Topic::Discipline => "discipline",
            Topic::Other => "other",
        }
    }

    pub fn applicable(self) -> bool {
        Topic::APPLICABLE.contains(&self)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Topic {
    type Err = String;
    fn from_str(s: &str) -> Result<Topic, String> {
        Topic::ALL.into_iter().find(|t| t.code() == s).ok_or_else(|| format!("unknown topic `{s}`"))
    }
}

/// Where a registered record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordState {
    /// Counts in the scores.
    Active,
    /// Withdrawn with a reason; no longer scored, kept for the trail.
    Cancelled,
}

impl RecordState {
    pub fn code(self) -> &'static str {
        match self {
            RecordState::Active => "active",
            RecordState::Cancelled => "cancelled",
        }
    }
}

impl FromStr for RecordState {
    type Err = String;
    fn from_str(s: &str) -> Result<RecordState, String> {
        [RecordState::Active, RecordState::Cancelled]
            .into_iter()
            .find(|t| t.code() == s)
            .ok_or_else(|| format!("unknown record state `{s}`"))
    }
}

/// Where a bonus application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationState {
    Submitted,
    Approved,
    Rejected,
}

impl ApplicationState {
    pub const ALL: [ApplicationState; 3] = [ApplicationState::Submitted, ApplicationState::Approved, ApplicationState::Rejected];

    pub fn code(self) -> &'static str {
        match self {
            ApplicationState::Submitted => "submitted",
            ApplicationState::Approved => "approved",
            ApplicationState::Rejected => "rejected",
        }
    }
}

impl FromStr for ApplicationState {
    type Err = String;
    fn from_str(s: &str) -> Result<ApplicationState, String> {
        ApplicationState::ALL.into_iter().find(|t| t.code() == s).ok_or_else(|| format!("unknown application state `{s}`"))
    }
}

/// Why a record or an application was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("indicator `{0}` is not in the scheme")]
    UnknownIndicator(String),
    #[error("indicator `{0}` is not scored from records")]
    NotRecords(String),
    #[error("indicator `{0}` is not a bonus")]
    NotBonus(String),
    #[error("indicator `{indicator}` is not assessed for unit `{unit}`")]
    NotAssigned { unit: String, indicator: String },
    #[error("points must be more than 0")]
    NotPositive,
    #[error("points have at most two decimals")]
    TooPrecise,
    #[error("points may be at most {0}")]
    AboveBound(f64),
    #[error("the approved points may be at most the {0} claimed")]
    AboveClaim(f64),
    #[error("a reason is needed")]
    ReasonRequired,
    #[error("an application that is {0} cannot be decided again")]
    Decided(&'static str),
}

impl RuleError {
    /// The message catalogue key of this problem (`records.rule.…`).
    pub fn key(&self) -> &'static str {
        match self {
            RuleError::UnknownIndicator(_) => "records.rule.unknown_indicator",
            RuleError::NotRecords(_) => "records.rule.not_records",
            RuleError::NotBonus(_) => "records.rule.not_bonus",
            RuleError::NotAssigned { .. } => "records.rule.not_assigned",
            RuleError::NotPositive => "records.rule.not_positive",
            RuleError::TooPrecise => "records.rule.too_precise",
            RuleError::AboveBound(_) => "records.rule.above_bound",
            RuleError::AboveClaim(_) => "records.rule.above_claim",
            RuleError::ReasonRequired => "records.rule.reason_required",
            RuleError::Decided(_) => "records.rule.decided",
        }
    }
}

/// The most points one record of the indicator at `node` may carry: the cap of its
/// top-level bonus or deduction category, else the indicator's own points; `None` when
/// the scheme sets neither.
pub fn points_bound(scheme: &Scheme, node: usize) -> Option<f64> {
    let mut top = node;
    while let Some(p) = scheme.nodes[top].parent {
        top = p;
    }
    scheme.nodes[top].cap.or(scheme.nodes[node].points)
}

/// The indicator a record of `unit` may be booked on: in the scheme, scored from
/// records, assigned to the unit; with `bonus_only`, of a bonus category. Its node.
pub fn record_indicator(scheme: &Scheme, unit: &str, indicator: &str, bonus_only: bool) -> Result<usize, RuleError> {
    let node = scheme.node_index(indicator).ok_or_else(|| RuleError::UnknownIndicator(indicator.to_string()))?;
    let ind = scheme.indicator(node).ok_or_else(|| RuleError::UnknownIndicator(indicator.to_string()))?;
    if ind.source != Source::Records {
        return Err(RuleError::NotRecords(indicator.to_string()));
    }
    if bonus_only && scheme.nodes[node].kind != Kind::Bonus {
        return Err(RuleError::NotBonus(indicator.to_string()));
    }
    let assigned = scheme.unit_index(unit).is_some_and(|u| ind.is_assigned(u));
    if !assigned {
        return Err(RuleError::NotAssigned { unit: unit.to_string(), indicator: indicator.to_string() });
    }
    Ok(node)
}

/// Checks a record's points against the rule: positive, two decimals at most, within
/// `bound`.
pub fn check_points(points: f64, bound: Option<f64>) -> Result<(), RuleError> {
    if !points.is_finite() || points <= 0.0 {
        return Err(RuleError::NotPositive);
    }
    let cents = points * 100.0;
    if (cents - cents.round()).abs() > 1e-6 {
        return Err(RuleError::TooPrecise);
    }
    match bound {
        Some(b) if points > b => Err(RuleError::AboveBound(b)),
        _ => Ok(()),
    }
}

/// The office's decision on an application: the state it moves to. `points` are the
/// points approved (the claim or fewer), `note` the reason (needed to reject).
pub fn decide(
    state: ApplicationState,
    approve: bool,
    points: f64,
    claimed: f64,
    bound: Option<f64>,
    note: &str,
) -> Result<ApplicationState, RuleError> {
    if state != ApplicationState::Submitted {
        return Err(RuleError::Decided(state.code()));
    }
    if !approve {
        if note.trim().is_empty() {
            return Err(RuleError::ReasonRequired);
        }
        return Ok(ApplicationState::Rejected);
    }
    check_points(points, bound)?;
    if points > claimed {
        return Err(RuleError::AboveClaim(claimed));
    }
    Ok(ApplicationState::Approved)
}

/// Whether a holder of `grants`, of unit `own_unit`, may register (and edit and
/// cancel) records of `unit` on `indicator`, entered by the unit `duty` names: the
/// office for every unit; an assessor whose unit enters the indicator, or whose
/// indicator scope covers it.
pub fn may_register(grants: &[Grant], own_unit: Option<&str>, unit: &str, indicator: &str, duty: Duty) -> bool {
    grants.iter().any(|g| match g.role {
        Role::Office => crate::org::allows(std::slice::from_ref(g), crate::org::Action::RegisterRecords, Target::Unit(unit)),
        Role::Assessor => {
            (duty.entered_by.is_some() && duty.entered_by == own_unit)
                || crate::org::allows(std::slice::from_ref(g), crate::org::Action::RegisterRecords, Target::Indicator { unit, indicator })
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::org::Scope;

    #[test]
    fn points_follow_the_rule() {
        assert_eq!(check_points(2.0, Some(5.0)), Ok(()));
        assert_eq!(check_points(5.0, Some(5.0)), Ok(()));
        assert_eq!(check_points(0.25, None), Ok(()));
        assert_eq!(check_points(5.5, Some(5.0)), Err(RuleError::AboveBound(5.0)));
        assert_eq!(check_points(0.0, None), Err(RuleError::NotPositive));
        assert_eq!(check_points(-1.0, None), Err(RuleError::NotPositive));
        assert_eq!(check_points(f64::NAN, None), Err(RuleError::NotPositive));
        assert_eq!(check_points(1.005, None), Err(RuleError::TooPrecise));
    }

    #[test]
    fn the_office_decides_once_and_never_above_the_claim() {
        use ApplicationState::*;
        assert_eq!(decide(Submitted, true, 2.0, 3.0, Some(5.0), ""), Ok(Approved), "partial approval");
        assert_eq!(decide(Submitted, true, 3.0, 3.0, Some(5.0), ""), Ok(Approved));
        assert_eq!(decide(Submitted, true, 4.0, 3.0, Some(5.0), ""), Err(RuleError::AboveClaim(3.0)));
        assert_eq!(decide(Submitted, true, 6.0, 6.0, Some(5.0), ""), Err(RuleError::AboveBound(5.0)));
        assert_eq!(decide(Submitted, false, 0.0, 3.0, None, " "), Err(RuleError::ReasonRequired));
        assert_eq!(decide(Submitted, false, 0.0, 3.0, None, "证明材料不足"), Ok(Rejected));
        assert_eq!(decide(Approved, false, 0.0, 3.0, None, "again"), Err(RuleError::Decided("approved")));
    }

    #[test]
    fn who_registers() {
        let office = [Grant { role: Role::Office, scope: Scope::All }];
        let leading = [Grant { role: Role::Assessor, scope: Scope::Indicators(BTreeSet::from(["Y5".to_string()])) }];
        let other = [Grant { role: Role::Assessor, scope: Scope::Indicators(BTreeSet::new()) }];
        let reporter = [Grant { role: Role::Reporter, scope: Scope::Units(BTreeSet::from(["u01".to_string()])) }];
        let none = Duty::default();
        let entered = Duty { entered_by: Some("u09"), reviewed_by: None };
        assert!(may_register(&office, None, "u01", "X1", none));
        assert!(may_register(&leading, Some("u08"), "u01", "Y5", none));
        assert!(!may_register(&leading, Some("u08"), "u01", "Y1", none));
        assert!(may_register(&other, Some("u09"), "u01", "Y1", entered), "the entering unit");
        assert!(!may_register(&other, Some("u08"), "u01", "Y1", entered));
        assert!(!may_register(&reporter, Some("u01"), "u01", "X1", none), "a unit does not book its own records");
    }

    #[test]
    fn codes_round_trip() {
        for t in Topic::ALL {
            assert_eq!(t.code().parse::<Topic>().unwrap(), t);
        }
        for s in ApplicationState::ALL {
            assert_eq!(s.code().parse::<ApplicationState>().unwrap(), s);
        }
        assert!("bogus".parse::<Topic>().is_err());
    }
}
