//! The scheme editor (方案编辑): the office edits a draft (草稿) of a year's scheme in
//! the browser — adds, moves, reorders and deletes nodes, sets each node's points,
//! kind, cap, frequency, window, fields, params, formula, assignments and who enters
//! and reviews its data, pastes or uploads per-unit targets — and saves the draft as
//! the year's next version with a reason.
//!
//! Every step is one transaction with its audit entry and names the draft revision
//! it was made on (a stale step is refused, see `store::drafts`). The page shows after
//! each step what still keeps the draft from being a valid scheme: the engine's own
//! validation and the running points check of every category. The forms' text
//! formats (one field, param or rule a line) are parsed here, at the edge, into
//! `NodeDef`s; the tree operations are `core::scheme::edit`.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_core::scheme::edit::{self, Edit, points_check};
use jixiao_core::scheme::{Aggregation, AssignRule, FieldDef, FieldType, Frequency, Kind, NodeDef, Params, SchemeFile, Source, Window};
use jixiao_store::SchemeDraft;
use serde::Deserialize;
use serde_json::Value;

use jixiao_app::{Lang, Tr, schemes};

use crate::AppState;
use crate::auth::{Language, Viewer};
use crate::error::WebError;
use crate::pages::admin::done;
use crate::pages::render;
use crate::view::{Chrome, ListQuery, number};

/// The largest targets workbook accepted.
const MAX_TARGETS_BYTES: usize = 4 * 1024 * 1024;

fn crumbs(tr: &Tr, year: i32) -> Vec<(String, String)> {
    vec![(tr.t("schemes.title").to_string(), "/schemes".to_string()), (year.to_string(), format!("/schemes/{year}"))]
}

async fn draft_of(state: &AppState, viewer: &Viewer, year: i32) -> Result<SchemeDraft, WebError> {
    Ok(schemes::draft(state, viewer, year).await?)
}

/// Makes one step on the draft at `revision` (`app::schemes::step`).
async fn step(state: &AppState, viewer: &Viewer, lang: Lang, year: i32, revision: i64, edit: Edit) -> Result<(), WebError> {
    Ok(schemes::step(state, viewer, &Tr::new(lang), year, revision, edit).await?)
}

/// One row of the draft's tree.
pub struct DraftRow {
    pub id: String,
    pub name: String,
    pub depth: usize,
    pub is_category: bool,
    pub kind: &'static str,
    pub points: String,
    /// `∑ children / points` of a regular category, and whether it adds up.
    pub check: Option<(String, bool)>,
    pub frequency: String,
    pub formula: String,
    /// The formula's first characters, for the tree.
    pub formula_short: String,
    pub entered_by: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template)]
#[template(path = "scheme_draft.html")]
struct DraftPage {
    chrome: Chrome,
    year: i32,
    draft: Option<DraftView>,
    versions: Vec<i32>,
}

struct DraftView {
    /// Based on which version, how many steps, last edited by whom and when.
    info: String,
    revision: i64,
    rows: Vec<DraftRow>,
    /// Categories a node can be added under: (id, label).
    categories: Vec<(String, String)>,
    issues: Vec<String>,
}

/// The catalogue key of a node kind.
pub(crate) fn kind_key(kind: Kind) -> &'static str {
    match kind {
        Kind::Regular => "kind.regular",
        Kind::Bonus => "kind.bonus",
        Kind::Deduction => "kind.deduction",
    }
}

