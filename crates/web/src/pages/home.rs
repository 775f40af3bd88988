//! `GET /`: for visitors, the public front page (the organisation being assessed, the
//! bulletins the office made public, and the way in); for signed-in users, the dashboard of their role — what is due for
//! them, recent activity, and links; a department's people also see their unit's
//! service-request metrics (满意率 and the rest, `pages::service::metrics_rows`).
//!
//! "Due" is the monthly report of the previous calendar month, due on the 15th of
//! this month (spec deadlines; the reporting calendar of the collection issue will
//! make the day configurable). A year's scheme that lies in the future (the demo's
//! 2027) is shown at the same month of its own year, so a demo looks like a year in
//! progress.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::{Datelike, Local};
use jixiao_core::org::{Action, Role, Target};
use jixiao_core::period::Month;
use jixiao_store::{AuditFilter, Group, Unit};

use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::login::anonymous_csrf;
use crate::pages::render;
use crate::view::{Chrome, ListQuery};

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
    bulletins: Vec<crate::pages::bulletins::ListRow>,
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
    lang: Lang,
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
            let bulletins = crate::pages::bulletins::public_list(&state, &chrome.tr).await?;
            Ok((jar, render(PublicHome { chrome, groups, unit_count, bulletins })?).into_response())
        }
    }
}

async fn dashboard(state: &AppState, viewer: &Viewer, lang: Lang, flash: Option<&str>) -> Result<axum::response::Html<String>, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/", "home.title", vec![], flash).await;
    let today = Local::now().date_naive();
    let years = state.store.scheme_years().await?;
    let year = years.iter().copied().filter(|&y| y <= today.year()).max().or_else(|| years.first().copied());
    let calendar = Month::of_date(today);
    // The month before this one, in the scheme's year.
    let prev = if calendar.month == 1 { (calendar.year - 1, 12) } else { (calendar.year, calendar.month - 1) };
    let month_year = match year {
        Some(y) if y > calendar.year => y,
        _ => prev.0,
    };
    let month = Month::new(month_year, prev.1).map_err(|e| WebError::Internal(e.to_string()))?;
    let deadline_day = crate::collection::deadline(state, month).await?;
    let deadline = deadline_day.to_string();
    // "Today" in the month's year: a demo year in the future is seen at today's date.
    let shift = month.year - prev.0;
    let effective_today = today.with_year(today.year() + shift).unwrap_or(today);
    let days_left = (deadline_day - effective_today).num_days();
    let mut due = Vec::new();
    let mut scheme_name = None;
    let mut units_in_scope = 0;
    let latest = match year.filter(|&y| y == month.year) {
        Some(y) => state.scheme_cache.latest(&state.store, y).await?,
        None => None,
    };
    if let Some((info, scheme)) = latest {
        let year = info.year;
        scheme_name = Some(format!("{} (v{})", info.name, info.version));
        let reported = state.reported_cache.get(&state.store, year, &month.to_string()).await?;
        for (ui, unit) in scheme.units.iter().enumerate() {
            if !viewer.can(Action::ViewUnit, Target::Unit(&unit.id)) || viewer_is_assessor_only(viewer) {
                continue;
            }
            units_in_scope += 1;
            let due_ids: Vec<&str> = scheme
                .indicators
                .iter()
                .filter_map(|&n| {
                    let node = &scheme.nodes[n];
                    let ind = node.indicator.as_ref()?;
                    let wanted =
                        ind.is_assigned(ui) && ind.is_due(month.month) && matches!(ind.source, jixiao_core::scheme::Source::Fields);
                    wanted.then_some(node.id.as_str())
                })
                .collect();
            let done = reported.get(&unit.id).map_or(0, |r| due_ids.iter().filter(|id| r.contains(**id)).count());
            due.push(DueRow { unit_id: unit.id.clone(), unit_name: unit.name.clone(), due: due_ids.len(), reported: done });
        }
    }
    let complete_units = due.iter().filter(|d| d.reported >= d.due).count();
    // A reminder for the viewer's own unit in the last days before the deadline, or
    // once it has passed, while something due is not yet reported.
    let reminder = viewer
        .unit_id
        .as_ref()
        .and_then(|own| due.iter().find(|d| &d.unit_id == own))
        .and_then(|d| crate::reminders::reminder_text(&chrome.tr, &deadline, days_left, d.due.saturating_sub(d.reported)));
    due.sort_by_key(|d| (d.reported >= d.due, d.unit_id.clone()));
    due.truncate(20);
    let sees_all = viewer.can(Action::ViewAudit, Target::Nothing);
    let filter = AuditFilter { actor: (!sees_all).then(|| viewer.actor.clone()), ..AuditFilter::default() };
    let entries = state.store.recent_audit(&filter, 10).await?;
    let activity = entries
        .into_iter()
        .map(|e| ActivityRow {
            at: short_time(&e.at),
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
            let months = crate::pages::service::metrics_months(state).await?;
            crate::pages::service::metrics_rows(state, unit, &months).await?
        }
        _ => Vec::new(),
    };
    render(Dashboard {
        chrome,
        month: month.to_string(),
        deadline,
        scheme: scheme_name,
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

/// `2027-03-01T08:00:00.000000Z` → `2027-03-01 16:00` in local time.
pub fn short_time(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| at.to_string())
}
