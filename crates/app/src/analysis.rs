//! The automatic analysis report (分析报告) in words and tables: the facts of
//! `core::analysis` as sentences in the reader's language, each number linked to the
//! page it comes from (the ranking, a unit's scores, an indicator's drill-down), and
//! the same facts as tables for the workbook (`/scores/{period}/analysis.xlsx`).
//!
//! `build` loads the inputs — the stored results of the period and of the period
//! before (the same the ranking shows), the timeliness of each month of the period,
//! the year's records — has `core::analysis` find the facts, and words them; the
//! front end draws the charts from their data.
//!
//! For those who see every unit — the office, leaders and the administrator — since
//! it compares all units.

use jixiao_core::analysis::{Analysis, Highlight, Input, RankMove, analyse};
use jixiao_core::org::{Action, Role, Scope, roles_for};
use jixiao_core::period::{Month, Period};
use jixiao_core::scheme::Scheme;
use jixiao_core::score::UnitReport;
use jixiao_core::workflow::Timeliness;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::actor::Actor;
use crate::error::{AppError, Result};
use crate::i18n::Tr;
use crate::text::{number, period_label, why_text};
use crate::{App, collection};

/// A run of text, linked when `href` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub href: Option<String>,
}

pub type Sentence = Vec<Piece>;

/// A cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A bar chart of a section: labelled values on an axis from 0 to `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub caption: String,
    pub bars: Vec<(String, f64)>,
    pub max: f64,
    /// The drawing, made by the front end (the web draws SVG).
    pub svg: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub id: &'static str,
    pub title: String,
    pub sentences: Vec<Sentence>,
    pub charts: Vec<Chart>,
    pub table: Table,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub title: String,
    pub period: Period,
    pub sections: Vec<Section>,
}

fn text(t: impl Into<String>) -> Piece {
    Piece { text: t.into(), href: None }
}

fn link(t: impl Into<String>, href: String) -> Piece {
    Piece { text: t.into(), href: Some(href) }
}

/// The catalogue text of `key` with `{0}`, `{1}`… replaced by `args`, as pieces.
fn fill(tr: &Tr, key: &str, args: &[Piece]) -> Sentence {
    let mut out = Vec::new();
    let mut rest = tr.t(key);
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        let Ok(i) = rest[open + 1..close].parse::<usize>() else { break };
        if open > 0 {
            out.push(text(&rest[..open]));
        }
        if let Some(arg) = args.get(i) {
            out.push(arg.clone());
        }
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(text(rest));
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// A change of total in words: 增加 1.5 / 减少 2 / 持平.
fn change(tr: &Tr, x: f64) -> String {
    if x > 0.0 {
        tr.f("analysis.up", &[&number(x)])
    } else if x < 0.0 {
        tr.f("analysis.down", &[&number(-x)])
    } else {
        tr.t("analysis.same").to_string()
    }
}

/// Joins pieces with the catalogue's list separator.
fn join(tr: &Tr, items: Vec<Vec<Piece>>) -> Vec<Piece> {
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(text(tr.t("analysis.sep")));
        }
        out.extend(item);
    }
    out
}

/// A sentence with a list in place of `{list}`: the fixed args, then the list's pieces.
fn fill_list(tr: &Tr, key: &str, args: &[Piece], list: Vec<Piece>) -> Sentence {
    let mut all = args.to_vec();
    all.push(text("\u{0}"));
    let mut out = Vec::new();
    for p in fill(tr, key, &all) {
        if p.text == "\u{0}" && p.href.is_none() {
            out.extend(list.iter().cloned());
        } else {
            out.push(p);
        }
    }
    out
}