fn tree_rows(tr: &Tr, file: &SchemeFile) -> Vec<DraftRow> {
    let checks = points_check(file);
    let unit_name = |id: &Option<String>| {
        id.as_ref().map(|u| file.units.iter().find(|d| &d.id == u).map_or(u.clone(), |d| d.name.clone())).unwrap_or_default()
    };
    fn walk(nodes: &[NodeDef], depth: usize, kind: Option<Kind>, out: &mut Vec<(usize, Kind, bool, bool, NodeDef)>) {
        for (i, n) in nodes.iter().enumerate() {
            let kind = kind.unwrap_or(n.kind.unwrap_or_default());
            out.push((
                depth,
                kind,
                i == 0,
                i + 1 == nodes.len(),
                NodeDef { children: n.children.as_ref().map(|_| Vec::new()), ..n.clone() },
            ));
            if let Some(c) = &n.children {
                walk(c, depth + 1, Some(kind), out);
            }
        }
    }
    let mut flat = Vec::new();
    walk(&file.tree, 0, None, &mut flat);
    flat.into_iter()
        .map(|(depth, kind, first, last, n)| DraftRow {
            check: checks
                .iter()
                .find(|l| l.id == n.id)
                .map(|l| (format!("∑ {} / {}", number(l.children_sum), l.points.map(number).unwrap_or_else(|| "—".into())), l.adds_up)),
            is_category: n.children.is_some(),
            kind: kind_key(kind),
            points: n.points.map(number).unwrap_or_default(),
            frequency: match (&n.children, n.frequency.unwrap_or_default()) {
                (Some(_), _) => String::new(),
                (None, f) => tr.t(&format!("frequency.{}", frequency_name(f))).to_string(),
            },
            formula: n.formula.clone().unwrap_or_default(),
            formula_short: n
                .formula
                .as_deref()
                .map(|f| if f.chars().count() > 48 { format!("{}…", f.chars().take(48).collect::<String>()) } else { f.to_string() })
                .unwrap_or_default(),
            entered_by: unit_name(&n.entered_by),
            id: n.id,
            name: n.name,
            depth,
            first,
            last,
        })
        .collect()
}

fn frequency_name(f: Frequency) -> &'static str {
    match f {
        Frequency::Monthly => "monthly",
        Frequency::Quarterly => "quarterly",
        Frequency::Annual => "annual",
    }
}

