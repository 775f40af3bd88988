//! `/api/v1/scores` and `/api/v1/units/{unit}/scores/{period}/explain/{indicator}`:
//! the stored results of a period (spec §8, one object per unit in scope) with the
//! warning lights and the rule that lit each, and the engine's explanation of one
//! score — the same numbers as the pages, under the same rule (`app::scores::visible`:
//! an assessor sees only the indicators it leads).

use axum::Json;
use axum::extract::{Path, Query, State};
use jixiao_app::scores::{self, parse_period};
use jixiao_core::lights::Lit;
use jixiao_core::org::{Action, Target};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `2027-03`, `2027-Q1` or `2027`.
    pub period: String,
    /// Only this unit (it must be in the caller's scope).
    pub unit: Option<String>,
}

/// One unit's result of the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitScores {
    /// The spec §8 object: unit, group, total, rank, grade, scores, status, errors.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    /// The unit's light: `{"light": "red"|"yellow"|"green"|"none", "why": {"rule": …}}`.
    #[schema(value_type = Object)]
    pub light: Lit,
    /// Each assigned indicator's light, by indicator id.
    #[schema(value_type = Object)]
    pub indicator_lights: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodScores {
    pub period: String,
    pub units: Vec<UnitScores>,
}

#[utoipa::path(get, path = "/api/v1/scores", tag = "scores", params(PeriodQuery),
    responses((status = 200, body = PeriodScores), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn period(State(state): State<AppState>, viewer: Viewer, Query(q): Query<PeriodQuery>) -> Result<Json<PeriodScores>, WebError> {
    let period = parse_period(&q.period)?;
    let data = scores::load(&state, period).await?;
    let scheme = &data.scheme;
    let only = q.unit.as_deref().filter(|u| !u.is_empty());
    if let Some(id) = only {
        if scheme.unit_index(id).is_none() {
            return Err(WebError::invalid(format!("unit `{id}` is not assessed in {}", period.year())));
        }
        if !viewer.can(Action::ViewUnit, Target::Unit(id)) {
            return Err(WebError::Forbidden);
        }
    }
    let mut units = Vec::new();
    for unit in &scheme.units {
        if only.is_some_and(|id| id != unit.id) {
            continue;
        }
        let Some(report) = data.reports.get(&unit.id) else { continue };
        let Some(result) = scores::visible(&viewer, scheme, &unit.id, report) else { continue };
        let (lights, light) = scores::lights_of(scheme, report, data.late.contains(&unit.id));
        let indicator_lights = lights
            .iter()
            .filter(|(n, _)| scores::sees_node(&viewer, scheme, &unit.id, &scheme.nodes[**n].id))
            .map(|(&n, l)| (scheme.nodes[n].id.clone(), serde_json::to_value(l).unwrap_or_default()))
            .collect();
        units.push(UnitScores { result, light, indicator_lights });
    }
    // Spec §8 order: group, rank, unit.
    units.sort_by(|a, b| {
        let key = |u: &UnitScores| {
            (
                u.result["group"].as_str().unwrap_or("").to_string(),
                u.result["rank"].as_u64().unwrap_or(u64::MAX),
                u.result["unit"].as_str().unwrap_or("").to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(Json(PeriodScores { period: period.to_string(), units }))
}

#[utoipa::path(get, path = "/api/v1/units/{unit}/scores/{period}/explain/{indicator}", tag = "scores",
    params(("unit" = String, Path), ("period" = String, Path), ("indicator" = String, Path)),
    responses((status = 200, description = "the engine's explanation (formula, window, inputs with their months or records, raw result, points, score)", body = Object),
        (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn explanation(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((unit, period, indicator)): Path<(String, String, String)>,
) -> Result<Json<serde_json::Value>, WebError> {
    let period = parse_period(&period)?;
    let e = scores::explanation(&state, &viewer, period, &unit, &indicator).await?;
    Ok(Json(serde_json::to_value(e).map_err(|e| WebError::Internal(e.to_string()))?))
}
