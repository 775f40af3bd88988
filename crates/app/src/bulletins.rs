//! Bulletins (通报): who sees which bulletin and what of it, and the office's steps —
//! draft a period's bulletin, publish it (its content frozen), revise it (a new
//! numbered revision from the current scores, the old one unchanged), make it public.
//! The page, its print view, its workbook and `/api/v1/bulletins` all ask here.
//!
//! Who sees what:
//! - a draft: the office only; anyone else is told it does not exist;
//! - a published bulletin: everyone signed in; visitors only if it is public;
//! - the ranking (totals, ranks, grades, top-level scores) is the whole point of a
//!   bulletin and shown to whoever may open it; the detail — every category and
//!   indicator score, and the ledger — only for the units in the actor's data scope
//!   (a unit's users: their own unit; the office and leaders: all; visitors: none).

use std::collections::BTreeSet;

use jixiao_core::org::{Action, Grant, Role, Target, allows};
use jixiao_store::{Bulletin, BulletinContent, BulletinState};
use serde_json::json;

use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::text::{number, period_label};
use crate::{App, Clock};

/// A bulletin the actor may open, with its content (frozen, or live for a draft).
pub struct Opened {
    pub bulletin: Bulletin,
    pub content: BulletinContent,
}

fn is_office(actor: Option<&Actor>) -> bool {
    actor.is_some_and(|a| a.can(Action::ManageSchemes, Target::Nothing))
}

/// Whether `actor` (`None`: a visitor) may open `bulletin`: drafts for the office only
/// (anyone else: not found, as if it did not exist), a published one for everyone
/// signed in, and for visitors once public.
pub fn check_access(bulletin: &Bulletin, actor: Option<&Actor>) -> Result<()> {
    match (bulletin.state, actor) {
        (BulletinState::Draft, _) if !is_office(actor) => Err(AppError::NotFound),
        (BulletinState::Published, None) if !bulletin.public => Err(AppError::Unauthenticated),
        _ => Ok(()),
    }
}

/// The bulletins `actor` may see, newest number first: every revision for the
/// office, published ones for everyone signed in, public ones for visitors.
pub async fn visible(app: &App, actor: Option<&Actor>) -> Result<Vec<Bulletin>> {
    Ok(app.store.bulletins().await?.into_iter().filter(|b| check_access(b, actor).is_ok()).collect())
}

/// Opens bulletin `id` for `actor` (see `check_access`).
pub async fn open(app: &App, actor: Option<&Actor>, id: i64) -> Result<Opened> {
    let bulletin = app.store.bulletin(id).await?;
    check_access(&bulletin, actor)?;
    let content = match &bulletin.content {
        Some(c) => c.clone(),
        None => app.store.bulletin_content(&bulletin.period).await?,
    };
    Ok(Opened { bulletin, content })
}

/// The units whose detail (every score, the ledger) the actor sees: those in the
/// scope of the actor's grants other than an assessor's (which spans units for its
/// indicators only), plus an assessor's own unit. Visitors see no detail.
pub fn detail_units(actor: Option<&Actor>, content: &BulletinContent) -> BTreeSet<String> {
    let Some(actor) = actor else { return BTreeSet::new() };
    let grants: Vec<Grant> = actor.grants.iter().filter(|g| g.role != Role::Assessor).cloned().collect();
    let assessor = actor.grants.iter().any(|g| g.role == Role::Assessor);
    content
        .units
        .iter()
        .filter(|u| allows(&grants, Action::ViewUnit, Target::Unit(&u.id)) || (assessor && actor.unit_id.as_deref() == Some(u.id.as_str())))
        .map(|u| u.id.clone())
        .collect()
}

/// What decides the detail an actor sees (`detail_units`): the grants other than an
/// assessor's, and an assessor's own unit — a key for caching what was built for it.
pub fn detail_key(actor: Option<&Actor>) -> String {
    let Some(a) = actor else { return "visitor".into() };
    let mut parts: Vec<String> =
        a.grants.iter().filter(|g| g.role != Role::Assessor).map(|g| format!("{}:{}", g.role.code(), g.scope.to_json())).collect();
    parts.sort();
    if a.grants.iter().any(|g| g.role == Role::Assessor) {
        parts.push(format!("assessor:{}", a.unit_id.as_deref().unwrap_or("")));
    }
    parts.join(";")
}

/// Detail tables have at most this many score columns, so that each fits an A4 page.
const COLUMNS_PER_TABLE: usize = 10;

