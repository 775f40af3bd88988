//! The lifecycle of a supervision task (督办流程):
//!
//! ```text
//!  assigned ──sign (each unit)──▶ in_progress ──claim──▶ claimed ──verify──▶ verified ──evaluate──▶ evaluated
//!  (已交办)   last unit signed    (办理中)  ▲ │ report      (办结待核)  │ (核验)     (待评价)     (评价)    (已办结)
//!                                       │ └─request_extension─▶ extension_requested
//!                                       ├──approve / refuse ────┘ (申请延期)
//!                                       └──────────── return (退回, with a reason) ──┘
//! ```
//!
//! - The office (考核办) and leaders (区领导, for the units they oversee — 分管) assign
//!   tasks, decide extension requests and evaluate; the office verifies a claimed task
//!   or returns it with a reason.
//! - Every unit of the task (the lead unit 牵头单位 and the co-units 配合单位) signs
//!   for it (签收) and reports progress (进展); the lead unit asks for an extension
//!   and claims the task done (申请办结).
//!
//! Who may act on which unit is `org::allows`; this module decides which step is
//! allowed from which state for whom.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::org::{Action, Grant, Target, allows};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskState {
    /// 已交办: waiting for every unit to sign.
    Assigned,
    /// 办理中: signed by every unit, being worked on.
    InProgress,
    /// 申请延期: the lead unit asked for a later deadline; progress goes on.
    ExtensionRequested,
    /// 办结待核: the lead unit says it is done; the office checks.
    Claimed,
    /// 待评价: the office verified it; waiting for the evaluation.
    Verified,
    /// 已办结: evaluated.
    Evaluated,
}

