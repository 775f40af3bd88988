//! Every error response rendered the same way (the policy is in `error`): the API's
//! JSON body `{"error": {"code", "message", "details"}}` under `/api/`, or a friendly
//! page in the viewer's language elsewhere; an unauthenticated page request is
//! redirected to the login page instead.

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use jixiao_app::{Lang, Tr};
use serde_json::{Value, json};

use crate::auth::Viewer;
use crate::error::ErrorInfo;
use crate::view::Chrome;

/// The code of an error response that carries no `ErrorInfo` (axum's rejections).
fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_client_error() => "invalid",
        _ => "internal",
    }
}

/// Middleware: renders every error response as JSON (API) or a page (the rest).
pub(crate) async fn render_errors(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    if request.uri().path().starts_with("/open311/") {
        // Open311 answers its errors in its own format (see `open311`).
        return next.run(request).await;
    }
    let target = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let response = next.run(request).await;
    // `identify` (inside this layer) copies the viewer and language onto the response.
    let viewer = response.extensions().get::<Viewer>().cloned();
    let lang = response.extensions().get::<Lang>().copied().unwrap_or_default();
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // A page rendered on purpose with an error status (a form with its errors) is
    // already what the user should see.
    let is_page = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if is_page && response.extensions().get::<ErrorInfo>().is_none() {
        return response;
    }
    let info = match response.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None => {
            // axum's own rejection: its text may say what was wrong with the input (a
            // bad form field); keep it for client errors, never for server errors.
            let code = code_of(status);
            let message = if status.is_client_error() && code == "invalid" {
                let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024).await.unwrap_or_default();
                Some(String::from_utf8_lossy(&bytes).into_owned())
            } else {
                None
            };
            ErrorInfo { code, message, details: Value::Null }
        }
    };
    let tr = Tr::new(lang);
    let message = info.message.clone().unwrap_or_else(|| tr.t(&format!("error.{}", info.code)).to_string());
    if api {
        let body = json!({"error": {"code": info.code, "message": message, "details": info.details}});
        let mut r = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"jixiao\""));
        }
        return r;
    }
    if status == StatusCode::UNAUTHORIZED {
        let next = jixiao_app::text::url_encode(&target);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    match error_page(viewer.as_ref(), lang, status, info.code, &message) {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the error page");
            let mut r = Response::new(Body::from(message));
            *r.status_mut() = status;
            r
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// The friendly page of an error response.
fn error_page(viewer: Option<&Viewer>, lang: Lang, status: StatusCode, code: &str, message: &str) -> Result<String, askama::Error> {
    let title_key = match code {
        "not_found" => "not_found",
        "forbidden" | "csrf" => "forbidden",
        "internal" => "internal",
        _ => "other",
    };
    let chrome = Chrome::plain(viewer, lang, "", &format!("error.title_{title_key}"));
    let heading = chrome.title.clone();
    ErrorPage { chrome, status: status.as_u16(), heading: &heading, message }.render()
}
