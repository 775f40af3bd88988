//! `/api/v1/audit`: the audit log, newest first, with the filters of the audit page.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use jixiao_app::Tr;
use jixiao_app::audit::{self, AuditQuery};

use super::{ListOf, Paging};
use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    pub actor: Option<String>,
    /// An action (`user.add`) or its prefix (`user`).
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// First day included, `YYYY-MM-DD` (the site's time zone).
    pub from: Option<String>,
    /// Last day included, `YYYY-MM-DD` (the site's time zone).
    pub until: Option<String>,
    pub page: Option<usize>,
    pub per_page: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    pub hash: String,
    pub prev_hash: String,
}

fn json_of(text: Option<String>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(serde_json::Value::Null)
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = ListOf<AuditView>), (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(p): Query<AuditParams>,
) -> Result<Json<ListOf<AuditView>>, WebError> {
    let query = AuditQuery {
        actor: p.actor,
        action: p.action,
        object_type: p.object_type,
        object_id: p.object_id,
        from: p.from,
        until: p.until,
        page: None,
    };
    let (page, per_page, offset) = Paging { page: p.page, per_page: p.per_page }.bounds();
    let (entries, total) = audit::search(&state, &viewer, &Tr::new(lang), &query, offset as i64, per_page as i64).await?;
    let items = entries
        .into_iter()
        .map(|e| AuditView {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            before: json_of(e.before_json),
            after: json_of(e.after_json),
            hash: e.hash,
            prev_hash: e.prev_hash,
        })
        .collect();
    Ok(Json(ListOf { items, page, per_page, total: total as usize }))
}
