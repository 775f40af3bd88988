//! Open311 GeoReport v2 at `/open311/v2` (http://wiki.open311.org/GeoReport_v2):
//! `discovery`, `services`, `services/{service_code}`, `requests` (GET with filters,
//! POST with an API key), `requests/{service_request_id}`, `tokens/{token}`, each as
//! `.json` and `.xml` (`format`).
//!
//! Choices where the standard leaves room:
//! - `service_request_id` is the case number (`QK-2027-000123`); POST answers with it
//!   at once and with a token, which `tokens/{token}` resolves too.
//! - POST needs a key the office created (`/service/keys`, `jixiao open311 key add`);
//!   a missing or unknown key is 403. Reading needs no key, and never shows the
//!   citizen's phone or name, nor staff names.
//! - Reading without a key (the public) is limited: `open311_reads_per_minute` calls
//!   per client address (per process; 429 over it), and the location is coarsened —
//!   `lat`/`long` rounded to two decimals (about 1 km), `address` cut to the street
//!   (up to its first digit: no house number, building or room). A reader with a
//!   valid `api_key` in the query (a partner the office gave a key) sees exact
//!   locations and is not rate-limited; an unknown key is 403.
//! - A `service_request_id` list names at most `MAX_IDS` requests (400 beyond), for
//!   every reader.
//! - `status` is `open` until the request is closed; `status_notes` carries the
//!   department's reply; `agency_responsible` the department; `expected_datetime`
//!   the time limit; `service_notice` is empty.
//! - GET `requests` without dates covers the last 90 days; a range over 90 days is
//!   400; at most 1,000 requests, newest first. `service_request_id` (a comma list)
//!   overrides the other filters, as the standard says.
//! - Errors are the standard's array of `{code, description}` with the same HTTP
//!   status: 400 bad or missing input, 403 key, 404 unknown service or request.
//! - The routes bypass the CSRF check (no cookie authenticates them; POST acts only
//!   as its API key) and the page error renderer (errors are Open311 bodies).
//! - `jurisdiction_id` is accepted and ignored (one jurisdiction per server).

pub mod format;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::DateTime;
use jixiao_app::Clock;
use jixiao_store::{RequestFilter, ServiceCategory, ServiceRequest};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::WebError;
use crate::security::ClientIp;
use format::{Format, error, respond, split};
use jixiao_app::accounts::secret_hash;
use jixiao_app::service::intake;

/// The most requests a GET `requests` returns.
pub const MAX_REQUESTS: i64 = 1000;
/// The most ids a `service_request_id` list may name.
pub const MAX_IDS: usize = 50;
/// The widest date range of a GET `requests`.
pub const MAX_DAYS: i64 = 90;

/// A stored time as Open311 gives it: W3C date-time in the site's zone.
fn time(clock: &Clock, stored: Option<&str>) -> Value {
    stored.and_then(|t| clock.rfc3339(t)).map_or(Value::Null, Value::String)
}

fn pairs(text: &str) -> Result<Vec<(String, String)>, ()> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(text).map_err(|_| ())
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty())
}

