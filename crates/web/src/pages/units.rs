//! The organisation as signed-in users see it: the list of units (filterable,
//! sortable) and one unit's page, limited to the units in the viewer's scope.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use jixiao_core::org::{Action, Target};
use jixiao_store::AuditFilter;

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::home::ActivityRow;
use crate::pages::render;
use crate::view::{Chrome, Column, ListQuery, Pager, columns, kept, paginate, sort_by};

pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub group: String,
    /// Whether the viewer may open the unit's page.
    pub open: bool,
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    chrome: Chrome,
    cols: Vec<Column>,
    rows: Vec<UnitRow>,
    pager: Pager,
    q: String,
}

/// `GET /units`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/units", "units.title", vec![], q.flash.as_deref()).await;
    let groups = state.store.groups().await?;
    let group_name = |id: &str| groups.iter().find(|g| g.id == id).map_or(id.to_string(), |g| g.name.clone());
    let search = q.search();
    let mut rows: Vec<UnitRow> = state
        .store
        .units()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| UnitRow {
            open: viewer.can(Action::ViewUnit, Target::Unit(&u.id)),
            group: group_name(&u.group_id),
            id: u.id,
            name: u.name,
        })
        .filter(|r| search.as_ref().is_none_or(|s| format!("{} {} {}", r.id, r.name, r.group).to_lowercase().contains(s)))
        .collect();
    sort_by(&mut rows, &q, |r, col| match col {
        "id" => Some(r.id.clone()),
        "name" => Some(r.name.clone()),
        "group" => Some(r.group.clone()),
        _ => None,
    });
    let cols = columns(
        &chrome.tr,
        "/units",
        &q,
        &[("id", "field.unit_id"), ("name", "field.unit_name"), ("group", "field.group")],
        &[("q", q.q.clone().unwrap_or_default())],
    );
    let (rows, pager) = paginate(rows, q.page.unwrap_or(1), "/units", &kept(&q));
    render(UnitsPage { chrome, cols, rows, pager, q: q.q.clone().unwrap_or_default() })
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    chrome: Chrome,
    id: String,
    name: String,
    group: String,
    disabled: bool,
    /// (period, total, rank, grade) of the latest stored scores.
    latest: Option<(String, String, String, String)>,
    activity: Vec<ActivityRow>,
    /// The unit's service-request metrics, for viewers who may see its requests.
    service_metrics: Vec<crate::pages::service::MetricsRow>,
}

/// `GET /units/{unit}` (the route guard has checked the unit is in scope).
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let unit = state.store.unit(&id).await?;
    let group = state.store.groups().await?.into_iter().find(|g| g.id == unit.group_id).map_or(unit.group_id.clone(), |g| g.name);
    let crumbs = vec![(jixiao_app::Tr::new(lang).t("units.title").to_string(), "/units".to_string())];
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, &format!("/units/{id}"), "unit.title", crumbs, None).await;
    chrome.title = unit.name.clone();
    if let Some(last) = chrome.crumbs.last_mut() {
        last.0 = unit.name.clone();
    }
    let latest = latest_score(&state, &id).await?;
    let activity = if viewer.can(Action::ViewAudit, Target::Nothing) {
        let filter = AuditFilter { object_id: Some(id.clone()), object_type: Some("unit".into()), ..AuditFilter::default() };
        state
            .store
            .search_audit(&filter, 0, 10)
            .await?
            .0
            .into_iter()
            .map(|e| ActivityRow {
                at: state.clock.short(&e.at),
                actor: e.actor,
                action: e.action,
                object: format!("{} {}", chrome.tr.object(&e.object_type), e.object_id),
            })
            .collect()
    } else {
        Vec::new()
    };
    let service_metrics = if viewer.can(Action::ViewServiceRequests, Target::Unit(&id)) {
        crate::pages::service::metrics_rows(&state, &id, &crate::pages::service::metrics_months(&state)).await?
    } else {
        Vec::new()
    };
    render(UnitPage { chrome, id: unit.id, name: unit.name, group, disabled: unit.disabled, latest, activity, service_metrics })
}

/// The unit's total, rank and grade in the latest month in which it has accepted
/// data, in the latest scheme year (numbers as the engine stored them). Record and
/// year-to-date indicators score every month, so "a month with scores" would always
/// be December; the month of the latest accepted entry is what a reader means.
async fn latest_score(state: &AppState, unit: &str) -> Result<Option<(String, String, String, String)>, WebError> {
    let Some(year) = state.store.scheme_years().await?.into_iter().max() else { return Ok(None) };
    let Some((info, _)) = state.latest_scheme(year).await? else { return Ok(None) };
    let Some(month) = state.store.latest_accepted_month(year, unit).await? else { return Ok(None) };
    let rows = state.store.scores(year, info.version, &month).await?;
    Ok(rows.into_iter().find(|r| r.unit_id == unit).map(|row| {
        let text = |k: &str| match &row.result[k] {
            serde_json::Value::Null => "—".to_string(),
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        (month.clone(), text("total"), text("rank"), text("grade"))
    }))
}
