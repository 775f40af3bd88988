//! Bonus and deduction records registered in the browser (加减分记录), bonus
//! applications (加分申报) and the topic reports (专题统计).
//!
//! - The office and the functional departments register, edit and cancel records
//!   (`core::records::may_register`: the office for every unit, a department for the
//!   indicators it enters or leads); an edit and a cancellation need a reason, which
//!   goes into the audit entry. Each write is one transaction whose commit rescores.
//! - A unit's reporter or head applies for a bonus; the office approves (points up to
//!   the claim) — registering the record in the same transaction — or rejects.
//! - A record dated in a closed month is not written here: the office reopens the
//!   month, or the change waits for a correction (`periods`), like an entry's.
//! - Who sees what: a record or application of a unit for whoever may view the unit's
//!   data of that indicator (the unit itself, its leaders, the office, an assessor of
//!   the indicator), and the department that may register it.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use jixiao_core::org::{Action, Target};
use jixiao_core::records::{self as rules, ApplicationState, RuleError, Topic};
use jixiao_core::scheme::Scheme;
use jixiao_core::workflow::Duty;
use jixiao_store::{Attachment, BonusApplication, NewApplication, PeriodState, RecordFields, RegisteredRecord};
use serde_json::{Value, json};

use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::files::{MAX_BYTES, kind_of};
use crate::i18n::Tr;

/// The owner type of a registered record's evidence (owner id: the record's id).
pub const RECORD_EVIDENCE: &str = "record";
/// The owner type of an application's evidence (owner id: the application's id).
pub const APPLICATION_EVIDENCE: &str = "application";

/// Longest person's name (责任人).
const PERSON: usize = 50;

/// A record as typed into the form or sent to the API.
#[derive(Debug, Clone, Default)]
pub struct RecordInput {
    pub unit: String,
    pub indicator: String,
    pub date: String,
    pub points: String,
    pub topic: String,
    pub reason: String,
    pub responsible: String,
}

/// An application as typed.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub unit: String,
    pub category: String,
    pub indicator: String,
    pub date: String,
    pub title: String,
    pub basis: String,
    pub points: String,
}

fn rule_message(tr: &Tr, e: &RuleError) -> String {
    match e {
        RuleError::UnknownIndicator(i) | RuleError::NotRecords(i) | RuleError::NotBonus(i) => tr.f(e.key(), &[i]),
        RuleError::NotAssigned { unit, indicator } => tr.f(e.key(), &[indicator, unit]),
        RuleError::AboveBound(b) | RuleError::AboveClaim(b) => tr.f(e.key(), &[&crate::text::number(*b)]),
        RuleError::Decided(state) => tr.f(e.key(), &[&tr.t(&format!("records.application_state.{state}"))]),
        RuleError::NotPositive | RuleError::TooPrecise | RuleError::ReasonRequired => tr.t(e.key()).to_string(),
    }
}

fn invalid(tr: &Tr, field: &str, e: &RuleError) -> AppError {
    AppError::invalid_with(rule_message(tr, e), json!({"field": field}))
}

/// A text within its bound, trimmed; `required` refuses an empty one. The message
/// names the field by its label.
fn text(tr: &Tr, field: &str, value: &str, max: usize, required: bool) -> Result<String> {
    let value = value.trim();
    let label = tr.t(&format!("records.field.{field}")).to_string();
    if required && value.is_empty() {
        return Err(AppError::invalid_with(tr.f("records.required", &[&label]), json!({"field": field})));
    }
    if !crate::input::fits(value, max) {
        return Err(AppError::invalid_with(tr.f("input.field_too_long", &[&label, &max, &value.chars().count()]), json!({"field": field})));
    }
    Ok(value.to_string())
}

fn points_of(tr: &Tr, field: &str, text: &str) -> Result<f64> {
    text.trim().parse::<f64>().ok().filter(|p| p.is_finite()).ok_or_else(|| {
        AppError::invalid_with(tr.f("records.not_a_number", &[&tr.t(&format!("records.field.{field}"))]), json!({"field": field}))
    })
}

