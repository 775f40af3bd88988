//! Input at the edge (入口检查): one check of every text that arrives, for every route,
//! before the route's guard and handler run — path parameters, query parameters, form
//! fields (URL-encoded and the text fields and file names of multipart forms) and every
//! string and key of a JSON body.
//!
//! Refused with 400, naming the field, in the viewer's language:
//! - control characters (Unicode `Cc`: NUL, the other C0 codes, DEL, C1), which
//!   PostgreSQL refuses in text (NUL) and which no person types; tab, line feed and
//!   carriage return are allowed only in the multi-line fields of `MULTILINE` (text
//!   areas, tab-separated pastes from Excel);
//! - texts longer than `MAX_LINE` (one-line fields) or `MAX_TEXT` (multi-line) — a
//!   backstop only: each use case bounds its own fields more tightly (`app::input`),
//!   with a message naming the field.
//!
//! Open311 routes get the error in Open311's format (`open311::format`). Bodies of
//! other kinds (uploaded files) are not read here; the body limits bound everything
//! buffered (the request's own limit, then each route's).

use axum::body::{Body, Bytes};
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{RawPathParams, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jixiao_app::{Lang, Tr};
use serde_json::{Value, json};

use crate::error::WebError;
use crate::open311::format::{Format, error as open311_error};

/// Fields where tabs and line breaks belong: text areas, and pastes from Excel.
pub const MULTILINE: &[&str] =
    &["description", "attributes", "comment", "text", "holidays", "workdays", "formula", "fields", "params", "assign", "paste", "reply"];
/// The longest one-line text accepted anywhere (characters).
pub const MAX_LINE: usize = 2_000;
/// The longest multi-line text accepted anywhere (characters).
pub const MAX_TEXT: usize = 100_000;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Control(String),
    TooLong(String, usize),
}

fn multiline(field: &str) -> bool {
    // `attribute[code]` of Open311 and `values.x` of JSON are named by their last part.
    let last = field.rsplit(['.', '[']).next().unwrap_or(field).trim_end_matches(']');
    MULTILINE.contains(&field) || MULTILINE.contains(&last)
}

/// Checks one text of field `name`.
pub fn check_text(name: &str, text: &str) -> Result<(), Problem> {
    let lines = multiline(name);
    let bad = |c: char| c.is_control() && !(lines && matches!(c, '\t' | '\n' | '\r'));
    if name.chars().any(char::is_control) || text.chars().any(bad) {
        return Err(Problem::Control(printable(name)));
    }
    let max = if lines { MAX_TEXT } else { MAX_LINE };
    // Bytes bound characters from above: count only when it may matter.
    if text.len() > max && text.chars().count() > max {
        return Err(Problem::TooLong(printable(name), max));
    }
    Ok(())
}

/// A field's name as it can be shown (its control characters as `\u{…}`).
fn printable(name: &str) -> String {
    let shown: String =
        name.chars().take(60).map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect();
    if shown.is_empty() { "?".into() } else { shown }
}

fn check_pairs(pairs: &[(String, String)]) -> Result<(), Problem> {
    pairs.iter().try_for_each(|(k, v)| check_text(k, v))
}

/// Every string of a JSON value, each named by its path (`values.x`, `items[2]`).
fn check_json(path: &str, value: &Value) -> Result<(), Problem> {
    match value {
        Value::String(s) => check_text(if path.is_empty() { "body" } else { path }, s),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| check_json(&format!("{path}[{i}]"), v)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let inner = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            check_text(&inner, "")?;
            check_json(&inner, v)
        }),
        _ => Ok(()),
    }
}

/// The text fields and file names of a multipart body.
async fn check_multipart(boundary: String, bytes: Bytes) -> Result<(), Problem> {
    let stream = Body::from(bytes).into_data_stream();
    let mut form = multer::Multipart::new(stream, boundary);
    // A body that does not parse is the handler's to refuse, with its own message.
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        check_text(&name, "")?;
        if let Some(file) = field.file_name() {
            check_text(&format!("{name}.filename"), file)?;
            continue;
        }
        let Ok(data) = field.bytes().await else { return Ok(()) };
        check_text(&name, &String::from_utf8_lossy(&data))?;
    }
    Ok(())
}

enum Kind {
    Form,
    Multipart(String),
    Json,
    Other,
}

fn kind(request: &Request) -> Kind {
    let ct = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Kind::Form,
        "multipart/form-data" => multer::parse_boundary(ct).map_or(Kind::Other, Kind::Multipart),
        e if e == "application/json" || e.ends_with("+json") => Kind::Json,
        _ => Kind::Other,
    }
}

