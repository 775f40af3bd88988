//! Scores people see every day (绩效评分): the ranking of a period with warning lights
//! and bar charts per group (`/scores`), one unit's tree with lights, sparklines and
//! its months against last year (`/scores/{period}/units/{unit}`), and the drill-down
//! of one indicator score to the engine's explanation and the entries behind it, with
//! who entered, approved and accepted them, their evidence and corrections
//! (`/scores/{period}/units/{unit}/indicators/{indicator}`).
//!
//! Every number comes from the stored spec §8 results through `app::scores`, the same
//! the API and `jixiao score` give; the explanation is recomputed by the engine.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jixiao_app::text::why_text;
use jixiao_app::{AppError, Tr, scores};
use jixiao_core::org::{Action, Target};
use jixiao_core::period::{Month, Period};
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::charts;
use crate::error::WebError;
use crate::pages::render;
use crate::view::{Chrome, number};

#[derive(Deserialize, Default)]
pub struct ScoresQuery {
    period: Option<String>,
    group: Option<String>,
    light: Option<String>,
}

pub struct UnitRow {
    pub unit_id: String,
    pub unit_name: String,
    pub rank: String,
    pub total: String,
    pub grade: String,
    pub light: &'static str,
    pub why: String,
    /// Scores of the top-level nodes, in tree order.
    pub tops: Vec<String>,
}

pub struct GroupView {
    pub id: String,
    pub name: String,
    pub rows: Vec<UnitRow>,
    pub chart: String,
}

/// A red or yellow indicator light, for the list under the ranking.
pub struct LightRow {
    pub unit_id: String,
    pub unit_name: String,
    pub indicator: String,
    pub indicator_name: String,
    pub light: &'static str,
    pub why: String,
}

