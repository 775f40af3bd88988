//! The assessor's page (考核责任部门填报): one indicator for every unit, one month —
//! how a department that leads an indicator (or enters it for others, the scheme's
//! `entered_by`) enters, submits or reviews it in one go, instead of unit by unit.
//!
//! Every unit's changes go through the same checks as the monthly form
//! (`collection::check`); if any unit's change is refused nothing is written and the
//! page comes back with each problem beside its unit and what was typed. Otherwise
//! all units' changes are written in one transaction (`collection::write`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_core::period::Month;
use jixiao_core::scheme::Scheme;
use jixiao_core::workflow::{self, EntryState, Step};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Language;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::pages::report::parse_month;
use crate::view::Chrome;
use jixiao_app::collection::typed_value;
use jixiao_app::collection::{self, Change, previous};
use jixiao_app::text::json_text;
use jixiao_app::{Lang, Tr};

#[derive(Deserialize, Default)]
pub struct AssessQuery {
    month: Option<String>,
    indicator: Option<String>,
    flash: Option<String>,
}

/// One unit's line.
pub struct UnitLine {
    pub unit_id: String,
    pub unit_name: String,
    /// (input name, value shown, last month's value) per field.
    pub fields: Vec<(String, String, String)>,
    pub state_code: &'static str,
    pub state: String,
    pub version: String,
    pub editable: bool,
    pub why: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "assess.html")]
struct AssessPage {
    chrome: Chrome,
    /// A problem of the whole request.
    error: Option<String>,
    month: String,
    months: Vec<String>,
    /// (id, name) of the indicators the viewer handles this month.
    indicators: Vec<(String, String)>,
    indicator: String,
    /// Field names, the table's columns.
    columns: Vec<String>,
    lines: Vec<UnitLine>,
    can_save: bool,
    can_approve: bool,
}

