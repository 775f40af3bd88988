//! The route table: every route of jixiao with the access it needs.
//!
//! The router is built from this table and nothing else, and each route is wrapped in
//! the `guard` for its `Access`, so a route cannot exist without an access rule. The
//! permission-matrix test enumerates `route_table()` and fails for a route it has no
//! expectation for. Handlers still call `Viewer::require` for ids that arrive in a form
//! or a query, and filter lists by scope.

use axum::Router;
use axum::extract::{DefaultBodyLimit, RawPathParams, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use jixiao_core::org::{Action, Target};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Viewer;
use crate::error::WebError;
use crate::{AppState, api, assets, auth, error, open311, pages, security};

/// What a route needs from the viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// A role that may take the action (no unit involved).
    Can(Action),
    /// A role that may take the action, with a scope covering the `{unit}` of the path.
    CanUnit(Action),
}

/// One route: method, path (axum syntax, `{unit}` for the unit id) and access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

struct Route {
    info: RouteInfo,
    handler: MethodRouter<AppState>,
}

fn route(method: &'static str, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> Route {
    Route { info: RouteInfo { method, path, access }, handler }
}

fn table() -> Vec<Route> {
    use Access::*;
    use Action::*;
    use pages::{
        account, admin, analysis, assess, audit, bulletins, home, login, periods, report, scheme_draft, schemes, scores, service, units,
    };
    vec![
        route("GET", "/", Public, get(home::home)),
        route("GET", "/healthz", Public, get(pages::health)),
        route("GET", "/static/{file}", Public, get(assets::serve)),
        route("GET", "/login", Public, get(login::form)),
        route("POST", "/login", Public, post(login::submit)),
        route("POST", "/logout", SignedIn, post(login::logout)),
        route("POST", "/logout-all", SignedIn, post(login::logout_everywhere)),
        route("POST", "/language", Public, post(account::language)),
        route("GET", "/account", SignedIn, get(account::page)),
        route("POST", "/account/password", SignedIn, post(account::change_password)),
        route("GET", "/units", Can(ViewOrganisation), get(units::list)),
        route("GET", "/units/{unit}", CanUnit(ViewUnit), get(units::show)),
        route("GET", "/scores", Can(ViewOrganisation), get(scores::ranking)),
        route("GET", "/scores/{period}/units/{unit}", CanUnit(ViewUnit), get(scores::unit)),
        // Every unit in scope: `analysis::build` checks the viewer sees all of them.
        route("GET", "/scores/{period}/analysis", Can(ViewUnit), get(analysis::show)),
        route("GET", "/scores/{period}/analysis/print", Can(ViewUnit), get(analysis::print)),
        route("GET", "/scores/{period}/analysis.xlsx", Can(ViewUnit), get(analysis::export_xlsx)),
        route("GET", "/scores/{period}/units/{unit}/indicators/{indicator}", CanUnit(ViewUnit), get(scores::indicator)),
        route("GET", "/schemes", Can(ViewOrganisation), get(schemes::list)),
        route("POST", "/schemes", Can(ManageSchemes), post(schemes::upload)),
        route("POST", "/schemes/new", Can(ManageSchemes), post(schemes::new_year)),
        route("GET", "/schemes/{year}", Can(ViewOrganisation), get(schemes::show)),
        route("GET", "/schemes/{year}/export", Can(ViewOrganisation), get(schemes::export)),
        route("GET", "/schemes/{year}/export.xlsx", Can(ViewOrganisation), get(schemes::export_xlsx)),
        route("POST", "/schemes/{year}/publish", Can(ManageSchemes), post(schemes::publish)),
        route("GET", "/schemes/{year}/diff", Can(ViewOrganisation), get(schemes::compare)),
        route("GET", "/schemes/{year}/indicators/{id}", Can(ViewOrganisation), get(schemes::indicator)),
        route("POST", "/schemes/{year}/indicators/{id}", Can(ViewOrganisation), post(schemes::try_formula)),
        route("GET", "/schemes/{year}/draft", Can(ManageSchemes), get(scheme_draft::page)),
        route("POST", "/schemes/{year}/draft", Can(ManageSchemes), post(scheme_draft::start)),
        route("POST", "/schemes/{year}/draft/save", Can(ManageSchemes), post(scheme_draft::save)),
        route("POST", "/schemes/{year}/draft/discard", Can(ManageSchemes), post(scheme_draft::discard)),
        route("POST", "/schemes/{year}/draft/nodes", Can(ManageSchemes), post(scheme_draft::add)),
        route("GET", "/schemes/{year}/draft/nodes/{id}", Can(ManageSchemes), get(scheme_draft::node)),
        route("POST", "/schemes/{year}/draft/nodes/{id}", Can(ManageSchemes), post(scheme_draft::save_node)),
        route("POST", "/schemes/{year}/draft/nodes/{id}/tree", Can(ManageSchemes), post(scheme_draft::tree)),
        route("POST", "/schemes/{year}/draft/nodes/{id}/targets", Can(ManageSchemes), post(scheme_draft::targets)),
        route("GET", "/schemes/{year}/draft/nodes/{id}/targets.xlsx", Can(ManageSchemes), get(scheme_draft::targets_template)),
        route("GET", "/report", Can(HandleEntries), get(report::mine)),
        route("GET", "/reports", Can(HandleEntries), get(report::status)),
        route("GET", "/assess", Can(HandleEntries), get(assess::form)),
        route("POST", "/assess", Can(HandleEntries), post(assess::submit)),
        route("POST", "/reports/accept", Can(HandleEntries), post(report::accept_all)),
        route("POST", "/reports/import", Can(ManageSchemes), post(report::import_data)),
        route("GET", "/reports/import/template.xlsx", Can(ManageSchemes), get(report::import_template)),
        route("POST", "/reports/deductions", Can(ManageSchemes), post(report::record_lateness)),
        route("POST", "/reports/reminders", Can(ManageSchemes), post(report::queue_reminders)),
        route("GET", "/units/{unit}/report/{month}", CanUnit(ViewUnit), get(report::form)),
        route("POST", "/units/{unit}/report/{month}", CanUnit(HandleEntries), post(report::submit)),
        route("GET", "/units/{unit}/report/{month}/xlsx", CanUnit(ViewUnit), get(report::download_xlsx)),
        route("POST", "/units/{unit}/report/{month}/xlsx", CanUnit(HandleEntries), post(report::upload_xlsx)),
        route(
            "POST",
            "/units/{unit}/report/{month}/evidence",
            CanUnit(HandleEntries),
            post(report::upload_evidence).layer(evidence_limit()),
        ),
        route("GET", "/evidence/{id}", SignedIn, get(report::download_evidence)),
        route("POST", "/units/{unit}/report/{month}/correction", CanUnit(HandleEntries), post(report::request_correction)),
        route("GET", "/periods", Can(ManageSchemes), get(periods::page)),
        route("POST", "/periods/calendar", Can(ManageSchemes), post(periods::set_calendar)),
        route("POST", "/periods/{period}", Can(ManageSchemes), post(periods::set_state)),
        route("POST", "/corrections/{id}", Can(ManageSchemes), post(periods::decide)),
        route("GET", "/bulletins", SignedIn, get(bulletins::list)),
        route("POST", "/bulletins", Can(ManageSchemes), post(bulletins::create)),
        // Public: a public bulletin is for everyone; `bulletins::open` checks the rest
        // (drafts for the office only, published ones for those signed in).
        route("GET", "/bulletins/{id}", Public, get(bulletins::show)),
        route("GET", "/bulletins/{id}/print", Public, get(bulletins::print)),
        route("GET", "/bulletins/{id}/export.xlsx", Public, get(bulletins::export_xlsx)),
        route("POST", "/bulletins/{id}/publish", Can(ManageSchemes), post(bulletins::publish)),
        route("POST", "/bulletins/{id}/revise", Can(ManageSchemes), post(bulletins::revise)),
        route("POST", "/bulletins/{id}/public", Can(ManageSchemes), post(bulletins::set_public)),
        route("GET", "/audit", Can(ViewAudit), get(audit::list)),
        route("GET", "/admin/users", Can(ManageUsers), get(admin::users::list)),
        route("GET", "/admin/users/new", Can(ManageUsers), get(admin::users::new_form)),
        route("POST", "/admin/users", Can(ManageUsers), post(admin::users::create)),
        route("GET", "/admin/users/{id}", Can(ManageUsers), get(admin::users::edit_form)),
        route("POST", "/admin/users/{id}", Can(ManageUsers), post(admin::users::update)),
        route("POST", "/admin/users/{id}/password", Can(ManageUsers), post(admin::users::reset_password)),
        route("POST", "/admin/users/{id}/disable", Can(ManageUsers), post(admin::users::toggle_disabled)),
        route("GET", "/admin/units", Can(ManageOrganisation), get(admin::org::units)),
        route("GET", "/admin/units/new", Can(ManageOrganisation), get(admin::org::new_unit)),
        route("POST", "/admin/units", Can(ManageOrganisation), post(admin::org::create_unit)),
        route("GET", "/admin/units/{unit}", Can(ManageOrganisation), get(admin::org::edit_unit)),
        route("POST", "/admin/units/{unit}", Can(ManageOrganisation), post(admin::org::update_unit)),
        route("POST", "/admin/units/{unit}/disable", Can(ManageOrganisation), post(admin::org::toggle_unit)),
        route("GET", "/admin/groups", Can(ManageOrganisation), get(admin::org::groups)),
        route("POST", "/admin/groups", Can(ManageOrganisation), post(admin::org::save_group)),
        route("POST", "/admin/groups/{group}/disable", Can(ManageOrganisation), post(admin::org::toggle_group)),
        route("GET", "/admin/tokens", Can(ManageTokens), get(admin::tokens::list)),
        route("POST", "/admin/tokens", Can(ManageTokens), post(admin::tokens::create)),
        route("POST", "/admin/tokens/{id}/revoke", Can(ManageTokens), post(admin::tokens::revoke)),
        route("GET", "/admin/settings", Can(ManageSettings), get(admin::settings::page)),
        route("POST", "/admin/settings", Can(ManageSettings), post(admin::settings::save)),
        route("GET", "/service", Public, get(service::public::form)),
        route("POST", "/service", Public, post(service::public::submit).layer(DefaultBodyLimit::max(service::public::MAX_FORM_BYTES))),
        route("GET", "/service/query", Public, get(service::public::query_form)),
        route("POST", "/service/query", Public, post(service::public::query)),
        route("GET", "/service/dispatch", Can(DispatchServiceRequests), get(service::handling::dispatch_queue)),
        route("GET", "/service/queue", Can(HandleServiceRequests), get(service::handling::department_queue)),
        route("GET", "/service/requests/{id}", Can(ViewServiceRequests), get(service::handling::show)),
        route("POST", "/service/requests/{id}", Can(ViewServiceRequests), post(service::handling::step)),
        route("GET", "/service/requests/{id}/photo", Can(ViewServiceRequests), get(service::handling::photo)),
        // The handler also checks that the viewer's department has the request.
        route(
            "POST",
            "/service/requests/{id}/evidence",
            Can(ViewServiceRequests),
            post(service::handling::upload_evidence).layer(evidence_limit()),
        ),
        route("GET", "/service/categories", Can(DispatchServiceRequests), get(service::categories::list)),
        route("POST", "/service/categories", Can(DispatchServiceRequests), post(service::categories::create)),
        route("GET", "/service/categories/{code}", Can(DispatchServiceRequests), get(service::categories::edit)),
        route("POST", "/service/categories/{code}", Can(DispatchServiceRequests), post(service::categories::update)),
        route("POST", "/service/categories/{code}/disable", Can(DispatchServiceRequests), post(service::categories::toggle)),
        route("GET", "/service/outbox", Can(DispatchServiceRequests), get(service::office::outbox)),
        route("GET", "/service/keys", Can(DispatchServiceRequests), get(service::office::keys)),
        route("POST", "/service/keys", Can(DispatchServiceRequests), post(service::office::create_key)),
        route("POST", "/service/keys/{id}/revoke", Can(DispatchServiceRequests), post(service::office::revoke_key)),
        route("GET", "/open311/v2/{file}", Public, get(open311::get_root)),
        route("POST", "/open311/v2/{file}", Public, post(open311::post_root)),
        route("GET", "/open311/v2/services/{file}", Public, get(open311::definition)),
        route("GET", "/open311/v2/requests/{file}", Public, get(open311::one_request)),
        route("GET", "/open311/v2/tokens/{file}", Public, get(open311::token)),
        route("GET", "/api/v1/openapi.json", Public, get(api::openapi)),
        route("GET", "/api/v1/me", SignedIn, get(api::org::me)),
        route("GET", "/api/v1/groups", Can(ViewOrganisation), get(api::org::groups)),
        route("GET", "/api/v1/units", Can(ViewOrganisation), get(api::org::units)),
        route("GET", "/api/v1/units/{unit}", CanUnit(ViewUnit), get(api::org::unit)),
        route("GET", "/api/v1/units/{unit}/entries", CanUnit(ViewUnit), get(api::entries::list)),
        route("POST", "/api/v1/units/{unit}/entries/{indicator}/{month}", CanUnit(HandleEntries), post(api::entries::change)),
        route("POST", "/api/v1/formula/check", SignedIn, post(api::formula::check)),
        route("GET", "/api/v1/scores", Can(ViewOrganisation), get(api::scores::period)),
        route("GET", "/api/v1/units/{unit}/scores/{period}/explain/{indicator}", CanUnit(ViewUnit), get(api::scores::explanation)),
        route("GET", "/api/v1/users", Can(ManageUsers), get(api::users::list)),
        route("GET", "/api/v1/users/{id}", Can(ManageUsers), get(api::users::show)),
        route("GET", "/api/v1/audit", Can(ViewAudit), get(api::audit::list)),
        route("GET", "/api/v1/bulletins", SignedIn, get(api::bulletins::list)),
        route("GET", "/api/v1/bulletins/{id}", SignedIn, get(api::bulletins::show)),
    ]
}

