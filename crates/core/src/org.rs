//! The organisation's people: roles (角色), what data each role's grant covers
//! (data scope, 数据范围), the actions a role may take, and the password policy.
//!
//! This is the one place that decides "may this person do this to that unit": the
//! web layer asks [`allows`] for every route and every unit id it is handed, and
//! nothing else answers that question.
//!
//! A user holds one or more [`Grant`]s, each a role with a scope. An action is
//! allowed when some grant's role may take it and, where the action concerns a unit,
//! that grant's scope covers the unit.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The roles of DESIGN §1. The string codes are stored in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// 系统管理员: accounts and their business roles, organisation, site settings,
    /// API tokens. Not the audit log, not the security policy (三权分立).
    Admin,
    /// 安全管理员: the security policy (lockout, sessions, passwords).
    Security,
    /// 审计管理员: reads the audit log, and nothing else.
    Auditor,
    /// 考核办: the assessment office.
    Office,
    /// 考核责任部门: a unit that enters data for indicators it leads, for other units.
    Assessor,
    /// 单位填报员: fills the unit's forms.
    Reporter,
    /// 单位负责人: approves the unit's submissions.
    Head,
    /// 区领导 / 分管领导: sees the units they oversee.
    Leader,
    /// 工作人员: personal goals, logs and votes.
    Staff,
}

impl Role {
    pub const ALL: [Role; 9] =
        [Role::Admin, Role::Security, Role::Auditor, Role::Office, Role::Assessor, Role::Reporter, Role::Head, Role::Leader, Role::Staff];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Security => "security",
            Role::Auditor => "auditor",
            Role::Office => "office",
            Role::Assessor => "assessor",
            Role::Reporter => "reporter",
            Role::Head => "head",
            Role::Leader => "leader",
            Role::Staff => "staff",
        }
    }

    /// The three administrative roles (三员: 系统管理员, 安全管理员, 审计管理员). Each
    /// is held alone — by an account with no other role — and is given only from the
    /// command line (see `check_roles`).
    pub fn is_administrative(self) -> bool {
        matches!(self, Role::Admin | Role::Security | Role::Auditor)
    }

    /// Whether a user in this role belongs to a unit (and is scoped to it by default).
    pub fn belongs_to_unit(self) -> bool {
        matches!(self, Role::Assessor | Role::Reporter | Role::Head | Role::Staff)
    }

    /// The scope a new grant of this role gets when none is given: the user's own
    /// unit for unit roles, the indicators it leads (none yet) for assessors, all
    /// units for the office, leaders and administrators.
    pub fn default_scope(self, unit: Option<&str>) -> Scope {
        match (self, unit) {
            (Role::Assessor, _) => Scope::Indicators(BTreeSet::new()),
            (Role::Reporter | Role::Head | Role::Staff, Some(u)) => Scope::Units(BTreeSet::from([u.to_string()])),
            (Role::Reporter | Role::Head | Role::Staff, None) => Scope::Units(BTreeSet::new()),
            (Role::Admin | Role::Security | Role::Auditor | Role::Office | Role::Leader, _) => Scope::All,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| format!("unknown role `{s}`: expected one of {}", Role::ALL.map(Role::code).join(", ")))
    }
}

/// What data a grant covers.
///
/// Stored as JSON: `"all"`, `{"units": ["u01", "u02"]}`, or
/// `{"indicators": ["A1", "B2"]}` (an assessor: the indicators it leads, for every
/// unit assigned them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    All,
    Units(BTreeSet<String>),
    Indicators(BTreeSet<String>),
}

impl Scope {
    /// Reads the stored JSON form. Anything else is an error, never a wider scope.
    pub fn from_json(value: &serde_json::Value) -> Result<Scope, String> {
        serde_json::from_value(value.clone()).map_err(|e| format!("role scope `{value}` is not valid: {e}"))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Whether data of `unit` is covered. An indicator scope covers every unit, but
    /// only for the indicators listed (see [`Target::Indicator`]).
    fn covers_unit(&self, unit: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Units(units) => units.contains(unit),
            Scope::Indicators(_) => false,
        }
    }

    fn covers_indicator(&self, unit: &str, indicator: &str) -> bool {
        match self {
            Scope::Indicators(ids) => ids.contains(indicator),
            other => other.covers_unit(unit),
        }
    }
}

/// A role with the data it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

