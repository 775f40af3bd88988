//! The reporting workflow (填报流程) of one entry — one unit's values of one
//! indicator for one month:
//!
//! ```text
//!            save            submit            approve           accept
//!   (none) ───────▶ draft ───────▶ submitted ───────▶ approved ───────▶ accepted
//!                    ▲               │   return         │   return         │  return
//!                    └── returned ◀──┴──────────────────┴──────────────────┘
//! ```
//!
//! - The unit reporter (单位填报员) saves and submits the unit's entries; an assessor
//!   (考核责任部门) does the same for the indicators it leads, for any unit.
//! - The unit head (单位负责人) approves what was submitted, or returns it.
//! - The assessment office (考核办) accepts what was approved, or returns it — also
//!   after accepting, as long as the period is open.
//! - A return always carries a reason. A returned entry is edited and submitted again.
//! - Only accepted entries count in the scores.
//!
//! - An indicator the scheme says is entered by another unit (`entered_by`, e.g. the
//!   department that leads it) is saved and submitted only by that unit's assessors,
//!   not by the assessed unit. Where the scheme names a reviewing unit (`reviewed_by`),
//!   or the data is entered by another unit, that unit's assessors take the head's
//!   step (approve or return) instead of the assessed unit's head.
//!
//! This module decides which step is allowed from which state for which role; who
//! may touch which unit's or indicator's data is `org::allows`.

use std::fmt;
use std::str::FromStr;

use crate::org::{Action, Grant, Role, Target, allows};

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryState {
    Draft,
    Submitted,
    Approved,
    Accepted,
    Returned,
}

impl EntryState {
    pub const ALL: [EntryState; 5] =
        [EntryState::Draft, EntryState::Submitted, EntryState::Approved, EntryState::Accepted, EntryState::Returned];

    pub fn code(self) -> &'static str {
        match self {
            EntryState::Draft => "draft",
            EntryState::Submitted => "submitted",
            EntryState::Approved => "approved",
            EntryState::Accepted => "accepted",
            EntryState::Returned => "returned",
        }
    }

    /// Whether the values may still be changed by the reporter.
    pub fn editable(self) -> bool {
        matches!(self, EntryState::Draft | EntryState::Returned)
    }

    /// Whether the entry counts in the scores.
    pub fn counts(self) -> bool {
        self == EntryState::Accepted
    }
}

impl fmt::Display for EntryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for EntryState {
    type Err = String;
    fn from_str(s: &str) -> Result<EntryState, String> {
        EntryState::ALL.into_iter().find(|e| e.code() == s).ok_or_else(|| format!("unknown entry state `{s}`"))
    }
}

/// What someone does to an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// Write values (creates the entry as a draft).
    Save,
    Submit,
    Approve,
    Accept,
    /// Send back with a reason.
    Return,
}

impl Step {
    pub const ALL: [Step; 5] = [Step::Save, Step::Submit, Step::Approve, Step::Accept, Step::Return];

    pub fn code(self) -> &'static str {
        match self {
            Step::Save => "save",
            Step::Submit => "submit",
            Step::Approve => "approve",
            Step::Accept => "accept",
            Step::Return => "return",
        }
    }
}

impl FromStr for Step {
    type Err = String;
    fn from_str(s: &str) -> Result<Step, String> {
        Step::ALL.into_iter().find(|e| e.code() == s).ok_or_else(|| format!("unknown step `{s}`"))
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("a {role} cannot {step} an entry")]
    NotYourStep { role: &'static str, step: &'static str },
    #[error("an entry that is {state} cannot take the step `{step}`")]
    WrongState { state: &'static str, step: &'static str },
    #[error("a return needs a reason")]
    ReasonRequired,
}

/// The roles that take a step.
pub fn roles_for(step: Step) -> &'static [Role] {
    match step {
        Step::Save | Step::Submit => &[Role::Reporter, Role::Assessor],
        Step::Approve => &[Role::Head],
        Step::Accept => &[Role::Office],
        Step::Return => &[Role::Head, Role::Office],
    }
}