fn internal(format: Format, e: WebError) -> Response {
    tracing::error!(error = %e, "open311 request failed");
    error(format, StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// The file part of the path, or the 404 for anything but `.json` / `.xml`.
fn file_format(file: &str) -> Result<(&str, Format), Box<Response>> {
    split(file).ok_or_else(|| Box::new(error(Format::Json, StatusCode::NOT_FOUND, "unknown resource; use .json or .xml")))
}

/// What a reader may see of locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// A caller with a valid `api_key`: locations as given.
    Keyed,
    /// Anyone else: locations coarsened.
    Public,
}

/// Who reads, from the `api_key` of the query; or the error response: an unknown
/// key (403), or a public reader over the per-address limit (429).
async fn reader(state: &AppState, ip: ClientIp, query: Option<&str>, format: Format) -> Result<Reader, Box<Response>> {
    let q = query.and_then(|q| pairs(q).ok()).unwrap_or_default();
    if let Some(key) = first(&q, "api_key") {
        return match state.store.open311_key_by_hash(&secret_hash(key.trim())).await {
            Ok(Some(_)) => Ok(Reader::Keyed),
            Ok(None) => Err(Box::new(error(format, StatusCode::FORBIDDEN, "api_key is not valid"))),
            Err(e) => Err(Box::new(internal(format, e.into()))),
        };
    }
    if !state.open311_limiter.attempt(ip.0) {
        let text = format!("too many requests: at most {} a minute without an api_key; try again later", state.open311_limiter.allowed);
        return Err(Box::new(error(format, StatusCode::TOO_MANY_REQUESTS, &text)));
    }
    Ok(Reader::Public)
}

/// `GET /open311/v2/{file}`: `discovery`, `services` and `requests`.
pub async fn get_root(
    State(state): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (stem, format) = match file_format(&file) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let reader = match reader(&state, ip, query.as_deref(), format).await {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let result = match stem {
        "discovery" => Ok(discovery(&headers, format)),
        "services" => services(&state, format).await,
        "requests" => list_requests(&state, format, reader, query.as_deref().unwrap_or("")).await,
        _ => Ok(error(format, StatusCode::NOT_FOUND, "unknown resource")),
    };
    result.unwrap_or_else(|e| internal(format, e))
}

fn discovery(headers: &HeaderMap, format: Format) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let body = json!({
        "changeset": "2027-01-01T00:00:00+08:00",
        "contact": "考核办 (assessment office)",
        "key_service": format!("http://{host}/service/keys"),
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("http://{host}/open311/v2"),
            "changeset": "2027-01-01T00:00:00+08:00",
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    });
    respond(format, StatusCode::OK, "discovery", &body)
}

async fn services(state: &AppState, format: Format) -> Result<Response, WebError> {
    let mut list = Vec::new();
    for c in state.store.service_categories(false).await? {
        let metadata = !state.store.service_attributes(&c.code).await?.is_empty();
        list.push(json!({
            "service_code": c.code,
            "service_name": c.name,
            "description": c.description,
            "metadata": metadata,
            "type": "realtime",
            "keywords": c.keywords,
            "group": c.group_name,
        }));
    }
    Ok(respond(format, StatusCode::OK, "services", &Value::Array(list)))
}

async fn enabled_category(state: &AppState, code: &str) -> Result<Option<ServiceCategory>, WebError> {
    Ok(state.store.service_category(code).await?.filter(|c| !c.disabled))
}

/// `GET /open311/v2/services/{file}`: a service definition.
pub async fn definition(State(state): State<AppState>, ip: ClientIp, Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let (code, format) = match file_format(&file) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if let Err(r) = reader(&state, ip, query.as_deref(), format).await {
        return *r;
    }
    let run = async {
        let Some(c) = enabled_category(&state, code).await? else {
            return Ok(error(format, StatusCode::NOT_FOUND, &format!("service_code `{code}` not found")));
        };
        let attributes: Vec<Value> = state
            .store
            .service_attributes(&c.code)
            .await?
            .into_iter()
            .map(|a| {
                json!({
                    "variable": true,
                    "code": a.code,
                    "datatype": a.datatype,
                    "required": a.required,
                    "datatype_description": a.datatype_description,
                    "order": a.sort_order,
                    "description": a.description,
                    "values": a.values.iter().map(|(k, n)| json!({"key": k, "name": n})).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok::<_, WebError>(respond(format, StatusCode::OK, "service_definition", &json!({"service_code": c.code, "attributes": attributes})))
    };
    run.await.unwrap_or_else(|e| internal(format, e))
}

/// A coordinate to two decimals (0.01° of latitude is about 1.1 km).
fn coarse(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 100.0).round() / 100.0)
}

/// The street of an address: the text before its first digit (no house number,
/// building or room); an address that starts with a number keeps its words only.
pub fn street(address: &str) -> String {
    let t = address.trim();
    match t.char_indices().find(|(_, c)| c.is_numeric()) {
        None => t.to_string(),
        Some((0, _)) => t.split_whitespace().filter(|w| !w.chars().any(char::is_numeric)).collect::<Vec<_>>().join(" "),
        Some((i, _)) => t[..i].trim_end().trim_end_matches([',', '，', '#', '-']).trim_end().to_string(),
    }
}

/// A request as Open311 shows it to `reader`.
fn request_json(clock: &Clock, r: &ServiceRequest, reader: Reader, categories: &[ServiceCategory], units: &[jixiao_store::Unit]) -> Value {
    let (address, lat, lon) = match reader {
        Reader::Keyed => (r.address.clone(), r.lat, r.lon),
        Reader::Public => (street(&r.address), coarse(r.lat), coarse(r.lon)),
    };
    let state: jixiao_core::service::RequestState = r.state.parse().unwrap_or(jixiao_core::service::RequestState::Received);
    json!({
        "service_request_id": r.case_no,
        "status": state.open311_status(),
        "status_notes": r.reply,
        "service_name": categories.iter().find(|c| c.code == r.service_code).map(|c| c.name.clone()).unwrap_or_default(),
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.unit_id.as_ref().and_then(|u| units.iter().find(|x| &x.id == u)).map(|u| u.name.clone()).unwrap_or_default(),
        "service_notice": "",
        "requested_datetime": time(clock, Some(&r.created_at)),
        "updated_datetime": time(clock, Some(&r.updated_at)),
        "expected_datetime": time(clock, r.deadline.as_deref()),
        "address": address,
        "address_id": "",
        "zipcode": "",
        "lat": lat,
        "long": lon,
        "media_url": "",
    })
}

async fn requests_response(state: &AppState, format: Format, reader: Reader, requests: &[ServiceRequest]) -> Result<Response, WebError> {
    let categories = state.store.service_categories(true).await?;
    let units = state.store.units().await?;
    let list: Vec<Value> = requests.iter().map(|r| request_json(&state.clock, r, reader, &categories, &units)).collect();
    Ok(respond(format, StatusCode::OK, "service_requests", &Value::Array(list)))
}

fn parse_date(text: &str) -> Option<DateTime<chrono::Utc>> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.with_timezone(&chrono::Utc))
}

async fn list_requests(state: &AppState, format: Format, reader: Reader, query: &str) -> Result<Response, WebError> {
    let Ok(q) = pairs(query) else { return Ok(error(format, StatusCode::BAD_REQUEST, "the query string cannot be read")) };
    let list = |key: &str| -> Vec<String> {
        first(&q, key).map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    };
    let mut filter = RequestFilter { limit: MAX_REQUESTS, newest_first: true, ..Default::default() };
    let ids = list("service_request_id");
    if !ids.is_empty() {
        if ids.len() > MAX_IDS {
            let text = format!("service_request_id names {} requests; at most {MAX_IDS} in one call", ids.len());
            return Ok(error(format, StatusCode::BAD_REQUEST, &text));
        }
        filter.case_numbers = ids.iter().map(|s| s.to_uppercase()).collect();
        let (found, _) = state.store.service_requests(&filter).await?;
        return requests_response(state, format, reader, &found).await;
    }
    filter.service_codes = list("service_code");
    for status in list("status") {
        match status.as_str() {
            "open" => filter.states.extend(["received", "dispatched", "accepted", "rejected", "done", "verified"].map(String::from)),
            "closed" => filter.states.push("closed".into()),
            other => return Ok(error(format, StatusCode::BAD_REQUEST, &format!("status `{other}` is not open or closed"))),
        }
    }
    let date = |key: &str| {
        first(&q, key).map(|t| parse_date(t).ok_or_else(|| format!("{key} `{t}` is not a W3C date-time like 2027-03-01T00:00:00+08:00")))
    };
    let (start, end) = match (date("start_date").transpose(), date("end_date").transpose()) {
        (Err(m), _) | (_, Err(m)) => return Ok(error(format, StatusCode::BAD_REQUEST, &m)),
        (Ok(s), Ok(e)) => (s, e),
    };
    let days = chrono::Duration::days(MAX_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + days),
        (None, Some(e)) => (e - days, e),
        (None, None) => {
            let end = state.clock.now() + chrono::Duration::seconds(1);
            (end - days, end)
        }
    };
    if end < start {
        return Ok(error(format, StatusCode::BAD_REQUEST, "end_date is before start_date"));
    }
    if end - start > days {
        return Ok(error(format, StatusCode::BAD_REQUEST, "the range from start_date to end_date may not exceed 90 days"));
    }
    filter.created_from = Some(jixiao_store::timestamp(start));
    filter.created_to = Some(jixiao_store::timestamp(end));
    let (found, _) = state.store.service_requests(&filter).await?;
    requests_response(state, format, reader, &found).await
}

