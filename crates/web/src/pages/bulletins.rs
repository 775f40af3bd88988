//! Bulletins (通报) in the browser: the list (`/bulletins`), one bulletin's page with
//! the ranking of every group, every category and indicator score per unit, the
//! ledger of bonus and deduction records and the formulas used; its print view with
//! the red header of a government notice (A4, no JavaScript); its workbook; and the
//! office's steps — draft a period's bulletin, publish it (frozen), revise it
//! (a new numbered revision from the current scores) and make it public.
//!
//! Who sees what (checked here, on every route, besides the route table's rule):
//! - a draft: the office only; anyone else gets 404, as if it did not exist;
//! - a published bulletin: everyone signed in; visitors only if it is public;
//! - the ranking (totals, ranks, grades, top-level scores) is the whole point of a
//!   bulletin and shown to whoever may open it; the detail — every category and
//!   indicator score, and the ledger — only for the units in the viewer's data scope
//!   (a unit's users: their own unit; the office and leaders: all; visitors: none).

use std::collections::BTreeSet;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jixiao_core::org::{Action, Grant, Role, Target, allows};
use jixiao_core::period::Period;
use jixiao_store::{Bulletin, BulletinContent, BulletinState};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::Viewer;
use crate::error::WebError;
use crate::i18n::{Lang, Tr};
use crate::pages::admin::done;
use crate::pages::home::short_time;
use crate::pages::render;
use crate::view::{Chrome, number};

/// Detail tables have at most this many score columns, so that each fits an A4 page.
const COLUMNS_PER_TABLE: usize = 10;

/// A bulletin the viewer may open, with its content (frozen, or live for a draft).
pub(crate) struct Opened {
    pub bulletin: Bulletin,
    pub content: BulletinContent,
}

/// Opens bulletin `id` for `viewer`: drafts for the office only (404 for anyone
/// else), published ones for everyone signed in, public ones for visitors too.
pub(crate) async fn open(state: &AppState, viewer: Option<&Viewer>, id: &str) -> Result<Opened, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let bulletin = state.store.bulletin(id).await?;
    check_access(&bulletin, viewer)?;
    let content = match &bulletin.content {
        Some(c) => c.clone(),
        None => state.store.bulletin_content(&bulletin.period).await?,
    };
    Ok(Opened { bulletin, content })
}

/// Drafts are the office's (anyone else: 404, as if it did not exist); a published
/// bulletin is for everyone signed in, and for visitors once public.
fn check_access(bulletin: &Bulletin, viewer: Option<&Viewer>) -> Result<(), WebError> {
    let office = viewer.is_some_and(|v| v.can(Action::ManageSchemes, Target::Nothing));
    match (bulletin.state, viewer) {
        (BulletinState::Draft, _) if !office => Err(WebError::NotFound),
        (BulletinState::Published, None) if !bulletin.public => Err(WebError::Unauthenticated),
        _ => Ok(()),
    }
}

/// The units whose detail (every score, the ledger) the viewer sees: those in the
/// scope of the viewer's grants other than an assessor's (which spans units for its
/// indicators only), plus an assessor's own unit. Visitors see no detail.
pub(crate) fn detail_units(viewer: Option<&Viewer>, content: &BulletinContent) -> BTreeSet<String> {
    let Some(viewer) = viewer else { return BTreeSet::new() };
    let grants: Vec<Grant> = viewer.grants.iter().filter(|g| g.role != Role::Assessor).cloned().collect();
    let assessor = viewer.grants.iter().any(|g| g.role == Role::Assessor);
    content
        .units
        .iter()
        .filter(|u| {
            allows(&grants, Action::ViewUnit, Target::Unit(&u.id)) || (assessor && viewer.unit_id.as_deref() == Some(u.id.as_str()))
        })
        .map(|u| u.id.clone())
        .collect()
}

/// `2027-03` → 2027年3月 / March 2027 and so on.
pub(crate) fn period_label(tr: &Tr, period: &str) -> String {
    match period.parse::<Period>() {
        Ok(Period::Month(m)) => tr.f("bulletin.period_month", &[&m.year, &m.month]),
        Ok(Period::Quarter { year, quarter }) => tr.f("bulletin.period_quarter", &[&year, &quarter]),
        Ok(Period::Year(year)) => tr.f("bulletin.period_year", &[&year]),
        Err(_) => period.to_string(),
    }
}

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
    pub issuer: String,
    pub published: String,
    pub computed_at: String,
    /// The top-level nodes: (id, name).
    pub top: Vec<(String, String)>,
    pub groups: Vec<GroupBlock>,
    pub tables: Vec<DetailTable>,
    pub ledger: Vec<LedgerLine>,
    pub formulas: Vec<FormulaLine>,
    /// The viewer sees every unit's detail.
    pub detail_all: bool,
    pub detail_none: bool,
}

