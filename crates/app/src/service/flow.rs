//! Taking a step on a request: the rules of `core::service::lifecycle`, then the
//! request's new columns, its history entry, the citizen's SMS where the step calls
//! for one, and the audit entry — one transaction. A step that closes a request
//! recomputes its department's metrics and the year's scores before returning.

use jixiao_core::service::lifecycle::{Current, auto_close_due};
use jixiao_core::service::{Actor, Rating, RequestState, ServiceError, Step, deadline, next};
use jixiao_store::{NewMessage, NewServiceEvent, ServiceRequest};
use serde_json::json;

use super::calendar;
use crate::App;
use crate::error::AppError;
use crate::i18n::Tr;

/// A step as a form or an API sends it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct StepForm {
    #[serde(default)]
    pub step: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub rating: String,
    #[serde(default)]
    pub into: String,
    /// The version the form was made from (0: not checked).
    #[serde(default)]
    pub version: i64,
}

impl StepForm {
    /// The core step this form asks for.
    pub fn step(&self) -> Result<Step<'_>, AppError> {
        let rating = || self.rating.parse::<Rating>().map_err(AppError::invalid);
        Ok(match self.step.as_str() {
            "dispatch" => Step::Dispatch { unit: self.unit.trim() },
            "transfer" => Step::Transfer { unit: self.unit.trim(), reason: &self.text },
            "accept" => Step::Accept,
            "reject" => Step::Reject { reason: &self.text },
            "note" => Step::Note { text: &self.text },
            "reply" => Step::Reply { text: &self.text },
            "verify" => Step::Verify,
            "rate" => Step::Rate { rating: rating()? },
            "redo" => Step::Redo { reason: &self.text },
            "escalate" => Step::Escalate { reason: &self.text },
            "merge" => Step::Merge { into: self.into.trim() },
            other => return Err(AppError::invalid(format!("unknown step `{other}`"))),
        })
    }
}

/// The request as `core` sees it.
pub fn current(r: &ServiceRequest) -> Result<Current<'_>, AppError> {
    Ok(Current {
        state: r.state.parse::<RequestState>().map_err(AppError::Internal)?,
        unit: r.unit_id.as_deref(),
        rating: r.rating.as_deref().and_then(|x| x.parse().ok()),
    })
}

fn refusal(e: ServiceError) -> AppError {
    match e {
        ServiceError::NotYours { .. } => AppError::Forbidden,
        other => AppError::invalid(other.to_string()),
    }
}

/// Whether a step's history entry is shown to the citizen.
fn public(step: &Step<'_>) -> bool {
    !matches!(step, Step::Note { .. } | Step::Reject { .. } | Step::Escalate { .. } | Step::Transfer { .. })
}

/// Applies `step` to `request` as `actor_name` / `actor`; the request as stored after.
pub async fn apply(
    app: &App,
    actor_name: &str,
    actor: Actor<'_>,
    request: &ServiceRequest,
    step: Step<'_>,
) -> Result<ServiceRequest, AppError> {
    apply_rated(app, actor_name, actor, request, step, "").await
}