/// `POST /open311/v2/{file}`: `requests` — a new request, form-encoded.
pub async fn post_root(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let (stem, format) = match file_format(&file) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if stem != "requests" {
        return error(format, StatusCode::NOT_FOUND, "unknown resource");
    }
    let is_form =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let Some(form) = std::str::from_utf8(&body).ok().filter(|_| is_form).and_then(|t| pairs(t).ok()) else {
        return error(format, StatusCode::BAD_REQUEST, "the body must be application/x-www-form-urlencoded UTF-8");
    };
    create(&state, format, &form).await.unwrap_or_else(|e| internal(format, e))
}

async fn create(state: &AppState, format: Format, form: &[(String, String)]) -> Result<Response, WebError> {
    let Some(key) = first(form, "api_key") else {
        return Ok(error(format, StatusCode::FORBIDDEN, "api_key was not provided"));
    };
    let Some((key_id, key_name)) = state.store.open311_key_by_hash(&secret_hash(key.trim())).await? else {
        return Ok(error(format, StatusCode::FORBIDDEN, "api_key is not valid"));
    };
    let Some(code) = first(form, "service_code") else {
        return Ok(error(format, StatusCode::BAD_REQUEST, "service_code was not provided"));
    };
    if enabled_category(state, code).await?.is_none() {
        return Ok(error(format, StatusCode::NOT_FOUND, &format!("service_code `{code}` not found")));
    }
    let mut attributes = Vec::new();
    for (k, v) in form {
        if let Some(rest) = k.strip_prefix("attribute[") {
            let code = rest.trim_end_matches("[]").trim_end_matches(']');
            attributes.push((code.to_string(), v.clone()));
        }
    }
    let get = |k: &str| first(form, k).unwrap_or("").to_string();
    let name = format!("{}{}", get("last_name"), get("first_name"));
    let input = intake::Intake {
        channel: "open311",
        service_code: code.to_string(),
        description: get("description"),
        address: get("address_string"),
        lat: get("lat"),
        lon: get("long"),
        phone: get("phone"),
        contact_name: name,
        attributes,
        api_key_id: Some(key_id),
        phone_required: false,
        location_required: true,
    };
    let new = match intake::check(state, &input).await? {
        Ok((_, new)) => new,
        Err(problems) => {
            let tr = jixiao_app::Tr::new(jixiao_app::Lang::En);
            let text = problems.iter().map(|(field, key)| format!("{field}: {}", tr.t(key))).collect::<Vec<_>>().join("; ");
            return Ok(error(format, StatusCode::BAD_REQUEST, &text));
        }
    };
    let taken = intake::take(state, &format!("api:{key_name}"), new, None).await?;
    let body = json!([{"service_request_id": taken.request.case_no, "token": taken.request.token, "service_notice": "", "account_id": Value::Null}]);
    Ok(respond(format, StatusCode::OK, "service_requests", &body))
}