/// The message of a problem, from the catalogues.
pub fn message(tr: &Tr, p: &Problem) -> String {
    match p {
        Problem::Control(field) => tr.f("input.control", &[field]),
        Problem::TooLong(field, max) => tr.f("input.too_long", &[field, max]),
    }
}

fn refuse(path: &str, lang: Lang, p: &Problem) -> Response {
    if let Some(rest) = path.strip_prefix("/open311/") {
        // Open311's errors are English, in its own format; its one path parameter is
        // named after what it holds.
        let format = if rest.ends_with(".xml") { Format::Xml } else { Format::Json };
        let what = match rest.split('/').nth(1) {
            Some("requests") => "service_request_id",
            Some("tokens") => "token",
            Some("services") => "service_code",
            _ => "path",
        };
        let p = match p {
            Problem::Control(f) if f == "file" => Problem::Control(what.into()),
            other => other.clone(),
        };
        return open311_error(format, StatusCode::BAD_REQUEST, &message(&Tr::new(Lang::En), &p));
    }
    let field = match p {
        Problem::Control(f) | Problem::TooLong(f, _) => f.clone(),
    };
    WebError::Invalid { message: message(&Tr::new(lang), p), details: json!({ "field": field }) }.into_response()
}

/// Middleware (a route layer, so that the path's parameters are known): the check of
/// the module documentation.
pub(crate) async fn check(params: Result<RawPathParams, RawPathParamsRejection>, request: Request, next: Next) -> Response {
    let lang = request.extensions().get::<Lang>().copied().unwrap_or_default();
    let path = request.uri().path().to_string();
    let params = match params {
        Ok(p) => p,
        // A path whose escapes are no UTF-8.
        Err(_) => return refuse(&path, lang, &Problem::Control("path".into())),
    };
    if let Err(p) = params.iter().try_for_each(|(k, v)| check_text(k, v)) {
        return refuse(&path, lang, &p);
    }
    if let Some(query) = request.uri().query() {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default();
        if let Err(p) = check_pairs(&pairs) {
            return refuse(&path, lang, &p);
        }
    }
    let kind = kind(&request);
    if matches!(kind, Kind::Other) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // The request's body limit (outside) has bounded what is read here.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else { return WebError::TooLarge.into_response() };
    let checked = match kind {
        Kind::Form => check_pairs(&serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).unwrap_or_default()),
        Kind::Multipart(boundary) => check_multipart(boundary, bytes.clone()).await,
        Kind::Json => serde_json::from_slice::<Value>(&bytes).map_or(Ok(()), |v| check_json("", &v)),
        Kind::Other => Ok(()),
    };
    if let Err(p) = checked {
        return refuse(&path, lang, &p);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_in_text_areas() {
        assert_eq!(check_text("name", "a\0b"), Err(Problem::Control("name".into())));
        assert_eq!(check_text("name", "a\u{1}"), Err(Problem::Control("name".into())));
        assert_eq!(check_text("name", "a\u{7f}"), Err(Problem::Control("name".into())));
        assert_eq!(check_text("name", "a\u{85}"), Err(Problem::Control("name".into())));
        assert_eq!(check_text("name", "a\nb"), Err(Problem::Control("name".into())));
        assert_eq!(check_text("description", "第一行\r\n第二行\t制表"), Ok(()));
        assert_eq!(check_text("description", "a\0"), Err(Problem::Control("description".into())));
        assert_eq!(check_text("attribute[note]", "a\0"), Err(Problem::Control("attribute[note]".into())));
        assert_eq!(check_text("values.formula", "a\nb"), Ok(()));
        assert_eq!(check_text("a\0b", "x"), Err(Problem::Control("a\\u{0}b".into())));
        assert_eq!(check_text("name", "区发改局 — ok ✓"), Ok(()));
    }

    #[test]
    fn lengths_have_a_backstop() {
        assert_eq!(check_text("name", &"字".repeat(MAX_LINE)), Ok(()));
        assert_eq!(check_text("name", &"字".repeat(MAX_LINE + 1)), Err(Problem::TooLong("name".into(), MAX_LINE)));
        assert_eq!(check_text("description", &"字".repeat(MAX_LINE + 1)), Ok(()));
        assert_eq!(check_text("description", &"a".repeat(MAX_TEXT + 1)), Err(Problem::TooLong("description".into(), MAX_TEXT)));
    }

    #[test]
    fn json_strings_are_named_by_their_path() {
        let v = json!({"values": {"x": "1\u{0}"}, "reason": "ok"});
        assert_eq!(check_json("", &v), Err(Problem::Control("values.x".into())));
        assert_eq!(check_json("", &json!({"a": ["ok", "b\u{0}"]})), Err(Problem::Control("a[1]".into())));
        assert_eq!(check_json("", &json!({"reason": "第一行"})), Ok(()));
    }
}
