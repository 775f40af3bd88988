//! `POST /api/v1/formula/check`: the formula editor's check as the user types, and
//! its "try it" — the scoring engine's own compiler and evaluator (`formula::trial`).

use std::collections::BTreeMap;

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A formula and sample values of the names it may use.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormulaCheck {
    pub formula: String,
    /// Name → sample value: fields, params, and `points`, `progress`, `month`…
    #[serde(default)]
    pub inputs: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormulaError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// A known name close to a misspelt one.
    pub suggestion: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormulaResult {
    pub ok: bool,
    /// The canonical text, when it compiles.
    pub canonical: Option<String>,
    pub errors: Vec<FormulaError>,
    /// The names the formula reads.
    pub variables: Vec<String>,
    /// The raw result, when it could be evaluated.
    pub raw: Option<f64>,
    /// Why it could not be evaluated (division by zero, a name without a value…).
    pub error: Option<String>,
    /// The raw result clamped to [0, points] and rounded to 2 decimals.
    pub score: Option<f64>,
    /// Peer functions were evaluated over a group of one.
    pub peers_of_one: bool,
}

#[utoipa::path(post, path = "/api/v1/formula/check", tag = "formula", request_body = FormulaCheck,
    responses((status = 200, body = FormulaResult), (status = 401, body = super::ErrorBody)))]
pub async fn check(Json(body): Json<FormulaCheck>) -> Json<FormulaResult> {
    let t = jixiao_core::formula::trial(&body.formula, &body.inputs);
    Json(FormulaResult {
        ok: t.errors.is_empty() && matches!(t.raw, Some(Ok(_))),
        canonical: t.canonical,
        errors: t
            .errors
            .into_iter()
            .map(|e| FormulaError { line: e.line, column: e.column, message: e.message, suggestion: e.suggestion })
            .collect(),
        variables: t.variables,
        raw: t.raw.as_ref().and_then(|r| r.as_ref().ok().copied()),
        error: t.raw.and_then(|r| r.err()),
        score: t.score,
        peers_of_one: t.peers_of_one,
    })
}
