//! Schemes (考核方案) in the browser: the versions of every year, one version's
//! indicator tree, a version's JSON (spec §2) or workbook to download, a new version
//! uploaded as JSON or as the workbook, with its reason (all or nothing, every problem listed by node id), publishing,
//! the node-by-node differences between two versions, and an indicator's page with
//! the formula "try it" panel.
//!
//! Versions are never changed once stored: amending a year means uploading a new
//! version, and periods already scored keep the scores of the version they had.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_core::data::Dataset;
use jixiao_core::formula::{Trial, trial};
use jixiao_core::org::{Action, Target};
use jixiao_core::period::Period;
use jixiao_core::scheme::Scheme;
use jixiao_core::scheme::diff::{NodeChange, diff};
use jixiao_core::score::{explain, score_period};
use serde::Deserialize;

use jixiao_app::{AppError, Lang, Tr, schemes};

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::{Chrome, ListQuery, number};

/// The largest scheme file accepted (a province's scheme is far smaller).
const MAX_SCHEME_BYTES: usize = 8 * 1024 * 1024;

pub struct VersionRow {
    pub year: i32,
    pub version: i32,
    pub name: String,
    pub reason: String,
    pub published: bool,
    pub created_by: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "schemes.html")]
struct SchemesPage {
    chrome: Chrome,
    rows: Vec<VersionRow>,
    can_manage: bool,
    errors: Vec<String>,
    reason: String,
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    flash: Option<&str>,
    errors: Vec<String>,
    reason: String,
) -> Result<Response, WebError> {
    let chrome = Chrome::new(state, Some(viewer), lang, "/schemes", "schemes.title", vec![], flash).await;
    let mut rows = Vec::new();
    for year in state.store.scheme_years().await?.into_iter().rev() {
        for v in state.store.scheme_versions(year).await?.into_iter().rev() {
            rows.push(VersionRow {
                year: v.year,
                version: v.version,
                name: v.name,
                reason: v.reason,
                published: v.published,
                created_by: v.created_by,
                created_at: state.clock.short(&v.created_at),
            });
        }
    }
    let can_manage = viewer.can(Action::ManageSchemes, Target::Nothing);
    let status = if errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::BAD_REQUEST };
    Ok((status, render(SchemesPage { chrome, rows, can_manage, errors, reason })?).into_response())
}

/// `GET /schemes`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    list_page(&state, &viewer, lang, q.flash.as_deref(), Vec::new(), String::new()).await
}

