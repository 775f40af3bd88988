//! The demo district's public service requests: the ten categories, about 1,500
//! requests a month from January up to today in the current year (through the demo's
//! last month in a past one; recent ones are still open), and the bonus indicator
//! `Z1` 群众诉求办理 that reads their satisfaction and on-time rates (`filled_by:
//! "service"`). Every demo request's query password is `DEMO2027` (one hash for all,
//! so loading stays fast).

use chrono::{Datelike, NaiveDateTime};
use jixiao_app::App;
use jixiao_core::generate::{demo_categories, demo_requests};
use jixiao_core::scheme::{NodeDef, SchemeFile};
use jixiao_core::service::RequestState;
use jixiao_store::{NewServiceEvent, ServiceCategory, ServiceRequest};
use serde_json::json;

/// Requests a month in the demo.
pub const PER_MONTH: u32 = 1500;
/// The query password of every demo request.
pub const DEMO_PASSWORD: &str = "DEMO2027";

/// Adds the service bonus category `Z` with its indicator `Z1` to the demo scheme.
pub fn add_indicator(file: &mut SchemeFile) -> anyhow::Result<()> {
    let node: NodeDef = serde_json::from_value(json!({
        "id": "Z", "name": "群众诉求办理", "kind": "bonus", "cap": 3,
        "children": [{
            "id": "Z1", "name": "诉求满意率与按时办结率", "filled_by": "service",
            "fields": [
                {"key": "satisfaction_rate", "name": "满意率", "agg": "avg", "min": 0, "max": 1},
                {"key": "on_time_rate", "name": "按时办结率", "agg": "avg", "min": 0, "max": 1}
            ],
            "formula": "min(max(satisfaction_rate - 0.8, 0) * 10 + max(on_time_rate - 0.8, 0) * 5, 3)",
            "assign": [{"group": "dept"}]
        }]
    }))?;
    file.tree.push(node);
    Ok(())
}

/// Loads the categories and requests in one transaction; the number of requests.
pub async fn load(app: &App, year: i32, through: u8) -> anyhow::Result<usize> {
    let store = &app.store;
    let categories = demo_categories();
    let now = app.clock.local_now();
    // Up to today in the current year, the whole of a year just past, else through
    // the demo's last month.
    let months = match now.year().cmp(&year) {
        std::cmp::Ordering::Equal => now.month() as u8,
        std::cmp::Ordering::Greater => 12,
        std::cmp::Ordering::Less => through,
    };
    let requests = demo_requests(year, months, PER_MONTH, year as u64, now.min(end_of(year, months)));
    let stored = |t: Option<NaiveDateTime>| t.map(|t| app.clock.to_stored(t));
    let hash = jixiao_store::hash_password(DEMO_PASSWORD)?;
    let mut tx = store.begin("demo").await?;
    for (i, c) in categories.iter().enumerate() {
        let row = ServiceCategory {
            code: c.code.into(),
            name: c.name.into(),
            description: format!("{}方面的诉求", c.name),
            group_name: c.group.into(),
            keywords: c.keywords.into(),
            unit_id: Some(c.unit_id.clone()),
            sla_days: i64::from(c.sla_days),
            sort_order: i as i64,
            disabled: false,
        };
        store.upsert_service_category(&mut tx, &row).await?;
    }
    for (i, r) in requests.iter().enumerate() {
        let seq = i as i64 + 1;
        let case_no = format!("QK-{year:04}-{seq:06}");
        let created = app.clock.to_stored(r.created);
        let mut events = vec![NewServiceEvent {
            step: "receive".into(),
            to_state: "received".into(),
            public: true,
            at: Some(created.clone()),
            ..Default::default()
        }];
        let mut step = |t: Option<NaiveDateTime>, step: &str, from: &str, to: &str, text: &str| {
            if let Some(t) = t {
                events.push(NewServiceEvent {
                    step: step.into(),
                    from_state: Some(from.into()),
                    to_state: to.into(),
                    unit_id: Some(r.unit_id.clone()),
                    text: text.into(),
                    public: true,
                    at: stored(Some(t)),
                });
            }
        };
        step(r.dispatched, "dispatch", "received", "dispatched", "");
        step(r.accepted, "accept", "dispatched", "accepted", "");
        step(r.done, "reply", "accepted", "done", &r.reply);
        step(r.verified, "verify", "done", "verified", "");
        step(r.closed, if r.rating.is_some() { "rate" } else { "auto_close" }, "verified", "closed", "");
        let row = ServiceRequest {
            id: 0,
            case_no,
            year,
            seq,
            service_code: categories[r.category].code.into(),
            channel: ["web", "phone", "community", "open311"][i % 4].into(),
            state: r.state.code().into(),
            description: r.description.clone(),
            address: r.address.clone(),
            lat: Some((r.lat * 1e5).round() / 1e5),
            lon: Some((r.lon * 1e5).round() / 1e5),
            phone: r.phone.clone(),
            contact_name: String::new(),
            attributes: serde_json::Map::new(),
            password_hash: hash.clone(),
            token: format!("demo{seq:06}"),
            api_key_id: None,
            unit_id: (r.state != RequestState::Received).then(|| r.unit_id.clone()),
            deadline: stored(r.deadline),
            first_dispatched_at: stored(r.dispatched),
            dispatched_at: stored(r.dispatched),
            done_at: stored(r.done),
            verified_at: stored(r.verified),
            closed_at: stored(r.closed),
            rating: r.rating.map(|x| x.code().to_string()),
            rating_comment: String::new(),
            reply: r.reply.clone(),
            redo_count: i64::from(r.redo_count),
            escalated: 0,
            merged_into: None,
            updated_at: events.last().and_then(|e| e.at.clone()).unwrap_or_else(|| created.clone()),
            created_at: created,
            version: 1,
        };
        store.insert_service_request(&mut tx, &row, &events).await?;
    }
    tx.audit(
        "service.demo",
        "service_request",
        &year.to_string(),
        None,
        Some(json!({"categories": categories.len(), "requests": requests.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(requests.len())
}

/// The end of the demo's last month.
fn end_of(year: i32, through: u8) -> NaiveDateTime {
    let first = chrono::NaiveDate::from_ymd_opt(year, u32::from(through), 1).unwrap_or_default();
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    next.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::seconds(1)
}
