//! Deterministic data generators (演示与测试数据): a realistic demo district and
//! synthetic province-scale schemes for benchmarks. No I/O, no clock: the same
//! arguments and seed always give byte-for-byte the same files.
//!
//! What each file owns:
//!
//! - `mod.rs` (this file): the pieces both generators share — the seeded random
//!   source (`Dice`, ChaCha8), the indicator builder (`Leaf`, `Tree`) that keeps a
//!   value model (`Gen`) beside every reported field, the resolution of a unit's
//!   params from the `assign` rules, and the simulation of one unit's monthly values
//!   for one indicator (`simulate`, `entry_values`).
//! - `demo.rs`: `demo_district` — 江汉新区, a fictional district of 76 units (区直部门,
//!   街道, 其他单位) with a "3+2" scheme (职能履行, 依法行政, 领导班子建设 + 创新创优
//!   bonus + 违规失职 deduction), monthly entries with late and missing reports, and
//!   dated bonus/deduction records with Chinese notes.
//! - `service.rs`: `demo_categories`, `demo_requests` — the demo's public service
//!   requests (about 1,500 a month through their lifecycle, as of a given time).
//! - `users.rs`: `demo_users` — one demo account per role, with fixed passwords.
//! - `synthetic.rs`: `synthetic` — any number of units and indicators, a mix of
//!   every formula shape, frequency, window and aggregation, for benchmarks.
//! - `tests.rs`: properties of the generated files (they validate, have the
//!   promised shape, and are deterministic in the seed).
//!
//! Generated values always lie within their fields' bounds, and formulas use only
//! the variables spec §4 allows, so `Scheme::from_file` and `Dataset::load` accept
//! every output.

mod demo;
mod service;
mod synthetic;
mod users;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::scheme::{Aggregation, AssignRule, FieldDef, FieldType, Frequency, Kind, NodeDef, Params, Source, UnitDef, Window};

pub use demo::{DISTRICT_NAME, demo_district};
pub use service::{DemoCategory, DemoRequest, demo_categories, demo_requests};
pub use synthetic::synthetic;
pub use users::{DemoUser, demo_users};

/// The seeded random source (随机数源). Only exact operations on the generator's
/// output are used (no `ln`, `exp`, `cos`), so results do not depend on the
/// platform's maths library.
pub(crate) struct Dice(ChaCha8Rng);

impl Dice {
    pub(crate) fn new(seed: u64) -> Dice {
        Dice(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.random::<f64>()
    }

    /// Uniform integer in `lo..=hi`.
    pub(crate) fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.random_range(lo..=hi)
    }

    /// Uniform index below `n` (n > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.0.random::<f64>() < p
    }

    /// About N(0, 1): the Irwin–Hall sum of four uniforms, rescaled.
    pub(crate) fn normal(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.0.random::<f64>()).sum();
        (s - 2.0) * 1.732_050_807_568_877_2
    }

    /// A count of rare events with the given mean: binomial(24, mean/24) for small
    /// means (close to Poisson), a rounded normal for large ones.
    pub(crate) fn events(&mut self, mean: f64) -> u32 {
        if mean <= 0.0 {
            0
        } else if mean <= 6.0 {
            let p = mean / 24.0;
            (0..24).filter(|_| self.chance(p)).count() as u32
        } else {
            (mean + self.normal() * mean.sqrt()).round().max(0.0) as u32
        }
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given (non-negative, not all zero) weights.
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.uniform(0.0, total);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Where an amount's yearly scale comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Base {
    /// The unit's value of this param (its target, 目标值).
    Param(&'static str),
    Fixed(f64),
}

/// How a field's values are simulated for one unit (数据模型). "Performance" is a
/// unit's latent ability for the indicator, around 1.0, drifting over the year.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gen {
    /// A year-to-date running total (agg `last`): ≈ base × months/12 × performance.
    Cumulative { base: Base, seasonal: bool },
    /// The month's own amount (agg `sum`): ≈ base / 12 × performance. A quarterly or
    /// annual entry carries the sum since the previous due month.
    Flow { base: Base, seasonal: bool },
    /// A rate, score or level around `centre`, moving `sens` per unit of performance
    /// (negative `sens`: lower is better, e.g. PM2.5).
    Level { centre: Base, sens: f64, noise: f64 },
    /// Events in the month (agg `sum`); `sens` > 0: better units have more (study
    /// sessions), < 0: fewer (accidents).
    Events { mean: f64, sens: f64 },
    /// A running count of events since January (agg `last`), e.g. tasks assigned.
    RunningEvents { mean: f64 },
    /// Occasional lump sums (agg `sum`), e.g. funds won from higher levels.
    Lumpy { mean: f64, p: f64 },
    /// A whole number fixed for the unit's year, e.g. planned tasks.
    Constant { lo: i64, hi: i64 },
    /// A share of an earlier field (index) of the same entry, e.g. tasks done of
    /// tasks planned. `progressive`: the share grows with the year's progress.
    Part { of: usize, share: f64, sens: f64, progressive: bool },
    /// Yes (1) with probability `p`, more often for better units.
    Flag { p: f64 },
}

