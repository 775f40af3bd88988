//! Annual goals, monthly plans and summaries (年度目标 / 月度计划 / 月度小结), and
//! what leaders comment on (点评): the states of a unit's monthly plan and summary,
//! who takes which step, the outcome of a plan item, and the plan completion rate.
//!
//! ```text
//!          save          submit            approve (head)
//!  (none) ──────▶ draft ───────▶ submitted ───────────────▶ approved
//!                   ▲                │  return (head, office)    │ return (office)
//!                   └── returned ◀───┴──────────────────────────┘
//! ```
//!
//! - A unit's reporter (or head) writes the month's plan items (owner, due date,
//!   optionally the annual goal they serve) and submits them; the unit's head
//!   approves or returns; the office may return a submitted or approved plan. A return
//!   carries a reason.
//! - At month end the unit writes its summary: each plan item done, partly done or not
//!   done, with an explanation, plus unplanned work; saved and submitted like a plan,
//!   without approval.
//! - The completion rate of a month is (done + ½ · partly) ÷ items, a share 0–1; a
//!   month without plan items has none.

use std::fmt;
use std::str::FromStr;

use crate::org::Role;

/// Where a unit's monthly plan (or summary) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanState {
    Draft,
    Submitted,
    Approved,
    Returned,
}

impl PlanState {
    pub const ALL: [PlanState; 4] = [PlanState::Draft, PlanState::Submitted, PlanState::Approved, PlanState::Returned];

    pub fn code(self) -> &'static str {
        match self {
            PlanState::Draft => "draft",
            PlanState::Submitted => "submitted",
            PlanState::Approved => "approved",
            PlanState::Returned => "returned",
        }
    }

    /// Whether the unit may still change it.
    pub fn editable(self) -> bool {
        matches!(self, PlanState::Draft | PlanState::Returned)
    }
}

impl fmt::Display for PlanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for PlanState {
    type Err = String;
    fn from_str(s: &str) -> Result<PlanState, String> {
        PlanState::ALL.into_iter().find(|p| p.code() == s).ok_or_else(|| format!("unknown plan state `{s}`"))
    }
}

/// A step on a plan or a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanStep {
    Save,
    Submit,
    Approve,
    Return,
}

impl PlanStep {
    pub const ALL: [PlanStep; 4] = [PlanStep::Save, PlanStep::Submit, PlanStep::Approve, PlanStep::Return];

    pub fn code(self) -> &'static str {
        match self {
            PlanStep::Save => "save",
            PlanStep::Submit => "submit",
            PlanStep::Approve => "approve",
            PlanStep::Return => "return",
        }
    }
}

impl FromStr for PlanStep {
    type Err = String;
    fn from_str(s: &str) -> Result<PlanStep, String> {
        PlanStep::ALL.into_iter().find(|p| p.code() == s).ok_or_else(|| format!("unknown step `{s}`"))
    }
}

/// Whether a step is on a plan or on a summary (a summary is not approved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    Plan,
    Summary,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("a {role} cannot {step}")]
    NotYourStep { role: &'static str, step: &'static str },
    #[error("a plan that is {state} cannot take the step `{step}`")]
    WrongState { state: &'static str, step: &'static str },
    #[error("a return needs a reason")]
    ReasonRequired,
}

/// The roles that take `step` on a `document` (their scope still applies: a unit's own
/// people for their unit, the office for all).
pub fn roles_for(document: Document, step: PlanStep) -> &'static [Role] {
    match (document, step) {
        (_, PlanStep::Save | PlanStep::Submit) => &[Role::Reporter, Role::Head],
        (Document::Plan, PlanStep::Approve) => &[Role::Head],
        (Document::Plan, PlanStep::Return) => &[Role::Head, Role::Office],
        (Document::Summary, PlanStep::Approve | PlanStep::Return) => &[],
    }
}

