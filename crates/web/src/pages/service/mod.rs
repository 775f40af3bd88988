//! Public service requests (公共服务诉求) in the browser:
//! - `public` — the citizen's pages, without login: the request form (`/service`),
//!   the confirmation with case number and query password, and the query page
//!   (`/service/query`: case number + password → status history and replies, and
//!   the rating once verified), rate-limited per client address;
//! - `handling` — the office's dispatch queue (`/service/dispatch`), a department's
//!   queue (`/service/queue`), a request's page with the steps the viewer may take
//!   (`/service/requests/{id}`);
//! - `office` — the SMS outbox (`/service/outbox`) and the Open311 API keys
//!   (`/service/keys`).

pub mod handling;
pub mod office;
pub mod public;

use jixiao_store::ServiceCategory;

/// A category as the pages list it.
pub struct CategoryRow {
    pub code: String,
    pub name: String,
    pub group: String,
}

pub fn category_rows(categories: &[ServiceCategory]) -> Vec<CategoryRow> {
    categories.iter().map(|c| CategoryRow { code: c.code.clone(), name: c.name.clone(), group: c.group_name.clone() }).collect()
}

/// A stored time as pages show it (local, minutes).
pub fn when(stored: &str) -> String {
    crate::service::local(stored).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}