/// `POST /schemes` (multipart: `file`, `reason`): stores the file — spec §2 JSON, or
/// the scheme workbook (`scheme_workbook`), told apart by its first bytes — as the
/// next version of its year. Any problem — not JSON, a malformed workbook, an invalid
/// scheme, a missing reason for an amendment — stores nothing and lists every problem.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let (mut bytes, mut reason) = (None, String::new());
    while let Some(field) = multipart.next_field().await.map_err(|e| WebError::invalid(format!("the upload could not be read: {e}")))? {
        match field.name() {
            Some("file") => {
                let data = field.bytes().await.map_err(|_| WebError::TooLarge)?;
                if data.len() > MAX_SCHEME_BYTES {
                    return Err(WebError::TooLarge);
                }
                bytes = Some(data);
            }
            Some("reason") => reason = field.text().await.map_err(|e| WebError::invalid(e.to_string()))?,
            _ => {}
        }
    }
    let scheme = match bytes.filter(|b| !b.is_empty()) {
        None => Err(vec![tr.t("schemes.no_file").to_string()]),
        Some(b) => schemes::parse(b.to_vec()).await?,
    };
    let scheme = match scheme {
        Ok(s) => s,
        Err(errors) => return list_page(&state, &viewer, lang, None, errors, reason).await,
    };
    match schemes::import_version(&state, &viewer, &tr, &scheme, &reason).await {
        Ok(version) => Ok(done(&format!("/schemes/{}?version={version}", scheme.year), "scheme_imported")),
        Err(AppError::Invalid { message, .. }) => list_page(&state, &viewer, lang, None, vec![message], reason).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct VersionQuery {
    version: Option<i32>,
    flash: Option<String>,
}

/// One row of the tree.
pub struct NodeRow {
    pub id: String,
    pub name: String,
    pub depth: usize,
    pub is_category: bool,
    pub kind: &'static str,
    pub points: String,
    pub cap: String,
    pub frequency: String,
    pub formula: String,
    pub assigned: usize,
}

#[derive(Template)]
#[template(path = "scheme.html")]
struct SchemePage {
    chrome: Chrome,
    year: i32,
    version: i32,
    versions: Vec<i32>,
    published: bool,
    reason: String,
    name: String,
    rows: Vec<NodeRow>,
    units: usize,
    groups: Vec<(String, String, usize)>,
    can_manage: bool,
}

fn crumbs(tr: &Tr) -> Vec<(String, String)> {
    vec![(tr.t("schemes.title").to_string(), "/schemes".to_string())]
}

/// `GET /schemes/{year}?version=`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(year): Path<i32>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, WebError> {
    let stored = state.store.scheme(year, q.version).await?;
    let scheme = stored.compile()?;
    let tr = Tr::new(lang);
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, &format!("/schemes/{year}"), "schemes.tree", crumbs(&tr), q.flash.as_deref()).await;
    chrome.title = format!("{} · v{}", stored.info.name, stored.info.version);
    let mut rows = Vec::new();
    let mut stack: Vec<(usize, usize)> = scheme.roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((n, depth)) = stack.pop() {
        let node = &scheme.nodes[n];
        let ind = node.indicator.as_ref();
        rows.push(NodeRow {
            id: node.id.clone(),
            name: node.name.clone(),
            depth,
            is_category: node.is_category(),
            kind: crate::pages::scheme_draft::kind_key(node.kind),
            points: node.points.map(number).unwrap_or_default(),
            cap: node.cap.map(number).unwrap_or_default(),
            frequency: ind
                .map(|i| {
                    tr.t(&format!(
                        "frequency.{}",
                        serde_json::to_value(i.frequency).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                    ))
                    .to_string()
                })
                .unwrap_or_default(),
            formula: ind.map(|i| i.formula.canonical()).unwrap_or_default(),
            assigned: ind.map_or(0, |i| (0..scheme.units.len()).filter(|&u| i.is_assigned(u)).count()),
        });
        stack.extend(node.children.iter().rev().map(|&c| (c, depth + 1)));
    }
    let groups = scheme
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| (group.id.clone(), group.name.clone(), scheme.units.iter().filter(|u| u.group == g).count()))
        .collect();
    let versions = state.store.scheme_versions(year).await?.into_iter().map(|v| v.version).collect();
    let page = SchemePage {
        chrome,
        year,
        version: stored.info.version,
        versions,
        published: stored.info.published,
        reason: stored.info.reason.clone(),
        name: stored.info.name.clone(),
        rows,
        units: scheme.units.len(),
        groups,
        can_manage: viewer.can(Action::ManageSchemes, Target::Nothing),
    };
    Ok(render(page)?.into_response())
}