/// What someone wants to do. Each action is allowed to a fixed set of roles
/// ([`roles_for`]); actions about a unit are also checked against the grant's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the organisation: groups and units (names only).
    ViewOrganisation,
    /// See one unit's page and data.
    ViewUnit,
    /// Create, edit and disable groups and units.
    ManageOrganisation,
    /// Create and edit accounts, roles and scopes; reset passwords.
    ManageUsers,
    /// Create and revoke API tokens.
    ManageTokens,
    /// Change the site's settings (calendar of service time limits, public address,
    /// time zone).
    ManageSettings,
    /// Change the security policy (lockout, sessions, passwords).
    ManageSecurityPolicy,
    /// Read the audit log (处处留迹).
    ViewAudit,
    /// Upload and publish scheme versions (the assessment office's work).
    ManageSchemes,
    /// Take a step of the reporting workflow on an entry (which step, is
    /// `workflow::roles_for`).
    HandleEntries,
    /// See service requests (公共服务诉求): all for the office and leaders, a
    /// department's own for its people.
    ViewServiceRequests,
    /// Dispatch, transfer, verify, redo and merge service requests (the office's
    /// dispatch centre, 二级平台); also the outbox and the Open311 keys.
    DispatchServiceRequests,
    /// Accept, reject, annotate and answer the service requests of one's unit
    /// (a department, 三级平台).
    HandleServiceRequests,
    /// Record the escalation of an overdue service request to a supervision task.
    EscalateServiceRequests,
    /// Register, edit and cancel bonus and deduction records (加减分记录): the office
    /// for every unit, a functional department for the indicators it enters or leads
    /// (`records::may_register`).
    RegisterRecords,
    /// Apply for a bonus (加分申报) for one's unit.
    ApplyForBonus,
    /// Approve or reject bonus applications.
    DecideApplications,
    /// See supervision tasks (督办事项): all for the office, the tasks of the units a
    /// leader oversees (分管), a unit's own and shared tasks for its people.
    ViewSupervision,
    /// Assign supervision tasks to units in scope, decide their extension requests
    /// and evaluate them (the office; leaders for the units they oversee).
    AssignSupervision,
    /// Verify a claimed task or return it (the office).
    VerifySupervision,
    /// Sign for, report on, ask to extend and claim done the tasks of one's unit.
    HandleSupervision,
}

/// The roles that may take `action` (their scope still applies to unit targets).
pub fn roles_for(action: Action) -> &'static [Role] {
    use Role::*;
    match action {
        Action::ViewOrganisation => &[Admin, Office, Assessor, Reporter, Head, Leader, Staff],
        Action::ViewUnit => &[Admin, Office, Assessor, Reporter, Head, Leader, Staff],
        Action::ManageOrganisation | Action::ManageUsers | Action::ManageTokens | Action::ManageSettings => &[Admin],
        Action::ManageSecurityPolicy => &[Security],
        // The office and leaders read the business trace (处处留迹); the system
        // administrator, who could cover its own tracks, does not (三权分立).
        Action::ViewAudit => &[Auditor, Office, Leader],
        Action::HandleEntries => &[Office, Assessor, Reporter, Head],
        Action::ManageSchemes => &[Office],
        Action::ViewServiceRequests => &[Office, Leader, Reporter, Head, Staff],
        Action::DispatchServiceRequests => &[Office],
        Action::HandleServiceRequests => &[Reporter, Head, Staff],
        Action::EscalateServiceRequests => &[Office, Leader],
        Action::RegisterRecords => &[Office, Assessor],
        Action::ApplyForBonus => &[Reporter, Head],
        Action::DecideApplications => &[Office],
        Action::ViewSupervision => &[Office, Leader, Reporter, Head, Staff],
        Action::AssignSupervision => &[Office, Leader],
        Action::VerifySupervision => &[Office],
        Action::HandleSupervision => &[Reporter, Head, Staff],
    }
}

/// What an action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Nothing unit-specific (a list, a settings page).
    Nothing,
    /// One unit's data.
    Unit(&'a str),
    /// One indicator of one unit (assessors are scoped by indicator).
    Indicator { unit: &'a str, indicator: &'a str },
}

/// The permission check: whether a holder of `grants` may take `action` on `target`.
pub fn allows(grants: &[Grant], action: Action, target: Target<'_>) -> bool {
    let roles = roles_for(action);
    grants.iter().filter(|g| roles.contains(&g.role)).any(|g| match target {
        Target::Nothing => true,
        Target::Unit(unit) => g.scope.covers_unit(unit) || assessor_spans_units(g, action),
        Target::Indicator { unit, indicator } => g.scope.covers_indicator(unit, indicator),
    })
}

/// An assessor (scoped by indicators) works across units: it may open any unit's page
/// and form, where what it sees and enters is limited to its indicators (checked with
/// `Target::Indicator`).
fn assessor_spans_units(grant: &Grant, action: Action) -> bool {
    grant.role == Role::Assessor && matches!(action, Action::ViewUnit | Action::HandleEntries)
}

