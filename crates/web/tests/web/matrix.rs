//! The permission matrix: every route of the route table × every role (and nobody) ×
//! own unit / other unit, against the expectation written here, independently of the
//! code's own access rules. A route missing from `expected` fails the test, so a new
//! route cannot be added without deciding who may use it.

use std::collections::BTreeMap;

use reqwest::StatusCode;

use crate::common::{OTHER_UNIT, OWN_UNIT, Session, TestApp, backend_tests};

backend_tests!(every_route_every_role);

/// Who may use a route.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Any signed-in user.
    SignedIn,
    /// These roles, whatever unit the path names.
    Roles(&'static [&'static str]),
    /// All-unit roles for any unit; unit roles for their own unit only.
    UnitScoped,
    /// These roles; among them unit roles for their own unit only.
    UnitScopedRoles(&'static [&'static str]),
}

const ALL_ROLES: [&str; 9] = ["admin", "security", "auditor", "office", "leader", "assessor", "reporter", "head", "staff"];
const ADMIN: &[&str] = &["admin"];
/// 三权分立: the auditor reads the audit log (with the office and leaders, who read
/// the business trace); the system administrator does not.
const AUDIT: &[&str] = &["auditor", "office", "leader"];
const SECURITY: &[&str] = &["security"];
/// The roles that see every unit (the analysis report covers them all).
const ALL_UNITS: &[&str] = &["admin", "office", "leader"];
const OFFICE: &[&str] = &["office"];
const HANDLERS: &[&str] = &["office", "assessor", "reporter", "head"];
const DEPARTMENT: &[&str] = &["reporter", "head", "staff"];
const SERVICE_VIEW: &[&str] = &["office", "leader", "reporter", "head", "staff"];
const REGISTRARS: &[&str] = &["office", "assessor"];
const APPLICANTS: &[&str] = &["reporter", "head"];
const SUPERVISION_VIEW: &[&str] = &["office", "leader", "reporter", "head", "staff"];
const SUPERVISION_ASSIGN: &[&str] = &["office", "leader"];
const ORG: &[&str] = &["admin", "office", "leader", "assessor", "reporter", "head", "staff"];