fn category_choices(file: &SchemeFile) -> Vec<(String, String)> {
    fn walk(nodes: &[NodeDef], depth: usize, out: &mut Vec<(String, String)>) {
        for n in nodes {
            if let Some(c) = &n.children {
                out.push((n.id.clone(), format!("{}{} {}", "　".repeat(depth), n.id, n.name)));
                walk(c, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&file.tree, 0, &mut out);
    out
}

/// `GET /schemes/{year}/draft`: the editor, or the button to start a draft.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(year): Path<i32>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let versions: Vec<i32> = state.store.scheme_versions(year).await?.into_iter().map(|v| v.version).rev().collect();
    if versions.is_empty() {
        return Err(WebError::NotFound);
    }
    let mut chrome =
        Chrome::new(&state, Some(&viewer), lang, &format!("/schemes/{year}/draft"), "draft.title", crumbs(&tr, year), q.flash.as_deref())
            .await;
    chrome.title = format!("{year} · {}", chrome.title);
    let draft = state.store.scheme_draft(year).await?.map(|d| DraftView {
        info: tr.f("draft.info", &[&d.base_version, &d.revision, &d.updated_by, &state.clock.short(&d.updated_at)]),
        revision: d.revision,
        rows: tree_rows(&tr, &d.file),
        categories: category_choices(&d.file),
        issues: schemes::issues(&d.file),
    });
    Ok(render(DraftPage { chrome, year, draft, versions })?.into_response())
}

#[derive(Deserialize)]
pub struct StartForm {
    version: i32,
}

/// `POST /schemes/{year}/draft`: starts the year's draft from a version.
pub async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(year): Path<i32>,
    axum::Form(form): axum::Form<StartForm>,
) -> Result<Response, WebError> {
    schemes::start_draft(&state, &viewer, year, form.version).await?;
    Ok(done(&format!("/schemes/{year}/draft"), "draft_started"))
}

#[derive(Deserialize)]
pub struct AddForm {
    revision: i64,
    #[serde(default)]
    parent: String,
    id: String,
    name: String,
    /// `category` or `indicator`.
    what: String,
}

/// `POST /schemes/{year}/draft/nodes`: adds a category or an indicator (with one
/// number field and the formula `x` to start from) at the end of `parent`.
pub async fn add(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(year): Path<i32>,
    axum::Form(form): axum::Form<AddForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let name = form.name.trim();
    if name.is_empty() {
        return Err(WebError::invalid(tr.t("draft.err_no_name")));
    }
    let draft = draft_of(&state, &viewer, year).await?;
    let node = match form.what.as_str() {
        "category" => NodeDef { id: form.id.trim().into(), name: name.into(), children: Some(Vec::new()), ..NodeDef::default() },
        "indicator" => NodeDef {
            id: form.id.trim().into(),
            name: name.into(),
            fields: Some(vec![FieldDef {
                key: "x".into(),
                name: name.into(),
                field_type: FieldType::Number,
                agg: Aggregation::Last,
                min: None,
                max: None,
            }]),
            formula: Some("x".into()),
            // Assigned to every group to start with; the office narrows it.
            assign: Some(
                draft.file.groups.iter().map(|g| AssignRule { group: Some(g.id.clone()), unit: None, params: Params::new() }).collect(),
            ),
            ..NodeDef::default()
        },
        other => return Err(WebError::invalid(format!("unknown node type `{other}`"))),
    };
    let id = node.id.clone();
    let parent = Some(form.parent.trim().to_string()).filter(|p| !p.is_empty());
    step(&state, &viewer, lang, year, form.revision, Edit::Add { parent, node }).await?;
    Ok(done(&format!("/schemes/{year}/draft/nodes/{id}"), "draft_saved"))
}

#[derive(Deserialize)]
pub struct TreeForm {
    revision: i64,
    /// `up`, `down`, `delete` or `move`.
    op: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    position: Option<usize>,
}

/// `POST /schemes/{year}/draft/nodes/{id}/tree`: moves a node up or down, under
/// another parent, or deletes it with everything below it.
pub async fn tree(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((year, id)): Path<(i32, String)>,
    axum::Form(form): axum::Form<TreeForm>,
) -> Result<Response, WebError> {
    let edit = match form.op.as_str() {
        "up" => Edit::Shift { id, by: -1 },
        "down" => Edit::Shift { id, by: 1 },
        "delete" => Edit::Remove { id },
        "move" => Edit::Move {
            id,
            parent: Some(form.parent.trim().to_string()).filter(|p| !p.is_empty()),
            // Positions are shown counting from 1.
            position: form.position.unwrap_or(usize::MAX).saturating_sub(1),
        },
        other => return Err(WebError::invalid(format!("unknown step `{other}`"))),
    };
    step(&state, &viewer, lang, year, form.revision, edit).await?;
    Ok(done(&format!("/schemes/{year}/draft"), "draft_saved"))
}

/// The node form's fields as text, as typed or as derived from the node.
#[derive(Default, Clone)]
pub struct NodeText {
    pub name: String,
    pub kind: String,
    pub points: String,
    pub cap: String,
    pub frequency: String,
    pub window: String,
    pub source: String,
    pub formula: String,
    pub fields: String,
    pub params: String,
    pub assign: String,
    pub entered_by: String,
    pub reviewed_by: String,
}

fn lower(v: impl serde::Serialize) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn params_line(params: &Params) -> String {
    params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

impl NodeText {
    fn of(n: &NodeDef) -> NodeText {
        let opt = |x: Option<f64>| x.map(number).unwrap_or_default();
        NodeText {
            name: n.name.clone(),
            kind: n.kind.map(lower).unwrap_or_default(),
            points: opt(n.points),
            cap: opt(n.cap),
            frequency: n.frequency.map(lower).unwrap_or_default(),
            window: n.window.map(lower).unwrap_or_default(),
            source: n.source.map(lower).unwrap_or_default(),
            formula: n.formula.clone().unwrap_or_default(),
            fields: n
                .fields
                .iter()
                .flatten()
                .map(|f| {
                    format!("{} | {} | {} | {} | {} | {}", f.key, f.name, lower(f.field_type), lower(f.agg), opt(f.min), opt(f.max))
                        .trim_end_matches([' ', '|'])
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("\n"),
            params: n.params.iter().flatten().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join("\n"),
            assign: n
                .assign
                .iter()
                .flatten()
                .map(|r| {
                    let who = match (&r.group, &r.unit) {
                        (Some(g), _) => format!("group:{g}"),
                        (None, Some(u)) => format!("unit:{u}"),
                        (None, None) => "all".into(),
                    };
                    format!("{who} {}", params_line(&r.params)).trim_end().to_string()
                })
                .collect::<Vec<_>>()
                .join("\n"),
            entered_by: n.entered_by.clone().unwrap_or_default(),
            reviewed_by: n.reviewed_by.clone().unwrap_or_default(),
        }
    }

    fn from_form(form: &std::collections::BTreeMap<String, String>) -> NodeText {
        let get = |k: &str| form.get(k).cloned().unwrap_or_default();
        NodeText {
            name: get("name"),
            kind: get("kind"),
            points: get("points"),
            cap: get("cap"),
            frequency: get("frequency"),
            window: get("window"),
            source: get("source"),
            formula: get("formula"),
            fields: get("fields"),
            params: get("params"),
            assign: get("assign"),
            entered_by: get("entered_by"),
            reviewed_by: get("reviewed_by"),
        }
    }

    /// The node the text describes, or every problem in it (in the page's language).
    fn parse(&self, tr: &Tr, is_category: bool) -> Result<NodeDef, Vec<String>> {
        let mut errors = Vec::new();
        let mut num = |label: &str, s: &str| -> Option<f64> {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            match s.parse::<f64>().ok().filter(|x| x.is_finite()) {
                Some(x) => Some(x),
                None => {
                    errors.push(tr.f("draft.err_number", &[&tr.t(label), &s]));
                    None
                }
            }
        };
        let points = num("schemes.points", &self.points);
        let cap = num("schemes.cap", &self.cap);
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errors.push(tr.t("draft.err_no_name").to_string());
        }
        let mut node = NodeDef { name, points, cap, ..NodeDef::default() };
        node.kind = choice(
            tr,
            &mut errors,
            "schemes.kind",
            &self.kind,
            &[("regular", Kind::Regular), ("bonus", Kind::Bonus), ("deduction", Kind::Deduction)],
        );
        if !is_category {
            node.frequency = choice(
                tr,
                &mut errors,
                "schemes.frequency",
                &self.frequency,
                &[("monthly", Frequency::Monthly), ("quarterly", Frequency::Quarterly), ("annual", Frequency::Annual)],
            );
            node.window = choice(tr, &mut errors, "draft.window", &self.window, &[("ytd", Window::Ytd), ("period", Window::Period)]);
            node.source =
                choice(tr, &mut errors, "draft.source", &self.source, &[("fields", Source::Fields), ("records", Source::Records)]);
            node.formula = Some(self.formula.trim().to_string());
            node.fields = Some(parse_fields(tr, &mut errors, &self.fields)).filter(|f| !f.is_empty());
            let params = parse_params(
                tr,
                &mut errors,
                "draft.params",
                0,
                self.params.lines().flat_map(|l| l.split([',', '，'])).map(|l| l.replace(' ', "")).collect::<Vec<_>>().join(" ").as_str(),
            );
            node.params = Some(params).filter(|p| !p.is_empty());
            node.assign = Some(parse_assign(tr, &mut errors, &self.assign));
            node.entered_by = Some(self.entered_by.trim().to_string()).filter(|s| !s.is_empty());
            node.reviewed_by = Some(self.reviewed_by.trim().to_string()).filter(|s| !s.is_empty());
        }
        if errors.is_empty() { Ok(node) } else { Err(errors) }
    }
}

fn choice<T: Copy>(tr: &Tr, errors: &mut Vec<String>, label: &str, s: &str, options: &[(&str, T)]) -> Option<T> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let found = options.iter().find(|(name, _)| *name == s).map(|&(_, v)| v);
    if found.is_none() {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        errors.push(tr.f("draft.err_choice", &[&tr.t(label), &s, &names.join(", ")]));
    }
    found
}

/// `key | 名称 | type | agg | min | max` a line; only the key is required.
fn parse_fields(tr: &Tr, errors: &mut Vec<String>, text: &str) -> Vec<FieldDef> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(['|', '｜']).map(str::trim).collect();
        let label = tr.f("draft.line", &[&tr.t("draft.fields"), &(i + 1)]);
        let mut num = |s: Option<&&str>| -> Option<f64> {
            let s = s.copied().unwrap_or("").trim();
            if s.is_empty() {
                return None;
            }
            s.parse::<f64>().ok().filter(|x| x.is_finite()).or_else(|| {
                errors.push(tr.f("draft.err_number", &[&label, &s]));
                None
            })
        };
        let (min, max) = (num(cells.get(4)), num(cells.get(5)));
        let field_type = choice(
            tr,
            errors,
            &label,
            cells.get(2).copied().unwrap_or(""),
            &[
                ("number", FieldType::Number),
                ("integer", FieldType::Integer),
                ("percent", FieldType::Percent),
                ("boolean", FieldType::Boolean),
            ],
        );
        let agg = choice(
            tr,
            errors,
            &label,
            cells.get(3).copied().unwrap_or(""),
            &[
                ("last", Aggregation::Last),
                ("sum", Aggregation::Sum),
                ("avg", Aggregation::Avg),
                ("max", Aggregation::Max),
                ("min", Aggregation::Min),
            ],
        );
        out.push(FieldDef {
            key: cells[0].to_string(),
            name: cells.get(1).copied().unwrap_or("").to_string(),
            field_type: field_type.unwrap_or_default(),
            agg: agg.unwrap_or_default(),
            min,
            max,
        });
    }
    out
}