/// `GET /open311/v2/requests/{file}`: one request.
pub async fn one_request(State(state): State<AppState>, ip: ClientIp, Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let (id, format) = match file_format(&file) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let reader = match reader(&state, ip, query.as_deref(), format).await {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let run = async {
        match state.store.service_request_by_case(id).await? {
            Some(r) => requests_response(&state, format, reader, std::slice::from_ref(&r)).await,
            None => Ok(error(format, StatusCode::NOT_FOUND, &format!("service_request_id `{id}` not found"))),
        }
    };
    run.await.unwrap_or_else(|e| internal(format, e))
}

/// `GET /open311/v2/tokens/{file}`: the request of a token.
pub async fn token(State(state): State<AppState>, ip: ClientIp, Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    let (token, format) = match file_format(&file) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if let Err(r) = reader(&state, ip, query.as_deref(), format).await {
        return *r;
    }
    match state.store.service_request_by_token(token).await {
        Ok(Some(r)) => respond(format, StatusCode::OK, "service_requests", &json!([{"service_request_id": r.case_no, "token": r.token}])),
        Ok(None) => error(format, StatusCode::NOT_FOUND, &format!("token `{token}` not found")),
        Err(e) => internal(format, e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_locations_are_coarse() {
        assert_eq!(street("江汉新区人民路12号3栋201室"), "江汉新区人民路");
        assert_eq!(street("江汉路88号"), "江汉路");
        assert_eq!(street("解放大道１２３号"), "解放大道", "full-width digits");
        assert_eq!(street("12 Main Street, Apt 4"), "Main Street, Apt");
        assert_eq!(street("人民广场"), "人民广场");
        assert_eq!(street("  "), "");
        assert_eq!(coarse(Some(30.5928)), Some(30.59));
        assert_eq!(coarse(Some(114.3055)), Some(114.31));
        assert_eq!(coarse(Some(-0.004)), Some(-0.0));
        assert_eq!(coarse(None), None);
    }
}