/// The units of `candidates` that `grants` may take `action` on, in the given order.
pub fn units_in_scope<'a>(grants: &[Grant], action: Action, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    candidates.into_iter().filter(|u| allows(grants, action, Target::Unit(u))).collect()
}

/// Why a set of roles cannot be held together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolesProblem {
    /// An administrative role with any other role (三权分立).
    AdministrativeNotAlone(Role),
}

/// Whether one account may hold these roles together: an administrative role only
/// alone (not with another administrative role, nor with a business role).
pub fn check_roles(roles: &[Role]) -> Result<(), RolesProblem> {
    let mut distinct: Vec<Role> = roles.to_vec();
    distinct.sort();
    distinct.dedup();
    match distinct.iter().find(|r| r.is_administrative()) {
        Some(&r) if distinct.len() > 1 => Err(RolesProblem::AdministrativeNotAlone(r)),
        _ => Ok(()),
    }
}

/// Common passwords refused whatever their complexity (`data/common_passwords.txt`,
/// lower case, one a line; `#` starts a comment line).
const COMMON_PASSWORDS: &str = include_str!("../data/common_passwords.txt");

/// Whether `password` is on the list of common passwords (case does not matter).
pub fn is_common_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|l| l == lower)
}

/// How many of an account's last passwords (the current one included) a new one
/// may not repeat.
pub const PASSWORD_HISTORY: usize = 5;

/// The password policy (等保 2.0 asks for complexity): at least 8 characters, with
/// at least three of lower case, upper case, digits and other characters; not the
/// username; not a common password. (The history and the expiry need the account's
/// past, and are the app's.)
pub fn check_password(username: &str, password: &str) -> Result<(), PasswordProblem> {
    if password.chars().count() < 8 {
        return Err(PasswordProblem::TooShort);
    }
    let classes = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|&&b| b).count() < 3 {
        return Err(PasswordProblem::TooSimple);
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(PasswordProblem::ContainsUsername);
    }
    if is_common_password(password) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

/// Why a password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("the password needs at least 8 characters")]
    TooShort,
    #[error("the password needs three of: lower case, upper case, digits, symbols")]
    TooSimple,
    #[error("the password may not contain the username")]
    ContainsUsername,
    #[error("the password is one of the most common passwords")]
    Common,
}

