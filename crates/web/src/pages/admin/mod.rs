//! The administrator's pages: accounts with their roles and scopes, the
//! organisation (units and groups: create, edit, disable — never delete what has
//! history), API tokens and settings. Every change is one transaction with its audit
//! entry; forms with errors come back with the errors beside the fields and what was
//! typed kept.

pub mod org;
pub mod settings;
pub mod tokens;
pub mod users;

use axum::response::{IntoResponse, Response};

/// After a successful form: back to `path` with a flash message (`flash.<key>`).
/// Paths are built from the request's ids, so they go through the safe-redirect rule.
pub fn done(path: &str, flash: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    crate::view::redirect_to(&format!("{path}{sep}flash={flash}")).into_response()
}
