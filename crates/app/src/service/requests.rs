//! Who sees which service request, what they may do with it, and the department's
//! evidence files — for the request's page, the queues, the photo and evidence
//! downloads alike. A request another department has is not found, as if it did not
//! exist.

use jixiao_core::org::{Action, Scope, Target, roles_for};
use jixiao_core::service::lifecycle::may;
use jixiao_core::service::{Light, Step, light};
use jixiao_store::{Attachment, NewServiceEvent, ServiceRequest, Unit};
use serde_json::json;

use super::flow::{self, StepForm};
use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;

/// The owner type of a department's evidence files; the owner id is the case number.
pub const EVIDENCE_OWNER: &str = "service_evidence";
/// The owner type of a citizen's photo.
pub const PHOTO_OWNER: &str = "service_request";

/// States in which the department may attach evidence.
pub const EVIDENCE_STATES: [&str; 2] = ["accepted", "done"];

/// Whether a grant of one of the action's roles covers every unit.
fn sees_all(actor: &Actor, action: Action) -> bool {
    let roles = roles_for(action);
    actor.grants.iter().any(|g| roles.contains(&g.role) && g.scope == Scope::All)
}

/// The units whose requests the actor may take `action` on (`None`: all).
pub fn scope_units(units: &[Unit], actor: &Actor, action: Action) -> Option<Vec<String>> {
    if sees_all(actor, action) {
        return None;
    }
    Some(units.iter().filter(|u| actor.can(action, Target::Unit(&u.id))).map(|u| u.id.clone()).collect())
}

/// Whether the actor handles requests for the unit the request is with.
pub fn handles(actor: &Actor, r: &ServiceRequest) -> bool {
    r.unit_id.as_deref().is_some_and(|u| actor.can(Action::HandleServiceRequests, Target::Unit(u)))
}

/// The request `id` if the actor may see it; not found otherwise (also for another
/// unit's).
pub async fn visible(app: &App, actor: &Actor, id: i64) -> Result<ServiceRequest> {
    let r = app.store.service_request(id).await?.ok_or(AppError::NotFound)?;
    check_visible(actor, &r)?;
    Ok(r)
}

fn check_visible(actor: &Actor, r: &ServiceRequest) -> Result<()> {
    let all = actor.can(Action::DispatchServiceRequests, Target::Nothing) || sees_all(actor, Action::ViewServiceRequests);
    let unit = r.unit_id.as_deref().is_some_and(|u| actor.can(Action::ViewServiceRequests, Target::Unit(u)));
    if all || unit { Ok(()) } else { Err(AppError::NotFound) }
}

/// The steps the actor's grants allow on this request in its state.
pub fn possible_steps(actor: &Actor, r: &ServiceRequest) -> Vec<&'static str> {
    let Ok(current) = flow::current(r) else { return Vec::new() };
    let who = jixiao_core::service::Actor::User(&actor.grants);
    let samples = [
        Step::Dispatch { unit: "x" },
        Step::Transfer { unit: "\u{0}other", reason: "x" },
        Step::Accept,
        Step::Reject { reason: "x" },
        Step::Note { text: "x" },
        Step::Reply { text: "x" },
        Step::Verify,
        Step::Redo { reason: "x" },
        Step::Escalate { reason: "x" },
        Step::Merge { into: "x" },
    ];
    samples
        .iter()
        .filter(|s| may(&who, s, current.unit) && jixiao_core::service::next(&current, s, &who).is_ok())
        .map(|s| s.code())
        .collect()
}

/// The overdue light of a request being handled, now; `None` when it is not.
pub async fn overdue_light(app: &App, r: &ServiceRequest) -> Result<Option<Light>> {
    let deadline = r.deadline.as_deref().and_then(|d| app.clock.from_stored(d));
    match (matches!(r.state.as_str(), "dispatched" | "accepted"), deadline) {
        (true, Some(d)) => Ok(Some(light(&super::calendar(app).await?, d, app.clock.local_now()))),
        _ => Ok(None),
    }
}