impl TaskState {
    pub const ALL: [TaskState; 6] = [
        TaskState::Assigned,
        TaskState::InProgress,
        TaskState::ExtensionRequested,
        TaskState::Claimed,
        TaskState::Verified,
        TaskState::Evaluated,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TaskState::Assigned => "assigned",
            TaskState::InProgress => "in_progress",
            TaskState::ExtensionRequested => "extension_requested",
            TaskState::Claimed => "claimed",
            TaskState::Verified => "verified",
            TaskState::Evaluated => "evaluated",
        }
    }

    /// Whether the units are still working on it (the deadline runs).
    pub fn is_open(self) -> bool {
        matches!(self, TaskState::Assigned | TaskState::InProgress | TaskState::ExtensionRequested)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for TaskState {
    type Err = String;
    fn from_str(s: &str) -> Result<TaskState, String> {
        TaskState::ALL.into_iter().find(|t| t.code() == s).ok_or_else(|| format!("unknown task state `{s}`"))
    }
}

/// What someone does to a task. `unit` is the unit acting (for the units' steps).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step<'a> {
    /// 签收.
    Sign { unit: &'a str },
    /// 进展报告.
    Report { unit: &'a str, text: &'a str },
    /// 申请延期 to `until`, with a reason.
    RequestExtension { unit: &'a str, until: NaiveDate, reason: &'a str },
    /// The extension is granted; the deadline moves.
    ApproveExtension { reason: &'a str },
    /// The extension is refused, with a reason.
    RefuseExtension { reason: &'a str },
    /// 申请办结, with what was done.
    Claim { unit: &'a str, text: &'a str },
    /// 核验通过.
    Verify { text: &'a str },
    /// 退回, with a reason.
    Return { reason: &'a str },
    /// 评价 (the grades and scores per unit are checked by the application).
    Evaluate { comment: &'a str },
}

impl Step<'_> {
    pub const CODES: [&'static str; 9] =
        ["sign", "report", "request_extension", "approve_extension", "refuse_extension", "claim", "verify", "return", "evaluate"];

    pub fn code(&self) -> &'static str {
        match self {
            Step::Sign { .. } => "sign",
            Step::Report { .. } => "report",
            Step::RequestExtension { .. } => "request_extension",
            Step::ApproveExtension { .. } => "approve_extension",
            Step::RefuseExtension { .. } => "refuse_extension",
            Step::Claim { .. } => "claim",
            Step::Verify { .. } => "verify",
            Step::Return { .. } => "return",
            Step::Evaluate { .. } => "evaluate",
        }
    }

    /// The text the step carries.
    pub fn text(&self) -> &str {
        match self {
            Step::Sign { .. } => "",
            Step::Report { text, .. } | Step::Claim { text, .. } | Step::Verify { text } => text,
            Step::RequestExtension { reason, .. }
            | Step::ApproveExtension { reason }
            | Step::RefuseExtension { reason }
            | Step::Return { reason } => reason,
            Step::Evaluate { comment } => comment,
        }
    }

    /// The unit taking a unit's step.
    pub fn unit(&self) -> Option<&str> {
        match self {
            Step::Sign { unit } | Step::Report { unit, .. } | Step::RequestExtension { unit, .. } | Step::Claim { unit, .. } => Some(unit),
            _ => None,
        }
    }
}

/// One unit of a task as the step finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskUnit<'a> {
    pub unit: &'a str,
    pub lead: bool,
    pub signed: bool,
}

/// The task as the step finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current<'a> {
    pub state: TaskState,
    pub units: Vec<TaskUnit<'a>>,
    /// The deadline in force.
    pub deadline: NaiveDate,
}

impl Current<'_> {
    pub fn lead(&self) -> Option<&str> {
        self.units.iter().find(|u| u.lead).map(|u| u.unit)
    }

    fn unit(&self, id: &str) -> Option<&TaskUnit<'_>> {
        self.units.iter().find(|u| u.unit == id)
    }
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupervisionError {
    #[error("you may not take the step `{step}` on this task")]
    NotYours { step: &'static str },
    #[error("a task that is {state} cannot take the step `{step}`")]
    WrongState { state: &'static str, step: &'static str },
    #[error("the step `{0}` needs a text")]
    TextRequired(&'static str),
    #[error("unit `{0}` has already signed")]
    AlreadySigned(String),
    #[error("unit `{0}` has not signed yet")]
    NotSigned(String),
    #[error("only the lead unit may take the step `{0}`")]
    LeadOnly(&'static str),
    #[error("the new deadline {until} must be after the deadline in force {deadline}")]
    ExtensionNotLater { until: NaiveDate, deadline: NaiveDate },
}

/// Whether `grants` may take `step` on the task (role and data scope, not the state):
/// the units' steps need `HandleSupervision` over the acting unit, which must be one
/// of the task's; verifying and returning need `VerifySupervision`; deciding an
/// extension and evaluating need `AssignSupervision` over the lead unit.
pub fn may(grants: &[Grant], step: &Step<'_>, task: &Current<'_>) -> bool {
    match step {
        Step::Sign { unit } | Step::Report { unit, .. } | Step::RequestExtension { unit, .. } | Step::Claim { unit, .. } => {
            task.unit(unit).is_some() && allows(grants, Action::HandleSupervision, Target::Unit(unit))
        }
        Step::Verify { .. } | Step::Return { .. } => allows(grants, Action::VerifySupervision, Target::Nothing),
        Step::ApproveExtension { .. } | Step::RefuseExtension { .. } | Step::Evaluate { .. } => {
            task.lead().is_some_and(|lead| allows(grants, Action::AssignSupervision, Target::Unit(lead)))
        }
    }
}

/// The state after `step` by the holder of `grants` on `task`.
pub fn next(task: &Current<'_>, step: &Step<'_>, grants: &[Grant]) -> Result<TaskState, SupervisionError> {
    use TaskState::*;
    let code = step.code();
    if !may(grants, step, task) {
        return Err(SupervisionError::NotYours { step: code });
    }
    let needs_text = matches!(
        step,
        Step::Report { .. } | Step::RequestExtension { .. } | Step::RefuseExtension { .. } | Step::Claim { .. } | Step::Return { .. }
    );
    if needs_text && step.text().trim().is_empty() {
        return Err(SupervisionError::TextRequired(code));
    }
    let wrong = || SupervisionError::WrongState { state: task.state.code(), step: code };
    let acting = step.unit().and_then(|u| task.unit(u));
    if matches!(step, Step::RequestExtension { .. } | Step::Claim { .. }) && !acting.is_some_and(|u| u.lead) {
        return Err(SupervisionError::LeadOnly(code));
    }
    match (step, task.state) {
        (Step::Sign { unit }, Assigned) => {
            if acting.is_some_and(|u| u.signed) {
                return Err(SupervisionError::AlreadySigned(unit.to_string()));
            }
            let all = task.units.iter().all(|u| u.signed || u.unit == *unit);
            Ok(if all { InProgress } else { Assigned })
        }
        (Step::Sign { unit }, InProgress | ExtensionRequested | Claimed | Verified | Evaluated) => {
            Err(if acting.is_some_and(|u| u.signed) { SupervisionError::AlreadySigned(unit.to_string()) } else { wrong() })
        }
        (Step::Report { unit, .. }, Assigned | InProgress | ExtensionRequested) => {
            if !acting.is_some_and(|u| u.signed) {
                return Err(SupervisionError::NotSigned(unit.to_string()));
            }
            Ok(task.state)
        }
        (Step::RequestExtension { until, .. }, InProgress) => {
            if *until <= task.deadline {
                return Err(SupervisionError::ExtensionNotLater { until: *until, deadline: task.deadline });
            }
            Ok(ExtensionRequested)
        }
        (Step::ApproveExtension { .. } | Step::RefuseExtension { .. }, ExtensionRequested) => Ok(InProgress),
        (Step::Claim { .. }, InProgress) => Ok(Claimed),
        (Step::Verify { .. } | Step::Return { .. }, Claimed) => Ok(if matches!(step, Step::Verify { .. }) { Verified } else { InProgress }),
        (Step::Evaluate { .. }, Verified) => Ok(Evaluated),
        _ => Err(wrong()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{Role, Scope};
    use TaskState::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, m, day).unwrap()
    }

    fn steps() -> Vec<Step<'static>> {
        vec![
            Step::Sign { unit: "u01" },
            Step::Report { unit: "u01", text: "已召开专题会" },
            Step::RequestExtension { unit: "u01", until: d(5, 31), reason: "需省级批复" },
            Step::ApproveExtension { reason: "" },
            Step::RefuseExtension { reason: "时限不可延" },
            Step::Claim { unit: "u01", text: "已完成" },
            Step::Verify { text: "" },
            Step::Return { reason: "材料不全" },
            Step::Evaluate { comment: "较好" },
        ]
    }

    /// Every state × step × actor against the table below, written out by hand. The
    /// task's lead unit u01 has signed; its co-unit u02 has not, except in the
    /// states after `assigned`, where both have.
    #[test]
    fn every_transition_per_actor() {
        let units = |u: &[&str]| Scope::Units(u.iter().map(|s| s.to_string()).collect());
        let office = vec![Grant { role: Role::Office, scope: Scope::All }];
        let leader = vec![Grant { role: Role::Leader, scope: units(&["u01"]) }];
        let other_leader = vec![Grant { role: Role::Leader, scope: units(&["u03"]) }];
        let lead = vec![Grant { role: Role::Reporter, scope: units(&["u01"]) }];
        let stranger = vec![Grant { role: Role::Head, scope: units(&["u03"]) }];
        let admin = vec![Grant { role: Role::Admin, scope: Scope::All }];
        let actors = [
            ("office", &office),
            ("leader", &leader),
            ("other_leader", &other_leader),
            ("lead", &lead),
            ("stranger", &stranger),
            ("admin", &admin),
        ];
        let allowed: &[(TaskState, &str, &str, TaskState)] = &[
            (Assigned, "report", "lead", Assigned),
            (InProgress, "report", "lead", InProgress),
            (ExtensionRequested, "report", "lead", ExtensionRequested),
            (InProgress, "request_extension", "lead", ExtensionRequested),
            (ExtensionRequested, "approve_extension", "office", InProgress),
            (ExtensionRequested, "approve_extension", "leader", InProgress),
            (ExtensionRequested, "refuse_extension", "office", InProgress),
            (ExtensionRequested, "refuse_extension", "leader", InProgress),
            (InProgress, "claim", "lead", Claimed),
            (Claimed, "verify", "office", Verified),
            (Claimed, "return", "office", InProgress),
            (Verified, "evaluate", "office", Evaluated),
            (Verified, "evaluate", "leader", Evaluated),
        ];
        let mut checked = 0;
        for state in TaskState::ALL {
            let co_signed = state != Assigned;
            let task = Current {
                state,
                units: vec![TaskUnit { unit: "u01", lead: true, signed: true }, TaskUnit { unit: "u02", lead: false, signed: co_signed }],
                deadline: d(4, 30),
            };
            for step in steps() {
                for (name, grants) in &actors {
                    let want = allowed.iter().find(|a| a.0 == state && a.1 == step.code() && a.2 == *name).map(|a| a.3);
                    assert_eq!(next(&task, &step, grants).ok(), want, "{state:?} {} by {name}", step.code());
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 9 * 6);
    }

    #[test]
    fn signing_by_each_unit_then_in_progress() {
        let co = vec![Grant { role: Role::Head, scope: Scope::Units(["u02".to_string()].into()) }];
        let lead = vec![Grant { role: Role::Reporter, scope: Scope::Units(["u01".to_string()].into()) }];
        let mut task = Current {
            state: Assigned,
            units: vec![TaskUnit { unit: "u01", lead: true, signed: false }, TaskUnit { unit: "u02", lead: false, signed: false }],
            deadline: d(4, 30),
        };
        assert_eq!(next(&task, &Step::Sign { unit: "u02" }, &co), Ok(Assigned), "the lead unit has not signed yet");
        assert_eq!(next(&task, &Step::Sign { unit: "u01" }, &co), Err(SupervisionError::NotYours { step: "sign" }), "not its unit");
        assert_eq!(next(&task, &Step::Report { unit: "u02", text: "x" }, &co), Err(SupervisionError::NotSigned("u02".into())));
        task.units[1].signed = true;
        assert_eq!(next(&task, &Step::Sign { unit: "u02" }, &co), Err(SupervisionError::AlreadySigned("u02".into())));
        assert_eq!(next(&task, &Step::Sign { unit: "u01" }, &lead), Ok(InProgress), "the last signature");
        // A co-unit neither asks for an extension nor claims the task done.
        task.state = InProgress;
        assert_eq!(next(&task, &Step::Claim { unit: "u02", text: "x" }, &co), Err(SupervisionError::LeadOnly("claim")));
        let ext = Step::RequestExtension { unit: "u01", until: d(4, 30), reason: "x" };
        assert_eq!(next(&task, &ext, &lead), Err(SupervisionError::ExtensionNotLater { until: d(4, 30), deadline: d(4, 30) }));
        assert_eq!(next(&task, &Step::Claim { unit: "u01", text: " " }, &lead), Err(SupervisionError::TextRequired("claim")));
        let e = next(&task, &Step::Evaluate { comment: "" }, &[Grant { role: Role::Office, scope: Scope::All }]).unwrap_err();
        assert_eq!(e.to_string(), "a task that is in_progress cannot take the step `evaluate`");
    }
}