/// A date `YYYY-MM-DD` of `year`, not after today.
fn date_of(app: &App, tr: &Tr, text: &str, year: Option<i32>) -> Result<NaiveDate> {
    let bad = || AppError::invalid_with(tr.f("records.bad_date", &[&text]), json!({"field": "date"}));
    let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    if date.format("%Y-%m-%d").to_string() != text.trim() {
        return Err(bad());
    }
    if year.is_some_and(|y| y != date.year()) {
        return Err(AppError::invalid_with(tr.f("records.other_year", &[&text]), json!({"field": "date"})));
    }
    if date > app.clock.today() {
        return Err(AppError::invalid_with(tr.f("records.future_date", &[&text]), json!({"field": "date"})));
    }
    Ok(date)
}

/// Refuses a date in a closed or locked month: such a change goes through the month
/// being reopened (or a correction), not around it.
async fn require_open(app: &App, tr: &Tr, date: NaiveDate) -> Result<()> {
    let month = format!("{:04}-{:02}", date.year(), date.month());
    if app.store.period_state(date.year(), &month).await? != PeriodState::Open {
        return Err(AppError::invalid_with(tr.f("records.month_closed", &[&month]), json!({"field": "date"})));
    }
    Ok(())
}

/// Who enters the indicator at `node` (the scheme's `entered_by`), as the workflow's duty.
fn duty_of(scheme: &Scheme, node: usize) -> Duty<'_> {
    scheme
        .indicator(node)
        .map(|i| Duty { entered_by: i.entered_by.map(|u| scheme.units[u].id.as_str()), reviewed_by: None })
        .unwrap_or_default()
}

/// Whether `actor` may register records of `unit` on `indicator` under `scheme`.
pub fn may_register(actor: &Actor, scheme: &Scheme, unit: &str, indicator: &str) -> bool {
    let duty = scheme.node_index(indicator).map(|n| duty_of(scheme, n)).unwrap_or_default();
    rules::may_register(&actor.grants, actor.unit_id.as_deref(), unit, indicator, duty)
}

/// Whether `actor` sees a record of `unit` on `indicator`.
fn sees(actor: &Actor, scheme: Option<&Scheme>, unit: &str, indicator: &str) -> bool {
    actor.can(Action::ViewUnit, Target::Indicator { unit, indicator }) || scheme.is_some_and(|s| may_register(actor, s, unit, indicator))
}

/// Checks a typed record against the scheme and the rule; the fields to store.
async fn checked(app: &App, actor: &Actor, tr: &Tr, input: &RecordInput) -> Result<(i32, RecordFields)> {
    let date = date_of(app, tr, &input.date, None)?;
    let (_, scheme) = app.scheme_of(date.year()).await?;
    let unit = input.unit.trim();
    if scheme.unit_index(unit).is_none() {
        return Err(AppError::invalid_with(tr.f("records.unknown_unit", &[&unit]), json!({"field": "unit"})));
    }
    let indicator = input.indicator.trim();
    let node = rules::record_indicator(&scheme, unit, indicator, false).map_err(|e| invalid(tr, "indicator", &e))?;
    if !may_register(actor, &scheme, unit, indicator) {
        return Err(AppError::Forbidden);
    }
    let points = points_of(tr, "points", &input.points)?;
    rules::check_points(points, rules::points_bound(&scheme, node)).map_err(|e| invalid(tr, "points", &e))?;
    let topic: Topic = input
        .topic
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_with(tr.f("records.bad_topic", &[&input.topic]), json!({"field": "topic"})))?;
    let reason = text(tr, "reason", &input.reason, crate::input::REASON, true)?;
    let responsible = text(tr, "responsible", &input.responsible, PERSON, false)?;
    require_open(app, tr, date).await?;
    Ok((
        date.year(),
        RecordFields {
            unit_id: unit.to_string(),
            indicator_id: indicator.to_string(),
            date: date.to_string(),
            points,
            topic: topic.code().to_string(),
            reason,
            responsible,
        },
    ))
}

