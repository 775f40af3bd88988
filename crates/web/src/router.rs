//! The router: each route of the table (`access::ROUTES`) bound to its handler and
//! wrapped in the guard of its access rule, and the layers every request passes,
//! outside in: trace → security headers → `render_errors` → `client` (the client's
//! address and scheme) → `identify` (finds the viewer) → panic catcher → body limit → CSRF → the edge check of every text
//! (`edge`) → the route's guard → the handler.

use axum::Router;
use axum::extract::{DefaultBodyLimit, RawPathParams, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use jixiao_core::org::Target;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::access::{Access, ROUTES, Route};
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::service;
use crate::{AppState, api, assets, auth, edge, errors, open311, pages, security};

/// The handler of a route.
fn handler(route: Route) -> MethodRouter<AppState> {
    use pages::{
        account, admin, analysis, assess, audit, bulletins, home, login, periods, records, report, scheme_draft, schemes, scores, service,
        supervision, units,
    };
    match route {
        Route::Home => get(home::home),
        Route::Health => get(pages::health),
        Route::Asset => get(assets::serve),
        Route::LoginForm => get(login::form),
        Route::LoginSubmit => post(login::submit),
        Route::LoginLogout => post(login::logout),
        Route::LoginLogoutEverywhere => post(login::logout_everywhere),
        Route::AccountLanguage => post(account::language),
        Route::AccountPage => get(account::page),
        Route::AccountChangePassword => post(account::change_password),
        Route::UnitsList => get(units::list),
        Route::UnitsShow => get(units::show),
        Route::ScoresRanking => get(scores::ranking),
        Route::ScoresUnit => get(scores::unit),
        Route::AnalysisShow => get(analysis::show),
        Route::AnalysisPrint => get(analysis::print),
        Route::AnalysisExportXlsx => get(analysis::export_xlsx),
        Route::ScoresIndicator => get(scores::indicator),
        Route::SchemesList => get(schemes::list),
        Route::SchemesUpload => post(schemes::upload),
        Route::SchemesNewYear => post(schemes::new_year),
        Route::SchemesShow => get(schemes::show),
        Route::SchemesExport => get(schemes::export),
        Route::SchemesExportXlsx => get(schemes::export_xlsx),
        Route::SchemesPublish => post(schemes::publish),
        Route::SchemesCompare => get(schemes::compare),
        Route::SchemesIndicator => get(schemes::indicator),
        Route::SchemesTryFormula => post(schemes::try_formula),
        Route::SchemeDraftPage => get(scheme_draft::page),
        Route::SchemeDraftStart => post(scheme_draft::start),
        Route::SchemeDraftSave => post(scheme_draft::save),
        Route::SchemeDraftDiscard => post(scheme_draft::discard),
        Route::SchemeDraftAdd => post(scheme_draft::add),
        Route::SchemeDraftNode => get(scheme_draft::node),
        Route::SchemeDraftSaveNode => post(scheme_draft::save_node),
        Route::SchemeDraftTree => post(scheme_draft::tree),
        Route::SchemeDraftTargets => post(scheme_draft::targets),
        Route::SchemeDraftTargetsTemplate => get(scheme_draft::targets_template),
        Route::ReportMine => get(report::mine),
        Route::ReportStatus => get(report::status),
        Route::AssessForm => get(assess::form),
        Route::AssessSubmit => post(assess::submit),
        Route::ReportAcceptAll => post(report::accept_all),
        Route::ReportImportData => post(report::import_data),
        Route::ReportImportTemplate => get(report::import_template),
        Route::ReportRecordLateness => post(report::record_lateness),
        Route::ReportQueueReminders => post(report::queue_reminders),
        Route::ReportForm => get(report::form),
        Route::ReportSubmit => post(report::submit),
        Route::ReportDownloadXlsx => get(report::download_xlsx),
        Route::ReportUploadXlsx => post(report::upload_xlsx),
        Route::ReportUploadEvidence => post(report::upload_evidence).layer(evidence_limit()),
        Route::ReportDownloadEvidence => get(report::download_evidence),
        Route::ReportRequestCorrection => post(report::request_correction),
        Route::PeriodsPage => get(periods::page),
        Route::PeriodsSetCalendar => post(periods::set_calendar),
        Route::PeriodsSetState => post(periods::set_state),
        Route::PeriodsDecide => post(periods::decide),
        Route::BulletinsList => get(bulletins::list),
        Route::BulletinsCreate => post(bulletins::create),
        Route::BulletinsShow => get(bulletins::show),
        Route::BulletinsPrint => get(bulletins::print),
        Route::BulletinsExportXlsx => get(bulletins::export_xlsx),
        Route::BulletinsPublish => post(bulletins::publish),
        Route::BulletinsRevise => post(bulletins::revise),
        Route::BulletinsSetPublic => post(bulletins::set_public),
        Route::AuditList => get(audit::list),
        Route::AuditArchive => get(audit::archive),
        Route::AdminUsersList => get(admin::users::list),
        Route::AdminUsersNewForm => get(admin::users::new_form),
        Route::AdminUsersCreate => post(admin::users::create),
        Route::AdminUsersEditForm => get(admin::users::edit_form),
        Route::AdminUsersUpdate => post(admin::users::update),
        Route::AdminUsersResetPassword => post(admin::users::reset_password),
        Route::AdminUsersToggleDisabled => post(admin::users::toggle_disabled),
        Route::AdminOrgUnits => get(admin::org::units),
        Route::AdminOrgNewUnit => get(admin::org::new_unit),
        Route::AdminOrgCreateUnit => post(admin::org::create_unit),
        Route::AdminOrgEditUnit => get(admin::org::edit_unit),
        Route::AdminOrgUpdateUnit => post(admin::org::update_unit),
        Route::AdminOrgToggleUnit => post(admin::org::toggle_unit),
        Route::AdminOrgGroups => get(admin::org::groups),
        Route::AdminOrgSaveGroup => post(admin::org::save_group),
        Route::AdminOrgToggleGroup => post(admin::org::toggle_group),
        Route::AdminTokensList => get(admin::tokens::list),
        Route::AdminTokensCreate => post(admin::tokens::create),
        Route::AdminTokensRevoke => post(admin::tokens::revoke),
        Route::AdminSettingsPage => get(admin::settings::page),
        Route::AdminSettingsSave => post(admin::settings::save),
        Route::AdminSecurityPage => get(admin::settings::security_page),
        Route::AdminSecuritySave => post(admin::settings::security_save),
        Route::SupervisionList => get(supervision::list),
        Route::SupervisionExport => get(supervision::export),
        Route::SupervisionRunOverdue => post(supervision::run_overdue),
        Route::SupervisionNewForm => get(supervision::new_form),
        Route::SupervisionCreate => post(supervision::create),
        Route::SupervisionShow => get(supervision::show),
        Route::SupervisionStep => post(supervision::step),
        Route::SupervisionUploadEvidence => post(supervision::upload_evidence).layer(evidence_limit()),
        Route::SupervisionDashboard => get(supervision::dashboard_page),
        Route::ServicePublicForm => get(service::public::form),
        Route::ServicePublicSubmit => post(service::public::submit).layer(DefaultBodyLimit::max(service::public::MAX_FORM_BYTES)),
        Route::ServicePublicQueryForm => get(service::public::query_form),
        Route::ServicePublicQuery => post(service::public::query),
        Route::ServiceHandlingDispatchQueue => get(service::handling::dispatch_queue),
        Route::ServiceHandlingDepartmentQueue => get(service::handling::department_queue),
        Route::ServiceHandlingShow => get(service::handling::show),
        Route::ServiceHandlingStep => post(service::handling::step),
        Route::ServiceHandlingPhoto => get(service::handling::photo),
        Route::ServiceHandlingUploadEvidence => post(service::handling::upload_evidence).layer(evidence_limit()),
        Route::ServiceCategoriesList => get(service::categories::list),
        Route::ServiceCategoriesCreate => post(service::categories::create),
        Route::ServiceCategoriesEdit => get(service::categories::edit),
        Route::ServiceCategoriesUpdate => post(service::categories::update),
        Route::ServiceCategoriesToggle => post(service::categories::toggle),
        Route::ServiceOfficeOutbox => get(service::office::outbox),
        Route::ServiceOfficeKeys => get(service::office::keys),
        Route::ServiceOfficeCreateKey => post(service::office::create_key),
        Route::ServiceOfficeRevokeKey => post(service::office::revoke_key),
        Route::Open311GetRoot => get(open311::get_root),
        Route::Open311PostRoot => post(open311::post_root),
        Route::Open311Definition => get(open311::definition),
        Route::Open311OneRequest => get(open311::one_request),
        Route::Open311Token => get(open311::token),
        Route::ApiOpenapi => get(api::openapi),
        Route::ApiOrgMe => get(api::org::me),
        Route::ApiOrgGroups => get(api::org::groups),
        Route::ApiOrgUnits => get(api::org::units),
        Route::ApiOrgUnit => get(api::org::unit),
        Route::ApiEntriesList => get(api::entries::list),
        Route::ApiEntriesChange => post(api::entries::change),
        Route::ApiFormulaCheck => post(api::formula::check),
        Route::ApiScoresPeriod => get(api::scores::period),
        Route::ApiScoresExplanation => get(api::scores::explanation),
        Route::ApiUsersList => get(api::users::list),
        Route::ApiUsersShow => get(api::users::show),
        Route::ApiAuditList => get(api::audit::list),
        Route::ApiBulletinsList => get(api::bulletins::list),
        Route::ApiBulletinsShow => get(api::bulletins::show),
        Route::RecordsList => get(records::list),
        Route::RecordsCreate => post(records::create),
        Route::RecordsShow => get(records::show),
        Route::RecordsUpdate => post(records::update),
        Route::RecordsCancel => post(records::cancel),
        Route::RecordsEvidence => post(records::record_evidence),
        Route::RecordsTopics => get(records::topics_page),
        Route::RecordsTopicsXlsx => get(records::topics_xlsx),
        Route::RecordsApplications => get(records::applications),
        Route::RecordsApply => post(records::apply),
        Route::RecordsApplication => get(records::application),
        Route::RecordsDecide => post(records::decide),
        Route::RecordsApplicationEvidence => post(records::application_evidence),
        Route::ApiRecordsList => get(api::records::list),
        Route::ApiRecordsCreate => post(api::records::create),
        Route::ApiRecordsShow => get(api::records::show),
        Route::ApiRecordsUpdate => post(api::records::update),
        Route::ApiRecordsCancel => post(api::records::cancel),
        Route::ApiApplicationsList => get(api::records::applications),
        Route::ApiApplicationsCreate => post(api::records::apply),
        Route::ApiApplicationsShow => get(api::records::application),
        Route::ApiApplicationsDecide => post(api::records::decide),
        Route::ApiSupervisionList => get(api::supervision::list),
        Route::ApiSupervisionCreate => post(api::supervision::create),
        Route::ApiSupervisionShow => get(api::supervision::show),
        Route::ApiSupervisionStep => post(api::supervision::step),
    }
}

/// The largest body of an evidence upload: the largest file and room for the rest of
/// the form (axum's own default would stop at 2 MB).
const EVIDENCE_BYTES: usize = jixiao_app::files::MAX_BYTES + 64 * 1024;

/// The body limit of an evidence upload, for its extractor.
fn evidence_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(EVIDENCE_BYTES)
}

