//! Schemes (考核方案) and their versions: a file (spec §2 JSON, or the scheme workbook)
//! stored as the next version of its year, a new year started from last year's, the
//! district template or a blank tree, publishing a version, and the scheme editor's
//! draft (草稿) — started from a version, changed one step at a time
//! (`core::scheme::edit`), saved as the next version with a reason, or discarded.
//!
//! The pages, the command line and the API come here; every step is one transaction
//! with its audit entry, and a new version rescores the year.

use jixiao_core::org::{Action, Target};
use jixiao_core::scheme::edit::{self, Edit, EditError};
use jixiao_core::scheme::{AssignRule, GroupDef, NodeDef, Scheme, SchemeFile, UnitDef};
use jixiao_store::{SchemeDraft, StoreError};
use serde_json::{Value, json};

use crate::App;
use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::xlsx::{self, sheet::read_upload};

/// Reads a scheme file's bytes — the scheme workbook (a zip), or spec §2 JSON — into
/// a valid scheme, or every problem.
pub async fn parse(bytes: Vec<u8>) -> Result<std::result::Result<Scheme, Vec<String>>> {
    if xlsx::is_xlsx(&bytes) {
        return read_upload(move || xlsx::scheme::parse(&bytes)).await;
    }
    Ok(std::str::from_utf8(&bytes)
        .map_err(|e| vec![format!("the file is neither UTF-8 JSON nor .xlsx: {e}")])
        .and_then(|t| Scheme::from_json(t).map_err(|e| e.to_string().lines().map(str::to_string).collect())))
}

fn count_indicators(file: &SchemeFile) -> usize {
    fn walk(nodes: &[NodeDef]) -> usize {
        nodes.iter().map(|n| n.children.as_deref().map_or(1, walk)).sum()
    }
    walk(&file.tree)
}

/// A store refusal a person can act on (an amendment without a reason, a stale
/// draft), as a refusal of the input.
fn refused(e: StoreError) -> AppError {
    match e {
        e @ (StoreError::Invalid(_) | StoreError::Conflict { .. }) => AppError::invalid(e.to_string()),
        other => other.into(),
    }
}

/// Stores `scheme` as the next version of its year (`reason` is required when the
/// year already has one) and rescores the year; the version's number.
pub async fn import_version(app: &App, actor: &Actor, tr: &Tr, scheme: &Scheme, reason: &str) -> Result<i32> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    crate::input::bounded(tr, "reason", reason.trim(), crate::input::REASON)?;
    let file = &scheme.file;
    let mut tx = app.store.begin(&actor.name).await?;
    let version = app.store.import_scheme(&mut tx, file, reason.trim()).await.map_err(refused)?;
    tx.audit(
        "scheme.import",
        "scheme",
        &format!("{}/v{version}", file.year),
        None,
        Some(json!({"name": file.name, "reason": reason.trim(), "indicators": count_indicators(file)})),
    )
    .await?;
    tx.commit().await?;
    app.store.refresh_scores(file.year).await?;
    Ok(version)
}

