//! The facts of the automatic analysis report (分析报告) of one period: the picture
//! of each group, the biggest rises and falls in rank against the period before,
//! the indicators where most units lag, the units with red lights, the units that
//! reported late or not at all, and the largest bonus and deduction scores with the
//! records behind them.
//!
//! Everything is computed from spec §8 results (`UnitReport`, as stored and shown on
//! every page) and the lights of `lights::of_unit`, so each number in the report is
//! one the ranking, the unit pages and the drill-down show too. The words are the web
//! layer's (`web::analysis`), in the reader's language.

use std::collections::HashMap;

use crate::data::RecordRow;
use crate::lights::{self, Light, Lit};
use crate::period::{Month, Period};
use crate::round::round2;
use crate::scheme::{Kind, Scheme};
use crate::score::UnitReport;
use crate::workflow::Timeliness;

/// How many rises and falls per group, lagging indicators, and bonus or deduction
/// units the report names.
pub const TOP: usize = 3;
pub const LAGGING: usize = 5;

/// What the analysis is computed from.
pub struct Input<'a> {
    pub scheme: &'a Scheme,
    pub period: Period,
    /// The period's results, one per unit.
    pub units: &'a [UnitReport],
    /// The period before (`Period::previous`) and its results, when there is one.
    pub previous: Option<(Period, &'a [UnitReport])>,
    /// Units whose report of a month of the period came late or is missing.
    pub reporting: &'a [(String, Month, Timeliness)],
    /// The records of the year; those dated in the window of their indicator for
    /// the period are the ones behind its score.
    pub records: &'a [RecordRow],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub period: Period,
    pub previous: Option<Period>,
    pub groups: Vec<GroupPicture>,
    pub moves: Vec<RankMove>,
    pub lagging: Vec<Lagging>,
    pub red_units: Vec<RedUnit>,
    pub reporting: Vec<ReportingGap>,
    pub bonuses: Vec<Highlight>,
    pub deductions: Vec<Highlight>,
}

/// One group's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPicture {
    pub group: usize,
    pub units: usize,
    /// Mean total, rounded to 2 decimals.
    pub mean: f64,
    /// (unit, total) of the first and the last in rank.
    pub best: (usize, f64),
    pub worst: (usize, f64),
    /// (grade name, units) in the scheme's grade order, grades nobody got left out.
    pub grades: Vec<(String, usize)>,
    /// Units with a red, yellow and green light.
    pub lights: [usize; 3],
}

/// A unit whose rank changed against the period before.
#[derive(Debug, Clone, PartialEq)]
pub struct RankMove {
    pub unit: usize,
    pub group: usize,
    pub from: usize,
    pub to: usize,
    pub total: f64,
    /// This total minus the previous one, rounded to 2 decimals.
    pub change: f64,
}

impl RankMove {
    /// Places gained (negative: lost).
    pub fn places(&self) -> i64 {
        self.from as i64 - self.to as i64
    }
}

/// An indicator where units lag: below the yellow pace, missing or failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Lagging {
    pub indicator: usize,
    /// Units assessed on it in the period (due, not pending).
    pub assessed: usize,
    /// Of those, units with a yellow or red light, and with a red one.
    pub behind: usize,
    pub red: usize,
    /// Mean pace (score ÷ points) over the assessed units.
    pub mean_pace: f64,
    /// (unit, pace) of the units furthest behind, worst first.
    pub worst: Vec<(usize, f64)>,
}

/// A unit with a red light, why, and its red indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct RedUnit {
    pub unit: usize,
    pub total: f64,
    pub rank: usize,
    pub lit: Lit,
    pub red_indicators: Vec<usize>,
}

/// A unit's late and missing months, and those not yet complete before their deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportingGap {
    pub unit: usize,
    pub late: Vec<Month>,
    pub missing: Vec<Month>,
    /// Not all in yet, the deadline still ahead (`Timeliness::Open`): not a fault, but
    /// the report must not call such a month reported.
    pub open: Vec<Month>,
}

/// A unit's bonus (or deduction) category score and its records.
#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub unit: usize,
    /// The top-level bonus or deduction node.
    pub category: usize,
    pub score: f64,
    pub records: Vec<RecordRow>,
}

