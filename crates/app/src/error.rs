//! `AppError`, the one error type of the use cases.
//!
//! Policy:
//! - A use case returns `Result<_, AppError>`; front ends map it once (the web in
//!   `web::error`, the command line by printing it).
//! - `Invalid`, `Conflict` and `TooLarge` carry messages written for people, in the
//!   actor's language where a use case has one; they are shown as they are.
//! - `Store` and `Internal` are failures of the system: front ends log their detail
//!   and show only that something went wrong.
//! - A use case whose input was refused has changed nothing.

use jixiao_store::StoreError;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Someone must sign in first (a visitor asked for what only users may see).
    #[error("sign in first")]
    Unauthenticated,
    /// The actor's role or data scope does not allow it.
    #[error("you may not do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Bad input, with a message for people and optional details (per field, per row).
    #[error("{message}")]
    Invalid { message: String, details: Value },
    /// Someone else changed it meanwhile, or it already exists.
    #[error("{0}")]
    Conflict(String),
    /// A file or text over its limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("too many attempts; wait a minute and try again")]
    TooManyRequests,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::Invalid { message: message.into(), details: Value::Null }
    }

    /// Bad input with its problems listed (one per line in `message`, each as data in
    /// `details`).
    pub fn invalid_with(message: impl Into<String>, details: Value) -> AppError {
        AppError::Invalid { message: message.into(), details }
    }

    pub fn internal(what: impl std::fmt::Display) -> AppError {
        AppError::Internal(what.to_string())
    }
}

impl From<jixiao_core::scheme::SchemeError> for AppError {
    fn from(e: jixiao_core::scheme::SchemeError) -> AppError {
        AppError::invalid(e.to_string())
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;