fn expected() -> BTreeMap<(&'static str, &'static str), Who> {
    use Who::*;
    BTreeMap::from([
        (("GET", "/"), Anyone),
        (("GET", "/healthz"), Anyone),
        (("GET", "/static/{file}"), Anyone),
        (("GET", "/login"), Anyone),
        (("POST", "/login"), Anyone),
        (("POST", "/logout"), SignedIn),
        (("POST", "/logout-all"), SignedIn),
        (("POST", "/language"), Anyone),
        (("GET", "/account"), SignedIn),
        (("POST", "/account/password"), SignedIn),
        (("GET", "/units"), Roles(ORG)),
        (("GET", "/units/{unit}"), UnitScoped),
        (("GET", "/scores"), Roles(ORG)),
        (("GET", "/scores/{period}/units/{unit}"), UnitScoped),
        (("GET", "/scores/{period}/analysis"), Roles(ALL_UNITS)),
        (("GET", "/scores/{period}/analysis/print"), Roles(ALL_UNITS)),
        (("GET", "/scores/{period}/analysis.xlsx"), Roles(ALL_UNITS)),
        (("GET", "/scores/{period}/units/{unit}/indicators/{indicator}"), UnitScoped),
        (("GET", "/schemes"), Roles(ORG)),
        (("POST", "/schemes"), Roles(OFFICE)),
        (("POST", "/schemes/new"), Roles(OFFICE)),
        (("GET", "/schemes/{year}"), Roles(ORG)),
        (("GET", "/schemes/{year}/export"), Roles(ORG)),
        (("GET", "/schemes/{year}/export.xlsx"), Roles(ORG)),
        (("POST", "/schemes/{year}/publish"), Roles(OFFICE)),
        (("GET", "/schemes/{year}/diff"), Roles(ORG)),
        (("GET", "/schemes/{year}/indicators/{id}"), Roles(ORG)),
        (("POST", "/schemes/{year}/indicators/{id}"), Roles(ORG)),
        (("GET", "/schemes/{year}/draft"), Roles(OFFICE)),
        (("POST", "/schemes/{year}/draft"), Roles(OFFICE)),
        (("POST", "/schemes/{year}/draft/save"), Roles(OFFICE)),
        (("POST", "/schemes/{year}/draft/discard"), Roles(OFFICE)),
        (("POST", "/schemes/{year}/draft/nodes"), Roles(OFFICE)),
        (("GET", "/schemes/{year}/draft/nodes/{id}"), Roles(OFFICE)),
        (("POST", "/schemes/{year}/draft/nodes/{id}"), Roles(OFFICE)),
        (("POST", "/schemes/{year}/draft/nodes/{id}/tree"), Roles(OFFICE)),
        (("POST", "/schemes/{year}/draft/nodes/{id}/targets"), Roles(OFFICE)),
        (("GET", "/schemes/{year}/draft/nodes/{id}/targets.xlsx"), Roles(OFFICE)),
        (("GET", "/report"), Roles(HANDLERS)),
        (("GET", "/reports"), Roles(HANDLERS)),
        (("GET", "/assess"), Roles(HANDLERS)),
        (("POST", "/assess"), Roles(HANDLERS)),
        (("POST", "/reports/accept"), Roles(HANDLERS)),
        (("POST", "/reports/import"), Roles(OFFICE)),
        (("GET", "/reports/import/template.xlsx"), Roles(OFFICE)),
        (("POST", "/reports/deductions"), Roles(OFFICE)),
        (("POST", "/reports/reminders"), Roles(OFFICE)),
        (("GET", "/units/{unit}/report/{month}"), UnitScoped),
        (("POST", "/units/{unit}/report/{month}"), UnitScopedRoles(HANDLERS)),
        (("GET", "/units/{unit}/report/{month}/xlsx"), UnitScoped),
        (("POST", "/units/{unit}/report/{month}/xlsx"), UnitScopedRoles(HANDLERS)),
        (("POST", "/units/{unit}/report/{month}/evidence"), UnitScopedRoles(HANDLERS)),
        (("GET", "/evidence/{id}"), SignedIn),
        (("POST", "/units/{unit}/report/{month}/correction"), UnitScopedRoles(HANDLERS)),
        (("GET", "/periods"), Roles(OFFICE)),
        (("POST", "/periods/calendar"), Roles(OFFICE)),
        (("POST", "/periods/{period}"), Roles(OFFICE)),
        (("POST", "/corrections/{id}"), Roles(OFFICE)),
        (("GET", "/bulletins"), SignedIn),
        (("POST", "/bulletins"), Roles(OFFICE)),
        // Public routes: drafts are 404 and published ones need a login unless public,
        // decided by the handler (tests/web/bulletins.rs).
        (("GET", "/bulletins/{id}"), Anyone),
        (("GET", "/bulletins/{id}/print"), Anyone),
        (("GET", "/bulletins/{id}/export.xlsx"), Anyone),
        (("POST", "/bulletins/{id}/publish"), Roles(OFFICE)),
        (("POST", "/bulletins/{id}/revise"), Roles(OFFICE)),
        (("POST", "/bulletins/{id}/public"), Roles(OFFICE)),
        (("GET", "/audit"), Roles(AUDIT)),
        (("GET", "/audit/archive"), Roles(AUDIT)),
        (("GET", "/admin/users"), Roles(ADMIN)),
        (("GET", "/admin/users/new"), Roles(ADMIN)),
        (("POST", "/admin/users"), Roles(ADMIN)),
        (("GET", "/admin/users/{id}"), Roles(ADMIN)),
        (("POST", "/admin/users/{id}"), Roles(ADMIN)),
        (("POST", "/admin/users/{id}/password"), Roles(ADMIN)),
        (("POST", "/admin/users/{id}/disable"), Roles(ADMIN)),
        (("GET", "/admin/units"), Roles(ADMIN)),
        (("GET", "/admin/units/new"), Roles(ADMIN)),
        (("POST", "/admin/units"), Roles(ADMIN)),
        (("GET", "/admin/units/{unit}"), Roles(ADMIN)),
        (("POST", "/admin/units/{unit}"), Roles(ADMIN)),
        (("POST", "/admin/units/{unit}/disable"), Roles(ADMIN)),
        (("GET", "/admin/groups"), Roles(ADMIN)),
        (("POST", "/admin/groups"), Roles(ADMIN)),
        (("POST", "/admin/groups/{group}/disable"), Roles(ADMIN)),
        (("GET", "/admin/tokens"), Roles(ADMIN)),
        (("POST", "/admin/tokens"), Roles(ADMIN)),
        (("POST", "/admin/tokens/{id}/revoke"), Roles(ADMIN)),
        (("GET", "/admin/settings"), Roles(ADMIN)),
        (("POST", "/admin/settings"), Roles(ADMIN)),
        (("GET", "/admin/security"), Roles(SECURITY)),
        (("POST", "/admin/security"), Roles(SECURITY)),
        (("GET", "/service"), Anyone),
        (("POST", "/service"), Anyone),
        (("GET", "/service/query"), Anyone),
        (("POST", "/service/query"), Anyone),
        (("GET", "/service/dispatch"), Roles(OFFICE)),
        (("GET", "/service/queue"), Roles(DEPARTMENT)),
        (("GET", "/service/requests/{id}"), Roles(SERVICE_VIEW)),
        (("POST", "/service/requests/{id}"), Roles(SERVICE_VIEW)),
        (("GET", "/service/requests/{id}/photo"), Roles(SERVICE_VIEW)),
        (("POST", "/service/requests/{id}/evidence"), Roles(SERVICE_VIEW)),
        (("GET", "/service/categories"), Roles(OFFICE)),
        (("POST", "/service/categories"), Roles(OFFICE)),
        (("GET", "/service/categories/{code}"), Roles(OFFICE)),
        (("POST", "/service/categories/{code}"), Roles(OFFICE)),
        (("POST", "/service/categories/{code}/disable"), Roles(OFFICE)),
        (("GET", "/service/outbox"), Roles(OFFICE)),
        (("GET", "/service/keys"), Roles(OFFICE)),
        (("POST", "/service/keys"), Roles(OFFICE)),
        (("POST", "/service/keys/{id}/revoke"), Roles(OFFICE)),
        // Tasks of another unit are 404 by the use case (tests/web/supervision.rs).
        (("GET", "/supervision"), Roles(SUPERVISION_VIEW)),
        (("GET", "/supervision/ledger.xlsx"), Roles(SUPERVISION_VIEW)),
        (("POST", "/supervision/overdue"), Roles(OFFICE)),
        (("GET", "/supervision/new"), Roles(SUPERVISION_ASSIGN)),
        (("POST", "/supervision"), Roles(SUPERVISION_ASSIGN)),
        (("GET", "/supervision/tasks/{id}"), Roles(SUPERVISION_VIEW)),
        (("POST", "/supervision/tasks/{id}"), Roles(SUPERVISION_VIEW)),
        (("POST", "/supervision/tasks/{id}/evidence"), Roles(SUPERVISION_VIEW)),
        (("GET", "/supervision/dashboard"), Roles(SUPERVISION_ASSIGN)),
        (("GET", "/open311/v2/{file}"), Anyone),
        (("POST", "/open311/v2/{file}"), Anyone),
        (("GET", "/open311/v2/services/{file}"), Anyone),
        (("GET", "/open311/v2/requests/{file}"), Anyone),
        (("GET", "/open311/v2/tokens/{file}"), Anyone),
        (("GET", "/api/v1/openapi.json"), Anyone),
        (("GET", "/api/v1/me"), SignedIn),
        (("GET", "/api/v1/groups"), Roles(ORG)),
        (("GET", "/api/v1/scores"), Roles(ORG)),
        (("GET", "/api/v1/units/{unit}/scores/{period}/explain/{indicator}"), UnitScoped),
        (("GET", "/api/v1/units"), Roles(ORG)),
        (("GET", "/api/v1/units/{unit}"), UnitScoped),
        (("GET", "/api/v1/units/{unit}/entries"), UnitScoped),
        (("POST", "/api/v1/units/{unit}/entries/{indicator}/{month}"), UnitScopedRoles(HANDLERS)),
        (("POST", "/api/v1/formula/check"), SignedIn),
        (("GET", "/api/v1/users"), Roles(ADMIN)),
        (("GET", "/api/v1/users/{id}"), Roles(ADMIN)),
        (("GET", "/api/v1/audit"), Roles(AUDIT)),
        (("GET", "/api/v1/bulletins"), SignedIn),
        (("GET", "/api/v1/bulletins/{id}"), SignedIn),
        // Records and applications: lists are filtered by scope and ids checked by the
        // use case (tests/web/records.rs), so every viewing role reaches the pages.
        (("GET", "/records"), Roles(ORG)),
        (("POST", "/records"), Roles(REGISTRARS)),
        (("GET", "/records/topics"), Roles(ORG)),
        (("GET", "/records/topics.xlsx"), Roles(ORG)),
        (("GET", "/records/applications"), Roles(ORG)),
        (("POST", "/records/applications"), Roles(APPLICANTS)),
        (("GET", "/records/applications/{id}"), Roles(ORG)),
        (("POST", "/records/applications/{id}/decision"), Roles(OFFICE)),
        (("POST", "/records/applications/{id}/evidence"), Roles(APPLICANTS)),
        (("GET", "/records/{id}"), Roles(ORG)),
        (("POST", "/records/{id}"), Roles(REGISTRARS)),
        (("POST", "/records/{id}/cancel"), Roles(REGISTRARS)),
        (("POST", "/records/{id}/evidence"), Roles(REGISTRARS)),
        (("GET", "/api/v1/records"), Roles(ORG)),
        (("POST", "/api/v1/records"), Roles(REGISTRARS)),
        (("GET", "/api/v1/records/{id}"), Roles(ORG)),
        (("POST", "/api/v1/records/{id}"), Roles(REGISTRARS)),
        (("POST", "/api/v1/records/{id}/cancel"), Roles(REGISTRARS)),
        (("GET", "/api/v1/applications"), Roles(ORG)),
        (("POST", "/api/v1/applications"), Roles(APPLICANTS)),
        (("GET", "/api/v1/applications/{id}"), Roles(ORG)),
        (("POST", "/api/v1/applications/{id}/decision"), Roles(OFFICE)),
        (("GET", "/api/v1/supervision/tasks"), Roles(SUPERVISION_VIEW)),
        (("POST", "/api/v1/supervision/tasks"), Roles(SUPERVISION_ASSIGN)),
        (("GET", "/api/v1/supervision/tasks/{id}"), Roles(SUPERVISION_VIEW)),
        (("POST", "/api/v1/supervision/tasks/{id}"), Roles(SUPERVISION_VIEW)),
    ])
}

