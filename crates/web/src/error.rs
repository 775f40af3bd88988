//! The web layer's one error type and its mapping to HTTP, in one place.
//! Internal errors are logged with their detail and shown only as a generic
//! message; the detail never reaches the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] jixiao_store::StoreError),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotFound => (StatusCode::NOT_FOUND, "未找到 / not found").into_response(),
            other => {
                tracing::error!(error = %other, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "服务器内部错误 / internal server error").into_response()
            }
        }
    }
}