pub struct RankLine {
    pub unit_id: String,
    pub unit_name: String,
    pub rank: usize,
    pub total: String,
    pub grade: String,
    /// Scores of the top-level nodes, in `View::top` order.
    pub top: Vec<String>,
    /// One of the viewer's units (highlighted).
    pub mine: bool,
    /// The viewer may drill down into the unit (its numbers are links).
    pub link: bool,
}

pub struct GroupBlock {
    pub id: String,
    pub name: String,
    pub rows: Vec<RankLine>,
}

pub struct Column {
    pub id: String,
    pub name: String,
    pub points: String,
    pub category: bool,
}

pub struct DetailRow {
    pub unit_id: String,
    pub unit_name: String,
    /// (score text, status) per column; status `ok`, `missing`, `pending`, `error`,
    /// or `none` for a node the unit is not assessed on.
    pub cells: Vec<(String, String)>,
}

pub struct DetailTable {
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<DetailRow>,
}

pub struct LedgerLine {
    pub unit_id: String,
    pub unit_name: String,
    /// The indicator's id and `id name`.
    pub indicator_id: String,
    pub indicator: String,
    pub kind: String,
    pub date: String,
    pub points: String,
    pub note: String,
}

pub struct FormulaLine {
    pub id: String,
    pub name: String,
    pub depth: usize,
    pub kind: String,
    pub points: String,
    pub formula: String,
    pub window: String,
    pub frequency: String,
}

pub struct Revision {
    pub id: i64,
    pub revision: i64,
    pub state: &'static str,
    pub current: bool,
}

/// The section headings, numbered in the order they are shown.
pub struct Headings {
    pub ranking: String,
    pub detail: String,
    /// Empty when the ledger is not shown.
    pub ledger: String,
    pub formulas: String,
}

impl Headings {
    fn new(tr: &Tr, with_ledger: bool) -> Headings {
        let numerals: Vec<String> = tr.t("bulletin.numerals").split(',').map(str::to_string).collect();
        let mut shown = 0;
        let mut heading = |key: &str| {
            let numeral = numerals.get(shown).cloned().unwrap_or_else(|| (shown + 1).to_string());
            shown += 1;
            tr.f("bulletin.section", &[&numeral, &tr.t(key)])
        };
        let ranking = heading("bulletin.ranking");
        let detail = heading("bulletin.detail");
        let ledger = if with_ledger { heading("bulletin.ledger") } else { String::new() };
        Headings { ranking, detail, ledger, formulas: heading("bulletin.formulas") }
    }
}

/// What every view of a bulletin shows (page, print, workbook).
pub struct View {
    /// `2027-03`: the period its numbers drill down into (`/scores/{period}/…`).
    pub period: String,
    pub number: String,
    pub revision: i64,
    pub title: String,
    pub period_label: String,
    pub state: &'static str,
    pub note: String,
    pub scheme: String,
    /// The issuing body (setting `bulletin.issuer`), which also signs it.
    pub issuer: String,
    /// When it was published, signed by the issuing body (who pressed the button is
    /// in the audit log).
    pub published: String,
    pub computed_at: String,
    /// The top-level nodes: (id, name).
    pub top: Vec<(String, String)>,
    pub groups: Vec<GroupBlock>,
    pub tables: Vec<DetailTable>,
    pub ledger: Vec<LedgerLine>,
    pub formulas: Vec<FormulaLine>,
    pub headings: Headings,
    /// The viewer sees every unit's detail.
    pub detail_all: bool,
    pub detail_none: bool,
}

fn score_text(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), number)
}

