//! `GET /`: for visitors, the public front page (the organisation being assessed, the
//! bulletins the office made public, and the way in); for signed-in users, the dashboard of their role — what is due for
//! them, recent activity, and links; a department's people also see their unit's
//! service-request metrics (满意率 and the rest, `pages::service::metrics_rows`).
//!
//! "Due" is the monthly report of the previous calendar month, due on the office's due
//! day of this month (`app::calendar`), in the site's time zone.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use jixiao_app::{calendar, collection, reminders};
use jixiao_core::org::{Action, Role, Target};
use jixiao_store::{AuditFilter, Group, Unit};

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::login::anonymous_csrf;
use crate::pages::render;
use crate::view::{Chrome, ListQuery};
use jixiao_app::Lang;

pub struct GroupView {
    pub id: String,
    pub name: String,
    pub units: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "public_home.html")]
struct PublicHome {
    chrome: Chrome,
    groups: Vec<GroupView>,
    unit_count: usize,
    /// Published bulletins the office made public.
    bulletins: Vec<jixiao_app::bulletins::ListRow>,
}

/// One unit's report for the due month.
pub struct DueRow {
    pub unit_id: String,
    pub unit_name: String,
    pub due: usize,
    pub reported: usize,
}

pub struct ActivityRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    month: String,
    deadline: String,
    scheme: Option<String>,
    /// Units in scope with their due and reported counts; complete ones last.
    due: Vec<DueRow>,
    complete_units: usize,
    units_in_scope: usize,
    activity: Vec<ActivityRow>,
    is_office: bool,
    /// Where the viewer reports or reviews this month's data, if anywhere.
    report_link: Option<&'static str>,
    /// The deadline reminder for the viewer's unit, if one is due.
    reminder: Option<String>,
    /// A department's service-request metrics (its own unit), by month.
    service_metrics: Vec<crate::pages::service::MetricsRow>,
}

/// Groups with their enabled units, for the public page and the unit list.
pub fn organisation(groups: Vec<Group>, units: &[Unit]) -> Vec<GroupView> {
    groups
        .into_iter()
        .filter(|g| !g.disabled)
        .map(|g| GroupView {
            units: units.iter().filter(|u| u.group_id == g.id && !u.disabled).map(|u| (u.id.clone(), u.name.clone())).collect(),
            id: g.id,
            name: g.name,
        })
        .collect()
}

pub async fn home(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    Language(lang): Language,
    headers: HeaderMap,
    jar: CookieJar,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    match viewer {
        Some(v) => Ok(dashboard(&state, &v, lang, q.flash.as_deref()).await?.into_response()),
        None => {
            let units = state.store.units().await?;
            let groups = organisation(state.store.groups().await?, &units);
            let unit_count = groups.iter().map(|g| g.units.len()).sum();
            let (jar, token) = anonymous_csrf(&state, &headers, jar);
            let chrome = Chrome::new(&state, None, lang, "/", "home.public_title", vec![], q.flash.as_deref()).await.with_csrf(token);
            let bulletins = jixiao_app::bulletins::visible(&state, None)
                .await?
                .iter()
                .map(|b| jixiao_app::bulletins::ListRow::of(&chrome.tr, &state.clock, b))
                .collect();
            Ok((jar, render(PublicHome { chrome, groups, unit_count, bulletins })?).into_response())
        }
    }
}

async fn dashboard(state: &AppState, viewer: &Viewer, lang: Lang, flash: Option<&str>) -> Result<axum::response::Html<String>, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/", "home.title", vec![], flash).await;
    let month = collection::due_month(state);
    let deadline_day = calendar::deadline(&state.store, month).await?;
    let deadline = deadline_day.to_string();
    let days_left = (deadline_day - state.clock.today()).num_days();
    let scheme = state.latest_scheme(month.year).await?.map(|(info, _)| format!("{} (v{})", info.name, info.version));
    let mut due: Vec<DueRow> = collection::progress(state, viewer, month)
        .await?
        .into_iter()
        .map(|p| DueRow { unit_id: p.unit_id, unit_name: p.unit_name, due: p.due, reported: p.reported })
        .collect();
    let units_in_scope = due.len();
    let complete_units = due.iter().filter(|d| d.reported >= d.due).count();
    // A reminder for the viewer's own unit in the last days before the deadline, or
    // once it has passed, while something due is not yet reported.
    let reminder = viewer
        .unit_id
        .as_ref()
        .and_then(|own| due.iter().find(|d| &d.unit_id == own))
        .and_then(|d| reminders::reminder_text(&chrome.tr, &deadline, days_left, d.due.saturating_sub(d.reported)));
    due.sort_by_key(|d| (d.reported >= d.due, d.unit_id.clone()));
    due.truncate(20);
    let sees_all = viewer.can(Action::ViewAudit, Target::Nothing);
    let filter = AuditFilter { actor: (!sees_all).then(|| viewer.name.clone()), ..AuditFilter::default() };
    let entries = state.store.recent_audit(&filter, 10).await?;
    let activity = entries
        .into_iter()
        .map(|e| ActivityRow {
            at: state.clock.short(&e.at),
            actor: e.actor,
            action: e.action,
            object: format!("{} {}", chrome.tr.object(&e.object_type), e.object_id),
        })
        .collect();
    let is_office = viewer.roles().iter().any(|r| matches!(r, Role::Office | Role::Admin | Role::Leader));
    let report_link = match &viewer.unit_id {
        _ if viewer_is_assessor_only(viewer) => Some("/assess"),
        Some(unit) if viewer.can(Action::HandleEntries, Target::Unit(unit)) => Some("/report"),
        _ if viewer.can(Action::HandleEntries, Target::Nothing) => Some("/reports"),
        _ => None,
    };
    // A department's people see how their unit handles service requests.
    let service_metrics = match &viewer.unit_id {
        Some(unit) if viewer.can(Action::ViewServiceRequests, Target::Unit(unit)) => {
            crate::pages::service::metrics_rows(state, unit, &crate::pages::service::metrics_months(state)).await?
        }
        _ => Vec::new(),
    };
    render(Dashboard {
        chrome,
        month: month.to_string(),
        deadline,
        scheme,
        due,
        complete_units,
        units_in_scope,
        activity,
        is_office,
        report_link,
        reminder,
        service_metrics,
    })
}

/// An assessor sees indicators, not whole units' reports.
fn viewer_is_assessor_only(viewer: &Viewer) -> bool {
    viewer.roles() == [Role::Assessor]
}
