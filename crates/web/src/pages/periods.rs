//! `/periods`: the assessment office's reporting calendar — each month's state (open,
//! closed, locked) and deadline, the due day and the days off that move deadlines —
//! and the queue of correction requests of closed months, approved or rejected here.
//!
//! Closing a month locks its data: the form and the API refuse changes, and a unit
//! asks for a correction instead. An approved correction gives the entry its new
//! values (still accepted, version up) in the same transaction as the decision, and
//! the year is rescored; the old values stay in the request and the audit trail.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_app::calendar::{self, WorkingCalendar};
use jixiao_app::{Tr, periods};
use jixiao_core::period::Month;
use jixiao_store::PeriodState;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::Chrome;

pub struct MonthRow {
    pub month: String,
    pub deadline: String,
    pub state: &'static str,
}

pub struct RequestRow {
    pub id: i64,
    pub entry: String,
    pub link: String,
    pub old: String,
    pub new: String,
    pub reason: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "periods.html")]
struct PeriodsPage {
    chrome: Chrome,
    year: i32,
    months: Vec<MonthRow>,
    due_day: u8,
    holidays: String,
    requests: Vec<RequestRow>,
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i32>,
    flash: Option<String>,
}

/// `GET /periods?year=`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let year = match q.year {
        Some(y) => y,
        None => periods::default_year(&state).await?,
    };
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/periods", "periods.title", vec![], q.flash.as_deref()).await;
    chrome.title = format!("{} · {year}", chrome.title);
    let calendar = WorkingCalendar::load(&state.store).await?;
    let months = periods::months(&state, year)
        .await?
        .into_iter()
        .map(|(m, st)| MonthRow { month: m.to_string(), deadline: calendar.deadline(m).to_string(), state: st.as_str() })
        .collect();
    let requests = periods::open_requests(&state, &viewer, year)
        .await?
        .into_iter()
        .map(|c| RequestRow {
            id: c.id,
            entry: format!("{} · {} · {}", c.unit_id, c.indicator_id, c.month),
            link: format!("/units/{}/report/{}", c.unit_id, c.month),
            old: c.old_values.map(|v| Value::Object(v).to_string()).unwrap_or_default(),
            new: Value::Object(c.new_values).to_string(),
            reason: c.reason,
            by: format!("{} · {}", c.requested_by, state.clock.short(&c.requested_at)),
        })
        .collect();
    let holidays = calendar.days.holidays.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
    Ok(render(PeriodsPage { chrome, year, months, due_day: calendar.due_day, holidays, requests })?.into_response())
}

#[derive(Deserialize)]
pub struct StateForm {
    state: String,
}

/// `POST /periods/{period}`: opens, closes or locks a month.
pub async fn set_state(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(period): Path<String>,
    axum::Form(form): axum::Form<StateForm>,
) -> Result<Response, WebError> {
    let month: Month = period.parse().map_err(|e| WebError::invalid(format!("period `{period}`: {e}")))?;
    let new: PeriodState = form.state.parse().map_err(|_| WebError::invalid(format!("unknown period state `{}`", form.state)))?;
    periods::set_state(&state, &viewer, &Tr::new(lang), month, new).await?;
    Ok(done(&format!("/periods?year={}", month.year), "period_saved"))
}

#[derive(Deserialize)]
pub struct CalendarForm {
    #[serde(default)]
    due_day: String,
    #[serde(default)]
    holidays: String,
}

/// `POST /periods/calendar`: the due day (1–28) and the days off.
pub async fn set_calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<CalendarForm>,
) -> Result<Response, WebError> {
    calendar::set(&state, &viewer, &Tr::new(lang), &form.due_day, &form.holidays).await?;
    Ok(done("/periods", "calendar_saved"))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /corrections/{id}`: `decision` = approve or reject, with a note.
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<DecisionForm>,
) -> Result<Response, WebError> {
    let approved = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return Err(WebError::invalid(format!("unknown decision `{other}`"))),
    };
    let c = periods::decide(&state, &viewer, &Tr::new(lang), id, approved, &form.note).await?;
    Ok(done(&format!("/periods?year={}", c.year), "correction_decided"))
}
