//! Taking a step on a request: the rules of `core::service::lifecycle`, then the
//! request's new columns, its history entry, the citizen's SMS where the step calls
//! for one, and the audit entry — one transaction. A step that closes a request
//! recomputes its department's metrics and the year's scores before returning.

use jixiao_core::service::lifecycle::{Current, auto_close_due};
use jixiao_core::service::{Actor, Rating, RequestState, ServiceError, Step, deadline, next};
use jixiao_store::{NewMessage, NewServiceEvent, ServiceRequest};
use serde_json::json;

use super::{calendar, local, stored};
use crate::AppState;
use crate::error::WebError;

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
    pub fn step(&self) -> Result<Step<'_>, WebError> {
        let rating = || self.rating.parse::<Rating>().map_err(WebError::invalid);
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
            other => return Err(WebError::invalid(format!("unknown step `{other}`"))),
        })
    }
}

/// The request as `core` sees it.
pub fn current(r: &ServiceRequest) -> Result<Current<'_>, WebError> {
    Ok(Current {
        state: r.state.parse::<RequestState>().map_err(WebError::Internal)?,
        unit: r.unit_id.as_deref(),
        rating: r.rating.as_deref().and_then(|x| x.parse().ok()),
    })
}

fn refusal(e: ServiceError) -> WebError {
    match e {
        ServiceError::NotYours { .. } => WebError::Forbidden,
        other => WebError::invalid(other.to_string()),
    }
}

/// Whether a step's history entry is shown to the citizen.
fn public(step: &Step<'_>) -> bool {
    !matches!(step, Step::Note { .. } | Step::Reject { .. } | Step::Escalate { .. } | Step::Transfer { .. })
}

/// Applies `step` to `request` as `actor_name` / `actor`; the request as stored after.
pub async fn apply(
    state: &AppState,
    actor_name: &str,
    actor: Actor<'_>,
    request: &ServiceRequest,
    step: Step<'_>,
) -> Result<ServiceRequest, WebError> {
    apply_rated(state, actor_name, actor, request, step, "").await
}

/// `apply`, with the citizen's comment kept with a rating.
pub async fn apply_rated(
    state: &AppState,
    actor_name: &str,
    actor: Actor<'_>,
    request: &ServiceRequest,
    step: Step<'_>,
    comment: &str,
) -> Result<ServiceRequest, WebError> {
    let to = next(&current(request)?, &step, &actor).map_err(refusal)?;
    let now_local = chrono::Local::now().naive_local();
    let now = stored(now_local);
    let mut r = request.clone();
    let from = r.state.clone();
    let mut sms: Option<String> = None;
    match step {
        Step::Dispatch { unit } | Step::Transfer { unit, .. } => {
            let target = state.store.unit(unit).await.map_err(|_| WebError::invalid(format!("unknown department `{unit}`")))?;
            if target.disabled {
                return Err(WebError::invalid(format!("department `{unit}` is disabled")));
            }
            dispatch(state, &mut r, unit, now_local).await?;
        }
        Step::Redo { .. } => {
            let unit = r.unit_id.clone().ok_or_else(|| WebError::invalid("the request was never dispatched"))?;
            r.redo_count += 1;
            r.verified_at = None;
            r.closed_at = None;
            r.rating = None;
            r.rating_comment.clear();
            dispatch(state, &mut r, &unit, now_local).await?;
        }
        Step::Reply { text } => {
            r.reply = text.trim().to_string();
            r.done_at = Some(now.clone());
        }
        Step::Verify => {
            r.verified_at = Some(now.clone());
            sms = Some(match super::query_link(&state.store, &r.case_no).await? {
                Some(link) => format!("【绩效办】您的诉求{}已办结：{}。请输入查询密码进行评价：{link}", r.case_no, shorten(&r.reply, 60)),
                None => format!(
                    "【绩效办】您的诉求{}已办结：{}。请在诉求查询页面输入编号和查询密码进行评价。",
                    r.case_no,
                    shorten(&r.reply, 60)
                ),
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
            let target =
                state.store.service_request_by_case(into).await?.ok_or_else(|| WebError::invalid(format!("no request `{into}`")))?;
            if target.id == r.id {
                return Err(WebError::invalid("a request cannot be merged into itself"));
            }
            r.merged_into = Some(target.case_no);
            r.closed_at = Some(now.clone());
        }
        Step::Accept | Step::Reject { .. } | Step::Note { .. } => {}
    }
    r.state = to.code().to_string();
    let mut tx = state.store.begin(actor_name).await?;
    r.version = state.store.update_service_request(&mut tx, &r).await?;
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
    state.store.add_service_event(&mut tx, r.id, &event).await?;
    if let (Some(body), false) = (sms, r.phone.is_empty()) {
        let m = NewMessage {
            channel: "sms".into(),
            recipient: r.phone.clone(),
            body,
            purpose: format!("service.{}", step.code()),
            dedupe_key: None,
        };
        state.store.queue_message(&mut tx, &m).await?;
    }
    let before = json!({"state": from, "unit": request.unit_id, "version": request.version});
    let after =
        json!({"state": r.state, "unit": r.unit_id, "version": r.version, "text": text, "rating": r.rating, "deadline": r.deadline});
    tx.audit(&format!("service.{}", step.code()), "service_request", &r.case_no, Some(before), Some(after)).await?;
    tx.commit().await?;
    if to == RequestState::Closed || from == "closed" {
        // The months it counts in may lie in the year after its case year.
        let this_year = chrono::Datelike::year(&now_local);
        super::metrics::refresh_year(state, r.year).await?;
        if this_year != r.year {
            super::metrics::refresh_year(state, this_year).await?;
        }
    }
    Ok(r)
}

/// Gives the request to `unit` with the time limit of its category from now.
async fn dispatch(state: &AppState, r: &mut ServiceRequest, unit: &str, now: chrono::NaiveDateTime) -> Result<(), WebError> {
    let category = state.store.service_category(&r.service_code).await?.ok_or(WebError::NotFound)?;
    let cal = calendar(state).await?;
    let days = u32::try_from(category.sla_days).unwrap_or(1);
    r.unit_id = Some(unit.to_string());
    r.deadline = Some(stored(deadline(&cal, now, days)));
    r.dispatched_at = Some(stored(now));
    r.first_dispatched_at.get_or_insert_with(|| stored(now));
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

/// Closes, unrated, the verified requests the citizen did not rate within `days`.
pub async fn auto_close(state: &AppState, days: u32) -> Result<usize, WebError> {
    let now = chrono::Local::now().naive_local();
    let cutoff = stored(now - chrono::Duration::days(i64::from(days)));
    let mut closed = 0;
    for r in state.store.verified_before(&cutoff, 500).await? {
        if r.verified_at.as_deref().and_then(local).is_some_and(|v| auto_close_due(v, now, days)) {
            apply(state, "system", Actor::System, &r, Step::AutoClose).await?;
            closed += 1;
        }
    }
    Ok(closed)
}