impl PasswordProblem {
    /// The message catalogue key of this problem.
    pub fn key(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "password.too_short",
            PasswordProblem::TooSimple => "password.too_simple",
            PasswordProblem::ContainsUsername => "password.contains_username",
            PasswordProblem::Common => "identity.password_common",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(ids: &[&str]) -> Scope {
        Scope::Units(ids.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn scope_json_forms() {
        assert_eq!(Scope::from_json(&serde_json::json!("all")).unwrap(), Scope::All);
        assert_eq!(Scope::from_json(&serde_json::json!({"units": ["u01"]})).unwrap(), units(&["u01"]));
        assert_eq!(
            Scope::from_json(&serde_json::json!({"indicators": ["A1"]})).unwrap(),
            Scope::Indicators(BTreeSet::from(["A1".to_string()]))
        );
        assert_eq!(units(&["u02", "u01"]).to_json(), serde_json::json!({"units": ["u01", "u02"]}));
        for bad in [serde_json::json!({}), serde_json::json!("everything"), serde_json::json!({"units": "u01"})] {
            assert!(Scope::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_reporter_sees_only_its_unit() {
        let g = [Grant { role: Role::Reporter, scope: units(&["u01"]) }];
        assert!(allows(&g, Action::ViewUnit, Target::Unit("u01")));
        assert!(!allows(&g, Action::ViewUnit, Target::Unit("u02")));
        assert!(allows(&g, Action::ViewOrganisation, Target::Nothing));
        assert!(!allows(&g, Action::ManageUsers, Target::Nothing));
        assert!(!allows(&g, Action::ViewAudit, Target::Nothing));
        assert!(allows(&g, Action::ViewUnit, Target::Indicator { unit: "u01", indicator: "A1" }));
        assert!(!allows(&g, Action::ViewUnit, Target::Indicator { unit: "u02", indicator: "A1" }));
    }

    #[test]
    fn an_assessor_is_scoped_by_indicator() {
        let g = [Grant { role: Role::Assessor, scope: Scope::Indicators(BTreeSet::from(["A1".to_string()])) }];
        assert!(allows(&g, Action::ViewUnit, Target::Indicator { unit: "u07", indicator: "A1" }));
        assert!(!allows(&g, Action::ViewUnit, Target::Indicator { unit: "u07", indicator: "A2" }));
    }

    #[test]
    fn several_grants_add_up_and_roles_gate_actions() {
        let g = [Grant { role: Role::Reporter, scope: units(&["u01"]) }, Grant { role: Role::Leader, scope: units(&["u03", "u04"]) }];
        assert!(allows(&g, Action::ViewUnit, Target::Unit("u03")));
        assert!(allows(&g, Action::ViewAudit, Target::Nothing));
        assert!(!allows(&g, Action::ViewUnit, Target::Unit("u05")));
        assert_eq!(units_in_scope(&g, Action::ViewUnit, ["u01", "u02", "u03"]), vec!["u01", "u03"]);
        assert!(!allows(&[], Action::ViewOrganisation, Target::Nothing));
        let admin = [Grant { role: Role::Admin, scope: Scope::All }];
        assert!(allows(&admin, Action::ManageUsers, Target::Nothing));
        assert!(allows(&admin, Action::ViewUnit, Target::Unit("anything")));
    }

    #[test]
    fn three_administrators_are_separate() {
        let one = |role| [Grant { role, scope: Scope::All }];
        let (admin, security, auditor) = (one(Role::Admin), one(Role::Security), one(Role::Auditor));
        assert!(allows(&admin, Action::ManageUsers, Target::Nothing));
        assert!(!allows(&admin, Action::ViewAudit, Target::Nothing), "the administrator does not read the audit log");
        assert!(!allows(&admin, Action::ManageSecurityPolicy, Target::Nothing));
        assert!(allows(&security, Action::ManageSecurityPolicy, Target::Nothing));
        assert!(allows(&auditor, Action::ViewAudit, Target::Nothing));
        // The auditor and the security administrator do nothing else.
        let others = [
            Action::ViewOrganisation,
            Action::ViewUnit,
            Action::ManageOrganisation,
            Action::ManageUsers,
            Action::ManageTokens,
            Action::ManageSettings,
            Action::ManageSchemes,
            Action::HandleEntries,
            Action::ViewServiceRequests,
            Action::DispatchServiceRequests,
            Action::HandleServiceRequests,
            Action::EscalateServiceRequests,
        ];
        for action in others {
            assert!(!allows(&auditor, action, Target::Nothing), "{action:?}");
            assert!(!allows(&security, action, Target::Nothing), "{action:?}");
        }
        assert!(!allows(&auditor, Action::ManageSecurityPolicy, Target::Nothing));
        assert!(!allows(&security, Action::ViewAudit, Target::Nothing));
        assert_eq!(check_roles(&[Role::Admin]), Ok(()));
        assert_eq!(check_roles(&[Role::Office, Role::Leader]), Ok(()));
        assert_eq!(check_roles(&[Role::Admin, Role::Office]), Err(RolesProblem::AdministrativeNotAlone(Role::Admin)));
        assert_eq!(check_roles(&[Role::Security, Role::Auditor]), Err(RolesProblem::AdministrativeNotAlone(Role::Security)));
        assert_eq!(check_roles(&[Role::Leader, Role::Auditor]), Err(RolesProblem::AdministrativeNotAlone(Role::Auditor)));
    }

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().unwrap_err().contains("admin, security, auditor, office"));
    }

    #[test]
    fn password_policy() {
        assert_eq!(check_password("li", "Ab1!"), Err(PasswordProblem::TooShort));
        assert_eq!(check_password("li", "abcdefgh1"), Err(PasswordProblem::TooSimple));
        assert_eq!(check_password("wangwu", "Wangwu2027!"), Err(PasswordProblem::ContainsUsername));
        assert_eq!(check_password("li", "Jixiao-2027"), Ok(()));
        assert_eq!(check_password("li", "jixiao-2027"), Ok(()));
        assert_eq!(check_password("li", "绩效考核2027ab"), Err(PasswordProblem::TooSimple), "CJK letters are letters, not symbols");
        assert_eq!(check_password("li", "绩效考核2027ab!"), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_complexity() {
        // Each passes length and classes; each is among the first guesses.
        for common in ["Password1", "Aa123456", "P@ssw0rd", "Admin@123", "1qaz@WSX", "Jixiao2027", "aA123456"] {
            assert_eq!(check_password("li", common), Err(PasswordProblem::Common), "{common}");
        }
        assert!(!is_common_password("Test-2027-pass"));
        assert!(
            !is_common_password("# Common passwords refused whatever their complexity (compared without regard to"),
            "comments are no entries"
        );
    }
}
