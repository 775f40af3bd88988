//! Bulletins (通报): the published results of a period, numbered per year
//! (〔2027〕第3号) and frozen when published.
//!
//! A bulletin starts as a **draft** for one period; its content is computed live from
//! the stored scores ([`Store::bulletin_content`]) until the office publishes it.
//! **Publishing** freezes the content into the row: the spec §8 results of the period
//! with the period's scheme version, the ledger of the records that count in those
//! results (with dates and notes), and the indicator tree with points and formulas.
//! A published row is never changed again except for its `public` flag: a correction
//! afterwards is **revised** — a new draft with the same number and the next revision,
//! computed from the scores as they are then, published in its turn — and the old
//! revision stays readable as it was.
//!
//! Writes take the caller's `WriteTx`; the caller adds the audit entry.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jixiao_core::period::Period;
use jixiao_core::scheme::Window;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{Result, StoreError};
use crate::{Store, WriteTx, flag};

/// Draft or published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BulletinState {
    /// Being prepared: content computed live, seen by the office only.
    Draft,
    /// Frozen: the content stored in the row is what everyone reads.
    Published,
}

impl BulletinState {
    pub fn as_str(self) -> &'static str {
        match self {
            BulletinState::Draft => "draft",
            BulletinState::Published => "published",
        }
    }
}

impl fmt::Display for BulletinState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BulletinState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<BulletinState> {
        match s {
            "draft" => Ok(BulletinState::Draft),
            "published" => Ok(BulletinState::Published),
            other => Err(StoreError::invalid(format!("unknown bulletin state `{other}`"))),
        }
    }
}

/// One bulletin revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Bulletin {
    pub id: i64,
    pub year: i32,
    /// `2027-03`, `2027-Q1` or `2027`.
    pub period: String,
    /// The number within the year: 3 in 〔2027〕第3号.
    pub number: i64,
    /// 1 for the first publication, 2… for corrections.
    pub revision: i64,
    pub title: String,
    /// The scheme version the content is (or, for a draft, was last) computed with.
    pub scheme_version: i32,
    pub state: BulletinState,
    pub public: bool,
    /// Why a revision was made (empty for revision 1).
    pub note: String,
    pub created_by: String,
    pub created_at: String,
    pub published_by: Option<String>,
    pub published_at: Option<String>,
    /// The frozen content of a published revision; `None` for a draft.
    pub content: Option<BulletinContent>,
}

impl Bulletin {
    /// The number as a notice writes it: `〔2027〕第3号`.
    pub fn number_text(&self) -> String {
        format!("〔{}〕第{}号", self.year, self.number)
    }
}

/// What a bulletin says: everything needed to show, print and export it without
/// reading anything else (a published bulletin must not change when the scheme,
/// the data or the organisation do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulletinContent {
    pub year: i32,
    pub period: String,
    pub scheme_version: i32,
    pub scheme_name: String,
    /// Who issues the notice (the red header): the setting `bulletin.issuer`, or
    /// 绩效考核办公室 when it is not set.
    #[serde(default)]
    pub issuer: String,
    /// When the scores were computed (the latest time among the period's rows).
    pub computed_at: String,
    pub groups: Vec<ContentGroup>,
    /// In the scheme's order.
    pub units: Vec<ContentUnit>,
    /// The indicator tree in tree order.
    pub nodes: Vec<ContentNode>,
    /// Spec §8 results, ordered by group id, rank and unit id.
    pub results: Vec<UnitResult>,
    /// The records counted in the results, by unit (scheme order), then date.
    pub ledger: Vec<LedgerRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentGroup {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentUnit {
    pub id: String,
    pub name: String,
    pub group: String,
}

/// A node of the indicator tree as the bulletin shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentNode {
    pub id: String,
    pub name: String,
    /// `regular`, `bonus` or `deduction` (of the top-level node).
    pub kind: String,
    /// 0 for a top-level node.
    pub depth: usize,
    pub parent: Option<String>,
    pub points: Option<f64>,
    pub cap: Option<f64>,
    /// The formula as written (indicators only).
    pub formula: Option<String>,
    /// `ytd` or `period` (indicators only).
    pub window: Option<String>,
    /// `monthly`, `quarterly` or `annual` (indicators only).
    pub frequency: Option<String>,
}

impl ContentNode {
    pub fn is_indicator(&self) -> bool {
        self.formula.is_some()
    }
}