pub fn words(tr: &Tr, scheme: &Scheme, a: &Analysis) -> Report {
    let period = a.period;
    let unit_href = |u: usize| format!("/scores/{period}/units/{}", scheme.units[u].id);
    let explain_href = |u: usize, n: usize| format!("/scores/{period}/units/{}/indicators/{}", scheme.units[u].id, scheme.nodes[n].id);
    let unit = |u: usize| link(scheme.units[u].name.clone(), unit_href(u));
    let total = |u: usize, t: f64| link(number(t), unit_href(u));
    let node_name = |n: usize| format!("{} {}", scheme.nodes[n].id, scheme.nodes[n].name);
    let group_name = |g: usize| scheme.groups[g].name.clone();
    let unit_id = |u: usize| Cell::Text(scheme.units[u].id.clone());
    let unit_name = |u: usize| Cell::Text(scheme.units[u].name.clone());
    let t = |key: &str| tr.t(key).to_string();
    let mut sections = Vec::new();

    // The picture of each group.
    let mut sentences = Vec::new();
    let mut rows = Vec::new();
    for g in &a.groups {
        let group = link(group_name(g.group), format!("/scores?period={period}&group={}", scheme.groups[g.group].id));
        sentences.push(fill(
            tr,
            "analysis.group",
            &[
                group.clone(),
                text(g.units.to_string()),
                text(number(g.mean)),
                unit(g.best.0),
                total(g.best.0, g.best.1),
                unit(g.worst.0),
                total(g.worst.0, g.worst.1),
            ],
        ));
        if !g.grades.is_empty() {
            let grades = g.grades.iter().map(|(name, n)| vec![text(tr.f("analysis.grade_count", &[name, n]))]).collect();
            sentences.push(fill_list(tr, "analysis.grades", std::slice::from_ref(&group), join(tr, grades)));
        }
        let red = link(g.lights[0].to_string(), format!("/scores?period={period}&group={}&light=red", scheme.groups[g.group].id));
        let yellow = link(g.lights[1].to_string(), format!("/scores?period={period}&group={}&light=yellow", scheme.groups[g.group].id));
        sentences.push(fill(tr, "analysis.lights", &[group, red, yellow, text(g.lights[2].to_string())]));
        rows.push(vec![
            Cell::Text(group_name(g.group)),
            Cell::Number(g.units as f64),
            Cell::Number(g.mean),
            unit_name(g.best.0),
            Cell::Number(g.best.1),
            unit_name(g.worst.0),
            Cell::Number(g.worst.1),
            Cell::Number(g.lights[0] as f64),
            Cell::Number(g.lights[1] as f64),
            Cell::Number(g.lights[2] as f64),
        ]);
    }
    let header = [
        "analysis.col_group",
        "analysis.col_units",
        "analysis.col_mean",
        "analysis.col_best",
        "scores.total",
        "analysis.col_worst",
        "scores.total",
        "lights.red",
        "lights.yellow",
        "lights.green",
    ];
    sections.push(Section {
        id: "overview",
        title: t("analysis.overview"),
        sentences,
        charts: Vec::new(),
        table: Table { name: t("analysis.overview"), header: header.map(t).to_vec(), rows },
    });

    // Rises and falls in rank.
    let mut sentences = Vec::new();
    match a.previous {
        None => sentences.push(fill(tr, "analysis.no_previous", &[])),
        Some(_) if a.moves.is_empty() => sentences.push(fill(tr, "analysis.no_moves", &[text(previous_label(tr, a))])),
        Some(_) => {
            for m in &a.moves {
                let key = if m.places() > 0 { "analysis.rise" } else { "analysis.fall" };
                sentences.push(fill(
                    tr,
                    key,
                    &[
                        unit(m.unit),
                        text(m.from.to_string()),
                        text(m.to.to_string()),
                        text(m.places().unsigned_abs().to_string()),
                        total(m.unit, m.total),
                        text(previous_label(tr, a)),
                        text(change(tr, m.change)),
                    ],
                ));
            }
        }
    }
    let rows = a.moves.iter().map(|m: &RankMove| {
        vec![
            Cell::Text(group_name(m.group)),
            unit_id(m.unit),
            unit_name(m.unit),
            Cell::Number(m.from as f64),
            Cell::Number(m.to as f64),
            Cell::Number(m.places() as f64),
            Cell::Number(m.total),
            Cell::Number(m.change),
        ]
    });
    let header = [
        "analysis.col_group",
        "analysis.col_unit_id",
        "analysis.col_unit",
        "analysis.col_from",
        "analysis.col_to",
        "analysis.col_places",
        "scores.total",
        "analysis.col_change",
    ];
    sections.push(Section {
        id: "moves",
        title: t("analysis.moves"),
        sentences,
        charts: Vec::new(),
        table: Table { name: t("analysis.moves"), header: header.map(t).to_vec(), rows: rows.collect() },
    });

    // Indicators where most units lag.
    let mut sentences = Vec::new();
    if a.lagging.is_empty() {
        sentences.push(fill(tr, "analysis.no_lagging", &[]));
    }
    for l in &a.lagging {
        let worst = l
            .worst
            .iter()
            .map(|&(u, pace)| vec![link(format!("{}（{}）", scheme.units[u].name, pct(pace)), explain_href(u, l.indicator))])
            .collect();
        sentences.push(fill_list(
            tr,
            "analysis.lagging",
            &[
                text(node_name(l.indicator)),
                text(l.assessed.to_string()),
                text(l.behind.to_string()),
                text(pct(l.behind as f64 / l.assessed as f64)),
                text(l.red.to_string()),
                text(pct(l.mean_pace)),
            ],
            join(tr, worst),
        ));
    }
    let rows = a.lagging.iter().map(|l| {
        vec![
            Cell::Text(scheme.nodes[l.indicator].id.clone()),
            Cell::Text(scheme.nodes[l.indicator].name.clone()),
            Cell::Number(l.assessed as f64),
            Cell::Number(l.behind as f64),
            Cell::Number(l.red as f64),
            Cell::Number(jixiao_core::round::round2(l.mean_pace)),
        ]
    });
    let header = [
        "analysis.col_indicator_id",
        "analysis.col_indicator",
        "analysis.col_assessed",
        "analysis.col_behind",
        "lights.red",
        "analysis.col_pace",
    ];
    sections.push(Section {
        id: "lagging",
        title: t("analysis.lagging_title"),
        sentences,
        charts: Vec::new(),
        table: Table { name: t("analysis.lagging_title"), header: header.map(t).to_vec(), rows: rows.collect() },
    });

    // Units with red lights.
    let mut sentences = Vec::new();
    if a.red_units.is_empty() {
        sentences.push(fill(tr, "analysis.no_red", &[]));
    }
    for r in &a.red_units {
        let indicators = r.red_indicators.iter().map(|&n| vec![link(node_name(n), explain_href(r.unit, n))]).collect::<Vec<_>>();
        let list = if indicators.is_empty() { vec![text(t("analysis.none"))] } else { join(tr, indicators) };
        sentences.push(fill_list(
            tr,
            "analysis.red",
            &[unit(r.unit), text(r.rank.to_string()), total(r.unit, r.total), text(why_text(tr, &r.lit))],
            list,
        ));
    }
    let rows = a.red_units.iter().map(|r| {
        let ids = r.red_indicators.iter().map(|&n| scheme.nodes[n].id.clone()).collect::<Vec<_>>().join(" ");
        vec![
            unit_id(r.unit),
            unit_name(r.unit),
            Cell::Number(r.rank as f64),
            Cell::Number(r.total),
            Cell::Text(why_text(tr, &r.lit)),
            Cell::Text(ids),
        ]
    });
    let header = ["analysis.col_unit_id", "analysis.col_unit", "scores.rank", "scores.total", "scores.why", "analysis.col_red_indicators"];
    sections.push(Section {
        id: "red",
        title: t("analysis.red_title"),
        sentences,
        charts: Vec::new(),
        table: Table { name: t("analysis.red_title"), header: header.map(t).to_vec(), rows: rows.collect() },
    });

    // Late and missing reports, and months not complete before their deadline: "all on
    // time" only when every unit has handed in every due month.
    let mut sentences = Vec::new();
    let faults: Vec<_> = a.reporting.iter().filter(|g| !(g.late.is_empty() && g.missing.is_empty())).collect();
    let open: Vec<_> = a.reporting.iter().filter(|g| !g.open.is_empty()).collect();
    if a.reporting.is_empty() {
        sentences.push(fill(tr, "analysis.all_on_time", &[]));
    } else if faults.is_empty() {
        sentences.push(fill(tr, "analysis.none_late", &[]));
    }
    let months = |ms: &[jixiao_core::period::Month]| ms.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(tr.t("analysis.sep"));
    if !open.is_empty() {
        let mut open_months: Vec<_> = open.iter().flat_map(|g| g.open.iter().copied()).collect();
        open_months.sort();
        open_months.dedup();
        sentences.push(fill(tr, "analysis.open_units", &[text(open.len().to_string()), text(months(&open_months))]));
    }
    for g in faults {
        let mut parts = Vec::new();
        if !g.missing.is_empty() {
            parts.push(vec![text(tr.f("analysis.missing_months", &[&months(&g.missing)]))]);
        }
        if !g.late.is_empty() {
            parts.push(vec![text(tr.f("analysis.late_months", &[&months(&g.late)]))]);
        }
        sentences.push(fill_list(tr, "analysis.reporting", &[unit(g.unit)], join(tr, parts)));
    }
    let rows = a.reporting.iter().map(|g| {
        vec![unit_id(g.unit), unit_name(g.unit), Cell::Text(months(&g.missing)), Cell::Text(months(&g.late)), Cell::Text(months(&g.open))]
    });
    let header = ["analysis.col_unit_id", "analysis.col_unit", "analysis.col_missing", "analysis.col_late", "analysis.col_open"];
    sections.push(Section {
        id: "reporting",
        title: t("analysis.reporting_title"),
        sentences,
        charts: Vec::new(),
        table: Table { name: t("analysis.reporting_title"), header: header.map(t).to_vec(), rows: rows.collect() },
    });

    // Bonus and deduction highlights.
    let mut sentences = Vec::new();
    if a.bonuses.is_empty() && a.deductions.is_empty() {
        sentences.push(fill(tr, "analysis.no_records", &[]));
    }
    let mut rows = Vec::new();
    for (key, list) in [("analysis.bonus", &a.bonuses), ("analysis.deduction", &a.deductions)] {
        for h in list.iter() {
            let records = h.records.iter().map(|r| vec![text(record_text(r))]).collect::<Vec<_>>();
            let list = if records.is_empty() { vec![text(t("analysis.none"))] } else { join(tr, records) };
            // A category has no explanation of its own: its line on the unit's page,
            // whose indicators drill down further.
            let score = link(number(h.score), format!("{}#line-{}", unit_href(h.unit), scheme.nodes[h.category].id));
            sentences.push(fill_list(tr, key, &[unit(h.unit), text(scheme.nodes[h.category].name.clone()), score], list));
            rows.push(highlight_row(tr, scheme, key, h));
        }
    }
    let header = [
        "analysis.col_kind",
        "analysis.col_unit_id",
        "analysis.col_unit",
        "analysis.col_category",
        "analysis.col_score",
        "analysis.col_records",
    ];
    sections.push(Section {
        id: "records",
        title: t("analysis.records_title"),
        sentences,
        charts: Vec::new(),
        table: Table { name: t("analysis.records_title"), header: header.map(t).to_vec(), rows },
    });

    Report { title: tr.f("analysis.title", &[&period_label(tr, &period.to_string())]), period, sections }
}