fn record_json(r: &RegisteredRecord) -> Value {
    json!({"unit": r.unit_id, "indicator": r.indicator_id, "date": r.date, "points": r.points, "topic": r.topic,
           "reason": r.reason, "responsible": r.responsible, "state": r.state, "version": r.version})
}

/// Registers a record; its commit rescores the unit.
pub async fn register(app: &App, actor: &Actor, tr: &Tr, input: &RecordInput) -> Result<RegisteredRecord> {
    actor.require(Action::RegisterRecords, Target::Nothing)?;
    let (year, fields) = checked(app, actor, tr, input).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    let r = app.store.register_record(&mut tx, year, &fields, None).await?;
    tx.audit("record.register", "record", &r.id.to_string(), None, Some(record_json(&r))).await?;
    tx.commit().await?;
    Ok(r)
}

/// A registration `actor` may see; not found otherwise (and for another unit's id).
pub async fn record(app: &App, actor: &Actor, id: i64) -> Result<RegisteredRecord> {
    let r = app.store.registered_record(id).await.map_err(|_| AppError::NotFound)?;
    let scheme = app.latest_scheme(r.year).await?.map(|(_, s)| s);
    if !sees(actor, scheme.as_deref(), &r.unit_id, &r.indicator_id) {
        return Err(AppError::NotFound);
    }
    Ok(r)
}

/// Whether `actor` may edit or cancel `r`.
pub async fn may_change(app: &App, actor: &Actor, r: &RegisteredRecord) -> Result<bool> {
    let Some((_, scheme)) = app.latest_scheme(r.year).await? else { return Ok(false) };
    Ok(r.state == "active" && may_register(actor, &scheme, &r.unit_id, &r.indicator_id))
}