impl Gen {
    /// Amounts that add up over months (a quarterly entry sums its months).
    fn is_additive(self) -> bool {
        matches!(self, Gen::Flow { .. } | Gen::Events { .. } | Gen::Lumpy { .. })
    }
}

/// Field bounds `(min, max)`.
pub(crate) type Bounds = (Option<f64>, Option<f64>);
/// No bounds.
pub(crate) const ANY: Bounds = (None, None);
/// At least 0.
pub(crate) const NONNEG: Bounds = (Some(0.0), None);
/// 0–100 (percent fields are written as 0–100, e.g. 95.5 for 95.5%).
pub(crate) const PCT: Bounds = (Some(0.0), Some(100.0));
pub(crate) const fn range(lo: f64, hi: f64) -> Bounds {
    (Some(lo), Some(hi))
}

/// An indicator (leaf) under construction, with the value model of each field.
pub(crate) struct Leaf {
    pub node: NodeDef,
    pub gens: Vec<Gen>,
}

impl Leaf {
    pub(crate) fn new(id: impl Into<String>, name: impl Into<String>) -> Leaf {
        Leaf { node: NodeDef { id: id.into(), name: name.into(), assign: Some(Vec::new()), ..NodeDef::default() }, gens: Vec::new() }
    }

    pub(crate) fn points(mut self, points: f64) -> Leaf {
        self.node.points = Some(points);
        self
    }

    pub(crate) fn frequency(mut self, frequency: Frequency) -> Leaf {
        self.node.frequency = (frequency != Frequency::Monthly).then_some(frequency);
        self
    }

    pub(crate) fn quarterly(self) -> Leaf {
        self.frequency(Frequency::Quarterly)
    }

    pub(crate) fn annual(self) -> Leaf {
        self.frequency(Frequency::Annual)
    }

    pub(crate) fn window(mut self, window: Window) -> Leaf {
        self.node.window = (window != Window::Ytd).then_some(window);
        self
    }

    /// Window `period`: the period's own months only.
    pub(crate) fn period(self) -> Leaf {
        self.window(Window::Period)
    }

