//! The automatic analysis report (分析报告) of a period: `/scores/{period}/analysis`
//! (with charts), its print view (`…/analysis/print`, A4, no JavaScript) and its
//! workbook (`…/analysis.xlsx`). For those who see every unit — the office, leaders
//! and the administrator — since it compares all units; anyone else gets 403.
//!
//! The inputs are the stored results of the period and of the period before (the
//! same the ranking shows), the timeliness of each month of the period, and the
//! year's records; `core::analysis` finds the facts, `web::analysis` words them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_core::analysis::{Input, analyse};
use jixiao_core::org::{Action, Role, Scope, roles_for};
use jixiao_core::period::{Month, Period};
use jixiao_core::score::UnitReport;
use jixiao_core::workflow::Timeliness;

use crate::AppState;
use crate::analysis::{Report, words};
use crate::auth::Viewer;
use crate::charts;
use crate::collection;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::render;
use crate::pages::scores::parse_period;
use crate::view::Chrome;

/// The stored results of a period (latest scheme version, as the ranking shows them)
/// as spec §8 unit reports, in §8 order.
async fn unit_reports(state: &AppState, period: Period) -> Result<Vec<UnitReport>, WebError> {
    let (info, _) = state.scheme_cache.latest(&state.store, period.year()).await?.ok_or(WebError::NotFound)?;
    let mut out = state
        .store
        .scores(period.year(), info.version, &period.to_string())
        .await?
        .into_iter()
        .map(|r| {
            serde_json::from_value::<UnitReport>(r.result)
                .map_err(|e| WebError::Internal(format!("stored score is not a spec §8 result: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| a.group.cmp(&b.group).then(a.rank.cmp(&b.rank)).then_with(|| a.unit.cmp(&b.unit)));
    Ok(out)
}

/// Whether `viewer` may read the report, which compares every unit: a grant over all
/// units (not an assessor's, which spans units for its own indicators only).
pub fn sees_all(viewer: &Viewer) -> bool {
    viewer.grants.iter().any(|g| matches!(g.scope, Scope::All) && g.role != Role::Assessor && roles_for(Action::ViewUnit).contains(&g.role))
}

/// The report of `period` for `viewer`, with its charts.
async fn build(state: &AppState, viewer: &Viewer, tr: &Tr, period: &str) -> Result<Report, WebError> {
    if !sees_all(viewer) {
        return Err(WebError::Forbidden);
    }
    let period = parse_period(period)?;
    // The month's timeliness is read below, for every month of the period: not
    // through `scores::load`, which reads it too.
    let (_, scheme) = state.scheme_cache.latest(&state.store, period.year()).await?.ok_or(WebError::NotFound)?;
    let units = unit_reports(state, period).await?;
    let previous = match period.previous() {
        Some(p) => Some((p, unit_reports(state, p).await?)),
        None => None,
    };
    let (first, last) = period.month_range();
    let mut reporting = Vec::new();
    for m in first..=last {
        let month = Month { year: period.year(), month: m };
        for (unit, t) in collection::timeliness_by_unit(state, &scheme, month).await? {
            if matches!(t, Timeliness::Late | Timeliness::Missing) {
                reporting.push((unit, month, t));
            }
        }
    }
    let records: Vec<_> = state.store.records(period.year()).await?.into_iter().map(|r| r.row).collect();
    let analysis = analyse(&Input {
        scheme: &scheme,
        period,
        units: &units,
        previous: previous.as_ref().map(|(p, u)| (*p, u.as_slice())),
        reporting: &reporting,
        records: &records,
    });
    let mut report = words(tr, &scheme, &analysis);
    // Charts: each group's totals in rank order, and the lagging indicators' shares.
    let overview = &mut report.sections[0];
    for g in &analysis.groups {
        let bars: Vec<(String, f64)> = units
            .iter()
            .filter_map(|u| {
                scheme.unit_index(&u.unit).filter(|&i| scheme.units[i].group == g.group).map(|i| (scheme.units[i].name.clone(), u.total))
            })
            .collect();
        let max = bars.iter().map(|b| b.1).fold(100.0, f64::max);
        overview
            .charts
            .push((tr.f("analysis.chart_totals", &[&scheme.groups[g.group].name]), charts::bars(&bars, max).map_err(WebError::Internal)?));
    }
    if !analysis.lagging.is_empty() {
        let bars: Vec<(String, f64)> = analysis
            .lagging
            .iter()
            .map(|l| {
                (
                    format!("{} {}", scheme.nodes[l.indicator].id, scheme.nodes[l.indicator].name),
                    (l.behind as f64 * 100.0 / l.assessed as f64).round(),
                )
            })
            .collect();
        let section =
            report.sections.iter_mut().find(|s| s.id == "lagging").ok_or_else(|| WebError::Internal("no lagging section".into()))?;
        section.charts.push((tr.t("analysis.chart_lagging").to_string(), charts::bars(&bars, 100.0).map_err(WebError::Internal)?));
    }
    Ok(report)
}

#[derive(Template)]
#[template(path = "analysis.html")]
struct AnalysisPage {
    chrome: Chrome,
    r: Report,
    periods: Vec<String>,
}

#[derive(Template)]
#[template(path = "analysis_print.html")]
struct PrintPage {
    tr: Tr,
    r: Report,
}

/// `GET /scores/{period}/analysis`.
pub async fn show(State(state): State<AppState>, viewer: Viewer, lang: Lang, Path(period): Path<String>) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let r = build(&state, &viewer, &tr, &period).await?;
    let crumbs = vec![(tr.t("scores.title").to_string(), format!("/scores?period={}", r.period))];
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/scores", "analysis.link", crumbs, None).await;
    chrome.title = r.title.clone();
    let periods = Period::all_in_year(r.period.year()).into_iter().map(|p| p.to_string()).collect();
    Ok(render(AnalysisPage { chrome, r, periods })?.into_response())
}

/// `GET /scores/{period}/analysis/print`: A4, for printing or saving as PDF.
pub async fn print(State(state): State<AppState>, viewer: Viewer, lang: Lang, Path(period): Path<String>) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let r = build(&state, &viewer, &tr, &period).await?;
    Ok(render(PrintPage { tr, r })?.into_response())
}

/// `GET /scores/{period}/analysis.xlsx`: the sentences and every section's table.
pub async fn export_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    Path(period): Path<String>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let r = build(&state, &viewer, &tr, &period).await?;
    let bytes = r.workbook(&tr).map_err(|e| WebError::Internal(e.to_string()))?;
    let name = format!("attachment; filename=\"analysis-{}.xlsx\"", r.period);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