/// `apply`, with the citizen's comment kept with a rating.
pub async fn apply_rated(
    app: &App,
    actor_name: &str,
    actor: Actor<'_>,
    request: &ServiceRequest,
    step: Step<'_>,
    comment: &str,
) -> Result<ServiceRequest, AppError> {
    let to = next(&current(request)?, &step, &actor).map_err(refusal)?;
    let now_local = app.clock.local_now();
    let now = app.clock.to_stored(now_local);
    // Messages to citizens are written in the site's default language.
    let tr = Tr::default();
    let mut r = request.clone();
    let from = r.state.clone();
    let mut sms: Option<String> = None;
    match step {
        Step::Dispatch { unit } | Step::Transfer { unit, .. } => {
            let target = app.store.unit(unit).await.map_err(|_| AppError::invalid(format!("unknown department `{unit}`")))?;
            if target.disabled {
                return Err(AppError::invalid(format!("department `{unit}` is disabled")));
            }
            dispatch(app, &mut r, unit, now_local).await?;
        }
        Step::Redo { .. } => {
            let unit = r.unit_id.clone().ok_or_else(|| AppError::invalid("the request was never dispatched"))?;
            r.redo_count += 1;
            r.verified_at = None;
            r.closed_at = None;
            r.rating = None;
            r.rating_comment.clear();
            dispatch(app, &mut r, &unit, now_local).await?;
        }
        Step::Reply { text } => {
            r.reply = text.trim().to_string();
            r.done_at = Some(now.clone());
        }
        Step::Verify => {
            r.verified_at = Some(now.clone());
            let reply = shorten(&r.reply, 60);
            sms = Some(match super::query_link(&app.store, &r.case_no).await? {
                Some(link) => tr.f("sms.service_done_link", &[&tr.t("sms.sender"), &r.case_no, &reply, &link]),
                None => tr.f("sms.service_done", &[&tr.t("sms.sender"), &r.case_no, &reply]),
            });
        }
        Step::Rate { rating } => {
            r.rating = Some(rating.code().to_string());
            r.rating_comment = comment.trim().to_string();
            r.closed_at = Some(now.clone());
        }
        Step::AutoClose => r.closed_at = Some(now.clone()),
        Step::Escalate { .. } => r.escalated += 1,
        Step::Merge { into } => {
            let target = app.store.service_request_by_case(into).await?.ok_or_else(|| AppError::invalid(format!("no request `{into}`")))?;
            if target.id == r.id {
                return Err(AppError::invalid("a request cannot be merged into itself"));
            }
            r.merged_into = Some(target.case_no);
            r.closed_at = Some(now.clone());
        }
        Step::Accept | Step::Reject { .. } | Step::Note { .. } => {}
    }
    r.state = to.code().to_string();
    let mut tx = app.store.begin(actor_name).await?;
    r.version = app.store.update_service_request(&mut tx, &r).await?;
    let text = match step {
        Step::Rate { .. } => String::new(),
        _ => step.text().trim().to_string(),
    };
    let event = NewServiceEvent {
        step: step.code().into(),
        from_state: Some(from.clone()),
        to_state: r.state.clone(),
        unit_id: r.unit_id.clone(),
        text: text.clone(),
        public: public(&step),
        at: Some(now.clone()),
    };
    app.store.add_service_event(&mut tx, r.id, &event).await?;
    if let (Some(body), false) = (sms, r.phone.is_empty()) {
        let m = NewMessage {
            channel: "sms".into(),
            recipient: r.phone.clone(),
            body,
            purpose: format!("service.{}", step.code()),
            dedupe_key: None,
        };
        super::sms::queue(app, &mut tx, &m).await?;
    }
    let before = json!({"state": from, "unit": request.unit_id, "version": request.version});
    let after =
        json!({"state": r.state, "unit": r.unit_id, "version": r.version, "text": text, "rating": r.rating, "deadline": r.deadline});
    tx.audit(&format!("service.{}", step.code()), "service_request", &r.case_no, Some(before), Some(after)).await?;
    tx.commit().await?;
    if to == RequestState::Closed || from == "closed" {
        // The months it counts in may lie in the year after its case year.
        let this_year = chrono::Datelike::year(&now_local);
        super::metrics::refresh_year(app, r.year).await?;
        if this_year != r.year {
            super::metrics::refresh_year(app, this_year).await?;
        }
    }
    Ok(r)
}

/// Gives the request to `unit` with the time limit of its category from now.
async fn dispatch(app: &App, r: &mut ServiceRequest, unit: &str, now: chrono::NaiveDateTime) -> Result<(), AppError> {
    let category = app.store.service_category(&r.service_code).await?.ok_or(AppError::NotFound)?;
    let cal = calendar(app).await?;
    let days = u32::try_from(category.sla_days).unwrap_or(1);
    r.unit_id = Some(unit.to_string());
    r.deadline = Some(app.clock.to_stored(deadline(&cal, now, days)));
    r.dispatched_at = Some(app.clock.to_stored(now));
    r.first_dispatched_at.get_or_insert_with(|| app.clock.to_stored(now));
    r.done_at = None;
    Ok(())
}

fn shorten(text: &str, n: usize) -> String {
    let mut s: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        s.push('…');
    }
    s
}

/// Closes, unrated, the verified requests the citizen did not rate within `days`;
/// (closed, failed). A request another process changed meanwhile (a conflict) or
/// that fails otherwise is logged and skipped: the rest of the pass goes on.
pub async fn auto_close(app: &App, days: u32) -> Result<(usize, usize), AppError> {
    let now = app.clock.local_now();
    let cutoff = app.clock.to_stored(now - chrono::Duration::days(i64::from(days)));
    let (mut closed, mut failed) = (0, 0);
    for r in app.store.verified_before(&cutoff, 500).await? {
        if r.verified_at.as_deref().and_then(|t| app.clock.from_stored(t)).is_some_and(|v| auto_close_due(v, now, days)) {
            match apply(app, "system:auto_close", Actor::System, &r, Step::AutoClose).await {
                Ok(_) => closed += 1,
                Err(e) => {
                    tracing::warn!(case = %r.case_no, error = %e, "closing an unrated request failed; going on with the rest");
                    failed += 1;
                }
            }
        }
    }
    Ok((closed, failed))
}
