//! The JSON API, `/api/v1`: the same data and the same permission checks as the pages,
//! for programs. Authentication is a bearer token (`Authorization: Bearer jx_…`, see
//! `/admin/tokens`) or the browser session (state-changing calls then need the
//! `X-CSRF-Token` header).
//!
//! Conventions:
//! - errors: `{"error": {"code", "message", "details"}}` with the matching status
//!   (rendered in `error`);
//! - lists: `?page=1&per_page=50` (at most 500) → `{"items": […], "page", "per_page",
//!   "total"}`;
//! - times are RFC 3339 in UTC.
//!
//! The OpenAPI 3 document at `/api/v1/openapi.json` is generated from the handlers'
//! annotations (utoipa); a test checks it lists every API route of the route table.

pub mod audit;
pub mod bulletins;
pub mod entries;
pub mod formula;
pub mod org;
pub mod records;
pub mod scores;
pub mod supervision;
pub mod users;

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

/// `?page=&per_page=` of list endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// 1-based page number (default 1).
    pub page: Option<usize>,
    /// Items per page (default 50, at most 500).
    pub per_page: Option<usize>,
}

impl Paging {
    pub const MAX: usize = 500;

    /// (page, per_page, offset), within bounds.
    pub fn bounds(&self) -> (usize, usize, usize) {
        let per_page = self.per_page.unwrap_or(50).clamp(1, Self::MAX);
        let page = self.page.unwrap_or(1).max(1);
        (page, per_page, (page - 1) * per_page)
    }

    /// One page of an in-memory list.
    pub fn apply<T>(&self, items: Vec<T>) -> ListOf<T> {
        let (page, per_page, offset) = self.bounds();
        let total = items.len();
        ListOf { items: items.into_iter().skip(offset).take(per_page).collect(), page, per_page, total }
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListOf<T> {
    pub items: Vec<T>,
    pub page: usize,
    pub per_page: usize,
    pub total: usize,
}

/// The error body of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `unauthenticated`, `forbidden`, `not_found`, `invalid`,
    /// `conflict`, `rate_limited`, `too_large`, `internal`…
    pub code: String,
    /// For people, in the request's language.
    pub message: String,
    /// Per-field detail where there is any, else null.
    pub details: serde_json::Value,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// What OpenAPI requires of every operation and the handlers do not say: a
/// `description` on every response (the standard one for its status) and an
/// `operationId` unique in the document (the handlers' names repeat across modules:
/// `list`, `show`), made from the method and path. Applied to every route at once.
struct Conformance;

impl Modify for Conformance {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                operation.operation_id = Some(operation_id(method, path));
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let utoipa::openapi::RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = response_description(status).to_string();
                    }
                }
            }
        }
    }
}

/// `get` `/api/v1/bulletins/{id}` → `get_bulletins_id`.
fn operation_id(method: &str, path: &str) -> String {
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let words = rest.split(['/', '-', '.']).map(|w| w.trim_matches(|c| c == '{' || c == '}')).filter(|w| !w.is_empty());
    std::iter::once(method).chain(words).collect::<Vec<_>>().join("_")
}

fn response_description(status: &str) -> &'static str {
    match status {
        "200" => "Success",
        "201" => "Created",
        "204" => "Done, nothing to return",
        "303" => "Done; see the Location header",
        "400" => "Invalid input; `details` names the fields",
        "401" => "Not signed in or the token is not valid",
        "403" => "The caller's role or data scope does not allow this",
        "404" => "Not found, or not within the caller's data scope",
        "409" => "Version conflict: changed by someone else since it was read",
        "413" => "Too large",
        "429" => "Too many requests; try again later",
        _ => "See the error body",
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "jixiao API", description = "jixiao (绩效) performance management: organisation, monthly entries, scores, bulletins, bonus and deduction records and applications, supervision tasks, accounts, audit log."),
    paths(org::me, org::groups, org::units, org::unit, entries::list, entries::change, formula::check, scores::period, scores::explanation, users::list, users::show, audit::list, bulletins::list, bulletins::show,
          records::list, records::create, records::show, records::update, records::cancel, records::applications, records::apply,
          records::application, records::decide, supervision::list, supervision::create, supervision::show, supervision::step),
    components(schemas(ErrorBody, ErrorDetail, scores::PeriodScores, scores::UnitScores)),
    modifiers(&BearerAuth, &Conformance),
    security(("bearer" = [])),
    tags((name = "organisation"), (name = "entries"), (name = "formula"), (name = "scores"), (name = "users"), (name = "audit"), (name = "bulletins"), (name = "records"), (name = "supervision"))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    Json(doc)
}