impl View {
    pub fn build(tr: &Tr, clock: &Clock, opened: &Opened, detail: &BTreeSet<String>) -> View {
        let (b, c) = (&opened.bulletin, &opened.content);
        let unit_name = |id: &str| c.units.iter().find(|u| u.id == id).map_or(id.to_string(), |u| u.name.clone());
        let top: Vec<(String, String)> = c.nodes.iter().filter(|n| n.depth == 0).map(|n| (n.id.clone(), n.name.clone())).collect();
        let groups = c
            .groups
            .iter()
            .map(|g| GroupBlock {
                id: g.id.clone(),
                name: g.name.clone(),
                rows: c
                    .results
                    .iter()
                    .filter(|r| r.group == g.id)
                    .map(|r| RankLine {
                        unit_id: r.unit.clone(),
                        unit_name: unit_name(&r.unit),
                        rank: r.rank,
                        total: number(r.total),
                        grade: r.grade.clone().unwrap_or_else(|| "—".into()),
                        top: top.iter().map(|(id, _)| score_text(r.scores.get(id).copied())).collect(),
                        mine: detail.contains(&r.unit) && detail.len() < c.units.len(),
                        link: detail.contains(&r.unit),
                    })
                    .collect(),
            })
            .filter(|g| !g.rows.is_empty())
            .collect();
        let shown: Vec<_> = c.results.iter().filter(|r| detail.contains(&r.unit)).collect();
        let mut tables = Vec::new();
        if !shown.is_empty() {
            for (ti, (tid, tname)) in top.iter().enumerate() {
                // The top-level node and everything below it, in tree order.
                let start = c.nodes.iter().position(|n| &n.id == tid).unwrap_or(0);
                let end = c.nodes.iter().enumerate().skip(start + 1).find(|(_, n)| n.depth == 0).map_or(c.nodes.len(), |(i, _)| i);
                let nodes = &c.nodes[start..end];
                let chunks: Vec<_> = nodes.chunks(COLUMNS_PER_TABLE).collect();
                for (ci, chunk) in chunks.iter().enumerate() {
                    let caption = if chunks.len() > 1 {
                        format!("{}. {tname} ({}/{})", ti + 1, ci + 1, chunks.len())
                    } else {
                        format!("{}. {tname}", ti + 1)
                    };
                    tables.push(DetailTable {
                        caption,
                        columns: chunk
                            .iter()
                            .map(|n| Column {
                                id: n.id.clone(),
                                name: n.name.clone(),
                                points: n.points.map(number).unwrap_or_default(),
                                category: !n.is_indicator(),
                            })
                            .collect(),
                        rows: shown
                            .iter()
                            .map(|r| DetailRow {
                                unit_id: r.unit.clone(),
                                unit_name: unit_name(&r.unit),
                                cells: chunk
                                    .iter()
                                    .map(|n| {
                                        let st = r
                                            .status
                                            .get(&n.id)
                                            .cloned()
                                            .unwrap_or_else(|| if r.scores.contains_key(&n.id) { "ok".into() } else { "none".into() });
                                        (score_text(r.scores.get(&n.id).copied()), st)
                                    })
                                    .collect(),
                            })
                            .collect(),
                    });
                }
            }
        }
        let node_name = |id: &str| c.nodes.iter().find(|n| n.id == id).map_or(id.to_string(), |n| format!("{id} {}", n.name));
        let ledger = c
            .ledger
            .iter()
            .filter(|l| detail.contains(&l.unit))
            .map(|l| LedgerLine {
                unit_id: l.unit.clone(),
                unit_name: unit_name(&l.unit),
                indicator_id: l.indicator.clone(),
                indicator: node_name(&l.indicator),
                kind: tr.t(&format!("kind.{}", l.kind)).to_string(),
                date: l.date.clone(),
                points: number(l.points),
                note: l.note.clone().unwrap_or_default(),
            })
            .collect();
        let formulas = c
            .nodes
            .iter()
            .map(|n| FormulaLine {
                id: n.id.clone(),
                name: n.name.clone(),
                depth: n.depth,
                kind: tr.t(&format!("kind.{}", n.kind)).to_string(),
                points: match (n.points, n.cap) {
                    (Some(p), _) => number(p),
                    (None, Some(cap)) => format!("≤ {}", number(cap)),
                    _ => String::new(),
                },
                formula: n.formula.clone().unwrap_or_default(),
                window: n.window.as_deref().map(|w| tr.t(&format!("bulletin.window_{w}")).to_string()).unwrap_or_default(),
                frequency: n.frequency.as_deref().map(|f| tr.t(&format!("frequency.{f}")).to_string()).unwrap_or_default(),
            })
            .collect();
        View {
            period: b.period.clone(),
            number: b.number_text(),
            revision: b.revision,
            title: b.title.clone(),
            period_label: period_label(tr, &b.period),
            state: b.state.as_str(),
            note: b.note.clone(),
            scheme: format!("{} (v{})", c.scheme_name, c.scheme_version),
            issuer: c.issuer.clone(),
            published: b.published_at.as_ref().map(|at| format!("{} · {}", clock.short(at), c.issuer)).unwrap_or_default(),
            computed_at: clock.short(&c.computed_at),
            top,
            groups,
            tables,
            ledger,
            formulas,
            headings: Headings::new(tr, !detail.is_empty()),
            detail_all: detail.len() == c.units.len(),
            detail_none: detail.is_empty(),
        }
    }
}

