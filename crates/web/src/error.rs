//! `WebError`, the web layer's one error type, and its mapping to HTTP — in one place.
//!
//! Policy:
//! - A handler returns `Result<_, WebError>`; the app's `AppError` converts into it
//!   (`From`), variant for variant, so `?` on a use case is all a handler writes.
//! - `into_response` only decides the status and a machine-readable code, and
//!   attaches them to an empty response.
//! - The `render_errors` middleware turns every error response — ours and axum's own
//!   rejections (404, 405, 413, bad form…) — into the API's JSON body
//!   `{"error": {"code", "message", "details"}}` under `/api/`, or a friendly page in
//!   the viewer's language elsewhere. An unauthenticated page request is redirected to
//!   the login page instead.
//! - Internal errors (database, templates, bugs) are logged with their detail and shown
//!   only as "internal error"; the detail never reaches the client. Messages of bad
//!   input (`Invalid`, `Conflict`) are written for users and are shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jixiao_app::AppError;
use jixiao_store::StoreError;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Nobody is signed in (or the session is over).
    #[error("sign in first")]
    Unauthenticated,
    /// Signed in, but the role or data scope does not allow it.
    #[error("you may not do this")]
    Forbidden,
    /// The account must change its password before anything else (its first login,
    /// or after an administrator's reset).
    #[error("change your password first")]
    PasswordChangeRequired,
    /// A state-changing request without the right CSRF token or from another origin.
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    #[error("not found")]
    NotFound,
    /// Bad input, with a message for the user and optional per-field details.
    #[error("{message}")]
    Invalid { message: String, details: Value },
    /// Someone else changed it, or it already exists.
    #[error("{0}")]
    Conflict(String),
    /// The request body is over the configured limit (or could not be read whole).
    #[error("the request is too large")]
    TooLarge,
    #[error("too many attempts; wait a minute and try again")]
    TooManyRequests,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    pub fn invalid(message: impl Into<String>) -> WebError {
        WebError::Invalid { message: message.into(), details: Value::Null }
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> WebError {
        match e {
            AppError::Unauthenticated => WebError::Unauthenticated,
            AppError::Forbidden => WebError::Forbidden,
            AppError::NotFound => WebError::NotFound,
            AppError::Invalid { message, details } => WebError::Invalid { message, details },
            AppError::Conflict(message) => WebError::Conflict(message),
            AppError::TooLarge(_) => WebError::TooLarge,
            AppError::TooManyRequests => WebError::TooManyRequests,
            AppError::Store(e) => WebError::Store(e),
            AppError::Internal(message) => WebError::Internal(message),
        }
    }
}

/// What `render_errors` needs to render an error response.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: &'static str,
    /// Shown to the user; `None` for the code's generic text.
    pub message: Option<String>,
    pub details: Value,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, code, message, details) = match self {
            WebError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", None, Value::Null),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "forbidden", None, Value::Null),
            WebError::Csrf => (StatusCode::FORBIDDEN, "csrf", None, Value::Null),
            WebError::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required", None, Value::Null),
            WebError::NotFound | WebError::Store(StoreError::NotFound { .. }) => (StatusCode::NOT_FOUND, "not_found", None, Value::Null),
            WebError::Invalid { message, details } => (StatusCode::BAD_REQUEST, "invalid", Some(message), details),
            WebError::Store(e @ (StoreError::Invalid(_) | StoreError::InvalidData(_))) => {
                (StatusCode::BAD_REQUEST, "invalid", Some(e.to_string()), Value::Null)
            }
            WebError::Conflict(message) => (StatusCode::CONFLICT, "conflict", Some(message), Value::Null),
            WebError::Store(e @ (StoreError::Conflict { .. } | StoreError::AlreadyExists { .. })) => {
                (StatusCode::CONFLICT, "conflict", Some(e.to_string()), Value::Null)
            }
            WebError::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", None, Value::Null),
            WebError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", None, Value::Null),
            internal => {
                tracing::error!(error = %internal, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", None, Value::Null)
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(ErrorInfo { code, message, details });
        response
    }
}

/// An error response with a code, a message and details of the caller's choosing,
/// rendered by `render_errors` like every other (for errors listing several problems).
pub(crate) fn error_response(status: StatusCode, code: &'static str, message: String, details: Value) -> Response {
    let mut response = status.into_response();
    response.extensions_mut().insert(ErrorInfo { code, message: Some(message), details });
    response
}
