//! `/api/v1/units/{unit}/entries…`: a unit's monthly entries for programs — read in
//! scope, and written through the same reporting workflow as the form
//! (`collection::apply`), typically with a token of the reporter or assessor role
//! from a system that pushes data.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jixiao_core::period::Month;
use jixiao_core::workflow::Step;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use jixiao_app::Tr;
use jixiao_app::collection::{self, Change, Problem};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// The month, `2027-03`.
    pub month: String,
}

/// One entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub indicator: String,
    pub month: String,
    /// Field key → value.
    #[schema(value_type = Object)]
    pub values: Map<String, Value>,
    /// `draft`, `submitted`, `approved`, `accepted` or `returned`.
    pub state: String,
    /// Send it back when changing the entry (optimistic locking).
    pub version: i64,
    pub updated_by: String,
    pub updated_at: String,
}

/// A unit's month: what is due and what is entered.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthView {
    pub unit: String,
    pub month: String,
    /// Ids of the indicators due from the unit this month.
    pub due: Vec<String>,
    pub entries: Vec<EntryView>,
}

fn month_of(text: &str) -> Result<Month, WebError> {
    text.parse::<Month>().map_err(|e| WebError::invalid(format!("month `{text}`: {e}")))
}

/// The entries the viewer may see: all of the unit's, or an assessor's indicators.
fn visible(viewer: &Viewer, unit: &str, indicator: &str) -> bool {
    viewer.can(jixiao_core::org::Action::ViewUnit, jixiao_core::org::Target::Indicator { unit, indicator })
}

#[utoipa::path(get, path = "/api/v1/units/{unit}/entries", tag = "entries",
    params(("unit" = String, Path, description = "unit id"), EntriesQuery),
    responses((status = 200, body = MonthView), (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(unit): Path<String>,
    Query(q): Query<EntriesQuery>,
) -> Result<Json<MonthView>, WebError> {
    let month = month_of(&q.month)?;
    let data = collection::load(&state, &unit, month).await?;
    let due = data.due.iter().map(|&n| data.scheme.nodes[n].id.clone()).filter(|id| visible(&viewer, &unit, id)).collect();
    let mut entries: Vec<EntryView> = data
        .current
        .into_values()
        .filter(|e| visible(&viewer, &unit, &e.row.indicator))
        .map(|e| EntryView {
            indicator: e.row.indicator,
            month: e.row.month,
            values: e.row.values,
            state: e.state,
            version: e.version,
            updated_by: e.updated_by,
            updated_at: e.updated_at,
        })
        .collect();
    entries.sort_by(|a, b| a.indicator.cmp(&b.indicator));
    Ok(Json(MonthView { unit, month: month.to_string(), due, entries }))
}

/// A change of one entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryChange {
    /// `save` (default when `values` are given), `submit`, `approve`, `accept` or
    /// `return`.
    pub step: Option<String>,
    /// Field key → value, for `save` and `submit`.
    #[schema(value_type = Object)]
    pub values: Option<Map<String, Value>>,
    /// The version read (null or absent for a new entry). A stale version is a 409.
    pub version: Option<i64>,
    /// A return's reason, or why a value jumps from last month.
    #[serde(default)]
    pub reason: String,
}

/// What a change left.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeResult {
    pub indicator: String,
    pub state: String,
    pub version: i64,
}

/// The problems of a refused change, as the error's `details`.
fn problems_response(tr: &Tr, clock: &jixiao_app::Clock, problems: &[Problem]) -> Response {
    let status = if problems.iter().any(|p| matches!(p, Problem::Forbidden { .. })) {
        StatusCode::FORBIDDEN
    } else if problems.iter().any(|p| matches!(p, Problem::Conflict { .. })) {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    let details: Vec<Value> = problems
        .iter()
        .map(|p| {
            let mut d = json!({"indicator": p.indicator(), "message": p.message(tr, clock)});
            match p {
                Problem::Field { field, .. } => d["field"] = json!(field),
                Problem::Conflict { current: Some(e), .. } => d["current_version"] = json!(e.version),
                _ => {}
            }
            d
        })
        .collect();
    let message = problems.first().map(|p| p.message(tr, clock)).unwrap_or_default();
    let code = match status {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::CONFLICT => "conflict",
        _ => "invalid",
    };
    crate::error::error_response(status, code, message, Value::Array(details))
}

#[utoipa::path(post, path = "/api/v1/units/{unit}/entries/{indicator}/{month}", tag = "entries",
    params(("unit" = String, Path, description = "unit id"), ("indicator" = String, Path, description = "indicator id"),
           ("month" = String, Path, description = "month, 2027-03")),
    request_body = EntryChange,
    responses((status = 200, body = ChangeResult), (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody),
              (status = 409, body = super::ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((unit, indicator, month)): Path<(String, String, String)>,
    Json(body): Json<EntryChange>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = month_of(&month)?;
    let step = match body.step.as_deref() {
        None if body.values.is_some() => Step::Save,
        None => return Err(WebError::invalid("give `values` to save, or a `step`")),
        Some(s) => s.parse::<Step>().map_err(WebError::invalid)?,
    };
    if body.values.is_some() && !matches!(step, Step::Save | Step::Submit) {
        return Err(WebError::invalid(format!("`values` go with save or submit, not {}", step.code())));
    }
    let data = collection::load(&state, &unit, month).await?;
    if collection::acting_role(&viewer, &data.scheme, step, &unit, &indicator).is_none() {
        return Err(WebError::Forbidden);
    }
    let change = Change { indicator: indicator.clone(), step, values: body.values, seen_version: Some(body.version), reason: body.reason };
    match collection::apply(&state, &viewer, &tr, &data, vec![change]).await? {
        Ok(applied) => {
            let (state_now, version) = match applied.entries.first() {
                Some((_, s, v)) => (s.code().to_string(), *v),
                // Nothing changed (the same values again): report the entry as it is.
                None => {
                    let e = data.current.get(&indicator).ok_or(WebError::NotFound)?;
                    (e.state.clone(), e.version)
                }
            };
            Ok(Json(ChangeResult { indicator, state: state_now, version }).into_response())
        }
        Err(problems) => Ok(problems_response(&tr, &state.clock, &problems)),
    }
}