/// `key=value key=value`; the engine checks the names.
fn parse_params(tr: &Tr, errors: &mut Vec<String>, label: &str, line: usize, text: &str) -> Params {
    let mut params = Params::new();
    for pair in text.split_whitespace() {
        let label = if line == 0 { tr.t(label).to_string() } else { tr.f("draft.line", &[&tr.t(label), &line]) };
        let Some((k, v)) = pair.split_once(['=', '＝']) else {
            errors.push(tr.f("draft.err_pair", &[&label, &pair]));
            continue;
        };
        match v.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            Some(n) => {
                params.insert(k.trim().to_string(), Value::Number(n));
            }
            None => errors.push(tr.f("draft.err_number", &[&label, &v])),
        }
    }
    params
}

/// `group:ID key=value …` or `unit:ID key=value …` a line.
fn parse_assign(tr: &Tr, errors: &mut Vec<String>, text: &str) -> Vec<AssignRule> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line = line.replace(['，', ','], " ");
        let (who, rest) = line.trim().split_once(char::is_whitespace).unwrap_or((line.trim(), ""));
        let params = parse_params(tr, errors, "draft.assign", i + 1, rest);
        match who.split_once([':', '：']) {
            Some(("group", g)) => out.push(AssignRule { group: Some(g.trim().into()), unit: None, params }),
            Some(("unit", u)) => out.push(AssignRule { group: None, unit: Some(u.trim().into()), params }),
            _ => errors.push(tr.f("draft.err_rule", &[&tr.f("draft.line", &[&tr.t("draft.assign"), &(i + 1)]), &who])),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "scheme_draft_node.html")]