/// The indicators due in `month` that the viewer may enter or review for some unit.
fn handled(viewer: &Viewer, scheme: &Scheme, month: Month) -> Vec<usize> {
    scheme
        .indicators
        .iter()
        .copied()
        .filter(|&n| {
            let Some(ind) =
                scheme.nodes[n].indicator.as_ref().filter(|i| i.is_due(month.month) && i.source == jixiao_core::scheme::Source::Fields)
            else {
                return false;
            };
            (0..scheme.units.len()).filter(|&u| ind.is_assigned(u)).any(|u| {
                [Step::Save, Step::Approve]
                    .into_iter()
                    .any(|step| collection::acting_role(viewer, scheme, step, &scheme.units[u].id, &scheme.nodes[n].id).is_some())
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    month: Month,
    indicator: Option<String>,
    typed: Option<&HashMap<String, String>>,
    errors: &HashMap<String, String>,
    flash: Option<&str>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let mut chrome = Chrome::new(state, Some(viewer), lang, "/assess", "assess.title", vec![], flash).await;
    let months = (1..=12).filter_map(|m| Month::new(month.year, m).ok()).map(|m| m.to_string()).collect();
    let Some((_, scheme)) = state.latest_scheme(month.year).await? else {
        return Err(WebError::invalid(format!("there is no scheme for {}", month.year)));
    };
    let mine = handled(viewer, &scheme, month);
    let node = indicator.as_deref().and_then(|id| scheme.node_index(id)).filter(|n| mine.contains(n)).or(mine.first().copied());
    if indicator.is_some() && node.map(|n| scheme.nodes[n].id.as_str()) != indicator.as_deref() {
        return Err(WebError::NotFound);
    }
    let (mut lines, mut columns, mut can_save, mut can_approve) = (Vec::new(), Vec::new(), false, false);
    if let Some(n) = node {
        let id = scheme.nodes[n].id.clone();
        chrome.title = format!("{} · {} {}", chrome.title, id, scheme.nodes[n].name);
        let ind = scheme.nodes[n].indicator.as_ref().ok_or(WebError::NotFound)?;
        columns = ind.fields.iter().map(|f| if f.name.is_empty() { f.key.clone() } else { f.name.clone() }).collect();
        let entries = state.store.stored_entries(month.year).await?;
        let (this, before) = (month.to_string(), previous(month).to_string());
        for (_, unit) in scheme.units.iter().enumerate().filter(|(u, _)| ind.is_assigned(*u)) {
            let may = |step| collection::acting_role(viewer, &scheme, step, &unit.id, &id);
            let (role_save, role_approve) = (may(Step::Save), may(Step::Approve));
            if role_save.is_none() && role_approve.is_none() {
                continue;
            }
            let entry = entries.iter().find(|e| e.row.unit == unit.id && e.row.indicator == id && e.row.month == this);
            let last = entries.iter().find(|e| e.row.unit == unit.id && e.row.indicator == id && e.row.month == before);
            let st = collection::state_of(entry);
            let editable = role_save.is_some_and(|r| workflow::next(st, Step::Save, r, "").is_ok());
            can_save |= editable;
            can_approve |= role_approve.is_some_and(|r| workflow::next(st, Step::Approve, r, "").is_ok());
            let fields = ind
                .fields
                .iter()
                .map(|f| {
                    let input = format!("v.{}.{}", unit.id, f.key);
                    let value = match typed {
                        Some(t) if editable => t.get(&input).cloned().unwrap_or_default(),
                        _ => json_text(entry.and_then(|e| e.row.values.get(&f.key))),
                    };
                    (input, value, json_text(last.and_then(|e| e.row.values.get(&f.key))))
                })
                .collect();
            lines.push(UnitLine {
                unit_id: unit.id.clone(),
                unit_name: unit.name.clone(),
                fields,
                state_code: st.map_or("none", EntryState::code),
                state: st.map(|s| tr.t(&format!("state.{}", s.code())).to_string()).unwrap_or_else(|| tr.t("state.none").to_string()),
                version: entry.map(|e| e.version.to_string()).unwrap_or_default(),
                editable,
                why: typed.and_then(|t| t.get(&format!("why.{}", unit.id)).cloned()).unwrap_or_default(),
                error: errors.get(&unit.id).cloned(),
            });
        }
    }
    let indicators = mine.iter().map(|&n| (scheme.nodes[n].id.clone(), scheme.nodes[n].name.clone())).collect();
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    let page = AssessPage {
        chrome,
        error: errors.get("").cloned(),
        month: month.to_string(),
        months,
        indicators,
        indicator: node.map(|n| scheme.nodes[n].id.clone()).unwrap_or_default(),
        columns,
        lines,
        can_save,
        can_approve,
    };
    Ok((status, render(page)?).into_response())
}

/// `GET /assess?month=&indicator=`.
pub async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<AssessQuery>,
) -> Result<Response, WebError> {
    let month = match &q.month {
        Some(m) => parse_month(m)?,
        None => collection::due_month(&state),
    };
    page(&state, &viewer, lang, month, q.indicator, None, &HashMap::new(), q.flash.as_deref()).await
}

/// `POST /assess` (`month`, `indicator`, `action` = save, submit or approve; values as
/// `v.<unit>.<field>`, versions seen as `ver.<unit>`, reasons as `why.<unit>`).
pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let month = parse_month(form.get("month").map(String::as_str).unwrap_or(""))?;
    let indicator = form.get("indicator").cloned().unwrap_or_default();
    let step = match form.get("action").map(String::as_str) {
        Some("save") => Step::Save,
        Some("submit") => Step::Submit,
        Some("approve") => Step::Approve,
        other => return Err(WebError::invalid(format!("unknown action `{}`", other.unwrap_or("")))),
    };
    let Some((_, scheme)) = state.latest_scheme(month.year).await? else {
        return Err(WebError::invalid(format!("there is no scheme for {}", month.year)));
    };
    let node = scheme.node_index(&indicator).filter(|n| handled(&viewer, &scheme, month).contains(n)).ok_or(WebError::NotFound)?;
    let ind = scheme.nodes[node].indicator.as_ref().ok_or(WebError::NotFound)?;
    let (mut writes, mut errors) = (Vec::new(), HashMap::new());
    for unit in scheme.units.iter().enumerate().filter(|(u, _)| ind.is_assigned(*u)).map(|(_, unit)| unit) {
        if collection::acting_role(&viewer, &scheme, if step == Step::Approve { Step::Approve } else { Step::Save }, &unit.id, &indicator)
            .is_none()
        {
            continue;
        }
        let data = collection::load(&state, &unit.id, month).await?;
        let entry = data.current.get(&indicator);
        let change = if step == Step::Approve {
            if collection::state_of(entry) != Some(EntryState::Submitted) {
                continue;
            }
            Change { indicator: indicator.clone(), step, values: None, seen_version: None, reason: String::new() }
        } else {
            if !collection::state_of(entry).is_none_or(EntryState::editable) {
                continue;
            }
            let values: serde_json::Map<String, serde_json::Value> = ind
                .fields
                .iter()
                .filter_map(|f| {
                    let text = form.get(&format!("v.{}.{}", unit.id, f.key)).map(|s| s.trim()).filter(|s| !s.is_empty())?;
                    Some((f.key.clone(), typed_value(f.field_type, text)))
                })
                .collect();
            if values.is_empty() && entry.is_none() {
                continue;
            }
            let seen = form.get(&format!("ver.{}", unit.id)).map(|v| v.trim().parse::<i64>().ok());
            Change {
                indicator: indicator.clone(),
                step,
                values: Some(values),
                seen_version: seen,
                reason: form.get(&format!("why.{}", unit.id)).cloned().unwrap_or_default(),
            }
        };
        match collection::check(&state, &viewer, &tr, &data, vec![change]).await? {
            Ok(w) => writes.extend(w),
            Err(problems) => {
                errors.insert(unit.id.clone(), problems.iter().map(|p| p.message(&tr, &state.clock)).collect::<Vec<_>>().join("；"));
            }
        }
    }
    if errors.is_empty() && writes.is_empty() {
        errors.insert(String::new(), tr.t("report.nothing_to_do").to_string());
    }
    if !errors.is_empty() {
        return page(&state, &viewer, lang, month, Some(indicator), Some(&form), &errors, None).await;
    }
    match collection::write(&state, &viewer, &tr, writes).await? {
        Ok(_) => Ok(done(&format!("/assess?month={month}&indicator={indicator}"), &format!("report_{}", step.code()))),
        Err(problems) => {
            let errors = problems.iter().map(|p| (String::new(), p.message(&tr, &state.clock))).collect();
            page(&state, &viewer, lang, month, Some(indicator), Some(&form), &errors, None).await
        }
    }
}