fn allowed(who: Who, role: Option<&str>, own: bool) -> bool {
    match (who, role) {
        (Who::Anyone, _) => true,
        (_, None) => false,
        (Who::SignedIn, Some(_)) => true,
        (Who::Roles(roles), Some(r)) => roles.contains(&r),
        (Who::UnitScoped, Some(r)) => matches!(r, "admin" | "office" | "leader" | "assessor") || own && unit_role(r),
        (Who::UnitScopedRoles(roles), Some(r)) => {
            roles.contains(&r) && (matches!(r, "admin" | "office" | "leader" | "assessor") || own && unit_role(r))
        }
    }
}

/// The roles scoped to their own unit.
fn unit_role(role: &str) -> bool {
    matches!(role, "reporter" | "head" | "staff")
}

/// Whether a response says "refused": 401/403, or the redirect to the login page.
fn refused(status: StatusCode, location: Option<&str>) -> bool {
    status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || (status.is_redirection() && location.is_some_and(|l| l.starts_with("/login?next=")))
}

async fn every_route_every_role(app: TestApp) {
    let table = jixiao_web::ROUTES;
    let expected = expected();
    let unlisted: Vec<_> = table.iter().filter(|r| !expected.contains_key(&(r.method, r.path))).collect();
    assert!(unlisted.is_empty(), "routes without an entry in the permission matrix: {unlisted:?}");
    let gone: Vec<_> = expected.keys().filter(|k| !table.iter().any(|r| (r.method, r.path) == **k)).collect();
    assert!(gone.is_empty(), "matrix entries for routes that do not exist: {gone:?}");

    let victim = app.user_id("victim").await.to_string();
    let mut checked = 0;
    let mut failures = Vec::new();
    for route in table {
        let who = expected[&(route.method, route.path)];
        for role in std::iter::once(None).chain(ALL_ROLES.iter().map(|r| Some(*r))) {
            for own in [true, false] {
                let unit = if own { OWN_UNIT } else { OTHER_UNIT };
                let path = route
                    .path
                    .replace("{unit}", unit)
                    .replace("{id}", &victim)
                    .replace("{group}", "street")
                    .replace("{code}", "road")
                    .replace("{file}", "app.css")
                    .replace("{month}", "2027-03")
                    .replace("{indicator}", "A1")
                    .replace("{year}", "2027")
                    .replace("{period}", "2027-01");
                // A fresh session per request: a route may end sessions or change state.
                let session: Option<Session> = match role {
                    Some(r) => Some(app.session(r).await),
                    None => None,
                };
                let response = match route.method {
                    "GET" => app.get(session.as_ref(), &path).await,
                    _ => app.post(session.as_ref(), &path, &[]).await,
                };
                let status = response.status();
                let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
                let want = allowed(who, role, own);
                let got = !refused(status, location.as_deref());
                if want != got || status.is_server_error() {
                    failures.push(format!(
                        "{} {path} as {}: expected {}, got {status} {location:?}",
                        route.method,
                        role.unwrap_or("nobody"),
                        if want { "allowed" } else { "refused" }
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, table.len() * (1 + ALL_ROLES.len()) * 2);
}
