//! `/api/v1/records…` and `/api/v1/applications…`: bonus and deduction records
//! registered by the office and the departments, and units' bonus applications, for
//! programs — with the pages' rules (`app::records`): lists filtered by scope, another
//! unit's id not found, a stale `version` a conflict, the points rule enforced.

use axum::Json;
use axum::extract::{Path, Query, State};
use jixiao_app::Tr;
use jixiao_app::records::{self, ApplicationInput, RecordInput};
use jixiao_store::{BonusApplication, RegisteredRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ListOf, Paging};
use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (default: this year's scheme, else the latest).
    pub year: Option<i32>,
    /// Only this unit's.
    pub unit: Option<String>,
    pub page: Option<usize>,
    pub per_page: Option<usize>,
}

/// A registered record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: i64,
    pub year: i32,
    /// The key of the scored record, as in the data export.
    pub key: String,
    pub unit: String,
    pub indicator: String,
    pub date: String,
    /// Positive; the indicator's kind says whether it adds or deducts.
    pub points: f64,
    /// `innovation`, `research`, `commendation`, `guidance`, `discipline` or `other`.
    pub topic: String,
    pub reason: String,
    /// 责任人, may be empty.
    pub responsible: String,
    /// `active` or `cancelled`.
    pub state: String,
    pub cancel_reason: String,
    /// The application it comes from.
    pub application: Option<i64>,
    /// Send it back when changing the record (optimistic locking).
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
}

impl From<RegisteredRecord> for RecordView {
    fn from(r: RegisteredRecord) -> RecordView {
        RecordView {
            id: r.id,
            year: r.year,
            key: r.key,
            unit: r.unit_id,
            indicator: r.indicator_id,
            date: r.date,
            points: r.points,
            topic: r.topic,
            reason: r.reason,
            responsible: r.responsible,
            state: r.state,
            cancel_reason: r.cancel_reason,
            application: r.application_id,
            version: r.version,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        }
    }
}

/// A record to register, or a registered record's new content.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RecordBody {
    pub unit: String,
    pub indicator: String,
    /// `2027-03-10`, in the scheme's year, not after today, in an open month.
    pub date: String,
    /// More than 0, two decimals at most, within the rule (the category's cap, else the
    /// indicator's points).
    pub points: f64,
    pub topic: String,
    pub reason: String,
    #[serde(default)]
    pub responsible: String,
    /// For a change: the version read.
    #[serde(default)]
    pub version: Option<i64>,
    /// For a change: why.
    #[serde(default)]
    pub why: Option<String>,
}

impl RecordBody {
    fn input(&self) -> RecordInput {
        RecordInput {
            unit: self.unit.clone(),
            indicator: self.indicator.clone(),
            date: self.date.clone(),
            points: self.points.to_string(),
            topic: self.topic.clone(),
            reason: self.reason.clone(),
            responsible: self.responsible.clone(),
        }
    }
}

/// A cancellation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelBody {
    /// The version read.
    pub version: i64,
    /// Why (needed).
    pub why: String,
}

async fn year_of(state: &AppState, year: Option<i32>) -> Result<i32, WebError> {
    Ok(match year {
        Some(y) => y,
        None => jixiao_app::periods::default_year(state).await?,
    })
}

fn id_of(text: &str) -> Result<i64, WebError> {
    text.parse().map_err(|_| WebError::NotFound)
}

/// The registered records the caller sees, newest date first.
#[utoipa::path(get, path = "/api/v1/records", tag = "records", params(YearQuery),
    responses((status = 200, body = ListOf<RecordView>), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(q): Query<YearQuery>) -> Result<Json<ListOf<RecordView>>, WebError> {
    let year = year_of(&state, q.year).await?;
    let items = records::records(&state, &viewer, year, q.unit.as_deref()).await?.into_iter().map(RecordView::from).collect();
    Ok(Json(Paging { page: q.page, per_page: q.per_page }.apply(items)))
}

/// Registers a record (the office; a department for the indicators it enters or leads).
#[utoipa::path(post, path = "/api/v1/records", tag = "records", request_body = RecordBody,
    responses((status = 200, body = RecordView), (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Json(body): Json<RecordBody>,
) -> Result<Json<RecordView>, WebError> {
    Ok(Json(records::register(&state, &viewer, &Tr::new(lang), &body.input()).await?.into()))
}

/// One registered record; 404 for one the caller does not see.
#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "records", params(("id" = i64, Path, description = "record id")),
    responses((status = 200, body = RecordView), (status = 404, body = super::ErrorBody)))]
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Json<RecordView>, WebError> {
    Ok(Json(records::record(&state, &viewer, id_of(&id)?).await?.into()))
}

/// Changes a record: the new content with `version` (read) and `why`.
#[utoipa::path(post, path = "/api/v1/records/{id}", tag = "records", params(("id" = i64, Path, description = "record id")), request_body = RecordBody,
    responses((status = 200, body = RecordView), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    Json(body): Json<RecordBody>,
) -> Result<Json<RecordView>, WebError> {
    let version = body.version.ok_or_else(|| WebError::invalid("give the `version` read"))?;
    let why = body.why.clone().unwrap_or_default();
    Ok(Json(records::edit(&state, &viewer, &Tr::new(lang), id_of(&id)?, version, &body.input(), &why).await?.into()))
}