/// `GET /schemes/{year}/export?version=`: the version's file, as imported.
pub async fn export(State(state): State<AppState>, Path(year): Path<i32>, Query(q): Query<VersionQuery>) -> Result<Response, WebError> {
    let stored = state.store.scheme(year, q.version).await?;
    let body = serde_json::to_string_pretty(&stored.file).map_err(|e| WebError::Internal(e.to_string()))?;
    let name = format!("attachment; filename=\"scheme-{year}-v{}.json\"", stored.info.version);
    Ok(([(header::CONTENT_TYPE, "application/json; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)], body).into_response())
}

/// `GET /schemes/{year}/export.xlsx?version=`: the version as the scheme workbook, to
/// read in Excel or WPS and to upload again, amended, as a new version.
pub async fn export_xlsx(
    State(state): State<AppState>,
    Path(year): Path<i32>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, WebError> {
    let stored = state.store.scheme(year, q.version).await?;
    let scheme = stored.compile()?;
    let bytes = jixiao_app::xlsx::scheme::write(&scheme).map_err(|e| WebError::Internal(e.to_string()))?;
    let name = format!("attachment; filename=\"scheme-{year}-v{}.xlsx\"", stored.info.version);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct PublishForm {
    version: i32,
}

/// `POST /schemes/{year}/publish`: marks a version as the published one.
pub async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(year): Path<i32>,
    axum::Form(form): axum::Form<PublishForm>,
) -> Result<Response, WebError> {
    schemes::publish(&state, &viewer, &Tr::new(lang), year, form.version).await?;
    Ok(done(&format!("/schemes/{year}?version={}", form.version), "scheme_published"))
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: i32,
    to: i32,
}

/// One changed setting, as shown.
pub struct SettingRow {
    pub key: String,
    pub before: String,
    pub after: String,
}

pub struct ChangeRow {
    pub id: String,
    pub name: String,
    /// `added`, `removed` or `changed`.
    pub what: &'static str,
    pub parent: String,
    pub settings: Vec<SettingRow>,
}

#[derive(Template)]
#[template(path = "scheme_diff.html")]
struct DiffPage {
    chrome: Chrome,
    year: i32,
    from: i32,
    to: i32,
    rows: Vec<ChangeRow>,
}

fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `GET /schemes/{year}/diff?from=1&to=2`.
pub async fn compare(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(year): Path<i32>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, WebError> {
    let old = state.store.scheme(year, Some(q.from)).await?;
    let new = state.store.scheme(year, Some(q.to)).await?;
    let tr = Tr::new(lang);
    let mut chrome = Chrome::new(&state, Some(&viewer), lang, &format!("/schemes/{year}/diff"), "schemes.diff", crumbs(&tr), None).await;
    chrome.title = format!("{} · v{} → v{}", chrome.title, q.from, q.to);
    let rows = diff(&old.file, &new.file)
        .into_iter()
        .map(|c| match c {
            NodeChange::Added { id, name, parent } => {
                ChangeRow { id, name, what: "added", parent: parent.unwrap_or_default(), settings: Vec::new() }
            }
            NodeChange::Removed { id, name, parent } => {
                ChangeRow { id, name, what: "removed", parent: parent.unwrap_or_default(), settings: Vec::new() }
            }
            NodeChange::Changed { id, name, settings } => ChangeRow {
                id,
                name,
                what: "changed",
                parent: String::new(),
                settings: settings
                    .into_iter()
                    .map(|(key, before, after)| SettingRow { key, before: shown(&before), after: shown(&after) })
                    .collect(),
            },
        })
        .collect();
    Ok(render(DiffPage { chrome, year, from: q.from, to: q.to, rows })?.into_response())
}

/// One input of the "try it" panel.
pub struct InputRow {
    pub name: String,
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "indicator.html")]
struct IndicatorPage {
    chrome: Chrome,
    year: i32,
    id: String,
    name: String,
    points: String,
    formula: String,
    canonical: String,
    fields: Vec<(String, String, String)>,
    /// (unit id, unit name, params text) of the units assigned.
    units: Vec<(String, String, String)>,
    sample_unit: Option<String>,
    sample_period: String,
    inputs: Vec<InputRow>,
    trial: Option<TrialView>,
}

/// A trial as the page shows it.
pub struct TrialView {
    pub errors: Vec<String>,
    pub canonical: String,
    pub raw: String,
    pub score: String,
    pub peers_of_one: bool,
}

fn trial_view(t: &Trial) -> TrialView {
    TrialView {
        errors: t
            .errors
            .iter()
            .map(|e| match &e.suggestion {
                Some(s) => format!("{}:{} {} — did you mean `{s}`?", e.line, e.column, e.message),
                None => format!("{}:{} {}", e.line, e.column, e.message),
            })
            .collect(),
        canonical: t.canonical.clone().unwrap_or_default(),
        raw: match &t.raw {
            Some(Ok(x)) => x.to_string(),
            Some(Err(e)) => e.clone(),
            None => String::new(),
        },
        score: t.score.map(number).unwrap_or_default(),
        peers_of_one: t.peers_of_one,
    }
}

#[derive(Deserialize, Default)]
pub struct SampleQuery {
    unit: Option<String>,
}

/// The page of an indicator; `inputs` and `trial` come from a submitted "try it".
async fn indicator_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    year: i32,
    id: &str,
    unit: Option<String>,
    submitted: Option<(String, BTreeMap<String, String>)>,
) -> Result<Response, WebError> {
    let Some((_, scheme)) = state.latest_scheme(year).await? else { return Err(WebError::NotFound) };
    let node_index = scheme.node_index(id).ok_or(WebError::NotFound)?;
    let node = &scheme.nodes[node_index];
    let ind = node.indicator.as_ref().ok_or(WebError::NotFound)?;
    let tr = Tr::new(lang);
    let mut chrome =
        Chrome::new(state, Some(viewer), lang, &format!("/schemes/{year}/indicators/{id}"), "schemes.indicator", crumbs(&tr), None).await;
    chrome.title = format!("{} {}", node.id, node.name);
    let assigned: Vec<usize> = (0..scheme.units.len()).filter(|&u| ind.is_assigned(u)).collect();
    let units = assigned
        .iter()
        .map(|&u| {
            let params = ind
                .param_names
                .iter()
                .zip(ind.assignments[u].iter().flatten())
                .filter_map(|(n, v)| v.map(|v| format!("{n} = {}", number(v))))
                .collect::<Vec<_>>()
                .join("，");
            (scheme.units[u].id.clone(), scheme.units[u].name.clone(), params)
        })
        .collect();
    // The sample: the chosen unit (in the viewer's scope), else the first one in scope.
    let sample = unit
        .as_deref()
        .and_then(|u| scheme.unit_index(u))
        .filter(|u| assigned.contains(u))
        .or_else(|| {
            assigned.iter().copied().find(|&u| viewer.can(Action::ViewUnit, Target::Indicator { unit: &scheme.units[u].id, indicator: id }))
        })
        .filter(|&u| viewer.can(Action::ViewUnit, Target::Indicator { unit: &scheme.units[u].id, indicator: id }));
    let (inputs, sample_period) = match (&submitted, sample) {
        (Some((_, values)), _) => {
            (values.iter().map(|(k, v)| InputRow { name: k.clone(), label: k.clone(), value: v.clone() }).collect(), String::new())
        }
        (None, Some(u)) => sample_inputs(state, &scheme, u, node_index).await?,
        (None, None) => (Vec::new(), String::new()),
    };
    let trial = submitted.as_ref().map(|(formula, values)| {
        let numbers = values.iter().filter_map(|(k, v)| v.trim().parse::<f64>().ok().map(|x| (k.clone(), x))).collect();
        trial_view(&trial(formula, &numbers))
    });
    let page = IndicatorPage {
        chrome,
        year,
        id: node.id.clone(),
        name: node.name.clone(),
        points: node.points.map(number).unwrap_or_default(),
        formula: submitted.as_ref().map_or_else(|| ind.formula.source().to_string(), |(f, _)| f.clone()),
        canonical: ind.formula.canonical(),
        fields: ind
            .fields
            .iter()
            .map(|f| {
                (
                    f.key.clone(),
                    f.name.clone(),
                    serde_json::to_value(f.agg).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                )
            })
            .collect(),
        units,
        sample_unit: sample.map(|u| scheme.units[u].name.clone()),
        sample_period,
        inputs,
        trial,
    };
    Ok(render(page)?.into_response())
}

/// The engine's inputs for `unit` in the latest month whose score it computed from
/// data: what the try-it panel starts from.
async fn sample_inputs(state: &AppState, scheme: &Scheme, unit: usize, node: usize) -> Result<(Vec<InputRow>, String), WebError> {
    let data = Dataset::load(scheme, &state.store.data_file(scheme.year).await?).map_err(|e| WebError::Internal(e.to_string()))?;
    let mut fallback = None;
    for period in Period::all_in_year(scheme.year).into_iter().filter(|p| matches!(p, Period::Month(_))).rev() {
        let result = score_period(scheme, &data, period);
        let Some(e) = explain(scheme, &data, &result, unit, node) else { continue };
        let complete = e.inputs.iter().all(|i| i.value.is_some());
        let rows: Vec<InputRow> = e
            .inputs
            .iter()
            .map(|i| InputRow {
                name: i.name.clone(),
                label: i.label.clone().unwrap_or_else(|| i.name.clone()),
                value: i.value.map(|v| v.to_string()).unwrap_or_default(),
            })
            .collect();
        if complete {
            return Ok((rows, period.to_string()));
        }
        fallback.get_or_insert((rows, period.to_string()));
    }
    Ok(fallback.unwrap_or_default())
}

/// `GET /schemes/{year}/indicators/{id}?unit=`.
pub async fn indicator(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((year, id)): Path<(i32, String)>,
    Query(q): Query<SampleQuery>,
) -> Result<Response, WebError> {
    indicator_page(&state, &viewer, lang, year, &id, q.unit, None).await
}

/// `POST /schemes/{year}/indicators/{id}`: "try it" with `formula` and `in.<name>`
/// sample values; nothing is stored.
pub async fn try_formula(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((year, id)): Path<(i32, String)>,
    axum::Form(form): axum::Form<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let formula = form.get("formula").cloned().unwrap_or_default();
    let values = form.iter().filter_map(|(k, v)| k.strip_prefix("in.").map(|name| (name.to_string(), v.clone()))).collect();
    indicator_page(&state, &viewer, lang, year, &id, None, Some((formula, values))).await
}

#[derive(Deserialize)]
pub struct NewYearForm {
    year: String,
    /// `copy` (last year's latest version), `template` (the "3+2" district template)
    /// or `blank` (the organisation with one empty category to start from).
    from: String,
}

/// `POST /schemes/new`: starts a year's scheme as its version 1 — a copy of last
/// year's (units, targets and formulas carried over, to be amended), the district
/// template, or a blank one with the organisation. A year that has a scheme is refused.
pub async fn new_year(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    axum::Form(form): axum::Form<NewYearForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let year: i32 = form.year.trim().parse().map_err(|_| WebError::invalid(tr.t("schemes.bad_year")))?;
    let from = match form.from.as_str() {
        "copy" => schemes::Start::Copy,
        "template" => schemes::Start::Template,
        "blank" => schemes::Start::Blank,
        other => return Err(WebError::invalid(format!("unknown starting point `{other}`"))),
    };
    schemes::new_year(&state, &viewer, &tr, year, from).await?;
    Ok(done(&format!("/schemes/{year}"), "scheme_imported"))
}