struct NodePage {
    chrome: Chrome,
    year: i32,
    revision: i64,
    id: String,
    is_category: bool,
    is_top: bool,
    text: NodeText,
    errors: Vec<String>,
    parent: String,
    position: usize,
    categories: Vec<(String, String)>,
    /// (id, name) of every unit, for who enters and reviews.
    units: Vec<(String, String)>,
    /// Per-unit targets: the params of the indicator and, per assigned unit,
    /// (id, name, the unit's own values in `param_names` order).
    param_names: Vec<String>,
    targets: Vec<(String, String, Vec<String>)>,
}

async fn node_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    year: i32,
    id: &str,
    typed: Option<(NodeText, Vec<String>)>,
    flash: Option<&str>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let draft = draft_of(state, viewer, year).await?;
    let node = edit::find(&draft.file.tree, id).ok_or(WebError::NotFound)?;
    let parent = edit::parent_of(&draft.file.tree, id).map_err(|_| WebError::NotFound)?;
    let siblings = match &parent {
        None => &draft.file.tree,
        Some(p) => edit::find(&draft.file.tree, p).and_then(|n| n.children.as_ref()).ok_or(WebError::NotFound)?,
    };
    let position = siblings.iter().position(|n| n.id == id).unwrap_or(0) + 1;
    let mut crumbs = crumbs(&tr, year);
    crumbs.push((tr.t("draft.title").to_string(), format!("/schemes/{year}/draft")));
    let mut chrome = Chrome::new(state, Some(viewer), lang, &format!("/schemes/{year}/draft"), "draft.node", crumbs, flash).await;
    chrome.title = format!("{} {}", node.id, node.name);
    let (param_names, targets) = schemes::unit_targets(&draft.file, node);
    let failed = typed.as_ref().is_some_and(|(_, e)| !e.is_empty());
    let (text, errors) = typed.unwrap_or_else(|| (NodeText::of(node), Vec::new()));
    let page = NodePage {
        chrome,
        year,
        revision: draft.revision,
        id: node.id.clone(),
        is_category: node.children.is_some(),
        is_top: parent.is_none(),
        text,
        errors,
        parent: parent.unwrap_or_default(),
        position,
        categories: category_choices(&draft.file)
            .into_iter()
            .filter(|(c, _)| c != id && edit::find(std::slice::from_ref(node), c).is_none())
            .collect(),
        units: draft.file.units.iter().map(|u| (u.id.clone(), u.name.clone())).collect(),
        param_names,
        targets,
    };
    let status = if failed { axum::http::StatusCode::BAD_REQUEST } else { axum::http::StatusCode::OK };
    Ok((status, render(page)?).into_response())
}