/// The role in which a holder of `grants` may take `step` on the entry of `unit` for
/// `indicator`: one of the step's roles whose grant's scope covers the entry (an
/// assessor's, by indicator). `None` if no grant does.
pub fn acting_role(grants: &[Grant], step: Step, unit: &str, indicator: &str) -> Option<Role> {
    let target = Target::Indicator { unit, indicator };
    grants
        .iter()
        .filter(|g| roles_for(step).contains(&g.role))
        .find(|g| allows(std::slice::from_ref(g), Action::HandleEntries, target))
        .map(|g| g.role)
}

/// Who besides the assessed unit handles an indicator's data (the scheme's
/// `entered_by` and `reviewed_by`, as unit ids).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duty<'a> {
    pub entered_by: Option<&'a str>,
    pub reviewed_by: Option<&'a str>,
}

/// [`acting_role`] with the indicator's [`Duty`]: `own_unit` is the unit of the
/// holder of `grants`. A unit entering or reviewing for others acts in the head's step
/// as `Role::Head`.
pub fn acting_role_with(grants: &[Grant], own_unit: Option<&str>, step: Step, unit: &str, indicator: &str, duty: Duty) -> Option<Role> {
    let of = |u: Option<&str>| u.is_some() && own_unit == u;
    let reviewer = duty.reviewed_by.or(duty.entered_by);
    match step {
        Step::Save | Step::Submit if duty.entered_by.is_some() => {
            let target = Target::Indicator { unit, indicator };
            grants
                .iter()
                .find(|g| {
                    g.role == Role::Assessor && (of(duty.entered_by) || allows(std::slice::from_ref(g), Action::HandleEntries, target))
                })
                .map(|g| g.role)
        }
        Step::Approve | Step::Return if reviewer.is_some() => {
            if step == Step::Return && grants.iter().any(|g| g.role == Role::Office) {
                return acting_role(grants, step, unit, indicator);
            }
            grants.iter().any(|g| g.role == Role::Assessor && of(reviewer)).then_some(Role::Head)
        }
        _ => acting_role(grants, step, unit, indicator),
    }
}

/// The state after `step` by someone in `role`, from `state` (`None`: no entry yet).
/// `reason` is what a return says.
pub fn next(state: Option<EntryState>, step: Step, role: Role, reason: &str) -> Result<EntryState, WorkflowError> {
    if !roles_for(step).contains(&role) {
        return Err(WorkflowError::NotYourStep { role: role.code(), step: step.code() });
    }
    use EntryState::*;
    let wrong = || WorkflowError::WrongState { state: state.map_or("missing", EntryState::code), step: step.code() };
    match (step, state) {
        (Step::Save, None) => Ok(Draft),
        (Step::Save, Some(s)) if s.editable() => Ok(s),
        (Step::Submit, Some(s)) if s.editable() => Ok(Submitted),
        (Step::Approve, Some(Submitted)) => Ok(Approved),
        (Step::Accept, Some(Approved)) => Ok(Accepted),
        (Step::Return, Some(s)) => {
            let allowed = match role {
                Role::Head => s == Submitted,
                _ => matches!(s, Submitted | Approved | Accepted),
            };
            if !allowed {
                return Err(wrong());
            }
            if reason.trim().is_empty() {
                return Err(WorkflowError::ReasonRequired);
            }
            Ok(Returned)
        }
        _ => Err(wrong()),
    }
}

/// Whether a unit's month was reported on time (报送及时性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeliness {
    /// Every due indicator was submitted by the end of the deadline day.
    OnTime,
    /// Every due indicator is in, the last after the deadline.
    Late,
    /// The deadline has passed and something due is still not in.
    Missing,
    /// The deadline has not passed and something due is still not in.
    Open,
}

impl Timeliness {
    pub fn code(self) -> &'static str {
        match self {
            Timeliness::OnTime => "on_time",
            Timeliness::Late => "late",
            Timeliness::Missing => "missing",
            Timeliness::Open => "open",
        }
    }
}

