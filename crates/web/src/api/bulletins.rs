//! `/api/v1/bulletins`, `/api/v1/bulletins/{id}`: bulletins (通报) for programs, with
//! the pages' rules — drafts for the office only (404 for anyone else), the ranking
//! for everyone who may open the bulletin, each unit's scores and records only for
//! units in the caller's data scope (`app::bulletins`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use jixiao_store::Bulletin;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ListOf, Paging};
use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;
use jixiao_app::bulletins::{self, detail_units};

/// A bulletin revision without its content.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinSummary {
    pub id: i64,
    pub year: i32,
    /// `2027-03`, `2027-Q1` or `2027`.
    pub period: String,
    /// The number within the year (3 in 〔2027〕第3号).
    pub number: i64,
    /// `〔2027〕第3号`.
    pub number_text: String,
    /// 1 for the first publication, 2… for corrections.
    pub revision: i64,
    pub title: String,
    pub scheme_version: i32,
    /// `draft` or `published`.
    pub state: String,
    pub public: bool,
    /// The reason for a revision.
    pub note: String,
    pub published_at: Option<String>,
    pub published_by: Option<String>,
}

impl From<&Bulletin> for BulletinSummary {
    fn from(b: &Bulletin) -> BulletinSummary {
        BulletinSummary {
            id: b.id,
            year: b.year,
            period: b.period.clone(),
            number: b.number,
            number_text: b.number_text(),
            revision: b.revision,
            title: b.title.clone(),
            scheme_version: b.scheme_version,
            state: b.state.as_str().to_string(),
            public: b.public,
            note: b.note.clone(),
            published_at: b.published_at.clone(),
            published_by: b.published_by.clone(),
        }
    }
}

/// One unit's line: the ranking for every unit; `scores` and `status` (spec §8) only
/// for units in the caller's scope, else absent.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinUnit {
    pub unit: String,
    pub name: String,
    pub group: String,
    pub total: f64,
    pub rank: usize,
    pub grade: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<BTreeMap<String, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, String>>,
}

/// A record counted in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinRecord {
    pub unit: String,
    pub indicator: String,
    /// `regular`, `bonus` or `deduction`.
    pub kind: String,
    pub date: String,
    pub points: f64,
    pub note: Option<String>,
}

/// A node of the indicator tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinNode {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub depth: usize,
    pub parent: Option<String>,
    pub points: Option<f64>,
    pub cap: Option<f64>,
    pub formula: Option<String>,
}

/// A bulletin with its content (frozen once published; a draft's is computed now).
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinDetail {
    #[serde(flatten)]
    pub bulletin: BulletinSummary,
    pub scheme_name: String,
    pub issuer: String,
    pub computed_at: String,
    /// Ordered by group id, rank and unit id (spec §8).
    pub units: Vec<BulletinUnit>,
    pub records: Vec<BulletinRecord>,
    pub nodes: Vec<BulletinNode>,
}

/// Bulletins: every revision for the office, published ones for everyone else;
/// newest number first.
#[utoipa::path(get, path = "/api/v1/bulletins", tag = "bulletins", params(Paging),
    responses((status = 200, body = ListOf<BulletinSummary>), (status = 401, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(paging): Query<Paging>,
) -> Result<Json<ListOf<BulletinSummary>>, WebError> {
    let items = bulletins::visible(&state, Some(&viewer)).await?.iter().map(BulletinSummary::from).collect();
    Ok(Json(paging.apply(items)))
}

/// One bulletin revision. A draft is 404 except for the office.
#[utoipa::path(get, path = "/api/v1/bulletins/{id}", tag = "bulletins", params(("id" = i64, Path, description = "bulletin id")),
    responses((status = 200, body = BulletinDetail), (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Json<BulletinDetail>, WebError> {
    let opened = bulletins::open(&state, Some(&viewer), id.parse().map_err(|_| WebError::NotFound)?).await?;
    let detail = detail_units(Some(&viewer), &opened.content);
    let c = &opened.content;
    let name = |id: &str| c.units.iter().find(|u| u.id == id).map_or(id.to_string(), |u| u.name.clone());
    Ok(Json(BulletinDetail {
        bulletin: BulletinSummary::from(&opened.bulletin),
        scheme_name: c.scheme_name.clone(),
        issuer: c.issuer.clone(),
        computed_at: c.computed_at.clone(),
        units: c
            .results
            .iter()
            .map(|r| {
                let mine = detail.contains(&r.unit);
                BulletinUnit {
                    unit: r.unit.clone(),
                    name: name(&r.unit),
                    group: r.group.clone(),
                    total: r.total,
                    rank: r.rank,
                    grade: r.grade.clone(),
                    scores: mine.then(|| r.scores.clone()),
                    status: mine.then(|| r.status.clone()),
                }
            })
            .collect(),
        records: c
            .ledger
            .iter()
            .filter(|l| detail.contains(&l.unit))
            .map(|l| BulletinRecord {
                unit: l.unit.clone(),
                indicator: l.indicator.clone(),
                kind: l.kind.clone(),
                date: l.date.clone(),
                points: l.points,
                note: l.note.clone(),
            })
            .collect(),
        nodes: c
            .nodes
            .iter()
            .map(|n| BulletinNode {
                id: n.id.clone(),
                name: n.name.clone(),
                kind: n.kind.clone(),
                depth: n.depth,
                parent: n.parent.clone(),
                points: n.points,
                cap: n.cap,
                formula: n.formula.clone(),
            })
            .collect(),
    }))
}