/// `GET /schemes/{year}/draft/nodes/{id}`: the node's settings form.
pub async fn node(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((year, id)): Path<(i32, String)>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    node_page(&state, &viewer, lang, year, &id, None, q.flash.as_deref()).await
}

/// `POST /schemes/{year}/draft/nodes/{id}`: saves the node's settings. Text that does
/// not parse comes back in the form with every problem, and nothing is stored.
pub async fn save_node(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((year, id)): Path<(i32, String)>,
    axum::Form(form): axum::Form<std::collections::BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let revision: i64 =
        form.get("revision").and_then(|r| r.parse().ok()).ok_or_else(|| WebError::invalid("the form has no draft revision"))?;
    let draft = draft_of(&state, &viewer, year).await?;
    let current = edit::find(&draft.file.tree, &id).ok_or(WebError::NotFound)?;
    let text = NodeText::from_form(&form);
    match text.parse(&tr, current.children.is_some()) {
        Err(errors) => node_page(&state, &viewer, lang, year, &id, Some((text, errors)), None).await,
        Ok(node) => {
            step(&state, &viewer, lang, year, revision, Edit::Update { id: id.clone(), node }).await?;
            Ok(done(&format!("/schemes/{year}/draft/nodes/{id}"), "draft_saved"))
        }
    }
}

/// `POST /schemes/{year}/draft/nodes/{id}/targets?_csrf=` (multipart: `revision`,
/// `param`, and `paste` — lines of `unit value`, or one value a line for the units in
/// the order listed — or `file`, an .xlsx whose first sheet has unit ids in column A
/// and values in column B under a header row). `-` clears a unit's own value.
pub async fn targets(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((year, id)): Path<(i32, String)>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let (mut revision, mut param, mut paste, mut file) = (None, String::new(), String::new(), None);
    while let Some(field) = multipart.next_field().await.map_err(|e| WebError::invalid(format!("the upload could not be read: {e}")))? {
        match field.name() {
            Some("revision") => revision = field.text().await.ok().and_then(|t| t.trim().parse::<i64>().ok()),
            Some("param") => param = field.text().await.map_err(|e| WebError::invalid(e.to_string()))?.trim().to_string(),
            Some("paste") => paste = field.text().await.map_err(|e| WebError::invalid(e.to_string()))?,
            Some("file") => {
                let data = field.bytes().await.map_err(|_| WebError::TooLarge)?;
                if data.len() > MAX_TARGETS_BYTES {
                    return Err(WebError::TooLarge);
                }
                file = Some(data).filter(|d| !d.is_empty());
            }
            _ => {}
        }
    }
    let revision = revision.ok_or_else(|| WebError::invalid("the form has no draft revision"))?;
    let draft = draft_of(&state, &viewer, year).await?;
    let node = edit::find(&draft.file.tree, &id).ok_or(WebError::NotFound)?;
    let (_, listed) = schemes::unit_targets(&draft.file, node);
    let listed: Vec<String> = listed.into_iter().map(|(u, _, _)| u).collect();
    let values = match file {
        Some(bytes) => schemes::targets_from_workbook(&tr, bytes.to_vec()).await?,
        None => targets_from_paste(&tr, &paste, &listed)?,
    };
    if values.is_empty() {
        return Err(WebError::invalid(tr.t("draft.err_no_targets")));
    }
    step(&state, &viewer, lang, year, revision, Edit::SetUnitParams { id: id.clone(), param, values }).await?;
    Ok(done(&format!("/schemes/{year}/draft/nodes/{id}"), "draft_targets"))
}