/// One unit's spec §8 result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    pub unit: String,
    pub group: String,
    pub total: f64,
    pub rank: usize,
    pub grade: Option<String>,
    pub scores: BTreeMap<String, f64>,
    pub status: BTreeMap<String, String>,
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
}

/// A bonus or deduction record counted in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub unit: String,
    pub indicator: String,
    /// `regular`, `bonus` or `deduction`.
    pub kind: String,
    pub date: String,
    pub points: f64,
    pub note: Option<String>,
}

/// The setting naming the body that issues bulletins (the red header).
pub const ISSUER_SETTING: &str = "bulletin.issuer";
const DEFAULT_ISSUER: &str = "绩效考核办公室";

const COLUMNS: &str = "id, year, period, number, revision, title, scheme_version, state, public, note, \
                       created_by, created_at, published_by, published_at";

fn from_row(row: &AnyRow, with_content: bool) -> Result<Bulletin> {
    let content = if with_content {
        match row.try_get::<Option<String>, _>("content_json")? {
            Some(text) => {
                Some(serde_json::from_str(&text).map_err(|e| StoreError::invalid(format!("stored bulletin content is not valid: {e}")))?)
            }
            None => None,
        }
    } else {
        None
    };
    Ok(Bulletin {
        id: row.try_get("id")?,
        year: row.try_get("year")?,
        period: row.try_get("period")?,
        number: row.try_get::<i32, _>("number")?.into(),
        revision: row.try_get::<i32, _>("revision")?.into(),
        title: row.try_get("title")?,
        scheme_version: row.try_get("scheme_version")?,
        state: row.try_get::<String, _>("state")?.parse()?,
        public: row.try_get::<i32, _>("public")? != 0,
        note: row.try_get("note")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        published_by: row.try_get("published_by")?,
        published_at: row.try_get("published_at")?,
        content,
    })
}

fn code<T: Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Reads a period text, naming what is wrong.
pub fn parse_period(text: &str) -> Result<Period> {
    text.trim().parse::<Period>().map_err(|e| StoreError::invalid(e.to_string()))
}