/// The state after `step` by `role` from `state` (`None`: nothing yet). A head returns
/// only what was submitted; the office also what was approved.
pub fn next(document: Document, state: Option<PlanState>, step: PlanStep, role: Role, reason: &str) -> Result<PlanState, PlanError> {
    if !roles_for(document, step).contains(&role) {
        return Err(PlanError::NotYourStep { role: role.code(), step: step.code() });
    }
    use PlanState::*;
    let wrong = || PlanError::WrongState { state: state.map_or("missing", PlanState::code), step: step.code() };
    match (step, state) {
        (PlanStep::Save, None) => Ok(Draft),
        (PlanStep::Save, Some(s)) if s.editable() => Ok(s),
        (PlanStep::Submit, None) => Ok(Submitted),
        (PlanStep::Submit, Some(s)) if s.editable() => Ok(Submitted),
        (PlanStep::Approve, Some(Submitted)) => Ok(Approved),
        (PlanStep::Return, Some(s)) => {
            let allowed = match role {
                Role::Office => matches!(s, Submitted | Approved),
                _ => s == Submitted,
            };
            if !allowed {
                return Err(wrong());
            }
            if reason.trim().is_empty() {
                return Err(PlanError::ReasonRequired);
            }
            Ok(Returned)
        }
        _ => Err(wrong()),
    }
}

/// How a plan item turned out (月度小结).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Done,
    Partly,
    NotDone,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Done, Outcome::Partly, Outcome::NotDone];

    pub fn code(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Partly => "partly",
            Outcome::NotDone => "not_done",
        }
    }

    /// What the item counts in the completion rate.
    pub fn weight(self) -> f64 {
        match self {
            Outcome::Done => 1.0,
            Outcome::Partly => 0.5,
            Outcome::NotDone => 0.0,
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Outcome, String> {
        Outcome::ALL.into_iter().find(|o| o.code() == s).ok_or_else(|| format!("unknown outcome `{s}`"))
    }
}

/// The plan completion rate of a month: (done + ½ · partly) ÷ items, items without an
/// outcome counting as not done; `None` without items.
pub fn completion_rate(outcomes: &[Option<Outcome>]) -> Option<f64> {
    if outcomes.is_empty() {
        return None;
    }
    let sum: f64 = outcomes.iter().map(|o| o.map_or(0.0, Outcome::weight)).sum();
    Some(sum / outcomes.len() as f64)
}

/// What a leader's comment (点评) is on. Stored as text: `plan:u01:2027-03`,
/// `summary:u01:2027-03`, `unit_month:u01:2027-03`, `supervision_task:17`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommentTarget {
    /// A unit's monthly plan.
    Plan { unit: String, month: String },
    /// A unit's monthly summary.
    Summary { unit: String, month: String },
    /// A unit's result of a month.
    UnitMonth { unit: String, month: String },
    /// A supervision task (督办事项), by id (the supervision subsystem's).
    SupervisionTask(i64),
}

impl CommentTarget {
    /// The unit the comment is about (`None` for a task, whose units are the task's).
    pub fn unit(&self) -> Option<&str> {
        match self {
            CommentTarget::Plan { unit, .. } | CommentTarget::Summary { unit, .. } | CommentTarget::UnitMonth { unit, .. } => Some(unit),
            CommentTarget::SupervisionTask(_) => None,
        }
    }
}

impl fmt::Display for CommentTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommentTarget::Plan { unit, month } => write!(f, "plan:{unit}:{month}"),
            CommentTarget::Summary { unit, month } => write!(f, "summary:{unit}:{month}"),
            CommentTarget::UnitMonth { unit, month } => write!(f, "unit_month:{unit}:{month}"),
            CommentTarget::SupervisionTask(id) => write!(f, "supervision_task:{id}"),
        }
    }
}