fn targets_from_paste(tr: &Tr, text: &str, listed: &[String]) -> Result<Vec<(String, Option<f64>)>, WebError> {
    let lines: Vec<(usize, Vec<&str>)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split(['\t', ' ', '　']).filter(|c| !c.is_empty()).collect::<Vec<_>>()))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let single = lines.iter().all(|(_, c)| c.len() == 1);
    if single && lines.len() != listed.len() {
        return Err(WebError::invalid(tr.f("draft.err_column_count", &[&lines.len(), &listed.len()])));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (k, (line, cells)) in lines.iter().enumerate() {
        let at = tr.f("draft.line", &[&tr.t("draft.paste"), line]);
        let (unit, value) = if single {
            (listed[k].as_str(), cells[0])
        } else if cells.len() == 2 {
            (cells[0], cells[1])
        } else {
            errors.push(tr.f("draft.err_pair", &[&at, &cells.join(" ")]));
            continue;
        };
        match jixiao_app::xlsx::targets::target_value(tr, &at, value) {
            Ok(v) => out.push((unit.to_string(), v)),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(WebError::invalid(errors.join("\n"))) }
}

/// `GET /schemes/{year}/draft/nodes/{id}/targets.xlsx?param=`: the assigned units with
/// their own values of `param`, to fill in Excel and upload back.
pub async fn targets_template(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path((year, id)): Path<(i32, String)>,
    Query(q): Query<ParamQuery>,
) -> Result<Response, WebError> {
    let body = schemes::targets_template(&state, &viewer, &Tr::new(lang), year, &id, &q.param).await?;
    let name = format!(
        "attachment; filename=\"targets-{year}-{id}-{}.xlsx\"",
        q.param.chars().filter(char::is_ascii_alphanumeric).collect::<String>()
    );
    Ok(([(header::CONTENT_TYPE, jixiao_app::xlsx::CONTENT_TYPE.to_string()), (header::CONTENT_DISPOSITION, name)], body).into_response())
}

#[derive(Deserialize)]
pub struct ParamQuery {
    #[serde(default)]
    param: String,
}

#[derive(Deserialize)]
pub struct FinishForm {
    revision: i64,
    #[serde(default)]
    reason: String,
}

/// `POST /schemes/{year}/draft/save`: the draft becomes the year's next version (it
/// must be a valid scheme, and the reason is required), and the draft is gone.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(year): Path<i32>,
    axum::Form(form): axum::Form<FinishForm>,
) -> Result<Response, WebError> {
    let version = schemes::save_draft(&state, &viewer, &Tr::new(lang), year, form.revision, &form.reason).await?;
    Ok(done(&format!("/schemes/{year}?version={version}"), "scheme_imported"))
}

/// `POST /schemes/{year}/draft/discard`: throws the draft away.
pub async fn discard(
    State(state): State<AppState>,
    viewer: Viewer,
    Language(lang): Language,
    Path(year): Path<i32>,
    axum::Form(form): axum::Form<FinishForm>,
) -> Result<Response, WebError> {
    schemes::discard_draft(&state, &viewer, &Tr::new(lang), year, form.revision).await?;
    Ok(done(&format!("/schemes/{year}"), "draft_discarded"))
}
