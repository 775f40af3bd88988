//! The automatic analysis report (分析报告) of a period: `/scores/{period}/analysis`
//! (with charts), its print view (`…/analysis/print`, A4, no JavaScript) and its
//! workbook (`…/analysis.xlsx`). For those who see every unit — the office, leaders
//! and the administrator — since it compares all units; anyone else gets 403.
//!
//! `app::analysis` loads the inputs, finds the facts and words them; this page draws
//! the charts and lays the report out.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_app::analysis::{self, Report};
use jixiao_app::{Tr, scores};
use jixiao_core::period::Period;

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::charts;
use crate::error::WebError;
use crate::pages::render;
use crate::view::Chrome;

/// The report of `period` for `viewer` (`app::analysis::build`), with its charts drawn.
async fn build(state: &AppState, viewer: &Viewer, tr: &Tr, period: &str) -> Result<Report, WebError> {
    let period = scores::parse_period(period)?;
    let mut report = analysis::build(state, viewer, tr, period).await?;
    for chart in report.sections.iter_mut().flat_map(|s| s.charts.iter_mut()) {
        chart.svg = charts::bars(&chart.bars, chart.max).map_err(WebError::Internal)?;
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
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(period): Path<String>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let r = build(&state, &viewer, &tr, &period).await?;
    let crumbs = vec![(tr.t("scores.title").to_string(), format!("/scores?period={}", r.period))];
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/scores", "analysis.link", crumbs, None).await;
    chrome.title = r.title.clone();
    let periods = Period::all_in_year(r.period.year()).into_iter().map(|p| p.to_string()).collect();
    Ok(render(AnalysisPage { chrome, r, periods })?.into_response())
}

/// `GET /scores/{period}/analysis/print`: A4, for printing or saving as PDF.
pub async fn print(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(period): Path<String>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let r = build(&state, &viewer, &tr, &period).await?;
    Ok(render(PrintPage { tr, r })?.into_response())
}

/// `GET /scores/{period}/analysis.xlsx`: the sentences and every section's table.
pub async fn export_xlsx(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
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