/// The timeliness of a month whose due indicators were first submitted at
/// `submitted` (`None`: not yet), with reports due by the end of `deadline`, seen at
/// `now` (local times). Nothing due counts as on time.
pub fn timeliness(submitted: &[Option<chrono::NaiveDateTime>], deadline: chrono::NaiveDate, now: chrono::NaiveDateTime) -> Timeliness {
    let end = deadline.and_hms_opt(23, 59, 59).unwrap_or_default();
    if submitted.iter().all(Option::is_some) {
        let last = submitted.iter().flatten().max();
        return match last {
            Some(t) if *t > end => Timeliness::Late,
            _ => Timeliness::OnTime,
        };
    }
    if now > end { Timeliness::Missing } else { Timeliness::Open }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntryState::*;

    #[test]
    fn entering_and_reviewing_units_take_their_steps() {
        use crate::org::Scope;
        let unit = |role, u: &str| vec![Grant { role, scope: Scope::Units([u.to_string()].into()) }];
        let assessor = vec![Grant { role: Role::Assessor, scope: Scope::Indicators(Default::default()) }];
        let office = vec![Grant { role: Role::Office, scope: Scope::All }];
        let entered = Duty { entered_by: Some("tax"), reviewed_by: None };
        let reviewed = Duty { entered_by: None, reviewed_by: Some("stat") };
        let role = |g: &[Grant], own: &str, step, duty| acting_role_with(g, Some(own), step, "u01", "A1", duty);
        // Entered by the tax bureau: its assessors enter it, the unit's reporter cannot.
        assert_eq!(role(&unit(Role::Reporter, "u01"), "u01", Step::Save, entered), None);
        assert_eq!(role(&assessor, "tax", Step::Submit, entered), Some(Role::Assessor));
        assert_eq!(role(&assessor, "stat", Step::Submit, entered), None);
        // …and the tax bureau's head approves, not the unit's.
        assert_eq!(role(&unit(Role::Head, "u01"), "u01", Step::Approve, entered), None);
        assert_eq!(role(&assessor, "tax", Step::Approve, entered), Some(Role::Head));
        assert_eq!(role(&assessor, "stat", Step::Approve, entered), None);
        // Reviewed by the statistics bureau: the unit reports, the bureau approves or returns.
        assert_eq!(role(&unit(Role::Reporter, "u01"), "u01", Step::Submit, reviewed), Some(Role::Reporter));
        assert_eq!(role(&unit(Role::Head, "u01"), "u01", Step::Approve, reviewed), None);
        assert_eq!(role(&assessor, "stat", Step::Approve, reviewed), Some(Role::Head));
        assert_eq!(role(&assessor, "stat", Step::Return, reviewed), Some(Role::Head));
        assert_eq!(role(&office, "", Step::Return, reviewed), Some(Role::Office));
        assert_eq!(role(&office, "", Step::Accept, reviewed), Some(Role::Office));
        // Without a duty, as before.
        assert_eq!(role(&unit(Role::Head, "u01"), "u01", Step::Approve, Duty::default()), Some(Role::Head));
    }

    /// Every (state, step, role) against the table of the module documentation,
    /// written out here independently of `next`.
    #[test]
    fn every_transition_per_role() {
        let allowed: &[(Option<EntryState>, Step, Role, EntryState)] = &[
            (None, Step::Save, Role::Reporter, Draft),
            (None, Step::Save, Role::Assessor, Draft),
            (Some(Draft), Step::Save, Role::Reporter, Draft),
            (Some(Draft), Step::Save, Role::Assessor, Draft),
            (Some(Returned), Step::Save, Role::Reporter, Returned),
            (Some(Returned), Step::Save, Role::Assessor, Returned),
            (Some(Draft), Step::Submit, Role::Reporter, Submitted),
            (Some(Draft), Step::Submit, Role::Assessor, Submitted),
            (Some(Returned), Step::Submit, Role::Reporter, Submitted),
            (Some(Returned), Step::Submit, Role::Assessor, Submitted),
            (Some(Submitted), Step::Approve, Role::Head, Approved),
            (Some(Approved), Step::Accept, Role::Office, Accepted),
            (Some(Submitted), Step::Return, Role::Head, Returned),
            (Some(Submitted), Step::Return, Role::Office, Returned),
            (Some(Approved), Step::Return, Role::Office, Returned),
            (Some(Accepted), Step::Return, Role::Office, Returned),
        ];
        let states = std::iter::once(None).chain(EntryState::ALL.map(Some));
        let mut checked = 0;
        for state in states {
            for step in Step::ALL {
                for role in Role::ALL {
                    let want = allowed.iter().find(|(s, st, r, _)| *s == state && *st == step && *r == role).map(|a| a.3);
                    let got = next(state, step, role, "原因").ok();
                    assert_eq!(got, want, "{state:?} {step:?} by {role:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 5 * 9);
    }

    #[test]
    fn acting_role_follows_scope() {
        use crate::org::Scope;
        let units = |u: &str| Scope::Units([u.to_string()].into());
        let reporter = [Grant { role: Role::Reporter, scope: units("u01") }];
        assert_eq!(acting_role(&reporter, Step::Submit, "u01", "A1"), Some(Role::Reporter));
        assert_eq!(acting_role(&reporter, Step::Submit, "u02", "A1"), None, "another unit's form");
        assert_eq!(acting_role(&reporter, Step::Approve, "u01", "A1"), None, "not a reporter's step");
        let assessor = [Grant { role: Role::Assessor, scope: Scope::Indicators(["A1".to_string()].into()) }];
        assert_eq!(acting_role(&assessor, Step::Save, "u07", "A1"), Some(Role::Assessor));
        assert_eq!(acting_role(&assessor, Step::Save, "u07", "A2"), None);
        let both = [Grant { role: Role::Reporter, scope: units("u01") }, Grant { role: Role::Head, scope: units("u01") }];
        assert_eq!(acting_role(&both, Step::Approve, "u01", "A1"), Some(Role::Head));
        let office = [Grant { role: Role::Office, scope: Scope::All }];
        assert_eq!(acting_role(&office, Step::Accept, "u42", "B3"), Some(Role::Office));
        assert_eq!(acting_role(&office, Step::Save, "u42", "B3"), None);
    }

    #[test]
    fn timeliness_at_the_deadline() {
        use chrono::NaiveDate;
        let day = NaiveDate::from_ymd_opt(2027, 4, 15).unwrap();
        let at = |d: u32, h: u32, m: u32, s: u32| NaiveDate::from_ymd_opt(2027, 4, d).unwrap().and_hms_opt(h, m, s).unwrap();
        let now = at(20, 9, 0, 0);
        assert_eq!(timeliness(&[Some(at(15, 23, 59, 59))], day, now), Timeliness::OnTime, "the last second counts");
        assert_eq!(timeliness(&[Some(at(10, 8, 0, 0)), Some(at(16, 0, 0, 0))], day, now), Timeliness::Late);
        assert_eq!(timeliness(&[Some(at(10, 8, 0, 0)), None], day, now), Timeliness::Missing);
        assert_eq!(timeliness(&[None], day, at(15, 12, 0, 0)), Timeliness::Open);
        assert_eq!(timeliness(&[], day, now), Timeliness::OnTime);
    }

    #[test]
    fn a_return_needs_a_reason() {
        assert_eq!(next(Some(Submitted), Step::Return, Role::Head, "  "), Err(WorkflowError::ReasonRequired));
        assert_eq!(next(Some(Accepted), Step::Return, Role::Office, "数据有误").unwrap(), Returned);
    }

    #[test]
    fn refusals_say_why() {
        let e = next(Some(Draft), Step::Accept, Role::Office, "").unwrap_err();
        assert_eq!(e.to_string(), "an entry that is draft cannot take the step `accept`");
        let e = next(Some(Submitted), Step::Approve, Role::Reporter, "").unwrap_err();
        assert_eq!(e.to_string(), "a reporter cannot approve an entry");
        assert!(Accepted.counts() && !Approved.counts());
        assert_eq!("returned".parse::<EntryState>().unwrap(), Returned);
    }
}