/// Marks a version as the published one.
pub async fn publish(app: &App, actor: &Actor, tr: &Tr, year: i32, version: i32) -> Result<()> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let info = app.store.scheme(year, Some(version)).await?.info;
    if info.published {
        return Err(AppError::invalid(tr.f("schemes.already_published", &[&year, &version])));
    }
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.set_scheme_published(&mut tx, year, version, true).await?;
    tx.audit(
        "scheme.publish",
        "scheme",
        &format!("{year}/v{version}"),
        Some(json!({"published": false})),
        Some(json!({"published": true})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The organisation as it is now, for a new scheme.
async fn organisation(app: &App) -> Result<(Vec<GroupDef>, Vec<UnitDef>)> {
    let groups: Vec<_> = app.store.groups().await?.into_iter().filter(|g| !g.disabled).collect();
    let units = app
        .store
        .units()
        .await?
        .into_iter()
        .filter(|u| !u.disabled && groups.iter().any(|g| g.id == u.group_id))
        .map(|u| UnitDef { id: u.id, name: u.name, group: u.group_id })
        .collect();
    Ok((groups.into_iter().map(|g| GroupDef { id: g.id, name: g.name }).collect(), units))
}

/// Where a new year's scheme starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Last year's latest version (units, targets and formulas carried over).
    Copy,
    /// The district template's "3+2" tree on this organisation.
    Template,
    /// The organisation with one category and one indicator to start from.
    Blank,
}

/// Starts `year`'s scheme as its version 1. A year that has a scheme is refused.
pub async fn new_year(app: &App, actor: &Actor, tr: &Tr, year: i32, from: Start) -> Result<i32> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    if !(2000..=2100).contains(&year) {
        return Err(AppError::invalid(tr.t("schemes.bad_year")));
    }
    if !app.store.scheme_versions(year).await?.is_empty() {
        return Err(AppError::Conflict(tr.f("schemes.year_exists", &[&year])));
    }
    let mut file = match from {
        Start::Copy => {
            let last =
                app.store.scheme(year - 1, None).await.map_err(|_| AppError::invalid(tr.f("schemes.no_last_year", &[&(year - 1)])))?;
            let mut file = last.file;
            file.name = file.name.replace(&(year - 1).to_string(), &year.to_string());
            file
        }
        Start::Template => {
            let (groups, units) = organisation(app).await?;
            if units.is_empty() {
                return Err(AppError::invalid(tr.t("schemes.no_units")));
            }
            let mut file = jixiao_core::generate::demo_district(year, 1, 0).0;
            let all: Vec<AssignRule> =
                groups.iter().map(|g| AssignRule { group: Some(g.id.clone()), unit: None, params: Default::default() }).collect();
            // Params the template sets only per group or unit become defaults (the
            // first rule's value), so every unit has them; the office adjusts targets.
            fn assign_all(nodes: &mut [NodeDef], all: &[AssignRule]) {
                for n in nodes {
                    match &mut n.children {
                        Some(children) => assign_all(children, all),
                        None => {
                            let rules = n.assign.take().unwrap_or_default();
                            let params = n.params.get_or_insert_with(Default::default);
                            for rule in &rules {
                                for (k, v) in &rule.params {
                                    params.entry(k.clone()).or_insert_with(|| v.clone());
                                }
                            }
                            if params.is_empty() {
                                n.params = None;
                            }
                            n.assign = Some(all.to_vec());
                        }
                    }
                }
            }
            assign_all(&mut file.tree, &all);
            file.groups = groups;
            file.units = units;
            file
        }
        Start::Blank => {
            let (groups, units) = organisation(app).await?;
            if units.is_empty() {
                return Err(AppError::invalid(tr.t("schemes.no_units")));
            }
            serde_json::from_value(json!({
                "year": year,
                "name": tr.f("schemes.blank_name", &[&year]),
                "groups": groups,
                "units": units,
                "grades": [{"name": "优秀", "min_score": 90, "quota": 0.3}, {"name": "良好", "min_score": 80}, {"name": "一般", "min_score": 60}, {"name": "较差"}],
                "tree": [{"id": "A", "name": "职能履行", "points": 100, "children": [
                    {"id": "A1", "name": "重点工作完成率", "points": 100, "fields": [{"key": "rate", "name": "完成率(%)", "type": "percent", "min": 0, "max": 100}],
                     "formula": "rate / 100 * points", "assign": groups.iter().map(|g| json!({"group": g.id})).collect::<Vec<_>>()}]}]
            }))
            .map_err(AppError::internal)?
        }
    };
    file.year = year;
    let scheme = Scheme::from_file(file)?;
    let mut tx = app.store.begin(&actor.name).await?;
    let version = app.store.import_scheme(&mut tx, &scheme.file, "").await?;
    let from = match from {
        Start::Copy => "copy",
        Start::Template => "template",
        Start::Blank => "blank",
    };
    tx.audit("scheme.create", "scheme", &format!("{year}/v{version}"), None, Some(json!({"name": scheme.name, "from": from}))).await?;
    tx.commit().await?;
    Ok(version)
}