impl Period {
    /// The period of the same kind just before, within the same year: February for
    /// March, Q1 for Q2; none for January, Q1 and a year.
    pub fn previous(self) -> Option<Period> {
        match self {
            Period::Month(m) if m.month > 1 => Some(Period::Month(Month { year: m.year, month: m.month - 1 })),
            Period::Quarter { year, quarter } if quarter > 1 => Some(Period::Quarter { year, quarter: quarter - 1 }),
            _ => None,
        }
    }
}

pub fn analyse(input: &Input<'_>) -> Analysis {
    let scheme = input.scheme;
    // As on the ranking: a late report dims the lights of a month period only.
    let late: Vec<&str> = input
        .reporting
        .iter()
        .filter(|(_, m, t)| *t == Timeliness::Late && input.period == Period::Month(*m))
        .map(|(u, _, _)| u.as_str())
        .collect();
    // (report, unit index, indicator lights, unit light) of every unit in the scheme.
    let lit: Vec<(&UnitReport, usize, Vec<(usize, Lit)>, Lit)> = input
        .units
        .iter()
        .filter_map(|r| {
            let u = scheme.unit_index(&r.unit)?;
            let (indicators, unit) = lights::of_unit(scheme, &r.scores, &r.status, &r.errors, late.contains(&r.unit.as_str()));
            Some((r, u, indicators, unit))
        })
        .collect();

    let mut groups = Vec::new();
    for g in 0..scheme.groups.len() {
        let mut members: Vec<_> = lit.iter().filter(|(_, u, _, _)| scheme.units[*u].group == g).collect();
        if members.is_empty() {
            continue;
        }
        members.sort_by_key(|(r, u, _, _)| (r.rank, *u));
        let totals: Vec<f64> = members.iter().map(|(r, ..)| r.total).collect();
        let grades = scheme
            .grades
            .iter()
            .map(|grade| (grade.name.clone(), members.iter().filter(|(r, ..)| r.grade.as_deref() == Some(grade.name.as_str())).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        let count = |light: Light| members.iter().filter(|(.., l)| l.light == light).count();
        let (first, last) = (members[0], members[members.len() - 1]);
        groups.push(GroupPicture {
            group: g,
            units: members.len(),
            mean: round2(totals.iter().sum::<f64>() / totals.len() as f64),
            best: (first.1, first.0.total),
            worst: (last.1, last.0.total),
            grades,
            lights: [count(Light::Red), count(Light::Yellow), count(Light::Green)],
        });
    }

    let mut moves = Vec::new();
    if let Some((_, previous)) = input.previous {
        let before: HashMap<&str, &UnitReport> = previous.iter().map(|r| (r.unit.as_str(), r)).collect();
        for g in 0..scheme.groups.len() {
            let mut changed: Vec<RankMove> = lit
                .iter()
                .filter(|(_, u, _, _)| scheme.units[*u].group == g)
                .filter_map(|(r, u, _, _)| {
                    let old = before.get(r.unit.as_str())?;
                    (old.rank != r.rank).then(|| RankMove {
                        unit: *u,
                        group: g,
                        from: old.rank,
                        to: r.rank,
                        total: r.total,
                        change: round2(r.total - old.total),
                    })
                })
                .collect();
            changed.sort_by_key(|m| (std::cmp::Reverse(m.places()), m.to));
            let rises = changed.iter().filter(|m| m.places() > 0).take(TOP).cloned();
            let falls: Vec<RankMove> = changed.iter().rev().filter(|m| m.places() < 0).take(TOP).cloned().collect();
            moves.extend(rises);
            moves.extend(falls);
        }
    }

    let mut lagging = Vec::new();
    for &n in &scheme.indicators {
        let node = &scheme.nodes[n];
        let Some(points) = node.points.filter(|p| *p > 0.0 && node.kind == Kind::Regular) else { continue };
        let mut paces = Vec::new();
        let (mut behind, mut red) = (0, 0);
        for (r, u, indicators, _) in &lit {
            let Some((_, l)) = indicators.iter().find(|(i, _)| *i == n) else { continue };
            if l.light == Light::None {
                continue;
            }
            behind += usize::from(matches!(l.light, Light::Yellow | Light::Red) && !matches!(l.why, lights::Why::Late));
            red += usize::from(l.light == Light::Red);
            paces.push((*u, r.scores.get(&node.id).and_then(|v| v.as_f64()).unwrap_or(0.0) / points));
        }
        if behind == 0 {
            continue;
        }
        paces.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let mean_pace = paces.iter().map(|p| p.1).sum::<f64>() / paces.len() as f64;
        lagging.push(Lagging { indicator: n, assessed: paces.len(), behind, red, mean_pace, worst: paces.into_iter().take(TOP).collect() });
    }
    lagging.sort_by(|a, b| {
        let share = |l: &Lagging| l.behind as f64 / l.assessed as f64;
        share(b).total_cmp(&share(a)).then(b.behind.cmp(&a.behind)).then(a.indicator.cmp(&b.indicator))
    });
    lagging.truncate(LAGGING);

    let mut red_units: Vec<RedUnit> = lit
        .iter()
        .filter(|(.., l)| l.light == Light::Red)
        .map(|(r, u, indicators, l)| RedUnit {
            unit: *u,
            total: r.total,
            rank: r.rank,
            lit: l.clone(),
            red_indicators: indicators
                .iter()
                .filter(|(i, l)| l.light == Light::Red && scheme.nodes[*i].kind == Kind::Regular)
                .map(|(i, _)| *i)
                .collect(),
        })
        .collect();
    red_units.sort_by_key(|r| (scheme.units[r.unit].group, r.rank, r.unit));

    let mut reporting: Vec<ReportingGap> = Vec::new();
    for (unit, month, t) in input.reporting {
        let Some(u) = scheme.unit_index(unit) else { continue };
        let i = match reporting.iter().position(|g| g.unit == u) {
            Some(i) => i,
            None => {
                reporting.push(ReportingGap { unit: u, late: Vec::new(), missing: Vec::new(), open: Vec::new() });
                reporting.len() - 1
            }
        };
        match t {
            Timeliness::Late => reporting[i].late.push(*month),
            Timeliness::Missing => reporting[i].missing.push(*month),
            Timeliness::Open => reporting[i].open.push(*month),
            Timeliness::OnTime => {}
        }
    }
    reporting.retain(|g| !(g.late.is_empty() && g.missing.is_empty() && g.open.is_empty()));
    for g in &mut reporting {
        g.late.sort();
        g.missing.sort();
        g.open.sort();
    }
    reporting.sort_by_key(|g| (std::cmp::Reverse(g.missing.len()), std::cmp::Reverse(g.late.len()), g.unit));

    let highlights = |kind: Kind| {
        let mut out = Vec::new();
        for &root in scheme.roots.iter().filter(|&&r| scheme.nodes[r].kind == kind) {
            let id = &scheme.nodes[root].id;
            let mut scored: Vec<Highlight> = lit
                .iter()
                .filter_map(|(r, u, _, _)| {
                    let score = r.scores.get(id).and_then(|v| v.as_f64()).filter(|s| *s != 0.0)?;
                    let records = input
                        .records
                        .iter()
                        .filter(|rec| {
                            rec.unit == r.unit
                                && scheme
                                    .node_index(&rec.indicator)
                                    .is_some_and(|i| under(scheme, i, root) && in_window(scheme, i, input.period, rec))
                        })
                        .cloned()
                        .collect();
                    Some(Highlight { unit: *u, category: root, score, records })
                })
                .collect();
            scored.sort_by(|a, b| b.score.abs().total_cmp(&a.score.abs()).then(a.unit.cmp(&b.unit)));
            out.extend(scored.into_iter().take(TOP));
        }
        out
    };

    Analysis {
        period: input.period,
        previous: input.previous.map(|(p, _)| p),
        groups,
        moves,
        lagging,
        red_units,
        reporting,
        bonuses: highlights(Kind::Bonus),
        deductions: highlights(Kind::Deduction),
    }
}

/// Whether a record of indicator `n` is dated in the indicator's window for `period`
/// (spec §6 step 2: `ytd` from January, `period` its own months).
fn in_window(scheme: &Scheme, n: usize, period: Period, record: &RecordRow) -> bool {
    let Some(indicator) = scheme.indicator(n) else { return false };
    let (first, last) = period.month_range();
    let first = if indicator.window == crate::scheme::Window::Ytd { 1 } else { first };
    let month: Option<u8> = record.date.get(5..7).and_then(|m| m.parse().ok());
    record.date.starts_with(&format!("{:04}-", period.year())) && month.is_some_and(|m| (first..=last).contains(&m))
}

/// Whether node `n` is `root` or lies under it.
fn under(scheme: &Scheme, mut n: usize, root: usize) -> bool {
    loop {
        if n == root {
            return true;
        }
        match scheme.nodes[n].parent {
            Some(p) => n = p,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests;