#[derive(Template)]
#[template(path = "scores.html")]
struct ScoresPage {
    chrome: Chrome,
    period: String,
    periods: Vec<String>,
    groups: Vec<(String, String)>,
    group: String,
    light: String,
    /// (light, units) for the summary cards.
    counts: Vec<(&'static str, usize)>,
    tops: Vec<String>,
    views: Vec<GroupView>,
    lit: Vec<LightRow>,
    /// How many lit indicators there are (the list shows the first 100).
    lit_total: usize,
    empty: bool,
    /// Whether to link the period's analysis report (for those who see every unit).
    analysis: bool,
}

/// `GET /scores?period=&group=&light=`.
pub async fn ranking(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ScoresQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let period = match q.period.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => scores::parse_period(p)?,
        None => Period::Month(jixiao_app::collection::due_month(&state)),
    };
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, "/scores", "scores.title", vec![], None).await;
    chrome.title = format!("{} · {period}", chrome.title);
    let periods = Period::all_in_year(period.year()).into_iter().map(|p| p.to_string()).collect();
    let data = match scores::load(&state, period).await {
        Ok(data) => data,
        // A year without a scheme has no scores yet: the page says so.
        Err(AppError::NotFound) => {
            let page = ScoresPage {
                chrome,
                period: period.to_string(),
                periods,
                groups: Vec::new(),
                group: String::new(),
                light: String::new(),
                counts: Vec::new(),
                tops: Vec::new(),
                views: Vec::new(),
                lit: Vec::new(),
                lit_total: 0,
                empty: true,
                analysis: false,
            };
            return Ok(render(page)?.into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let scheme = &data.scheme;
    let group = q.group.clone().unwrap_or_default();
    let light = q.light.clone().unwrap_or_default();
    let tops: Vec<usize> = scheme.roots.clone();
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    let (mut views, mut lit) = (Vec::new(), Vec::new());
    for (g, grp) in scheme.groups.iter().enumerate() {
        if !group.is_empty() && grp.id != group {
            continue;
        }
        let mut rows = Vec::new();
        for u in scheme.units_of_group(g) {
            let unit = &scheme.units[u];
            if !viewer.can(Action::ViewUnit, Target::Unit(&unit.id)) {
                continue;
            }
            let Some(report) = data.reports.get(&unit.id) else { continue };
            let (indicator_lights, unit_lit) = scores::lights_of(scheme, report, data.late.contains(&unit.id));
            *counts.entry(unit_lit.light.as_str()).or_default() += 1;
            if !light.is_empty() && unit_lit.light.as_str() != light {
                continue;
            }
            for &n in &scheme.indicators {
                // Red ones, or yellow ones when the yellow units are asked for.
                let wanted = if light == "yellow" { "yellow" } else { "red" };
                if let Some(l) = indicator_lights
                    .get(&n)
                    .filter(|l| l.light.as_str() == wanted && scores::sees_node(&viewer, scheme, &unit.id, &scheme.nodes[n].id))
                {
                    {
                        lit.push(LightRow {
                            unit_id: unit.id.clone(),
                            unit_name: unit.name.clone(),
                            indicator: scheme.nodes[n].id.clone(),
                            indicator_name: scheme.nodes[n].name.clone(),
                            light: l.light.as_str(),
                            why: why_text(&tr, l),
                        });
                    }
                }
            }
            rows.push(UnitRow {
                unit_id: unit.id.clone(),
                unit_name: unit.name.clone(),
                rank: report["rank"].to_string(),
                total: report["total"].as_f64().map(number).unwrap_or_default(),
                grade: report["grade"].as_str().unwrap_or("").to_string(),
                light: unit_lit.light.as_str(),
                why: why_text(&tr, &unit_lit),
                tops: tops.iter().map(|&n| report["scores"][&scheme.nodes[n].id].as_f64().map(number).unwrap_or_default()).collect(),
            });
        }
        rows.sort_by_key(|r| r.rank.parse::<usize>().unwrap_or(usize::MAX));
        if rows.is_empty() {
            continue;
        }
        let max = rows.iter().filter_map(|r| r.total.parse::<f64>().ok()).fold(0.0, f64::max).max(100.0);
        let bars: Vec<(String, f64)> = rows.iter().map(|r| (r.unit_name.clone(), r.total.parse().unwrap_or(0.0))).collect();
        let chart = charts::bars(&bars, max).map_err(WebError::Internal)?;
        views.push(GroupView { id: grp.id.clone(), name: grp.name.clone(), rows, chart });
    }
    lit.sort_by(|a, b| a.unit_id.cmp(&b.unit_id).then(a.indicator.cmp(&b.indicator)));
    let lit_total = lit.len();
    lit.truncate(100);
    let page = ScoresPage {
        chrome,
        period: period.to_string(),
        periods,
        groups: scheme.groups.iter().map(|g| (g.id.clone(), g.name.clone())).collect(),
        group,
        light,
        counts: ["red", "yellow", "green"].into_iter().map(|l| (l, counts.get(l).copied().unwrap_or(0))).collect(),
        tops: tops.iter().map(|&n| scheme.nodes[n].name.clone()).collect(),
        empty: views.is_empty(),
        views,
        lit,
        lit_total,
        analysis: jixiao_app::analysis::sees_all(&viewer),
    };
    Ok(render(page)?.into_response())
}

/// One node of a unit's tree.
pub struct NodeLine {
    pub id: String,
    pub name: String,
    pub depth: usize,
    pub is_category: bool,
    pub points: String,
    pub score: String,
    pub status: String,
    pub light: &'static str,
    pub why: String,
    pub sparkline: String,
}

#[derive(Template)]
#[template(path = "score_unit.html")]
struct UnitPage {
    chrome: Chrome,
    period: String,
    unit_id: String,
    total: String,
    rank: String,
    grade: String,
    light: &'static str,
    why: String,
    lines: Vec<NodeLine>,
    chart: String,
    /// Whether the viewer may open a supervision task from a red indicator light
    /// (a month's result of a unit in the viewer's supervision scope).
    can_supervise: bool,
}

/// `GET /scores/{period}/units/{unit}`.
pub async fn unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((period, unit_id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let period = scores::parse_period(&period)?;
    let data = scores::load(&state, period).await?;
    let scheme = &data.scheme;
    let u = scheme.unit_index(&unit_id).ok_or(WebError::NotFound)?;
    let report = data.reports.get(&unit_id).ok_or(WebError::NotFound)?;
    let (lights, unit_lit) = scores::lights_of(scheme, report, data.late.contains(&unit_id));
    let this_year = scores::months_of(&state, period.year(), &unit_id).await?;
    let last_year = scores::months_of(&state, period.year() - 1, &unit_id).await?;
    let mut lines = Vec::new();
    let mut stack: Vec<(usize, usize)> = scheme.roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((n, depth)) = stack.pop() {
        let node = &scheme.nodes[n];
        stack.extend(node.children.iter().rev().map(|&c| (c, depth + 1)));
        let Some(score) = report["scores"][&node.id].as_f64() else { continue };
        // Only what the viewer may see (an assessor: its own indicators).
        if !scores::sees_node(&viewer, scheme, &unit_id, &node.id) {
            continue;
        }
        let lit = lights.get(&n);
        let trend: Vec<(u8, f64)> = this_year.iter().filter_map(|(m, r)| r["scores"][&node.id].as_f64().map(|v| (*m, v))).collect();
        let max = node.points.or(node.cap).unwrap_or_else(|| trend.iter().map(|t| t.1).fold(1.0, f64::max));
        lines.push(NodeLine {
            id: node.id.clone(),
            name: node.name.clone(),
            depth,
            is_category: node.is_category(),
            points: node.points.map(number).unwrap_or_default(),
            score: number(score),
            status: report["status"][&node.id].as_str().map(|s| tr.t(&format!("scores.status_{s}")).to_string()).unwrap_or_default(),
            light: lit.map_or("none", |l| l.light.as_str()),
            why: lit.map(|l| why_text(&tr, l)).unwrap_or_default(),
            sparkline: if node.indicator.is_some() && trend.len() > 1 {
                charts::sparkline(&trend, max).map_err(WebError::Internal)?
            } else {
                String::new()
            },
        });
    }
    let series = |rows: &[(u8, Value)]| rows.iter().filter_map(|(m, r)| r["total"].as_f64().map(|t| (*m, t))).collect::<Vec<_>>();
    let mut all = vec![(period.year().to_string(), series(&this_year))];
    if !last_year.is_empty() {
        all.push(((period.year() - 1).to_string(), series(&last_year)));
    }
    let max = all.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).fold(100.0, f64::max);
    let chart = charts::months(&all, max).map_err(WebError::Internal)?;
    let mut chrome = Chrome::new(
        &state,
        Some(&viewer),
        lang,
        "/scores",
        "scores.unit",
        vec![(tr.t("scores.title").to_string(), format!("/scores?period={period}"))],
        None,
    )
    .await;
    chrome.title = format!("{} · {period}", scheme.units[u].name);
    let page = UnitPage {
        chrome,
        period: period.to_string(),
        unit_id: unit_id.clone(),
        total: report["total"].as_f64().map(number).unwrap_or_default(),
        rank: report["rank"].to_string(),
        grade: report["grade"].as_str().unwrap_or("—").to_string(),
        light: unit_lit.light.as_str(),
        why: why_text(&tr, &unit_lit),
        lines,
        chart,
        can_supervise: matches!(period, jixiao_core::period::Period::Month(_))
            && viewer.can(jixiao_core::org::Action::AssignSupervision, jixiao_core::org::Target::Unit(&unit_id)),
    };
    Ok(render(page)?.into_response())
}

/// One entry behind a score, with its trail.
pub struct EntryLine {
    pub month: String,
    pub values: String,
    pub state: String,
    /// (time, who, what) of the entry's audit entries, oldest first.
    pub trail: Vec<(String, String, String)>,
    /// (id, file name) of its evidence.
    pub evidence: Vec<(i64, String)>,
    /// (old values, new values, state, reason) of its correction requests.
    pub corrections: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "score_explain.html")]
struct ExplainPage {
    chrome: Chrome,
    period: String,
    unit_id: String,
    e: jixiao_core::score::Explanation,
    status: String,
    points: String,
    raw: String,
    score: String,
    inputs: Vec<(String, String, String, String)>,
    entries: Vec<EntryLine>,
}

/// `GET /scores/{period}/units/{unit}/indicators/{id}`: the explanation and the entries.
pub async fn indicator(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((period, unit_id, id)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let period = scores::parse_period(&period)?;
    let e = scores::explanation(&state, &viewer, period, &unit_id, &id).await?;
    let inputs = e
        .inputs
        .iter()
        .map(|i| {
            let from = if i.months.is_empty() {
                i.records
                    .iter()
                    .map(|r| {
                        format!("{} {}{}", r.date, number(r.points), r.note.as_deref().map(|n| format!("（{n}）")).unwrap_or_default())
                    })
                    .collect::<Vec<_>>()
                    .join("；")
            } else {
                i.months.iter().map(|m| format!("{}: {}", m.month, number(m.value))).collect::<Vec<_>>().join("；")
            };
            (i.name.clone(), i.label.clone().unwrap_or_default(), i.value.map(number).unwrap_or_else(|| "—".into()), from)
        })
        .collect();
    // The entries of the window, with their trail.
    let (first, last) = e.window;
    let mut entries = Vec::new();
    let stored = state.store.stored_entries(period.year()).await?;
    for entry in stored.iter().filter(|s| s.row.unit == unit_id && s.row.indicator == id) {
        let Ok(month) = entry.row.month.parse::<Month>() else { continue };
        if month < first || month > last {
            continue;
        }
        let object = format!("{}/{unit_id}/{id}/{}", period.year(), entry.row.month);
        let filter = jixiao_store::AuditFilter { object_type: Some("entry".into()), object_id: Some(object.clone()), ..Default::default() };
        let (mut audit, _) = state.store.search_audit(&filter, 0, 50).await?;
        audit.reverse();
        let evidence = state.store.attachments("entry", std::slice::from_ref(&object)).await?;
        let corrections = state.store.entry_corrections(period.year(), &unit_id, &entry.row.month).await?;
        entries.push(EntryLine {
            month: entry.row.month.clone(),
            values: Value::Object(entry.row.values.clone()).to_string(),
            state: tr.t(&format!("state.{}", entry.state)).to_string(),
            trail: audit.into_iter().map(|a| (state.clock.short(&a.at), a.actor, action_text(&tr, &a.action))).collect(),
            evidence: evidence.into_iter().map(|a| (a.id, a.filename)).collect(),
            corrections: corrections
                .into_iter()
                .filter(|c| c.indicator_id == id)
                .map(|c| {
                    let old = c.old_values.map(|v| Value::Object(v).to_string()).unwrap_or_else(|| "—".into());
                    (old, Value::Object(c.new_values).to_string(), tr.t(&format!("correction.{}", c.state)).to_string(), c.reason)
                })
                .collect(),
        });
    }
    entries.sort_by(|a, b| a.month.cmp(&b.month));
    let mut chrome = Chrome::new(
        &state,
        Some(&viewer),
        lang,
        "/scores",
        "scores.explain",
        vec![
            (tr.t("scores.title").to_string(), format!("/scores?period={period}")),
            (e.unit_name.clone(), format!("/scores/{period}/units/{unit_id}")),
        ],
        None,
    )
    .await;
    chrome.title = format!("{} {} · {period}", e.indicator, e.indicator_name);
    let page = ExplainPage {
        chrome,
        period: period.to_string(),
        unit_id,
        status: tr.t(&format!("scores.status_{}", e.status.as_str())).to_string(),
        points: e.points.map(number).unwrap_or_else(|| "—".into()),
        raw: e.raw.map(|r| r.to_string()).or(e.error.clone()).unwrap_or_else(|| "—".into()),
        score: number(e.score),
        inputs,
        entries,
        e,
    };
    Ok(render(page)?.into_response())
}

/// An audit action in words, or as recorded where the catalogue has no words for it.
fn action_text(tr: &Tr, action: &str) -> String {
    let key = format!("scores.action_{}", action.replace('.', "_"));
    match tr.t(&key) {
        text if text == key => action.to_string(),
        text => text.to_string(),
    }
}