/// The body limit of an evidence upload: the largest file (`evidence::MAX_BYTES`) and
/// room for the rest of the form (axum's own default would stop at 2 MB).
fn evidence_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(crate::evidence::MAX_BYTES + 64 * 1024)
}

/// Every route with its access, in table order.
pub fn route_table() -> Vec<RouteInfo> {
    table().into_iter().map(|r| r.info).collect()
}

/// The access rule of a route, for building menus that show only what may be opened.
pub(crate) fn access_of(method: &str, path: &str) -> Option<Access> {
    table().into_iter().find(|r| r.info.method == method && r.info.path == path).map(|r| r.info.access)
}

/// Whether `viewer` passes `access` for a route without a unit in its path.
pub(crate) fn passes(viewer: &Viewer, access: Access) -> bool {
    match access {
        Access::Public | Access::SignedIn => true,
        Access::Can(action) | Access::CanUnit(action) => viewer.can(action, Target::Nothing),
    }
}

/// Pages a user who must change the password may still open.
fn open_while_password_must_change(path: &str) -> bool {
    matches!(path, "/account" | "/account/password" | "/logout" | "/language")
}

/// The check of one route's `Access`, before its handler runs.
async fn guard(access: Access, params: RawPathParams, request: Request, next: Next) -> Response {
    if access == Access::Public {
        return next.run(request).await;
    }
    let Some(viewer) = request.extensions().get::<Viewer>() else {
        return WebError::Unauthenticated.into_response();
    };
    let path = request.uri().path();
    if viewer.must_change_password() && !path.starts_with("/api/") && !open_while_password_must_change(path) {
        return Redirect::to("/account?flash=must_change_password").into_response();
    }
    let allowed = match access {
        Access::Public | Access::SignedIn => Ok(()),
        Access::Can(action) => viewer.require(action, Target::Nothing),
        Access::CanUnit(action) => match params.iter().find(|(k, _)| *k == "unit") {
            Some((_, unit)) => viewer.require(action, Target::Unit(unit)),
            None => Err(WebError::NotFound),
        },
    };
    match allowed {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// Builds the router from the table, with the layers every request passes through.
pub(crate) fn build(state: AppState) -> Router {
    let mut router = Router::new();
    for r in table() {
        let access = r.info.access;
        let handler = r
            .handler
            .route_layer(middleware::from_fn(move |params: RawPathParams, req: Request, next: Next| guard(access, params, req, next)));
        router = router.route(r.info.path, handler);
    }
    let limit = state.config.max_body_bytes;
    // Layers run outside in, from the last added: trace → headers → errors →
    // identify → panic → body limit → CSRF → route guard → handler. Everything that
    // can fail sits inside `render_errors`, so every error is rendered the same way.
    router
        .fallback(|| async { WebError::NotFound })
        .layer(middleware::from_fn(security::csrf))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a handler panicked");
            WebError::Internal("panic".into()).into_response()
        }))
        .layer(middleware::from_fn_with_state(state.clone(), auth::identify))
        .layer(middleware::from_fn(error::render_errors))
        .layer(middleware::from_fn(security::headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