// ---------------------------------------------------------------------------
// The editor's draft

/// The year's draft.
pub async fn draft(app: &App, actor: &Actor, year: i32) -> Result<SchemeDraft> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    app.store.scheme_draft(year).await?.ok_or(AppError::NotFound)
}

/// A stale revision, said so that the user knows to reload.
fn stale(tr: &Tr, e: StoreError) -> AppError {
    match e {
        StoreError::Conflict { current, .. } => AppError::Conflict(tr.f("draft.stale", &[&current.unwrap_or_default()])),
        other => other.into(),
    }
}

/// The text of a refused step.
fn edit_error(tr: &Tr, e: &EditError) -> String {
    match e {
        EditError::UnknownNode(id) => tr.f("draft.err_unknown_node", &[id]),
        EditError::DuplicateId(id) => tr.f("draft.err_duplicate", &[id]),
        EditError::BadId(id) => tr.f("draft.err_bad_id", &[id]),
        EditError::IntoOwnSubtree(id) => tr.f("draft.err_own_subtree", &[id]),
        EditError::IndicatorParent(id) => tr.f("draft.err_indicator_parent", &[id]),
        EditError::NotAnIndicator(id) => tr.f("draft.err_not_indicator", &[id]),
        EditError::UnknownUnit(id) => tr.f("draft.err_unknown_unit", &[id]),
        EditError::BadParam(p) => tr.f("draft.err_bad_param", &[p]),
        EditError::AtEdge(id) => tr.f("draft.err_at_edge", &[id]),
    }
}

/// The step as the audit trail records it.
fn describe(edit: &Edit) -> Value {
    match edit {
        Edit::Add { parent, node } => json!({"add": node.id, "parent": parent, "node": node}),
        Edit::Remove { id } => json!({"remove": id}),
        Edit::Move { id, parent, position } => json!({"move": id, "parent": parent, "position": position}),
        Edit::Shift { id, by } => json!({"shift": id, "by": by}),
        Edit::Update { id, node } => json!({"update": id, "node": node}),
        Edit::SetUnitParams { id, param, values } => json!({"unit_params": id, "param": param, "values": values}),
    }
}

/// What keeps a draft from being a valid scheme, as the engine says it.
pub fn issues(file: &SchemeFile) -> Vec<String> {
    match Scheme::from_file(file.clone()) {
        Ok(_) => Vec::new(),
        Err(e) => e.issues.iter().map(ToString::to_string).collect(),
    }
}

/// Starts the year's draft from `version`.
pub async fn start_draft(app: &App, actor: &Actor, year: i32, version: i32) -> Result<()> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let base = app.store.scheme(year, Some(version)).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.start_scheme_draft(&mut tx, version, &base.file).await?;
    tx.audit("scheme.draft_start", "scheme_draft", &year.to_string(), None, Some(json!({"base_version": version}))).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes one step on the draft seen at `revision` and stores it with its audit entry.
pub async fn step(app: &App, actor: &Actor, tr: &Tr, year: i32, revision: i64, edit: Edit) -> Result<()> {
    let mut draft = draft(app, actor, year).await?;
    if let Edit::Add { node, .. } | Edit::Update { node, .. } = &edit {
        crate::input::bounded(tr, "name", &node.name, crate::input::NAME)?;
        crate::input::bounded(tr, "formula", node.formula.as_deref().unwrap_or(""), crate::input::SCHEME_TEXT)?;
    }
    let what = describe(&edit);
    edit::apply(&mut draft.file, edit).map_err(|e| AppError::invalid(edit_error(tr, &e)))?;
    let mut tx = app.store.begin(&actor.name).await?;
    let revision = app.store.save_scheme_draft(&mut tx, &draft.file, revision).await.map_err(|e| stale(tr, e))?;
    tx.audit("scheme.draft_edit", "scheme_draft", &year.to_string(), None, Some(json!({"step": what, "revision": revision}))).await?;
    tx.commit().await?;
    Ok(())
}