    /// Counts dated records (积分记录) instead of entries.
    pub(crate) fn records(mut self) -> Leaf {
        self.node.source = Some(Source::Records);
        self
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn field(
        mut self,
        key: impl Into<String>,
        name: impl Into<String>,
        field_type: FieldType,
        agg: Aggregation,
        bounds: Bounds,
        gen_: Gen,
    ) -> Leaf {
        self.node.fields.get_or_insert_with(Vec::new).push(FieldDef {
            key: key.into(),
            name: name.into(),
            field_type,
            agg,
            min: bounds.0,
            max: bounds.1,
        });
        self.gens.push(gen_);
        self
    }

    /// The index of a field already added, for `Gen::Part`.
    pub(crate) fn field_index(&self, key: &str) -> usize {
        self.node
            .fields
            .as_ref()
            .and_then(|f| f.iter().position(|f| f.key == key))
            .unwrap_or_else(|| panic!("indicator {}: no field `{key}` before its part", self.node.id))
    }

    /// A default param value for every assigned unit.
    pub(crate) fn param(mut self, key: &str, value: f64) -> Leaf {
        self.node.params.get_or_insert_with(Params::new).insert(key.into(), number(value));
        self
    }

    pub(crate) fn formula(mut self, formula: &str) -> Leaf {
        self.node.formula = Some(formula.into());
        self
    }

    /// Assigns a whole group (考核类别), optionally with group params.
    pub(crate) fn group(mut self, group: &str, params: &[(&str, f64)]) -> Leaf {
        self.rules().push(AssignRule { group: Some(group.into()), unit: None, params: to_params(params) });
        self
    }

    /// Assigns one unit by id, optionally with its own params (个性化目标).
    pub(crate) fn unit(mut self, unit: impl Into<String>, params: &[(&str, f64)]) -> Leaf {
        self.rules().push(AssignRule { group: None, unit: Some(unit.into()), params: to_params(params) });
        self
    }

    fn rules(&mut self) -> &mut Vec<AssignRule> {
        self.node.assign.get_or_insert_with(Vec::new)
    }
}

fn to_params(params: &[(&str, f64)]) -> Params {
    params.iter().map(|(k, v)| ((*k).to_string(), number(*v))).collect()
}

/// A JSON number for a double (always finite here).
pub(crate) fn number(x: f64) -> Value {
    // Whole numbers are written as integers (`12`, not `12.0`), as a person would.
    if x.fract() == 0.0 && x.abs() < 1e15 { Value::from(x as i64) } else { Value::from(x) }
}

/// Builds a tree of categories and leaves, keeping each leaf's value models.
#[derive(Default)]
pub(crate) struct Tree {
    pub gens: HashMap<String, Vec<Gen>>,
}

impl Tree {
    /// Registers a finished leaf and returns its node.
    pub(crate) fn leaf(&mut self, leaf: Leaf) -> NodeDef {
        self.gens.insert(leaf.node.id.clone(), leaf.gens);
        leaf.node
    }
}

/// A category (指标类别) node.
pub(crate) fn category(id: &str, name: &str, points: Option<f64>, children: Vec<NodeDef>) -> NodeDef {
    NodeDef { id: id.into(), name: name.into(), points, children: Some(children), ..NodeDef::default() }
}

/// A top-level bonus (加分项) or deduction (减分项) category with a cap.
pub(crate) fn capped(id: &str, name: &str, kind: Kind, cap: f64, children: Vec<NodeDef>) -> NodeDef {
    NodeDef { kind: Some(kind), cap: Some(cap), ..category(id, name, None, children) }
}

/// The leaves of a tree, in tree order (depth first).
pub(crate) fn leaves(tree: &[NodeDef]) -> Vec<&NodeDef> {
    fn walk<'a>(nodes: &'a [NodeDef], out: &mut Vec<&'a NodeDef>) {
        for n in nodes {
            match &n.children {
                Some(children) => walk(children, out),
                None => out.push(n),
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, &mut out);
    out
}

/// Each unit's params for an indicator, in scheme unit order: `None` if the unit is
/// not assigned. Same precedence as the validator (spec §2): the indicator's
/// defaults, overridden by its group's rules, overridden by its own rules.
pub(crate) fn resolve_params<'a>(
    node: &'a NodeDef,
    units: &[UnitDef],
    unit_pos: &HashMap<&str, usize>,
) -> Vec<Option<Vec<(&'a str, f64)>>> {
    let mut by_group: HashMap<&str, Vec<&AssignRule>> = HashMap::new();
    let mut by_unit: Vec<Vec<&AssignRule>> = vec![Vec::new(); units.len()];
    for rule in node.assign.iter().flatten() {
        if let Some(g) = &rule.group {
            by_group.entry(g.as_str()).or_default().push(rule);
        } else if let Some(&u) = rule.unit.as_deref().and_then(|u| unit_pos.get(u)) {
            by_unit[u].push(rule);
        }
    }
    let defaults: Vec<(&str, f64)> = node.params.iter().flatten().map(|(k, v)| (k.as_str(), v.as_f64().unwrap_or(0.0))).collect();
    units
        .iter()
        .enumerate()
        .map(|(u, unit)| {
            let group_rules = by_group.get(unit.group.as_str()).map_or(&[][..], Vec::as_slice);
            if group_rules.is_empty() && by_unit[u].is_empty() {
                return None;
            }
            let mut params = defaults.clone();
            for rule in group_rules.iter().chain(&by_unit[u]) {
                for (k, v) in &rule.params {
                    let v = v.as_f64().unwrap_or(0.0);
                    match params.iter_mut().find(|(p, _)| p == k) {
                        Some(slot) => slot.1 = v,
                        None => params.push((k.as_str(), v)),
                    }
                }
            }
            Some(params)
        })
        .collect()
}

/// Months with a report due (spec §5): monthly — every month; quarterly — 3, 6, 9, 12;
/// annual — 12; only those up to `through`.
pub(crate) fn due_months(frequency: Frequency, through: u8) -> impl Iterator<Item = u8> {
    (1..=through).filter(move |m| match frequency {
        Frequency::Monthly => true,
        Frequency::Quarterly => m % 3 == 0,
        Frequency::Annual => *m == 12,
    })
}

/// First month an entry in `month` covers: the month after the previous due month.
fn covers_from(frequency: Frequency, month: u8) -> u8 {
    match frequency {
        Frequency::Monthly => month,
        Frequency::Quarterly => month.saturating_sub(2).max(1),
        Frequency::Annual => 1,
    }
}

/// Economic seasonality (季节性): a slow January–February (Spring Festival), a year-end push. Mean 1.
const SEASON: [f64; 12] = [0.75, 0.6, 1.0, 0.95, 1.0, 1.1, 0.95, 0.95, 1.0, 1.05, 1.05, 1.6];

/// One unit's performance on one indicator: its level and drift over the year.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Performance {
    pub level: f64,
    pub drift: f64,
}