/// The revisions of the same number the actor may open, oldest first.
pub async fn revisions(app: &App, actor: Option<&Actor>, b: &Bulletin) -> Result<Vec<Revision>> {
    let mut list: Vec<Revision> = visible(app, actor)
        .await?
        .into_iter()
        .filter(|o| o.year == b.year && o.number == b.number)
        .map(|o| Revision { id: o.id, revision: o.revision, state: o.state.as_str(), current: o.id == b.id })
        .collect();
    list.sort_by_key(|r| r.revision);
    Ok(list)
}

pub struct ListRow {
    pub id: i64,
    pub number: String,
    pub revision: i64,
    pub title: String,
    pub period: String,
    pub state: &'static str,
    pub public: bool,
    pub published: String,
}

impl ListRow {
    pub fn of(tr: &Tr, clock: &Clock, b: &Bulletin) -> ListRow {
        ListRow {
            id: b.id,
            number: b.number_text(),
            revision: b.revision,
            title: b.title.clone(),
            period: period_label(tr, &b.period),
            state: b.state.as_str(),
            public: b.public,
            published: b.published_at.as_deref().map(|t| clock.short(t)).unwrap_or_default(),
        }
    }
}

/// What audit entries record of a bulletin.
fn summary(b: &Bulletin) -> serde_json::Value {
    json!({
        "number": b.number_text(), "revision": b.revision, "period": b.period, "title": b.title,
        "scheme_version": b.scheme_version, "state": b.state.as_str(), "public": b.public, "note": b.note,
    })
}

/// Drafts the bulletin of `period` (`2027-03`, `2027-Q1`, `2027`); an empty title gives
/// the default one in `tr`'s language.
pub async fn create(app: &App, actor: &Actor, tr: &Tr, period: &str, title: &str) -> Result<Bulletin> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    crate::input::bounded(tr, "title", title.trim(), crate::input::NAME)?;
    let period = jixiao_store::parse_period(period)?;
    let title = match title.trim() {
        "" => {
            let name = app.store.scheme(period.year(), None).await.map(|s| s.file.name).unwrap_or_default();
            tr.f("bulletin.default_title", &[&period_label(tr, &period.to_string()), &name])
        }
        t => t.to_string(),
    };
    let mut tx = app.store.begin(&actor.name).await?;
    let b = app.store.create_bulletin(&mut tx, &period.to_string(), &title).await?;
    tx.audit("bulletin.create", "bulletin", &b.id.to_string(), None, Some(summary(&b))).await?;
    tx.commit().await?;
    Ok(b)
}

/// Freezes a draft.
pub async fn publish(app: &App, actor: &Actor, id: i64) -> Result<Bulletin> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let before = app.store.bulletin(id).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    let b = app.store.publish_bulletin(&mut tx, id).await?;
    let content = b.content.as_ref().map(|c| json!({"units": c.results.len(), "records": c.ledger.len(), "computed_at": c.computed_at}));
    let mut after = summary(&b);
    after["content"] = content.unwrap_or_default();
    tx.audit("bulletin.publish", "bulletin", &id.to_string(), Some(summary(&before)), Some(after)).await?;
    tx.commit().await?;
    Ok(b)
}

/// The next revision of a published bulletin, as a draft, with the reason.
pub async fn revise(app: &App, actor: &Actor, tr: &Tr, id: i64, note: &str) -> Result<Bulletin> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    crate::input::bounded(tr, "reason", note.trim(), crate::input::REASON)?;
    let mut tx = app.store.begin(&actor.name).await?;
    let b = app.store.revise_bulletin(&mut tx, id, note).await?;
    let mut after = summary(&b);
    after["revises"] = json!(id);
    tx.audit("bulletin.revise", "bulletin", &b.id.to_string(), None, Some(after)).await?;
    tx.commit().await?;
    Ok(b)
}

/// Shows a published bulletin on the public front page, or hides it.
pub async fn set_public(app: &App, actor: &Actor, id: i64, public: bool) -> Result<Bulletin> {
    actor.require(Action::ManageSchemes, Target::Nothing)?;
    let before = app.store.bulletin(id).await?;
    let mut tx = app.store.begin(&actor.name).await?;
    let b = app.store.set_bulletin_public(&mut tx, id, public).await?;
    tx.audit("bulletin.public", "bulletin", &id.to_string(), Some(json!(before.public)), Some(json!(b.public))).await?;
    tx.commit().await?;
    Ok(b)
}