impl FromStr for CommentTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<CommentTarget, String> {
        let bad = || format!("unknown comment target `{s}`");
        let mut parts = s.splitn(3, ':');
        let kind = parts.next().ok_or_else(bad)?;
        if kind == "supervision_task" {
            let id = parts.next().and_then(|i| i.parse().ok()).filter(|_| parts.next().is_none()).ok_or_else(bad)?;
            return Ok(CommentTarget::SupervisionTask(id));
        }
        let (unit, month) = (parts.next().ok_or_else(bad)?.to_string(), parts.next().ok_or_else(bad)?.to_string());
        if unit.is_empty() || month.parse::<crate::period::Month>().is_err() {
            return Err(bad());
        }
        match kind {
            "plan" => Ok(CommentTarget::Plan { unit, month }),
            "summary" => Ok(CommentTarget::Summary { unit, month }),
            "unit_month" => Ok(CommentTarget::UnitMonth { unit, month }),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Document::*;
    use PlanState::*;

    #[test]
    fn the_plan_is_written_approved_and_returned() {
        assert_eq!(next(Plan, None, PlanStep::Save, Role::Reporter, ""), Ok(Draft));
        assert_eq!(next(Plan, Some(Draft), PlanStep::Submit, Role::Reporter, ""), Ok(Submitted));
        assert_eq!(
            next(Plan, Some(Submitted), PlanStep::Save, Role::Reporter, ""),
            Err(PlanError::WrongState { state: "submitted", step: "save" })
        );
        assert_eq!(
            next(Plan, Some(Submitted), PlanStep::Approve, Role::Reporter, ""),
            Err(PlanError::NotYourStep { role: "reporter", step: "approve" })
        );
        assert_eq!(next(Plan, Some(Submitted), PlanStep::Approve, Role::Head, ""), Ok(Approved));
        assert_eq!(
            next(Plan, Some(Approved), PlanStep::Return, Role::Head, "x"),
            Err(PlanError::WrongState { state: "approved", step: "return" })
        );
        assert_eq!(next(Plan, Some(Approved), PlanStep::Return, Role::Office, " "), Err(PlanError::ReasonRequired));
        assert_eq!(next(Plan, Some(Approved), PlanStep::Return, Role::Office, "目标不具体"), Ok(Returned));
        assert_eq!(next(Plan, Some(Returned), PlanStep::Submit, Role::Reporter, ""), Ok(Submitted));
        assert_eq!(
            next(Plan, Some(Draft), PlanStep::Submit, Role::Leader, ""),
            Err(PlanError::NotYourStep { role: "leader", step: "submit" })
        );
    }

    #[test]
    fn a_summary_is_submitted_without_approval() {
        assert_eq!(next(Summary, None, PlanStep::Submit, Role::Reporter, ""), Ok(Submitted));
        assert_eq!(
            next(Summary, Some(Submitted), PlanStep::Approve, Role::Head, ""),
            Err(PlanError::NotYourStep { role: "head", step: "approve" })
        );
    }

    #[test]
    fn completion_rate_counts_partly_as_half() {
        use Outcome::*;
        assert_eq!(completion_rate(&[]), None);
        assert_eq!(completion_rate(&[Some(Done), Some(Partly), Some(NotDone), None]), Some(0.375));
        assert_eq!(completion_rate(&[Some(Done), Some(Done)]), Some(1.0));
    }

    #[test]
    fn comment_targets_round_trip() {
        for t in [
            CommentTarget::Plan { unit: "u01".into(), month: "2027-03".into() },
            CommentTarget::Summary { unit: "u01".into(), month: "2027-03".into() },
            CommentTarget::UnitMonth { unit: "u09".into(), month: "2027-11".into() },
            CommentTarget::SupervisionTask(17),
        ] {
            assert_eq!(t.to_string().parse::<CommentTarget>().unwrap(), t);
        }
        for bad in ["plan:u01", "plan::2027-03", "plan:u01:2027-13", "task:1", "supervision_task:x", "supervision_task:1:2"] {
            assert!(bad.parse::<CommentTarget>().is_err(), "{bad}");
        }
    }
}