impl Performance {
    /// Draws the unit's performance on an indicator around its overall ability.
    pub(crate) fn draw(dice: &mut Dice, ability: f64) -> Performance {
        Performance { level: ability * dice.uniform(0.92, 1.08), drift: dice.uniform(-0.08, 0.08) }
    }

    /// Performance in month `m` (1–12): rising or falling across the year.
    fn at(self, m: u8) -> f64 {
        self.level * (1.0 + self.drift * (f64::from(m) - 6.5) / 5.5)
    }
}

fn base_value(base: Base, params: &[(&str, f64)]) -> f64 {
    match base {
        Base::Fixed(x) => x,
        Base::Param(name) => params.iter().find(|(k, _)| *k == name).map_or(0.0, |p| p.1),
    }
}

/// Simulates a unit's raw monthly values for every field of an indicator (index
/// `[field][month - 1]`); `Part` fields are filled per entry by `entry_values`.
pub(crate) fn simulate(dice: &mut Dice, gens: &[Gen], params: &[(&str, f64)], perf: Performance) -> Vec<[f64; 12]> {
    gens.iter()
        .map(|g| {
            let mut series = [0.0; 12];
            match *g {
                Gen::Cumulative { base, seasonal } | Gen::Flow { base, seasonal } => {
                    let base = base_value(base, params);
                    let cumulative = matches!(g, Gen::Cumulative { .. });
                    let mut total = 0.0;
                    for (i, slot) in series.iter_mut().enumerate() {
                        let season = if seasonal { SEASON[i] } else { 1.0 };
                        let inc = (base / 12.0 * perf.at(i as u8 + 1) * season * dice.uniform(0.85, 1.15)).max(0.0);
                        total += inc;
                        *slot = if cumulative { total } else { inc };
                    }
                }
                Gen::Level { centre, sens, noise } => {
                    let centre = base_value(centre, params);
                    for (i, slot) in series.iter_mut().enumerate() {
                        *slot = centre + (perf.at(i as u8 + 1) - 1.0) * sens + noise * dice.normal();
                    }
                }
                Gen::Events { mean, sens } => {
                    for (i, slot) in series.iter_mut().enumerate() {
                        let m = mean * (1.0 + (perf.at(i as u8 + 1) - 1.0) * sens).max(0.1);
                        *slot = f64::from(dice.events(m));
                    }
                }
                Gen::RunningEvents { mean } => {
                    let mut total = 0.0;
                    for slot in &mut series {
                        total += f64::from(dice.events(mean));
                        *slot = total;
                    }
                }
                Gen::Lumpy { mean, p } => {
                    for (i, slot) in series.iter_mut().enumerate() {
                        if dice.chance((p * perf.at(i as u8 + 1)).clamp(0.0, 1.0)) {
                            *slot = mean * dice.uniform(0.3, 2.0);
                        }
                    }
                }
                Gen::Constant { lo, hi } => series = [dice.int(lo, hi) as f64; 12],
                Gen::Flag { p } => {
                    for (i, slot) in series.iter_mut().enumerate() {
                        let q = (p + (perf.at(i as u8 + 1) - 1.0) * 0.8).clamp(0.0, 1.0);
                        *slot = f64::from(u8::from(dice.chance(q)));
                    }
                }
                Gen::Part { .. } => {}
            }
            series
        })
        .collect()
}

