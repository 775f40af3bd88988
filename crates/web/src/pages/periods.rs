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
use jixiao_core::data::EntryRow;
use jixiao_core::period::{Month, Period};
use jixiao_store::PeriodState;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Viewer;
use crate::collection;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::admin::done;
use crate::pages::home::short_time;
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

async fn default_year(state: &AppState) -> Result<i32, WebError> {
    use chrono::Datelike;
    let years = state.store.scheme_years().await?;
    let today = chrono::Local::now().year();
    Ok(years.iter().copied().filter(|&y| y <= today).max().or_else(|| years.iter().copied().max()).unwrap_or(today))
}

/// `GET /periods?year=`.
pub async fn page(State(state): State<AppState>, viewer: Viewer, lang: Lang, Query(q): Query<YearQuery>) -> Result<Response, WebError> {
    let year = match q.year {
        Some(y) => y,
        None => default_year(&state).await?,
    };
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/periods", "periods.title", vec![], q.flash.as_deref()).await;
    chrome.title = format!("{} · {year}", chrome.title);
    let (due_day, holidays) = collection::calendar(&state).await?;
    let stored = state.store.periods(year).await?;
    let months = (1..=12)
        .filter_map(|m| Month::new(year, m).ok())
        .map(|m| {
            let st = stored.iter().find(|p| p.period == m.to_string()).map_or(PeriodState::Open, |p| p.state);
            MonthRow { month: m.to_string(), deadline: m.report_deadline_with(due_day, &holidays).to_string(), state: st.as_str() }
        })
        .collect();
    let requests = state
        .store
        .corrections(year, Some("requested"))
        .await?
        .into_iter()
        .map(|c| RequestRow {
            id: c.id,
            entry: format!("{} · {} · {}", c.unit_id, c.indicator_id, c.month),
            link: format!("/units/{}/report/{}", c.unit_id, c.month),
            old: c.old_values.map(|v| Value::Object(v).to_string()).unwrap_or_default(),
            new: Value::Object(c.new_values).to_string(),
            reason: c.reason,
            by: format!("{} · {}", c.requested_by, short_time(&c.requested_at)),
        })
        .collect();
    let holidays = holidays.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
    Ok(render(PeriodsPage { chrome, year, months, due_day, holidays, requests })?.into_response())
}

#[derive(Deserialize)]
pub struct StateForm {
    state: String,
}

/// `POST /periods/{period}`: opens, closes or locks a month.
pub async fn set_state(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(period): Path<String>,
    axum::Form(form): axum::Form<StateForm>,
) -> Result<Response, WebError> {
    let month: Month = period.parse().map_err(|e| WebError::invalid(format!("period `{period}`: {e}")))?;
    let new: PeriodState = form.state.parse().map_err(|_| WebError::invalid(format!("unknown period state `{}`", form.state)))?;
    let before = state.store.period_state(month.year, &month.to_string()).await?;
    if before == PeriodState::Locked && new != PeriodState::Locked {
        return Err(WebError::invalid(format!("{month} is locked for good")));
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    state.store.set_period(&mut tx, Period::Month(month), new, None).await?;
    tx.audit("period.state", "period", &month.to_string(), Some(json!(before.as_str())), Some(json!(new.as_str()))).await?;
    tx.commit().await?;
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
    lang: Lang,
    axum::Form(form): axum::Form<CalendarForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let due_day: u8 = form
        .due_day
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=28).contains(d))
        .ok_or_else(|| WebError::invalid(format!("{}: {}", tr.t("periods.due_day"), tr.f("settings.out_of_range", &[&1, &28]))))?;
    let mut days = Vec::new();
    for text in form.holidays.split([',', ' ', '\n', '，']).map(str::trim).filter(|t| !t.is_empty()) {
        let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| WebError::invalid(format!("`{text}` is not a date (YYYY-MM-DD)")))?;
        days.push(day.to_string());
    }
    days.sort();
    days.dedup();
    let mut tx = state.store.begin(&viewer.actor).await?;
    for (key, value) in [("collection.due_day", due_day.to_string()), ("collection.holidays", days.join(","))] {
        let before = state.store.set_setting(&mut tx, key, &value).await?;
        tx.audit("setting.set", "setting", key, before.map(|b| json!(b)), Some(json!(value))).await?;
    }
    tx.commit().await?;
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
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<DecisionForm>,
) -> Result<Response, WebError> {
    let approved = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return Err(WebError::invalid(format!("unknown decision `{other}`"))),
    };
    if !approved && form.note.trim().is_empty() {
        return Err(WebError::invalid("a rejection needs a note"));
    }
    let mut tx = state.store.begin(&viewer.actor).await?;
    let c = state.store.decide_correction(&mut tx, id, approved, &form.note).await?;
    let entry = format!("{}/{}/{}/{}", c.year, c.unit_id, c.indicator_id, c.month);
    if approved {
        let current = state.store.entry(c.year, &c.unit_id, &c.indicator_id, &c.month).await?;
        let row =
            EntryRow { unit: c.unit_id.clone(), indicator: c.indicator_id.clone(), month: c.month.clone(), values: c.new_values.clone() };
        let version = state.store.save_entry(&mut tx, c.year, &row, current.as_ref().map(|e| e.version), "accepted").await?;
        tx.audit(
            "entry.correct",
            "entry",
            &entry,
            current.map(|e| json!({"state": e.state, "values": e.row.values, "version": e.version})),
            Some(json!({"state": "accepted", "values": c.new_values, "version": version, "correction": id})),
        )
        .await?;
    }
    let action = if approved { "correction.approve" } else { "correction.reject" };
    tx.audit(
        action,
        "correction",
        &id.to_string(),
        Some(json!({"state": "requested"})),
        Some(json!({"state": if approved { "approved" } else { "rejected" }, "note": form.note.trim(), "entry": entry})),
    )
    .await?;
    tx.commit().await?;
    if approved {
        let first = c.month.parse::<jixiao_core::period::Month>().map_or(1, |m| m.month);
        state.store.refresh_scores_from(c.year, first).await?;
    }
    Ok(done(&format!("/periods?year={}", c.year), "correction_decided"))
}