/// The draft becomes the year's next version (it must be a valid scheme, and the
/// reason is required), the draft is gone, and the year is rescored; the version.
pub async fn save_draft(app: &App, actor: &Actor, tr: &Tr, year: i32, revision: i64, reason: &str) -> Result<i32> {
    let draft = draft(app, actor, year).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(tr.t("draft.err_no_reason")));
    }
    crate::input::bounded(tr, "reason", reason, crate::input::REASON)?;
    let problems = issues(&draft.file);
    if !problems.is_empty() {
        return Err(AppError::invalid(format!("{}\n{}", tr.t("draft.err_invalid"), problems.join("\n"))));
    }
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.delete_scheme_draft(&mut tx, year, revision).await.map_err(|e| stale(tr, e))?;
    let version = app.store.import_scheme(&mut tx, &draft.file, reason).await?;
    tx.audit(
        "scheme.import",
        "scheme",
        &format!("{year}/v{version}"),
        None,
        Some(json!({"name": draft.file.name, "reason": reason, "indicators": count_indicators(&draft.file),
                    "from_draft": {"base_version": draft.base_version, "revision": draft.revision}})),
    )
    .await?;
    tx.commit().await?;
    app.store.refresh_scores(year).await?;
    Ok(version)
}

/// Throws the draft away.
pub async fn discard_draft(app: &App, actor: &Actor, tr: &Tr, year: i32, revision: i64) -> Result<()> {
    let draft = draft(app, actor, year).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    app.store.delete_scheme_draft(&mut tx, year, revision).await.map_err(|e| stale(tr, e))?;
    tx.audit(
        "scheme.draft_discard",
        "scheme_draft",
        &year.to_string(),
        Some(json!({"base_version": draft.base_version, "revision": draft.revision})),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The units an indicator's rules assign (by group or by unit), in unit order: the
/// param names, and for each unit (id, name, its own value of each param as text).
pub fn unit_targets(file: &SchemeFile, node: &NodeDef) -> (Vec<String>, Vec<(String, String, Vec<String>)>) {
    let rules = node.assign.as_deref().unwrap_or_default();
    let mut names: Vec<String> = node.params.iter().flatten().map(|(k, _)| k.clone()).collect();
    for r in rules {
        for k in r.params.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let rows = file
        .units
        .iter()
        .filter(|u| rules.iter().any(|r| r.group.as_deref() == Some(&u.group) || r.unit.as_deref() == Some(&u.id)))
        .map(|u| {
            let own = |k: &str| {
                rules
                    .iter()
                    .rev()
                    .filter(|r| r.unit.as_deref() == Some(&u.id))
                    .find_map(|r| r.params.get(k))
                    .map(ToString::to_string)
                    .unwrap_or_default()
            };
            (u.id.clone(), u.name.clone(), names.iter().map(|k| own(k)).collect())
        })
        .collect();
    (names, rows)
}

/// The per-unit targets workbook of indicator `id`'s `param` in the year's draft: the
/// assigned units with their own values, to fill in Excel and upload back.
pub async fn targets_template(app: &App, actor: &Actor, tr: &Tr, year: i32, id: &str, param: &str) -> Result<Vec<u8>> {
    let draft = draft(app, actor, year).await?;
    let node = edit::find(&draft.file.tree, id).ok_or(AppError::NotFound)?;
    let (names, rows) = unit_targets(&draft.file, node);
    let column = names.iter().position(|n| n == param);
    xlsx::targets::write(tr, param, &rows, column).map_err(AppError::internal)
}

/// Per-unit targets read from an uploaded workbook (`xlsx::targets`).
pub async fn targets_from_workbook(tr: &Tr, bytes: Vec<u8>) -> Result<Vec<(String, Option<f64>)>> {
    let tr = *tr;
    read_upload(move || xlsx::targets::read(&tr, &bytes)).await?.map_err(|errors| AppError::invalid(errors.join("\n")))
}