/// The routes whose bodies may be larger than axum's default, and their limits.
fn body_limit(route: Route) -> Option<usize> {
    match route {
        Route::ReportUploadEvidence | Route::ServiceHandlingUploadEvidence | Route::SupervisionUploadEvidence => Some(EVIDENCE_BYTES),
        Route::ServicePublicSubmit => Some(service::public::MAX_FORM_BYTES),
        _ => None,
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
    // An account that must change its password does nothing else first — through
    // the pages or the API alike.
    if viewer.must_change_password() && !open_while_password_must_change(path) {
        if path.starts_with("/api/") {
            return WebError::PasswordChangeRequired.into_response();
        }
        return Redirect::to("/account?flash=must_change_password").into_response();
    }
    let allowed = match access {
        Access::Public | Access::SignedIn => Ok(()),
        Access::Can(action) => viewer.require(action, Target::Nothing).map_err(WebError::from),
        Access::CanUnit(action) => match params.iter().find(|(k, _)| *k == "unit") {
            Some((_, unit)) => viewer.require(action, Target::Unit(unit)).map_err(WebError::from),
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
    for r in ROUTES {
        let access = r.access;
        // The edge check runs before the guard, which reads the path's unit.
        let mut handler = handler(r.route)
            .route_layer(middleware::from_fn(move |params: RawPathParams, req: Request, next: Next| guard(access, params, req, next)))
            .route_layer(middleware::from_fn(edge::check));
        // A route with a larger body than axum's default reads it whole at the edge
        // first: its limit is enforced before that (413), not only by its extractor.
        if let Some(bytes) = body_limit(r.route) {
            handler = handler.route_layer(RequestBodyLimitLayer::new(bytes));
        }
        router = router.route(r.path, handler);
    }
    let limit = state.config.max_body_bytes;
    // Layers run outside in, from the last added: trace → headers → errors →
    // client → identify → security events → panic → body limit → CSRF → edge check → route guard → handler. Everything that
    // can fail sits inside `render_errors`, so every error is rendered the same way.
    router
        .fallback(|| async { WebError::NotFound })
        .layer(middleware::from_fn(security::csrf))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a handler panicked");
            WebError::Internal("panic".into()).into_response()
        }))
        .layer(middleware::from_fn_with_state(state.clone(), security::events))
        .layer(middleware::from_fn_with_state(state.clone(), auth::identify))
        .layer(middleware::from_fn_with_state(state.clone(), security::client))
        .layer(middleware::from_fn(errors::render_errors))
        .layer(middleware::from_fn(security::headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