fn previous_label(tr: &Tr, a: &Analysis) -> String {
    a.previous.map(|p| period_label(tr, &p.to_string())).unwrap_or_default()
}

fn record_text(r: &jixiao_core::data::RecordRow) -> String {
    match r.note.as_deref().filter(|n| !n.is_empty()) {
        Some(note) => format!("{} {} {}", r.date, note, number(r.points)),
        None => format!("{} {}", r.date, number(r.points)),
    }
}

fn highlight_row(tr: &Tr, scheme: &Scheme, key: &str, h: &Highlight) -> Vec<Cell> {
    vec![
        Cell::Text(tr.t(&format!("{key}_kind")).to_string()),
        Cell::Text(scheme.units[h.unit].id.clone()),
        Cell::Text(scheme.units[h.unit].name.clone()),
        Cell::Text(scheme.nodes[h.category].name.clone()),
        Cell::Number(h.score),
        Cell::Text(h.records.iter().map(record_text).collect::<Vec<_>>().join("；")),
    ]
}

impl Report {
    /// The report as plain text, links as `[text](href)`: for the snapshots.
    #[cfg(test)]
    pub fn plain(&self) -> String {
        let mut out = format!("# {}\n", self.title);
        for s in &self.sections {
            out.push_str(&format!("\n## {}\n", s.title));
            for sentence in &s.sentences {
                let line: String = sentence
                    .iter()
                    .map(|p| match &p.href {
                        Some(h) => format!("[{}]({h})", p.text),
                        None => p.text.clone(),
                    })
                    .collect();
                out.push_str(&format!("- {line}\n"));
            }
        }
        out
    }