/// Cancels a record, with the version read and a reason; it no longer counts.
#[utoipa::path(post, path = "/api/v1/records/{id}/cancel", tag = "records", params(("id" = i64, Path, description = "record id")),
    request_body = CancelBody,
    responses((status = 200, body = RecordView), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    Json(body): Json<CancelBody>,
) -> Result<Json<RecordView>, WebError> {
    Ok(Json(records::cancel(&state, &viewer, &Tr::new(lang), id_of(&id)?, body.version, &body.why).await?.into()))
}

/// A bonus application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: i64,
    pub year: i32,
    pub unit: String,
    /// `innovation`, `research`, `commendation` or `guidance`.
    pub category: String,
    /// The bonus indicator (rule) claimed.
    pub indicator: String,
    pub date: String,
    pub title: String,
    pub basis: String,
    pub claimed_points: f64,
    /// `submitted`, `approved` or `rejected`.
    pub state: String,
    pub approved_points: Option<f64>,
    pub decision_note: String,
    /// The record its approval registered.
    pub record: Option<i64>,
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

impl From<BonusApplication> for ApplicationView {
    fn from(a: BonusApplication) -> ApplicationView {
        ApplicationView {
            id: a.id,
            year: a.year,
            unit: a.unit_id,
            category: a.category,
            indicator: a.indicator_id,
            date: a.date,
            title: a.title,
            basis: a.basis,
            claimed_points: a.claimed_points,
            state: a.state,
            approved_points: a.approved_points,
            decision_note: a.decision_note,
            record: a.record_id,
            version: a.version,
            created_by: a.created_by,
            created_at: a.created_at,
            decided_by: a.decided_by,
            decided_at: a.decided_at,
        }
    }
}

/// A unit's application.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationBody {
    /// Default: the caller's unit.
    #[serde(default)]
    pub unit: Option<String>,
    pub category: String,
    pub indicator: String,
    pub date: String,
    pub title: String,
    pub basis: String,
    pub points: f64,
}

/// The office's decision.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionBody {
    /// `approve` or `reject`.
    pub decision: String,
    /// Approved points (the claim or fewer).
    #[serde(default)]
    pub points: Option<f64>,
    /// Needed to reject.
    #[serde(default)]
    pub note: String,
    /// The version read.
    pub version: i64,
}

/// The applications the caller sees, newest first.
#[utoipa::path(get, path = "/api/v1/applications", tag = "records", params(YearQuery),
    responses((status = 200, body = ListOf<ApplicationView>), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn applications(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<YearQuery>,
) -> Result<Json<ListOf<ApplicationView>>, WebError> {
    let year = year_of(&state, q.year).await?;
    let items = records::applications(&state, &viewer, year, q.unit.as_deref()).await?.into_iter().map(ApplicationView::from).collect();
    Ok(Json(Paging { page: q.page, per_page: q.per_page }.apply(items)))
}

/// A unit applies for a bonus (reporter or head of the unit).
#[utoipa::path(post, path = "/api/v1/applications", tag = "records", request_body = ApplicationBody,
    responses((status = 200, body = ApplicationView), (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn apply(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Json(body): Json<ApplicationBody>,
) -> Result<Json<ApplicationView>, WebError> {
    let input = ApplicationInput {
        unit: body.unit.or_else(|| viewer.unit_id.clone()).unwrap_or_default(),
        category: body.category,
        indicator: body.indicator,
        date: body.date,
        title: body.title,
        basis: body.basis,
        points: body.points.to_string(),
    };
    Ok(Json(records::apply(&state, &viewer, &Tr::new(lang), &input).await?.into()))
}

/// One application; 404 for one the caller does not see.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "records", params(("id" = i64, Path, description = "application id")),
    responses((status = 200, body = ApplicationView), (status = 404, body = super::ErrorBody)))]
pub async fn application(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Json<ApplicationView>, WebError> {
    Ok(Json(records::application(&state, &viewer, id_of(&id)?).await?.into()))
}

/// The office approves (registering the record; the unit's scores move) or rejects.
#[utoipa::path(post, path = "/api/v1/applications/{id}/decision", tag = "records", params(("id" = i64, Path, description = "application id")),
    request_body = DecisionBody,
    responses((status = 200, body = ApplicationView), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(id): Path<String>,
    Json(body): Json<DecisionBody>,
) -> Result<Json<ApplicationView>, WebError> {
    let approve = match body.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return Err(WebError::invalid(format!("decision: unknown `{other}` (approve or reject)"))),
    };
    let points = body.points.map(|p| p.to_string()).unwrap_or_default();
    Ok(Json(records::decide(&state, &viewer, &Tr::new(lang), id_of(&id)?, body.version, approve, &points, &body.note).await?.into()))
}
