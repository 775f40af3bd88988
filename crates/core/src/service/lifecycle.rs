//! The lifecycle of a service request (诉求办理流程):
//!
//! ```text
//!  received ──dispatch──▶ dispatched ──accept──▶ accepted ──reply──▶ done ──verify──▶ verified ──rate──▶ closed
//!  (受理)        (派单)      │   ▲  ▲   (签收)     │  ▲ note  (办结)    │     (核查)        │  (评价)
//!    │                     │   │  └──transfer───┘  │                  │                   └─auto-close (unrated)
//!    │                     reject  │                                   │
//!    │                     ▼       │ dispatch (arbitration 仲裁)        │
//!    │                  rejected ──┘                                   │
//!    └─merge (duplicate) ──▶ closed            done / closed+dissatisfied ──redo (重办)──▶ dispatched
//! ```
//!
//! - The assessment office (考核办, here the dispatch centre 二级平台) dispatches to a
//!   department, transfers (转办) between departments with a reason, arbitrates a
//!   department's rejection by dispatching again, verifies (核查) the result, sends a
//!   request back for redo (重办), and merges duplicates.
//! - A department (三级平台: its reporter, head or staff, for its own unit only)
//!   accepts (签收), rejects as not its responsibility (with a reason), writes progress
//!   notes and replies to the citizen, which marks the request done.
//! - The citizen rates a verified request (满意 / 基本满意 / 不满意), which closes it;
//!   a verified request the citizen never rates is closed unrated by the system after
//!   a set number of days.
//! - The office or a leader may escalate (升级督办) an open request; the state stays,
//!   the escalation is recorded.
//!
//! Who may act on which unit's request is `org::allows`; this module decides which
//! step is allowed from which state for which actor.

use std::fmt;
use std::str::FromStr;

use crate::org::{Action, Grant, Target, allows};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequestState {
    /// 已受理: taken in, not yet dispatched.
    Received,
    /// 已派单: sent to a department, not yet accepted.
    Dispatched,
    /// 办理中: the department accepted it and is handling it.
    Accepted,
    /// 退回待仲裁: the department says it is not its responsibility.
    Rejected,
    /// 已办结: the department replied; waiting for the office's verification.
    Done,
    /// 已核查: verified; waiting for the citizen's rating.
    Verified,
    /// 已结案: rated, closed unrated, or merged into another request.
    Closed,
}

impl RequestState {
    pub const ALL: [RequestState; 7] = [
        RequestState::Received,
        RequestState::Dispatched,
        RequestState::Accepted,
        RequestState::Rejected,
        RequestState::Done,
        RequestState::Verified,
        RequestState::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::Dispatched => "dispatched",
            RequestState::Accepted => "accepted",
            RequestState::Rejected => "rejected",
            RequestState::Done => "done",
            RequestState::Verified => "verified",
            RequestState::Closed => "closed",
        }
    }

    /// Open311's two statuses: `closed` once closed, `open` before.
    pub fn open311_status(self) -> &'static str {
        if self == RequestState::Closed { "closed" } else { "open" }
    }

    /// Whether the department's time limit is running (it has the request).
    pub fn with_department(self) -> bool {
        matches!(self, RequestState::Dispatched | RequestState::Accepted)
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for RequestState {
    type Err = String;
    fn from_str(s: &str) -> Result<RequestState, String> {
        RequestState::ALL.into_iter().find(|r| r.code() == s).ok_or_else(|| format!("unknown request state `{s}`"))
    }
}

/// The citizen's rating (评价).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rating {
    /// 满意
    Satisfied,
    /// 基本满意
    Basic,
    /// 不满意
    Dissatisfied,
}

impl Rating {
    pub const ALL: [Rating; 3] = [Rating::Satisfied, Rating::Basic, Rating::Dissatisfied];

    pub fn code(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::Basic => "basic",
            Rating::Dissatisfied => "dissatisfied",
        }
    }

    /// Whether it counts as satisfied in the satisfaction rate (满意 and 基本满意).
    pub fn counts_satisfied(self) -> bool {
        self != Rating::Dissatisfied
    }
}