    /// The workbook: the sentences on the first sheet, then each section's table.
    pub fn workbook(&self, tr: &Tr) -> Result<Vec<u8>, XlsxError> {
        let bold = Format::new().set_bold().set_background_color("#E5E7EB");
        let score = Format::new().set_num_format("0.00");
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name(crate::xlsx::sheet_name(tr.t("analysis.sheet_text")))?;
        sheet.write_string_with_format(0, 0, tr.t("analysis.col_section"), &bold)?;
        sheet.write_string_with_format(0, 1, &self.title, &bold)?;
        sheet.set_column_width(0, 16)?;
        sheet.set_column_width(1, 120)?;
        let mut row = 1;
        for s in &self.sections {
            for sentence in &s.sentences {
                sheet.write_string(row, 0, &s.title)?;
                sheet.write_string(row, 1, sentence.iter().map(|p| p.text.as_str()).collect::<String>())?;
                row += 1;
            }
        }
        for s in &self.sections {
            let sheet = book.add_worksheet().set_name(crate::xlsx::sheet_name(&s.table.name))?;
            for (c, name) in s.table.header.iter().enumerate() {
                sheet.write_string_with_format(0, c as u16, name, &bold)?;
                sheet.set_column_width(c as u16, 14)?;
            }
            sheet.set_freeze_panes(1, 0)?;
            for (r, cells) in s.table.rows.iter().enumerate() {
                for (c, cell) in cells.iter().enumerate() {
                    let (r, c) = (r as u32 + 1, c as u16);
                    match cell {
                        Cell::Text(t) => sheet.write_string(r, c, t)?,
                        Cell::Number(x) if x.fract() == 0.0 => sheet.write_number(r, c, *x)?,
                        Cell::Number(x) => sheet.write_number_with_format(r, c, *x, &score)?,
                    };
                }
            }
        }
        book.save_to_buffer()
    }
}