/// Takes the step of a form on request `id` as a person of the office or a
/// department (the citizen rates on the query page instead). `version` is the one the
/// form was made from (0: not checked).
pub async fn take_step(app: &App, actor: &Actor, tr: &Tr, id: i64, form: &StepForm) -> Result<ServiceRequest> {
    let r = visible(app, actor, id).await?;
    if form.version != 0 && form.version != r.version {
        return Err(AppError::Conflict(tr.f("service.error.changed", &[&r.case_no])));
    }
    if form.step == "rate" {
        return Err(AppError::Forbidden);
    }
    crate::input::bounded(tr, "text", form.text.trim(), crate::input::TEXT)?;
    flow::apply(app, &actor.name, jixiao_core::service::Actor::User(&actor.grants), &r, form.step()?).await
}

/// The citizen's photo of request `id`, for those who may see the request.
pub async fn photo(app: &App, actor: &Actor, id: i64) -> Result<(Attachment, Vec<u8>)> {
    let r = visible(app, actor, id).await?;
    let first = app.store.attachments(PHOTO_OWNER, std::slice::from_ref(&r.case_no)).await?.into_iter().next().ok_or(AppError::NotFound)?;
    Ok(app.store.attachment(first.id).await?)
}

/// The department handling request `id` attaches an evidence file: the file, a
/// history entry (not shown to the citizen) and the audit entry in one transaction.
pub async fn attach_evidence(app: &App, actor: &Actor, tr: &Tr, id: i64, name: &str, bytes: &[u8]) -> Result<Attachment> {
    let r = visible(app, actor, id).await?;
    if !handles(actor, &r) {
        return Err(AppError::Forbidden);
    }
    if !EVIDENCE_STATES.contains(&r.state.as_str()) {
        return Err(AppError::invalid(tr.f("service.error.evidence_state", &[&tr.t(&format!("service.state.{}", r.state))])));
    }
    if bytes.is_empty() {
        return Err(AppError::invalid(tr.t("service.error.no_file")));
    }
    if bytes.len() > crate::files::MAX_BYTES {
        return Err(AppError::invalid(tr.f("service.error.evidence_size", &[&(crate::files::MAX_BYTES / 1024 / 1024)])));
    }
    let content_type = crate::files::kind_of(name, bytes).map_err(AppError::invalid)?;
    let mut tx = app.store.begin(&actor.name).await?;
    let stored = app.store.add_attachment(&mut tx, EVIDENCE_OWNER, &r.case_no, name, content_type, bytes).await?;
    let event = NewServiceEvent {
        step: "evidence".into(),
        from_state: Some(r.state.clone()),
        to_state: r.state.clone(),
        unit_id: r.unit_id.clone(),
        text: name.to_string(),
        public: false,
        at: None,
    };
    app.store.add_service_event(&mut tx, r.id, &event).await?;
    let after = json!({"attachment": stored.id, "filename": name, "size": stored.size, "sha256": stored.sha256});
    tx.audit("service.evidence", "service_request", &r.case_no, None, Some(after)).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Whether `actor` may see the request with case number `case_no` (for its evidence
/// files); not found otherwise.
pub async fn check_case_visible(app: &App, actor: &Actor, case_no: &str) -> Result<()> {
    let r = app.store.service_request_by_case(case_no).await?.ok_or(AppError::NotFound)?;
    check_visible(actor, &r)
}

/// The citizen's request of a case number and its query password; `None` when
/// either is wrong (the two are not told apart).
pub async fn unlock(app: &App, case_no: &str, password: &str) -> Result<Option<ServiceRequest>> {
    let request = match case_no.parse::<jixiao_core::service::CaseNumber>() {
        Ok(c) => app.store.service_request_by_case(&c.to_string()).await?,
        Err(_) => None,
    };
    let ok = super::privacy::password_matches(app, request.as_ref(), password.trim()).await?;
    Ok(request.filter(|_| ok))
}

/// The citizen rates a verified request (after `unlock`), with an optional comment.
pub async fn rate(app: &App, tr: &Tr, request: &ServiceRequest, rating: &str, comment: &str) -> Result<ServiceRequest> {
    let rating: jixiao_core::service::Rating = rating.parse().map_err(|_| AppError::invalid(tr.t("service.error.rating")))?;
    if comment.chars().count() > super::intake::MAX_TEXT || comment.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(AppError::invalid(tr.t("service.error.too_long")));
    }
    flow::apply_rated(app, "citizen", jixiao_core::service::Actor::Citizen, request, Step::Rate { rating }, comment).await
}