impl Store {
    /// Every bulletin revision, newest number first, revisions in order; without content.
    pub async fn bulletins(&self) -> Result<Vec<Bulletin>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM bulletins ORDER BY year DESC, number DESC, revision DESC")))
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| from_row(r, false)).collect()
    }

    /// One bulletin revision with its frozen content (`None` for a draft).
    pub async fn bulletin(&self, id: i64) -> Result<Bulletin> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS}, content_json FROM bulletins WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("bulletin {id}")))?;
        from_row(&row, true)
    }

    /// A bulletin without its content (cheap: no frozen JSON read), for checking its
    /// state and flags before a cached rendering of the content is used.
    pub async fn bulletin_header(&self, id: i64) -> Result<Bulletin> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM bulletins WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("bulletin {id}")))?;
        from_row(&row, false)
    }

    /// The scheme version a period is scored with: the one fixed on the period, or
    /// the year's latest.
    pub async fn period_scheme_version(&self, period: Period) -> Result<i32> {
        let year = period.year();
        let text = period.to_string();
        if let Some(v) = self.periods(year).await?.into_iter().find(|p| p.period == text).and_then(|p| p.scheme_version) {
            return Ok(v);
        }
        let versions = self.scheme_versions(year).await?;
        versions
            .iter()
            .map(|v| v.version)
            .max()
            .ok_or_else(|| StoreError::invalid(format!("there is no scheme for {year}, so {text} has no results to publish")))
    }

    /// A bulletin's content as the stored scores give it now (a draft's preview, and
    /// what publishing freezes). Refused if the period has no stored scores.
    pub async fn bulletin_content(&self, period: &str) -> Result<BulletinContent> {
        let period = parse_period(period)?;
        let year = period.year();
        let version = self.period_scheme_version(period).await?;
        let stored = self.scheme(year, Some(version)).await?;
        let scheme = stored.compile()?;
        let text = period.to_string();
        let rows = self.scores(year, version, &text).await?;
        if rows.is_empty() {
            return Err(StoreError::invalid(format!(
                "no scores are stored for {text} with scheme {year} version {version}; rescore the year first"
            )));
        }
        let computed_at = rows.iter().map(|r| r.computed_at.clone()).max().unwrap_or_default();
        let mut results = rows
            .into_iter()
            .map(|r| {
                serde_json::from_value::<UnitResult>(r.result)
                    .map_err(|e| StoreError::invalid(format!("stored score of {} for {text} is not a spec §8 result: {e}", r.unit_id)))
            })
            .collect::<Result<Vec<_>>>()?;
        results.sort_by(|a, b| a.group.cmp(&b.group).then(a.rank.cmp(&b.rank)).then_with(|| a.unit.cmp(&b.unit)));
        let nodes = scheme
            .nodes
            .iter()
            .map(|n| {
                let mut depth = 0;
                let mut p = n.parent;
                while let Some(i) = p {
                    depth += 1;
                    p = scheme.nodes[i].parent;
                }
                ContentNode {
                    id: n.id.clone(),
                    name: n.name.clone(),
                    kind: code(n.kind),
                    depth,
                    parent: n.parent.map(|i| scheme.nodes[i].id.clone()),
                    points: n.points,
                    cap: n.cap,
                    formula: n.indicator.as_ref().map(|i| i.formula.source().to_string()),
                    window: n.indicator.as_ref().map(|i| code(i.window)),
                    frequency: n.indicator.as_ref().map(|i| code(i.frequency)),
                }
            })
            .collect();
        let (first, last) = period.month_range();
        let mut ledger: Vec<(usize, LedgerRow)> = Vec::new();
        for record in self.records(year).await? {
            let r = record.row;
            let (Some(node), Some(unit)) = (scheme.node_index(&r.indicator), scheme.unit_index(&r.unit)) else { continue };
            let Some(indicator) = scheme.indicator(node) else { continue };
            if !indicator.is_assigned(unit) {
                continue;
            }
            let month: u8 = r.date.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
            let from = if indicator.window == Window::Ytd { 1 } else { first };
            if month < from || month > last || !r.date.starts_with(&format!("{year:04}-")) {
                continue;
            }
            let kind = scheme.nodes[node].kind;
            ledger.push((
                unit,
                LedgerRow { unit: r.unit, indicator: r.indicator, kind: code(kind), date: r.date, points: r.points, note: r.note },
            ));
        }
        ledger.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.date.cmp(&b.1.date)));
        let issuer = self.setting(ISSUER_SETTING).await?.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(BulletinContent {
            issuer: issuer.unwrap_or_else(|| DEFAULT_ISSUER.to_string()),
            year,
            period: text,
            scheme_version: version,
            scheme_name: scheme.name.clone(),
            computed_at,
            groups: scheme.groups.iter().map(|g| ContentGroup { id: g.id.clone(), name: g.name.clone() }).collect(),
            units: scheme
                .units
                .iter()
                .map(|u| ContentUnit { id: u.id.clone(), name: u.name.clone(), group: scheme.groups[u.group].id.clone() })
                .collect(),
            nodes,
            results,
            ledger: ledger.into_iter().map(|(_, r)| r).collect(),
        })
    }

    /// Creates the draft bulletin of a period with the year's next number. Refused for
    /// a text that is no period, a year without a scheme, a period without stored
    /// scores, and a period that already has a bulletin (revise that one instead).
    pub async fn create_bulletin(&self, tx: &mut WriteTx, period: &str, title: &str) -> Result<Bulletin> {
        let title = title.trim();
        if title.is_empty() {
            return Err(StoreError::invalid("a bulletin needs a title"));
        }
        if title.chars().count() > 200 {
            return Err(StoreError::invalid("the title of a bulletin may have at most 200 characters"));
        }
        let p = parse_period(period)?;
        let content = self.bulletin_content(&p.to_string()).await?;
        let year = p.year();
        let text = p.to_string();
        let existing: Option<(i32,)> = sqlx::query_as("SELECT number FROM bulletins WHERE year = $1 AND period = $2 LIMIT 1")
            .bind(year)
            .bind(&text)
            .fetch_optional(tx.conn())
            .await?;
        if let Some((n,)) = existing {
            return Err(StoreError::AlreadyExists { what: format!("a bulletin of {text} (〔{year}〕第{n}号; revise it instead)") });
        }
        let max: Option<i32> =
            sqlx::query_scalar("SELECT MAX(number) FROM bulletins WHERE year = $1").bind(year).fetch_one(tx.conn()).await?;
        let number = max.unwrap_or(0) + 1;
        let id = insert_draft(tx, year, &text, number, 1, title, content.scheme_version, "").await?;
        self.bulletin_in(tx, id).await
    }

    /// Publishes a draft: freezes the content computed from the stored scores now.
    /// Refused (nothing changed) for a revision that is already published.
    pub async fn publish_bulletin(&self, tx: &mut WriteTx, id: i64) -> Result<Bulletin> {
        let current = self.bulletin_in(tx, id).await?;
        if current.state == BulletinState::Published {
            return Err(already_published(&current));
        }
        let content = self.bulletin_content(&current.period).await?;
        let json = serde_json::to_string(&content).map_err(|e| StoreError::invalid(format!("bulletin content to JSON: {e}")))?;
        let updated = sqlx::query(
            "UPDATE bulletins SET state = 'published', content_json = $1, scheme_version = $2, published_by = $3, published_at = $4 \
             WHERE id = $5 AND state = 'draft'",
        )
        .bind(json)
        .bind(content.scheme_version)
        .bind(tx.actor().to_string())
        .bind(self.now())
        .bind(id)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Err(already_published(&current));
        }
        self.bulletin_in(tx, id).await
    }

    /// Starts the next revision of a published bulletin as a draft, with the reason
    /// for it. Only the latest revision can be revised, and only once at a time.
    pub async fn revise_bulletin(&self, tx: &mut WriteTx, id: i64, note: &str) -> Result<Bulletin> {
        let note = note.trim();
        if note.is_empty() {
            return Err(StoreError::invalid("a revision needs a reason (what was corrected)"));
        }
        let current = self.bulletin_in(tx, id).await?;
        if current.state != BulletinState::Published {
            return Err(StoreError::invalid(format!(
                "{} revision {} is still a draft: publish it, or change the data and publish, instead of revising it",
                current.number_text(),
                current.revision
            )));
        }
        let latest: Option<i32> = sqlx::query_scalar("SELECT MAX(revision) FROM bulletins WHERE year = $1 AND number = $2")
            .bind(current.year)
            .bind(current.number)
            .fetch_one(tx.conn())
            .await?;
        let latest = i64::from(latest.unwrap_or(0));
        if latest != current.revision {
            return Err(StoreError::Conflict {
                what: format!("{} (revision {latest} already exists; revise the latest revision)", current.number_text()),
                expected: Some(current.revision),
                current: Some(latest),
            });
        }
        let content = self.bulletin_content(&current.period).await?;
        let number = i32::try_from(current.number).map_err(|_| StoreError::invalid("bulletin number out of range"))?;
        let revision = i32::try_from(latest + 1).map_err(|_| StoreError::invalid("bulletin revision out of range"))?;
        let new = insert_draft(tx, current.year, &current.period, number, revision, &current.title, content.scheme_version, note).await?;
        self.bulletin_in(tx, new).await
    }

    /// Shows or hides a published revision on the public front page.
    pub async fn set_bulletin_public(&self, tx: &mut WriteTx, id: i64, public: bool) -> Result<Bulletin> {
        let current = self.bulletin_in(tx, id).await?;
        if current.state != BulletinState::Published {
            return Err(StoreError::invalid(format!("{} is a draft: only a published bulletin can be made public", current.number_text())));
        }
        sqlx::query("UPDATE bulletins SET public = $1 WHERE id = $2").bind(flag(public)).bind(id).execute(tx.conn()).await?;
        self.bulletin_in(tx, id).await
    }

    /// A revision read inside a write transaction (with content).
    async fn bulletin_in(&self, tx: &mut WriteTx, id: i64) -> Result<Bulletin> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS}, content_json FROM bulletins WHERE id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found(format!("bulletin {id}")))?;
        from_row(&row, true)
    }
}

fn already_published(b: &Bulletin) -> StoreError {
    StoreError::AlreadyExists {
        what: format!(
            "the publication of {} revision {} (published {}; revise it to correct it)",
            b.number_text(),
            b.revision,
            b.published_at.as_deref().unwrap_or("")
        ),
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_draft(
    tx: &mut WriteTx,
    year: i32,
    period: &str,
    number: i32,
    revision: i32,
    title: &str,
    version: i32,
    note: &str,
) -> Result<i64> {
    let actor = tx.actor().to_string();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO bulletins (year, period, number, revision, title, scheme_version, state, public, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'draft', 0, $7, $8, $9) RETURNING id",
    )
    .bind(year)
    .bind(period)
    .bind(number)
    .bind(revision)
    .bind(title)
    .bind(version)
    .bind(note)
    .bind(actor)
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await?;
    Ok(id)
}
