//! `GET /audit`: the audit log (处处留迹) with filters — actor, action (or its prefix),
//! object, time range — newest first, paginated in the database.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use jixiao_app::AppError;
use jixiao_app::audit::{self, AuditQuery};

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, PER_PAGE, Pager, page_of};

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: String,
    pub after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    q: AuditQuery,
    rows: Vec<AuditRow>,
    pager: Pager,
    error: Option<String>,
}

/// `GET /audit`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/audit", "audit.title", vec![], None).await;
    let keep: Vec<(&str, String)> = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("object_type", &q.object_type),
        ("object_id", &q.object_id),
        ("from", &q.from),
        ("until", &q.until),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.clone().unwrap_or_default()))
    .collect();
    let page = q.page.unwrap_or(1).max(1);
    let offset = ((page - 1) * PER_PAGE) as i64;
    let (rows, pager, error) = match audit::search(&state, &viewer, &chrome.tr, &q, offset, PER_PAGE as i64).await {
        Ok((entries, total)) => {
            let (_, pager) = page_of(total as usize, page, "/audit", &keep);
            let rows = entries
                .into_iter()
                .map(|e| AuditRow {
                    seq: e.seq,
                    at: state.clock.short(&e.at),
                    actor: e.actor,
                    action: e.action,
                    object_type: chrome.tr.object(&e.object_type).to_string(),
                    object_id: e.object_id,
                    before: e.before_json.unwrap_or_default(),
                    after: e.after_json.unwrap_or_default(),
                })
                .collect();
            (rows, pager, None)
        }
        Err(AppError::Invalid { message, .. }) => (Vec::new(), page_of(0, 1, "/audit", &keep).1, Some(message)),
        Err(e) => return Err(e.into()),
    };
    render(AuditPage { chrome, q, rows, pager, error })
}