impl FromStr for Rating {
    type Err = String;
    fn from_str(s: &str) -> Result<Rating, String> {
        Rating::ALL.into_iter().find(|r| r.code() == s).ok_or_else(|| format!("unknown rating `{s}`"))
    }
}

/// What someone does to a request, with what the step needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// Send to a department (also the office's arbitration of a rejection).
    Dispatch {
        unit: &'a str,
    },
    /// Move to another department, with a reason.
    Transfer {
        unit: &'a str,
        reason: &'a str,
    },
    Accept,
    /// Not this department's responsibility, with a reason.
    Reject {
        reason: &'a str,
    },
    /// A progress note (办理进展).
    Note {
        text: &'a str,
    },
    /// The reply to the citizen; marks the request done.
    Reply {
        text: &'a str,
    },
    Verify,
    Rate {
        rating: Rating,
    },
    /// Send back for redo (重办), with a reason.
    Redo {
        reason: &'a str,
    },
    /// Close a verified request the citizen did not rate in time.
    AutoClose,
    /// Record an escalation to a supervision task (升级督办), with a reason.
    Escalate {
        reason: &'a str,
    },
    /// Close as a duplicate of another request (合并).
    Merge {
        into: &'a str,
    },
}

impl Step<'_> {
    /// The step's code, as recorded in the request's history.
    pub fn code(&self) -> &'static str {
        match self {
            Step::Dispatch { .. } => "dispatch",
            Step::Transfer { .. } => "transfer",
            Step::Accept => "accept",
            Step::Reject { .. } => "reject",
            Step::Note { .. } => "note",
            Step::Reply { .. } => "reply",
            Step::Verify => "verify",
            Step::Rate { .. } => "rate",
            Step::Redo { .. } => "redo",
            Step::AutoClose => "auto_close",
            Step::Escalate { .. } => "escalate",
            Step::Merge { .. } => "merge",
        }
    }

    /// The text the step carries (reason, note, reply), if any.
    pub fn text(&self) -> &str {
        match self {
            Step::Transfer { reason, .. } | Step::Reject { reason } | Step::Redo { reason } | Step::Escalate { reason } => reason,
            Step::Note { text } | Step::Reply { text } => text,
            _ => "",
        }
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in user with these grants.
    User(&'a [Grant]),
    /// The citizen who filed the request (proved by the query password).
    Citizen,
    /// The system (auto-close).
    System,
}

/// The request as the step finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current<'a> {
    pub state: RequestState,
    /// The department it is with (the last dispatched), if any.
    pub unit: Option<&'a str>,
    pub rating: Option<Rating>,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("you may not take the step `{step}` on this request")]
    NotYours { step: &'static str },
    #[error("a request that is {state} cannot take the step `{step}`")]
    WrongState { state: &'static str, step: &'static str },
    #[error("the step `{0}` needs a text (reason, note or reply)")]
    TextRequired(&'static str),
    #[error("transfer to the department it is already with")]
    SameUnit,
}

/// Whether `actor` may take `step` on a request with the department `unit`
/// (role and data scope; not the state).
pub fn may(actor: &Actor<'_>, step: &Step<'_>, unit: Option<&str>) -> bool {
    match (actor, step) {
        (Actor::Citizen, Step::Rate { .. }) => true,
        (Actor::System, Step::AutoClose) => true,
        (Actor::User(grants), Step::Accept | Step::Reject { .. } | Step::Note { .. } | Step::Reply { .. }) => {
            unit.is_some_and(|u| allows(grants, Action::HandleServiceRequests, Target::Unit(u)))
        }
        (Actor::User(grants), Step::Escalate { .. }) => allows(grants, Action::EscalateServiceRequests, Target::Nothing),
        (Actor::User(grants), Step::Dispatch { .. } | Step::Transfer { .. } | Step::Verify | Step::Redo { .. } | Step::Merge { .. }) => {
            allows(grants, Action::DispatchServiceRequests, Target::Nothing)
        }
        _ => false,
    }
}

/// The state after `step` by `actor` on `current`.
pub fn next(current: &Current<'_>, step: &Step<'_>, actor: &Actor<'_>) -> Result<RequestState, ServiceError> {
    use RequestState::*;
    if !may(actor, step, current.unit) {
        return Err(ServiceError::NotYours { step: step.code() });
    }
    let needs_text = matches!(
        step,
        Step::Transfer { .. } | Step::Reject { .. } | Step::Note { .. } | Step::Reply { .. } | Step::Redo { .. } | Step::Escalate { .. }
    );
    if needs_text && step.text().trim().is_empty() {
        return Err(ServiceError::TextRequired(step.code()));
    }
    let state = current.state;
    let to = match (step, state) {
        (Step::Dispatch { unit }, Received | Rejected) if !unit.trim().is_empty() => Dispatched,
        (Step::Transfer { unit, .. }, Dispatched | Accepted) => {
            if current.unit == Some(*unit) {
                return Err(ServiceError::SameUnit);
            }
            Dispatched
        }
        (Step::Accept, Dispatched) => Accepted,
        (Step::Reject { .. }, Dispatched) => Rejected,
        (Step::Note { .. }, Accepted) => Accepted,
        (Step::Reply { .. }, Accepted) => Done,
        (Step::Verify, Done) => Verified,
        (Step::Rate { .. }, Verified) => Closed,
        (Step::AutoClose, Verified) => Closed,
        (Step::Redo { .. }, Done) => Dispatched,
        (Step::Redo { .. }, Closed) if current.rating == Some(Rating::Dissatisfied) => Dispatched,
        (Step::Escalate { .. }, Dispatched | Accepted | Rejected) => state,
        (Step::Merge { into }, Received) if !into.trim().is_empty() => Closed,
        _ => return Err(ServiceError::WrongState { state: state.code(), step: step.code() }),
    };
    Ok(to)
}

/// Whether a request verified at `verified` (local time) is due to close unrated at
/// `now`, after `days` calendar days without a rating.
pub fn auto_close_due(verified: chrono::NaiveDateTime, now: chrono::NaiveDateTime, days: u32) -> bool {
    now >= verified + chrono::Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{Role, Scope};
    use RequestState::*;

    fn steps() -> Vec<Step<'static>> {
        vec![
            Step::Dispatch { unit: "u02" },
            Step::Transfer { unit: "u02", reason: "职责调整" },
            Step::Accept,
            Step::Reject { reason: "非本单位职责" },
            Step::Note { text: "已联系现场" },
            Step::Reply { text: "已修复" },
            Step::Verify,
            Step::Rate { rating: Rating::Satisfied },
            Step::Redo { reason: "群众不满意" },
            Step::AutoClose,
            Step::Escalate { reason: "逾期" },
            Step::Merge { into: "QK-2027-000001" },
        ]
    }

    /// Every state × step × actor against the table below, written out independently
    /// of `next`. The request is with u01; the department user is u01's reporter.
    #[test]
    fn every_transition_per_actor() {
        let units = |u: &str| Scope::Units([u.to_string()].into());
        let office = [Grant { role: Role::Office, scope: Scope::All }];
        let leader = [Grant { role: Role::Leader, scope: Scope::All }];
        let dept = [Grant { role: Role::Reporter, scope: units("u01") }];
        let other = [Grant { role: Role::Head, scope: units("u02") }];
        let admin = [Grant { role: Role::Admin, scope: Scope::All }];
        let actors: [(&str, Actor<'_>); 7] = [
            ("office", Actor::User(&office)),
            ("leader", Actor::User(&leader)),
            ("dept", Actor::User(&dept)),
            ("other", Actor::User(&other)),
            ("admin", Actor::User(&admin)),
            ("citizen", Actor::Citizen),
            ("system", Actor::System),
        ];
        let allowed: &[(RequestState, &str, &str, RequestState)] = &[
            (Received, "dispatch", "office", Dispatched),
            (Rejected, "dispatch", "office", Dispatched),
            (Dispatched, "transfer", "office", Dispatched),
            (Accepted, "transfer", "office", Dispatched),
            (Dispatched, "accept", "dept", Accepted),
            (Dispatched, "reject", "dept", Rejected),
            (Accepted, "note", "dept", Accepted),
            (Accepted, "reply", "dept", Done),
            (Done, "verify", "office", Verified),
            (Verified, "rate", "citizen", Closed),
            (Verified, "auto_close", "system", Closed),
            (Done, "redo", "office", Dispatched),
            (Dispatched, "escalate", "office", Dispatched),
            (Accepted, "escalate", "office", Accepted),
            (Rejected, "escalate", "office", Rejected),
            (Dispatched, "escalate", "leader", Dispatched),
            (Accepted, "escalate", "leader", Accepted),
            (Rejected, "escalate", "leader", Rejected),
            (Received, "merge", "office", Closed),
        ];
        let mut checked = 0;
        for state in RequestState::ALL {
            for step in steps() {
                for (name, actor) in &actors {
                    let current = Current { state, unit: Some("u01"), rating: None };
                    let want = allowed.iter().find(|a| a.0 == state && a.1 == step.code() && a.2 == *name).map(|a| a.3);
                    assert_eq!(next(&current, &step, actor).ok(), want, "{state:?} {} by {name}", step.code());
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 12 * 7);
    }

    #[test]
    fn redo_after_a_dissatisfied_rating_only() {
        let office = [Grant { role: Role::Office, scope: Scope::All }];
        let redo = Step::Redo { reason: "群众不满意" };
        let closed = |rating| Current { state: Closed, unit: Some("u01"), rating };
        assert_eq!(next(&closed(Some(Rating::Dissatisfied)), &redo, &Actor::User(&office)), Ok(Dispatched));
        for r in [None, Some(Rating::Satisfied), Some(Rating::Basic)] {
            assert!(matches!(next(&closed(r), &redo, &Actor::User(&office)), Err(ServiceError::WrongState { .. })), "{r:?}");
        }
    }

    #[test]
    fn texts_and_units_are_checked() {
        let office = [Grant { role: Role::Office, scope: Scope::All }];
        let dept = [Grant { role: Role::Head, scope: Scope::Units(["u01".to_string()].into()) }];
        let at = |state| Current { state, unit: Some("u01"), rating: None };
        assert_eq!(next(&at(Dispatched), &Step::Reject { reason: " " }, &Actor::User(&dept)), Err(ServiceError::TextRequired("reject")));
        assert_eq!(next(&at(Accepted), &Step::Reply { text: "" }, &Actor::User(&dept)), Err(ServiceError::TextRequired("reply")));
        assert_eq!(next(&at(Dispatched), &Step::Transfer { unit: "u01", reason: "x" }, &Actor::User(&office)), Err(ServiceError::SameUnit));
        assert!(matches!(next(&at(Received), &Step::Dispatch { unit: "" }, &Actor::User(&office)), Err(ServiceError::WrongState { .. })));
        // A department cannot act on a request that is with no department or another.
        let none = Current { state: Dispatched, unit: None, rating: None };
        assert_eq!(next(&none, &Step::Accept, &Actor::User(&dept)), Err(ServiceError::NotYours { step: "accept" }));
        let e = next(&at(Closed), &Step::Verify, &Actor::User(&office)).unwrap_err();
        assert_eq!(e.to_string(), "a request that is closed cannot take the step `verify`");
    }

    #[test]
    fn auto_close_after_the_set_days() {
        let d = |day: u32, h: u32| chrono::NaiveDate::from_ymd_opt(2027, 3, day).unwrap().and_hms_opt(h, 0, 0).unwrap();
        assert!(!auto_close_due(d(1, 10), d(8, 9), 7));
        assert!(auto_close_due(d(1, 10), d(8, 10), 7));
        assert_eq!(Closed.open311_status(), "closed");
        assert_eq!(Done.open311_status(), "open");
        assert_eq!("verified".parse::<RequestState>().unwrap(), Verified);
        assert!(Rating::Basic.counts_satisfied() && !Rating::Dissatisfied.counts_satisfied());
    }
}