/// Rounds half away from zero to `decimals` (0–2) places, on the scaled value.
pub(crate) fn round_to(x: f64, decimals: usize) -> f64 {
    const SCALE: [f64; 3] = [1.0, 10.0, 100.0];
    let s = SCALE[decimals.min(2)];
    (x * s).round() / s
}

/// A value as the field stores it: whole for integers and booleans, 2 decimals
/// otherwise (1 for percents), within the field's bounds.
fn finish(field: &FieldDef, x: f64) -> f64 {
    let x = match field.field_type {
        FieldType::Integer => x.round(),
        FieldType::Boolean => f64::from(u8::from(x >= 0.5)),
        FieldType::Percent => round_to(x, 1),
        FieldType::Number => round_to(x, 2),
    };
    let x = field.min.map_or(x, |lo| x.max(lo));
    field.max.map_or(x, |hi| x.min(hi))
}

/// The values of one unit's entry for `month`, as a data-file map. `keep` says which
/// fields the entry carries (a partial entry leaves some out).
#[allow(clippy::too_many_arguments)]
pub(crate) fn entry_values(
    dice: &mut Dice,
    fields: &[FieldDef],
    gens: &[Gen],
    series: &[[f64; 12]],
    frequency: Frequency,
    month: u8,
    perf: Performance,
    keep: impl Fn(usize) -> bool,
) -> serde_json::Map<String, Value> {
    let from = covers_from(frequency, month);
    let mut values = [0.0f64; 8];
    let mut map = serde_json::Map::with_capacity(fields.len());
    for (i, (field, g)) in fields.iter().zip(gens).enumerate() {
        let raw = match *g {
            Gen::Part { of, share, sens, progressive } => {
                let s = if progressive {
                    share * f64::from(month) / 12.0 * perf.at(month) * (1.0 + 0.05 * dice.normal())
                } else {
                    share + (perf.at(month) - 1.0) * sens + 0.03 * dice.normal()
                };
                let whole = values.get(of).copied().unwrap_or(0.0);
                (whole * s.clamp(0.0, 1.0)).round().min(whole)
            }
            g if g.is_additive() => series[i][usize::from(from - 1)..usize::from(month)].iter().sum(),
            _ => series[i][usize::from(month - 1)],
        };
        let x = finish(field, raw);
        if let Some(slot) = values.get_mut(i) {
            *slot = x;
        }
        if keep(i) {
            let v = match field.field_type {
                FieldType::Boolean => Value::Bool(x == 1.0),
                FieldType::Integer => Value::from(x as i64),
                _ => number(x),
            };
            map.insert(field.key.clone(), v);
        }
    }
    map
}

/// `2027-03`.
pub(crate) fn month_text(year: i32, month: u8) -> String {
    format!("{year:04}-{month:02}")
}
