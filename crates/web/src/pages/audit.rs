//! `GET /audit`: the audit log (处处留迹) with filters — actor, action (or its prefix),
//! object, time range — newest first, paginated in the database; with `verify=1`, the
//! check of the whole chain and its anchor (intact, or the first bad entry); the
//! retention in force. `GET /audit/archive`: the entries of the chosen days as an
//! archive file, verifiable offline (`jixiao audit check-archive`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
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
    /// The result of `verify=1`: (intact, message).
    check: Option<(bool, String)>,
    retention_days: i64,
}

/// The query of the audit page: the search, and whether to check the chain.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditPageQuery {
    #[serde(flatten)]
    q: AuditQuery,
    #[serde(default)]
    verify: Option<String>,
}

/// `GET /audit`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(page_query): Query<AuditPageQuery>,
) -> Result<Html<String>, WebError> {
    let AuditPageQuery { q, verify } = page_query;
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
    let check = match verify.as_deref() {
        Some("1") => {
            let report = audit::verify(&state, &viewer).await?;
            Some(match report.first_broken {
                None => (true, chrome.tr.f("audit_chain.intact", &[&report.entries])),
                Some(b) => (false, chrome.tr.f("audit_chain.broken", &[&b.seq, &b])),
            })
        }
        _ => None,
    };
    let retention_days = audit::retention_days(&state).await?;
    render(AuditPage { chrome, q, rows, pager, error, check, retention_days })
}

/// `GET /audit/archive?from=&until=`: the archive file of those days.
pub async fn archive(State(state): State<AppState>, viewer: Viewer, Query(q): Query<AuditQuery>) -> Result<Response, WebError> {
    let archive = audit::export_archive(&state, &viewer, &q).await?;
    let name = format!("jixiao-audit-{}-{}.jsonl", archive.first_seq, archive.last_seq);
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        archive.text,
    )
        .into_response())
}