/// The stored results of a period (latest scheme version, as the ranking shows them)
/// as spec §8 unit reports, in §8 order.
async fn unit_reports(app: &App, period: Period) -> Result<Vec<UnitReport>> {
    let (info, _) = app.latest_scheme(period.year()).await?.ok_or(AppError::NotFound)?;
    let mut out = app
        .store
        .scores(period.year(), info.version, &period.to_string())
        .await?
        .into_iter()
        .map(|r| {
            serde_json::from_value::<UnitReport>(r.result)
                .map_err(|e| AppError::internal(format!("stored score is not a spec §8 result: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by(|a, b| a.group.cmp(&b.group).then(a.rank.cmp(&b.rank)).then_with(|| a.unit.cmp(&b.unit)));
    Ok(out)
}

/// Whether `actor` may read the report, which compares every unit: a grant over all
/// units (not an assessor's, which spans units for its own indicators only).
pub fn sees_all(actor: &Actor) -> bool {
    actor.grants.iter().any(|g| matches!(g.scope, Scope::All) && g.role != Role::Assessor && roles_for(Action::ViewUnit).contains(&g.role))
}

/// The report of `period` for `actor`, with its charts' data.
pub async fn build(app: &App, actor: &Actor, tr: &Tr, period: Period) -> Result<Report> {
    if !sees_all(actor) {
        return Err(AppError::Forbidden);
    }
    let (_, scheme) = app.latest_scheme(period.year()).await?.ok_or(AppError::NotFound)?;
    let units = unit_reports(app, period).await?;
    let previous = match period.previous() {
        Some(p) => Some((p, unit_reports(app, p).await?)),
        None => None,
    };
    let (first, last) = period.month_range();
    let mut reporting = Vec::new();
    for m in first..=last {
        let month = Month { year: period.year(), month: m };
        for (unit, t) in collection::timeliness_by_unit(app, &scheme, month).await? {
            if t != Timeliness::OnTime {
                reporting.push((unit, month, t));
            }
        }
    }
    let records: Vec<_> = app.store.records(period.year()).await?.into_iter().map(|r| r.row).collect();
    let analysis = analyse(&Input {
        scheme: &scheme,
        period,
        units: &units,
        previous: previous.as_ref().map(|(p, u)| (*p, u.as_slice())),
        reporting: &reporting,
        records: &records,
    });
    let mut report = words(tr, &scheme, &analysis);
    // Charts: each group's totals in rank order, and the lagging indicators' shares.
    let overview = &mut report.sections[0];
    for g in &analysis.groups {
        let bars: Vec<(String, f64)> = units
            .iter()
            .filter_map(|u| {
                scheme.unit_index(&u.unit).filter(|&i| scheme.units[i].group == g.group).map(|i| (scheme.units[i].name.clone(), u.total))
            })
            .collect();
        let max = bars.iter().map(|b| b.1).fold(100.0, f64::max);
        let caption = tr.f("analysis.chart_totals", &[&scheme.groups[g.group].name]);
        overview.charts.push(Chart { caption, bars, max, svg: String::new() });
    }
    if !analysis.lagging.is_empty() {
        let bars: Vec<(String, f64)> = analysis
            .lagging
            .iter()
            .map(|l| {
                let node = &scheme.nodes[l.indicator];
                (format!("{} {}", node.id, node.name), (l.behind as f64 * 100.0 / l.assessed as f64).round())
            })
            .collect();
        let section = report.sections.iter_mut().find(|s| s.id == "lagging").ok_or_else(|| AppError::internal("no lagging section"))?;
        section.charts.push(Chart { caption: tr.t("analysis.chart_lagging").to_string(), bars, max: 100.0, svg: String::new() });
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