fn score_text(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), number)
}

impl View {
    pub fn build(tr: &Tr, opened: &Opened, detail: &BTreeSet<String>) -> View {
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
            published: match (&b.published_at, &b.published_by) {
                (Some(at), Some(by)) => format!("{} · {by}", short_time(at)),
                _ => String::new(),
            },
            computed_at: short_time(&c.computed_at),
            top,
            groups,
            tables,
            ledger,
            formulas,
            detail_all: detail.len() == c.units.len(),
            detail_none: detail.is_empty(),
        }
    }
}

/// The revisions of the same number the viewer may open, oldest first.
async fn revisions_of(state: &AppState, viewer: Option<&Viewer>, b: &Bulletin) -> Result<Vec<Revision>, WebError> {
    let office = viewer.is_some_and(|v| v.can(Action::ManageSchemes, Target::Nothing));
    let mut list: Vec<Revision> = state
        .store
        .bulletins()
        .await?
        .into_iter()
        .filter(|o| o.year == b.year && o.number == b.number)
        .filter(|o| office || (o.state == BulletinState::Published && (viewer.is_some() || o.public)))
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
    pub fn of(tr: &Tr, b: &Bulletin) -> ListRow {
        ListRow {
            id: b.id,
            number: b.number_text(),
            revision: b.revision,
            title: b.title.clone(),
            period: period_label(tr, &b.period),
            state: b.state.as_str(),
            public: b.public,
            published: b.published_at.as_deref().map(short_time).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "bulletins.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    can_manage: bool,
    default_period: String,
}

#[derive(Deserialize, Default)]
pub struct FlashQuery {
    flash: Option<String>,
}

/// `GET /bulletins`: the office sees every revision, drafts included, and drafts a
/// new one; everyone else the published ones.
pub async fn list(State(state): State<AppState>, viewer: Viewer, lang: Lang, Query(q): Query<FlashQuery>) -> Result<Response, WebError> {
    let chrome = Chrome::new(&state, Some(&viewer), lang, "/bulletins", "bulletin.list_title", vec![], q.flash.as_deref()).await;
    let can_manage = viewer.can(Action::ManageSchemes, Target::Nothing);
    let rows = state
        .store
        .bulletins()
        .await?
        .iter()
        .filter(|b| can_manage || b.state == BulletinState::Published)
        .map(|b| ListRow::of(&chrome.tr, b))
        .collect();
    let default_period = default_period(&state).await?;
    Ok(render(ListPage { chrome, rows, can_manage, default_period })?.into_response())
}

/// The month due now (`collection::due_month`, as the dashboard and the forms): the
/// latest month whose reports are in.
async fn default_period(state: &AppState) -> Result<String, WebError> {
    Ok(crate::collection::due_month(state).await?.to_string())
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    title: String,
}

/// `POST /bulletins`: drafts the bulletin of a period (the office).
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    lang: Lang,
    axum::Form(form): axum::Form<CreateForm>,
) -> Result<Response, WebError> {
    let tr = Tr::new(lang);
    let period = jixiao_store::parse_period(&form.period)?;
    let title = match form.title.trim() {
        "" => {
            let name = state.store.scheme(period.year(), None).await.map(|s| s.file.name).unwrap_or_default();
            tr.f("bulletin.default_title", &[&period_label(&tr, &period.to_string()), &name])
        }
        t => t.to_string(),
    };
    let mut tx = state.store.begin(&viewer.actor).await?;
    let b = state.store.create_bulletin(&mut tx, &period.to_string(), &title).await?;
    tx.audit("bulletin.create", "bulletin", &b.id.to_string(), None, Some(summary(&b))).await?;
    tx.commit().await?;
    Ok(done(&format!("/bulletins/{}", b.id), "bulletin_created"))
}

/// What audit entries record of a bulletin.
fn summary(b: &Bulletin) -> serde_json::Value {
    json!({
        "number": b.number_text(), "revision": b.revision, "period": b.period, "title": b.title,
        "scheme_version": b.scheme_version, "state": b.state.as_str(), "public": b.public, "note": b.note,
    })
}

/// The content of a bulletin rendered (`bulletin_body.html`), shared by the page and
/// the print view.
#[derive(Template)]
#[template(path = "bulletin_body.html")]
struct Body<'a> {
    tr: Tr,
    v: &'a View,
}