/// Changes a registration read at `version`, with the reason for the change.
pub async fn edit(app: &App, actor: &Actor, tr: &Tr, id: i64, version: i64, input: &RecordInput, why: &str) -> Result<RegisteredRecord> {
    actor.require(Action::RegisterRecords, Target::Nothing)?;
    let before = record(app, actor, id).await?;
    if !may_change(app, actor, &before).await? {
        return Err(AppError::Forbidden);
    }
    let why = text(tr, "change_reason", why, crate::input::REASON, true)?;
    let (year, fields) = checked(app, actor, tr, input).await?;
    if year != before.year {
        return Err(AppError::invalid_with(tr.f("records.other_year", &[&input.date]), json!({"field": "date"})));
    }
    // The month it leaves must be open too.
    require_open(app, tr, date_of(app, tr, &before.date, Some(year))?).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    let after = app.store.edit_registered_record(&mut tx, id, version, &fields).await.map_err(|e| conflict(tr, e))?;
    let mut new = record_json(&after);
    new["why"] = json!(why);
    tx.audit("record.edit", "record", &id.to_string(), Some(record_json(&before)), Some(new)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Cancels a registration read at `version`, with a reason; its commit rescores.
pub async fn cancel(app: &App, actor: &Actor, tr: &Tr, id: i64, version: i64, why: &str) -> Result<RegisteredRecord> {
    actor.require(Action::RegisterRecords, Target::Nothing)?;
    let before = record(app, actor, id).await?;
    if !may_change(app, actor, &before).await? {
        return Err(AppError::Forbidden);
    }
    let why = text(tr, "change_reason", why, crate::input::REASON, true)?;
    require_open(app, tr, date_of(app, tr, &before.date, Some(before.year))?).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    let after = app.store.cancel_registered_record(&mut tx, id, version, &why).await.map_err(|e| conflict(tr, e))?;
    tx.audit("record.cancel", "record", &id.to_string(), Some(record_json(&before)), Some(record_json(&after))).await?;
    tx.commit().await?;
    Ok(after)
}

/// A store conflict in words: someone changed it since the form was read.
fn conflict(tr: &Tr, e: jixiao_store::StoreError) -> AppError {
    match e {
        jixiao_store::StoreError::Conflict { .. } => AppError::Conflict(tr.t("records.stale").to_string()),
        other => other.into(),
    }
}

/// The registrations of `year` `actor` sees, newest first; `unit` narrows to one unit.
pub async fn records(app: &App, actor: &Actor, year: i32, unit: Option<&str>) -> Result<Vec<RegisteredRecord>> {
    let scheme = app.latest_scheme(year).await?.map(|(_, s)| s);
    Ok(app
        .store
        .registered_records(year)
        .await?
        .into_iter()
        .filter(|r| unit.is_none_or(|u| r.unit_id == u))
        .filter(|r| sees(actor, scheme.as_deref(), &r.unit_id, &r.indicator_id))
        .collect())
}

/// The record indicators `actor` may register for, as (id, name, kind code, bound),
/// in tree order.
pub async fn registrable_indicators(app: &App, actor: &Actor, year: i32) -> Result<Vec<(String, String, &'static str, Option<f64>)>> {
    let Some((_, scheme)) = app.latest_scheme(year).await? else { return Ok(Vec::new()) };
    Ok(scheme
        .indicators
        .iter()
        .copied()
        .filter(|&n| scheme.indicator(n).is_some_and(|i| i.source == jixiao_core::scheme::Source::Records))
        .filter(|&n| scheme.units.iter().any(|u| may_register(actor, &scheme, &u.id, &scheme.nodes[n].id)))
        .map(|n| {
            let node = &scheme.nodes[n];
            let kind = match node.kind {
                jixiao_core::scheme::Kind::Bonus => "bonus",
                jixiao_core::scheme::Kind::Deduction => "deduction",
                jixiao_core::scheme::Kind::Regular => "regular",
            };
            (node.id.clone(), node.name.clone(), kind, rules::points_bound(&scheme, n))
        })
        .collect())
}

/// The bonus indicators a unit may claim, as (id, name, bound), in tree order.
pub async fn claimable_indicators(app: &App, year: i32, unit: &str) -> Result<Vec<(String, String, Option<f64>)>> {
    let Some((_, scheme)) = app.latest_scheme(year).await? else { return Ok(Vec::new()) };
    Ok(scheme
        .indicators
        .iter()
        .copied()
        .filter(|&n| rules::record_indicator(&scheme, unit, &scheme.nodes[n].id, true).is_ok())
        .map(|n| (scheme.nodes[n].id.clone(), scheme.nodes[n].name.clone(), rules::points_bound(&scheme, n)))
        .collect())
}

// ---------------------------------------------------------------------------
// Applications

/// Files a unit's bonus application.
pub async fn apply(app: &App, actor: &Actor, tr: &Tr, input: &ApplicationInput) -> Result<BonusApplication> {
    let unit = input.unit.trim();
    actor.require(Action::ApplyForBonus, Target::Unit(unit))?;
    let category: Topic = input
        .category
        .trim()
        .parse()
        .ok()
        .filter(|t: &Topic| t.applicable())
        .ok_or_else(|| AppError::invalid_with(tr.f("records.bad_category", &[&input.category]), json!({"field": "category"})))?;
    let date = date_of(app, tr, &input.date, None)?;
    let (_, scheme) = app.scheme_of(date.year()).await?;
    if scheme.unit_index(unit).is_none() {
        return Err(AppError::invalid_with(tr.f("records.unknown_unit", &[&unit]), json!({"field": "unit"})));
    }
    let indicator = input.indicator.trim();
    let node = rules::record_indicator(&scheme, unit, indicator, true).map_err(|e| invalid(tr, "indicator", &e))?;
    let claimed = points_of(tr, "claimed", &input.points)?;
    rules::check_points(claimed, rules::points_bound(&scheme, node)).map_err(|e| invalid(tr, "claimed", &e))?;
    let title = text(tr, "title", &input.title, crate::input::NAME, true)?;
    let basis = text(tr, "basis", &input.basis, crate::input::REASON, true)?;
    let new = NewApplication {
        unit_id: unit.to_string(),
        category: category.code().to_string(),
        indicator_id: indicator.to_string(),
        date: date.to_string(),
        title,
        basis,
        claimed_points: claimed,
    };
    let mut tx = app.store.begin(&actor.name).await?;
    let a = app.store.add_application(&mut tx, date.year(), &new).await?;
    tx.audit("application.submit", "application", &a.id.to_string(), None, Some(application_json(&a))).await?;
    tx.commit().await?;
    Ok(a)
}

fn application_json(a: &BonusApplication) -> Value {
    json!({"unit": a.unit_id, "category": a.category, "indicator": a.indicator_id, "date": a.date, "title": a.title,
           "basis": a.basis, "claimed_points": a.claimed_points, "state": a.state, "approved_points": a.approved_points,
           "note": a.decision_note, "record": a.record_id, "version": a.version})
}

/// An application `actor` may see; not found otherwise.
pub async fn application(app: &App, actor: &Actor, id: i64) -> Result<BonusApplication> {
    let a = app.store.application(id).await.map_err(|_| AppError::NotFound)?;
    if !actor.can(Action::ViewUnit, Target::Unit(&a.unit_id)) {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

/// The applications of `year` `actor` sees, newest first; `unit` narrows to one unit.
pub async fn applications(app: &App, actor: &Actor, year: i32, unit: Option<&str>) -> Result<Vec<BonusApplication>> {
    Ok(app
        .store
        .applications(year)
        .await?
        .into_iter()
        .filter(|a| unit.is_none_or(|u| a.unit_id == u))
        .filter(|a| actor.can(Action::ViewUnit, Target::Unit(&a.unit_id)))
        .collect())
}

/// The office's decision on an application read at `version`: approved with `points`
/// (the claim or fewer) — registering the record, whose commit rescores — or rejected
/// with a reason. The application after.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    app: &App,
    actor: &Actor,
    tr: &Tr,
    id: i64,
    version: i64,
    approve: bool,
    points: &str,
    note: &str,
) -> Result<BonusApplication> {
    actor.require(Action::DecideApplications, Target::Nothing)?;
    let a = application(app, actor, id).await?;
    let state: ApplicationState = a.state.parse().map_err(AppError::internal)?;
    let note = text(tr, "note", note, crate::input::REASON, false)?;
    let (_, scheme) = app.scheme_of(a.year).await?;
    let node = rules::record_indicator(&scheme, &a.unit_id, &a.indicator_id, true).map_err(|e| invalid(tr, "indicator", &e))?;
    let points = if approve { points_of(tr, "points", if points.trim().is_empty() { "" } else { points })? } else { 0.0 };
    let next = rules::decide(state, approve, points, a.claimed_points, rules::points_bound(&scheme, node), &note)
        .map_err(|e| invalid(tr, if approve { "points" } else { "note" }, &e))?;
    let date = date_of(app, tr, &a.date, Some(a.year))?;
    if approve {
        require_open(app, tr, date).await?;
    }
    let mut tx = app.store.begin(&actor.name).await?;
    let record = if approve {
        let fields = RecordFields {
            unit_id: a.unit_id.clone(),
            indicator_id: a.indicator_id.clone(),
            date: a.date.clone(),
            points,
            topic: a.category.clone(),
            reason: a.title.clone(),
            responsible: String::new(),
        };
        let r = app.store.register_record(&mut tx, a.year, &fields, Some(a.id)).await?;
        tx.audit("record.register", "record", &r.id.to_string(), None, Some(record_json(&r))).await?;
        Some(r.id)
    } else {
        None
    };
    let after = app
        .store
        .decide_application(&mut tx, id, version, next.code(), approve.then_some(points), &note, record)
        .await
        .map_err(|e| conflict(tr, e))?;
    let action = if approve { "application.approve" } else { "application.reject" };
    tx.audit(action, "application", &id.to_string(), Some(application_json(&a)), Some(application_json(&after))).await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------------------
// Evidence

/// What evidence belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Record(i64),
    Application(i64),
}

impl Owner {
    fn parts(self) -> (&'static str, String) {
        match self {
            Owner::Record(id) => (RECORD_EVIDENCE, id.to_string()),
            Owner::Application(id) => (APPLICATION_EVIDENCE, id.to_string()),
        }
    }
}

/// Attaches an evidence file: to a record by whoever may change it, to an application
/// by its unit while it waits for the decision.
pub async fn attach(app: &App, actor: &Actor, tr: &Tr, owner: Owner, name: &str, bytes: &[u8]) -> Result<Attachment> {
    match owner {
        Owner::Record(id) => {
            let r = record(app, actor, id).await?;
            if !may_change(app, actor, &r).await? {
                return Err(AppError::Forbidden);
            }
        }
        Owner::Application(id) => {
            let a = application(app, actor, id).await?;
            actor.require(Action::ApplyForBonus, Target::Unit(&a.unit_id))?;
            if a.state != "submitted" {
                return Err(AppError::invalid(tr.f("records.rule.decided", &[&tr.t(&format!("records.application_state.{}", a.state))])));
            }
        }
    }
    if bytes.is_empty() {
        return Err(AppError::invalid(tr.t("service.error.no_file")));
    }
    if bytes.len() > MAX_BYTES {
        return Err(AppError::TooLarge(tr.f("service.error.evidence_size", &[&(MAX_BYTES / 1024 / 1024)])));
    }
    let content_type = kind_of(name, bytes).map_err(AppError::invalid)?;
    let (kind, id) = owner.parts();
    let mut tx = app.store.begin(&actor.name).await?;
    let stored = app.store.add_attachment(&mut tx, kind, &id, name, content_type, bytes).await?;
    tx.audit(
        "evidence.add",
        kind,
        &id,
        None,
        Some(json!({"attachment": stored.id, "filename": name, "size": stored.size, "sha256": stored.sha256})),
    )
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// The evidence of a record or an application (whose visibility the caller checked).
pub async fn evidence(app: &App, owner: Owner) -> Result<Vec<Attachment>> {
    let (kind, id) = owner.parts();
    Ok(app.store.attachments(kind, &[id]).await?)
}

/// Whether `actor` may download evidence of `owner_type` / `owner_id` (for `evidence::download`).
pub async fn check_evidence_visible(app: &App, actor: &Actor, owner_type: &str, owner_id: &str) -> Result<()> {
    let id: i64 = owner_id.parse().map_err(|_| AppError::NotFound)?;
    match owner_type {
        RECORD_EVIDENCE => record(app, actor, id).await.map(|_| ()),
        APPLICATION_EVIDENCE => application(app, actor, id).await.map(|_| ()),
        _ => Err(AppError::NotFound),
    }
}

// ---------------------------------------------------------------------------
// Topic reports

/// One line of a topic report: a unit's records of one topic in one month.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicLine {
    pub unit_id: String,
    pub unit_name: String,
    /// `2027-03`.
    pub month: String,
    pub topic: Topic,
    pub count: usize,
    pub points: f64,
}

/// The topic reports of `year` (innovation projects, discipline and conduct,
/// information and research): active registrations by unit, month and topic, for the
/// units `actor` sees; by unit (scheme order), month, topic.
pub async fn topic_report(app: &App, actor: &Actor, year: i32) -> Result<Vec<TopicLine>> {
    let Some((_, scheme)) = app.latest_scheme(year).await? else { return Ok(Vec::new()) };
    let mut sums: BTreeMap<(usize, String, Topic), (usize, f64)> = BTreeMap::new();
    for r in records(app, actor, year, None).await? {
        let (Ok(topic), Some(unit)) = (r.topic.parse::<Topic>(), scheme.unit_index(&r.unit_id)) else { continue };
        if r.state != "active" || !Topic::REPORTED.contains(&topic) {
            continue;
        }
        let e = sums.entry((unit, r.date[..7].to_string(), topic)).or_default();
        e.0 += 1;
        e.1 += r.points;
    }
    Ok(sums
        .into_iter()
        .map(|((u, month, topic), (count, points))| TopicLine {
            unit_id: scheme.units[u].id.clone(),
            unit_name: scheme.units[u].name.clone(),
            month,
            topic,
            count,
            points: jixiao_core::round::round2(points),
        })
        .collect())
}