/// A bulletin's view and its rendered content.
pub(crate) struct Rendered {
    v: View,
    body: String,
}

/// Published bulletins rendered, by (id, language, a key of whose detail is shown):
/// a published bulletin's content is frozen, so its rendering is too; the header
/// (state, public flag, revisions) is read fresh on every request. Bounded: cleared
/// when it holds 256 renderings.
#[derive(Default)]
pub(crate) struct RenderedCache {
    pages: std::sync::Mutex<std::collections::HashMap<(i64, Lang, u64), Arc<Rendered>>>,
}

/// What decides the detail a viewer sees (`detail_units`): the grants other than an
/// assessor's, and an assessor's own unit.
fn detail_key(viewer: Option<&Viewer>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if let Some(v) = viewer {
        for g in v.grants.iter().filter(|g| g.role != Role::Assessor) {
            (g.role.code(), g.scope.to_json().to_string()).hash(&mut h);
        }
        if v.grants.iter().any(|g| g.role == Role::Assessor) {
            ("assessor", v.unit_id.as_deref()).hash(&mut h);
        }
    } else {
        "visitor".hash(&mut h);
    }
    h.finish()
}

/// Bulletin `id` rendered for `viewer`, with its current header: from the cache for a
/// published bulletin, else built (and cached when published). The same access
/// rules as `open`.
async fn rendered(state: &AppState, viewer: Option<&Viewer>, lang: Lang, id: &str) -> Result<(Bulletin, Arc<Rendered>), WebError> {
    let number: i64 = id.parse().map_err(|_| WebError::NotFound)?;
    let header = state.store.bulletin_header(number).await?;
    let key = (number, lang, detail_key(viewer));
    let poisoned = || WebError::Internal("bulletin cache poisoned".into());
    if header.state == BulletinState::Published {
        check_access(&header, viewer)?;
        if let Some(r) = state.bulletin_cache.pages.lock().map_err(|_| poisoned())?.get(&key) {
            return Ok((header, r.clone()));
        }
    }
    let opened = open(state, viewer, id).await?;
    let detail = detail_units(viewer, &opened.content);
    let tr = Tr::new(lang);
    let v = View::build(&tr, &opened, &detail);
    let body = Body { tr, v: &v }.render().map_err(|e| WebError::Internal(e.to_string()))?;
    let r = Arc::new(Rendered { v, body });
    if opened.bulletin.state == BulletinState::Published {
        let mut pages = state.bulletin_cache.pages.lock().map_err(|_| poisoned())?;
        if pages.len() >= 256 {
            pages.clear();
        }
        pages.insert(key, r.clone());
    }
    Ok((opened.bulletin, r))
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinPage {
    chrome: Chrome,
    tr: Tr,
    v: Header,
    body: Arc<Rendered>,
    revisions: Vec<Revision>,
    can_manage: bool,
}

/// What the page shows above the content, from the current row (a cached rendering's
/// header may be older: the public flag changes).
struct Header {
    id: i64,
    number: String,
    title: String,
    revision: i64,
    state: &'static str,
    public: bool,
    period_label: String,
    scheme: String,
    published: String,
    computed_at: String,
    note: String,
}

/// `GET /bulletins/{id}`: the bulletin (a draft computed live from the stored scores).
pub async fn show(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    lang: Lang,
    Path(id): Path<String>,
    Query(q): Query<FlashQuery>,
) -> Result<Response, WebError> {
    let (b, r) = rendered(&state, viewer.as_ref(), lang, &id).await?;
    let revisions = revisions_of(&state, viewer.as_ref(), &b).await?;
    let crumbs = vec![(Tr::new(lang).t("bulletin.list_title").to_string(), "/bulletins".to_string())];
    let here = format!("/bulletins/{}", b.id);
    let mut chrome = Chrome::new(
        &state,
        viewer.as_ref(),
        lang,
        &here,
        "bulletin.title",
        if viewer.is_some() { crumbs } else { vec![] },
        q.flash.as_deref(),
    )
    .await;
    let v = Header {
        id: b.id,
        number: r.v.number.clone(),
        title: r.v.title.clone(),
        revision: b.revision,
        state: b.state.as_str(),
        public: b.public,
        period_label: r.v.period_label.clone(),
        scheme: r.v.scheme.clone(),
        published: r.v.published.clone(),
        computed_at: r.v.computed_at.clone(),
        note: b.note.clone(),
    };
    chrome.title = format!("{} {}", v.number, v.title);
    if let Some(last) = chrome.crumbs.last_mut() {
        last.0 = v.number.clone();
    }
    let can_manage = viewer.as_ref().is_some_and(|v| v.can(Action::ManageSchemes, Target::Nothing));
    let tr = chrome.tr;
    Ok(render(BulletinPage { chrome, tr, v, body: r, revisions, can_manage })?.into_response())
}

#[derive(Template)]
#[template(path = "bulletin_print.html")]
struct PrintPage {
    tr: Tr,
    v: Arc<Rendered>,
}

/// `GET /bulletins/{id}/print`: the notice on A4 with its red header, for printing.
pub async fn print(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    lang: Lang,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (_, v) = rendered(&state, viewer.as_ref(), lang, &id).await?;
    Ok(render(PrintPage { tr: Tr::new(lang), v })?.into_response())
}

/// `GET /bulletins/{id}/export.xlsx`: the bulletin as a workbook (what the viewer may see).
pub async fn export_xlsx(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    lang: Lang,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let opened = open(&state, viewer.as_ref(), &id).await?;
    let detail = detail_units(viewer.as_ref(), &opened.content);
    let tr = Tr::new(lang);
    let bytes = crate::bulletin_workbook::write(&tr, &opened, &detail).map_err(|e| WebError::Internal(e.to_string()))?;
    let b = &opened.bulletin;
    let name = format!("attachment; filename=\"bulletin-{}-{}-r{}.xlsx\"", b.year, b.number, b.revision);
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

fn parse_id(id: &str) -> Result<i64, WebError> {
    id.parse().map_err(|_| WebError::NotFound)
}

/// `POST /bulletins/{id}/publish`: freezes a draft.
pub async fn publish(State(state): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let before = state.store.bulletin(id).await?;
    let mut tx = state.store.begin(&viewer.actor).await?;
    let b = state.store.publish_bulletin(&mut tx, id).await?;
    let content = b.content.as_ref().map(|c| json!({"units": c.results.len(), "records": c.ledger.len(), "computed_at": c.computed_at}));
    let mut after = summary(&b);
    after["content"] = content.unwrap_or_default();
    tx.audit("bulletin.publish", "bulletin", &id.to_string(), Some(summary(&before)), Some(after)).await?;
    tx.commit().await?;
    Ok(done(&format!("/bulletins/{id}"), "bulletin_published"))
}

#[derive(Deserialize)]
pub struct ReviseForm {
    #[serde(default)]
    note: String,
}

/// `POST /bulletins/{id}/revise`: the next revision of a published bulletin, as a draft.
pub async fn revise(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ReviseForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let mut tx = state.store.begin(&viewer.actor).await?;
    let b = state.store.revise_bulletin(&mut tx, id, &form.note).await?;
    let mut after = summary(&b);
    after["revises"] = json!(id);
    tx.audit("bulletin.revise", "bulletin", &b.id.to_string(), None, Some(after)).await?;
    tx.commit().await?;
    Ok(done(&format!("/bulletins/{}", b.id), "bulletin_revised"))
}

#[derive(Deserialize)]
pub struct PublicForm {
    #[serde(default)]
    public: String,
}

/// `POST /bulletins/{id}/public`: shows (`public=1`) or hides (`public=0`) a published
/// bulletin on the public front page.
pub async fn set_public(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<PublicForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let public = match form.public.as_str() {
        "1" => true,
        "0" => false,
        other => return Err(WebError::invalid(format!("public must be 1 or 0, not `{other}`"))),
    };
    let before = state.store.bulletin(id).await?;
    let mut tx = state.store.begin(&viewer.actor).await?;
    let b = state.store.set_bulletin_public(&mut tx, id, public).await?;
    tx.audit("bulletin.public", "bulletin", &id.to_string(), Some(json!(before.public)), Some(json!(b.public))).await?;
    tx.commit().await?;
    Ok(done(&format!("/bulletins/{id}"), if public { "bulletin_public" } else { "bulletin_private" }))
}

/// The published bulletins marked public, for the public front page (newest first).
pub async fn public_list(state: &AppState, tr: &Tr) -> Result<Vec<ListRow>, WebError> {
    Ok(state
        .store
        .bulletins()
        .await?
        .iter()
        .filter(|b| b.state == BulletinState::Published && b.public)
        .map(|b| ListRow::of(tr, b))
        .collect())
}
