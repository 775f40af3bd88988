//! Synthetic schemes and data (合成数据) for benchmarks at province scale, e.g. 2000
//! units × 300 indicators: several groups (考核类别), a three-level tree of regular
//! categories plus a capped bonus (加分) and deduction (减分) category, and a full
//! year of data.
//!
//! Indicators mix every formula shape the engine must handle — ratio to target
//! with `min`/`clamp`, `tier`, `if` with comparisons and logic, `safe_div`, `round`,
//! `abs`, `floor`, `^`, and peer functions (`group_rank`, `group_rank_asc`,
//! `group_avg`, `group_max`, `group_min`, `group_count`) on about 10% of them —
//! with about 70% monthly, 20% quarterly and 10% annual, `ytd` and `period`
//! windows, every aggregation, 1–3 fields each, per-group targets and per-unit
//! overrides. Every assigned unit reports every due month of the year except a few
//! percent of gaps (and a few partial entries); record indicators get dated records.
//!
//! Regular points are halves (0.5–5), so categories add up exactly.

use std::collections::HashMap;

use crate::data::{DataFile, EntryRow, RecordRow};
use crate::scheme::{
    Aggregation::{Avg, Last, Max, Min, Sum},
    FieldType::{Boolean, Integer, Number, Percent},
    Frequency, GradeDef, GroupDef, Kind, NodeDef, SchemeFile, UnitDef,
};

use super::Base::{Fixed as F, Param as P};
use super::{
    ANY, Dice, Gen, Leaf, NONNEG, PCT, Performance, Tree, capped, category, due_months, entry_values, leaves, month_text, range,
    resolve_params, simulate,
};

/// The year of every synthetic scheme.
pub const SYNTHETIC_YEAR: i32 = 2027;

/// Group ids and names, used in order.
const GROUPS: [(&str, &str); 8] = [
    ("g1", "省直综合部门"),
    ("g2", "省直经济部门"),
    ("g3", "省直社会部门"),
    ("g4", "市州"),
    ("g5", "县市区"),
    ("g6", "省属高校"),
    ("g7", "省属企业"),
    ("g8", "开发区"),
];

/// Names of top-level regular categories.
const TOPS: [&str; 5] = ["经济发展", "社会民生", "生态环境", "依法行政", "党的建设"];

/// Indicator names, cycled (with the indicator id appended).
const NAMES: [&str; 24] = [
    "重点项目投资完成",
    "招商引资到位资金",
    "规模以上工业增加值",
    "外贸进出口",
    "城镇新增就业",
    "义务教育巩固率",
    "基本医疗保险参保率",
    "养老服务设施覆盖",
    "空气质量优良天数",
    "河湖长制落实",
    "垃圾分类覆盖率",
    "安全生产隐患整改",
    "12345热线按时办结",
    "政务服务好评率",
    "行政执法案卷合格率",
    "规范性文件备案",
    "督办事项办结",
    "政务信息报送",
    "理论学习中心组学习",
    "意识形态工作",
    "党风廉政建设",
    "干部教育培训",
    "预算执行进度",
    "审计整改落实",
];

/// Formula shapes, with their rough share of regular indicators.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// Year-to-date amount against a target: `min(actual / (target * progress), 1.2) / 1.2 * points`.
    Ratio,
    /// Monthly amounts summed against a target, clamped.
    FlowRatio,
    /// A percentage in tiers.
    TierRate,
    /// Counts of incidents with `if` and comparisons.
    Incidents,
    /// Done of planned with `safe_div` and `round`.
    Parts,
    /// Three fields of different types with `if`, `or`, `not`.
    Mixed,
    /// Distance from a target level with `abs`.
    Deviation,
    /// Peer functions over the group.
    Peer,
}

const SHAPES: [(Shape, f64); 8] = [
    (Shape::Ratio, 18.0),
    (Shape::FlowRatio, 14.0),
    (Shape::TierRate, 14.0),
    (Shape::Incidents, 12.0),
    (Shape::Parts, 12.0),
    (Shape::Mixed, 10.0),
    (Shape::Deviation, 10.0),
    (Shape::Peer, 10.0),
];

/// A synthetic scheme of `units` units and `indicators` indicators, with a year of
/// data. Both counts are at least 1 (0 counts as 1). Units fall into 2–8 groups of
/// about 250 (one group for a single unit). With 3 or more indicators, about 5%
/// each are bonus and deduction indicators (at least one of each).
///
/// Entries are written for every due month of 2027 (monthly: 12, quarterly: 4,
/// annual: 1), minus about 3% gaps and 0.5% never-reported unit–indicator pairs.
/// Deterministic in `seed`. At 2000 × 300 it makes about 3.9 million entries,
/// which as a `DataFile` hold about 1.4 GB and take about 3 s of CPU to generate in a
/// release build (`cargo run --release -p jixiao-core --example generate --
/// synthetic 2000 300 42` measures both).
pub fn synthetic(units: usize, indicators: usize, seed: u64) -> (SchemeFile, DataFile) {
    let units = units.max(1);
    let indicators = indicators.max(1);
    let mut dice = Dice::new(seed);

    let n_groups = if units < 2 { 1 } else { units.div_ceil(250).clamp(2, GROUPS.len()) };
    let groups: Vec<GroupDef> = GROUPS[..n_groups].iter().map(|(id, name)| GroupDef { id: (*id).into(), name: (*name).into() }).collect();
    let width = units.to_string().len().max(4);
    let unit_defs: Vec<UnitDef> = (0..units)
        .map(|i| {
            let g = i * n_groups / units;
            UnitDef {
                id: format!("u{:0width$}", i + 1),
                name: format!("{}{:0width$}号单位", GROUPS[g].1, i + 1),
                group: GROUPS[g].0.into(),
            }
        })
        .collect();
    let group_ids: Vec<&str> = GROUPS[..n_groups].iter().map(|g| g.0).collect();

    let (n_bonus, n_deduction) = if indicators >= 3 {
        let n = (indicators / 20).max(1);
        (n, n)
    } else {
        (0, 0)
    };
    let n_regular = indicators - n_bonus - n_deduction;
    let iw = indicators.to_string().len().max(3);

    let mut tree = Tree::default();
    // Regular leaves with their points in halves.
    let mut regular: Vec<(NodeDef, u64)> = Vec::with_capacity(n_regular);
    for i in 0..n_regular {
        let id = format!("R{:0iw$}", i + 1);
        let halves = dice.int(1, 10) as u64;
        let leaf = regular_leaf(&mut dice, &id, i, halves as f64 / 2.0, &group_ids, &unit_defs);
        regular.push((tree.leaf(leaf), halves));
    }
    // Sub-categories of ten leaves, dealt round-robin to the top categories.
    let subs: Vec<Vec<(NodeDef, u64)>> = {
        let mut subs = Vec::new();
        let mut it = regular.into_iter().peekable();
        while it.peek().is_some() {
            subs.push(it.by_ref().take(10).collect());
        }
        subs
    };
    let n_top = n_regular.div_ceil(60).clamp(1, TOPS.len()).min(subs.len());
    let mut tops: Vec<(Vec<NodeDef>, u64)> = vec![(Vec::new(), 0); n_top];
    for (s, leaves) in subs.into_iter().enumerate() {
        let halves: u64 = leaves.iter().map(|l| l.1).sum();
        let t = s % n_top;
        let id = format!("C{}_{:02}", t + 1, tops[t].0.len() + 1);
        let name = format!("{}（{}）", TOPS[t], tops[t].0.len() + 1);
        tops[t].0.push(category(&id, &name, Some(halves as f64 / 2.0), leaves.into_iter().map(|l| l.0).collect()));
        tops[t].1 += halves;
    }
    let mut roots: Vec<NodeDef> = tops
        .into_iter()
        .enumerate()
        .map(|(t, (children, halves))| category(&format!("C{}", t + 1), TOPS[t], Some(halves as f64 / 2.0), children))
        .collect();
    if n_bonus > 0 {
        let children = (0..n_bonus).map(|i| tree.leaf(record_leaf(&mut dice, &format!("X{:0iw$}", i + 1), true, &group_ids))).collect();
        roots.push(capped("X", "创新创优加分", Kind::Bonus, 5.0, children));
        let children =
            (0..n_deduction).map(|i| tree.leaf(record_leaf(&mut dice, &format!("Y{:0iw$}", i + 1), false, &group_ids))).collect();
        roots.push(capped("Y", "违规失职减分", Kind::Deduction, 10.0, children));
    }

    let file = SchemeFile {
        year: SYNTHETIC_YEAR,
        name: format!("{SYNTHETIC_YEAR}年度合成考核方案（{units}个单位、{indicators}项指标）"),
        normalize_to: Some(100.0),
        groups,
        units: unit_defs,
        grades: vec![
            GradeDef { name: "优秀".into(), min_score: Some(90.0), quota: Some(0.3) },
            GradeDef { name: "良好".into(), min_score: Some(80.0), quota: None },
            GradeDef { name: "一般".into(), min_score: Some(60.0), quota: None },
            GradeDef { name: "较差".into(), min_score: None, quota: None },
        ],
        tree: roots,
        reporting: None,
        lights: None,
        supervision: None,
    };
    let data = data(&mut dice, &file, &tree.gens);
    (file, data)
}

/// One regular indicator of a random shape, assigned to some or all groups.
fn regular_leaf(dice: &mut Dice, id: &str, i: usize, points: f64, groups: &[&str], units: &[UnitDef]) -> Leaf {
    let shape = SHAPES[dice.weighted(&SHAPES.map(|s| s.1))].0;
    let frequency = match dice.uniform(0.0, 1.0) {
        x if x < 0.7 => Frequency::Monthly,
        x if x < 0.9 => Frequency::Quarterly,
        _ => Frequency::Annual,
    };
    let period = dice.chance(0.25);
    let name = format!("{}{}", NAMES[i % NAMES.len()], id);
    let leaf = Leaf::new(id, name).points(points).frequency(frequency);
    let target = round_sig(dice.uniform(10.0, 5000.0));
    let (leaf, has_target) = match shape {
        Shape::Ratio => {
            let agg = if dice.chance(0.5) { Last } else { Max };
            let leaf = leaf
                .field("actual", "累计完成值", Number, agg, NONNEG, Gen::Cumulative { base: P("target"), seasonal: dice.chance(0.5) })
                .param("target", target)
                .formula("min(actual / (target * progress), 1.2) / 1.2 * points");
            (leaf, true)
        }
        Shape::FlowRatio => {
            let leaf = leaf
                .field("amount", "当期完成值", Number, Sum, NONNEG, Gen::Flow { base: P("target"), seasonal: dice.chance(0.5) })
                .param("target", target)
                .formula(dice.pick::<&str>(&[
                    "clamp(amount / (target * progress), 0, 1) * points",
                    "round(min(amount / (target * progress), 1) ^ 2 * points, 2)",
                ]));
            (leaf, true)
        }
        Shape::TierRate => {
            let leaf = leaf
                .window(window(period))
                .field("rate", "达标率(%)", Percent, Avg, PCT, Gen::Level { centre: F(92.0), sens: 25.0, noise: 3.0 })
                .formula(dice.pick::<&str>(&[
                    "tier(rate, 95, points, 90, points * 0.85, 80, points * 0.6, 60, points * 0.3, 0)",
                    "tier(rate / 100, 0.98, 1, 0.9, 0.8, 0.7, 0.5, 0) * points",
                ]));
            (leaf, false)
        }
        Shape::Incidents => {
            let leaf = leaf
                .window(window(period))
                .field("incidents", "问题次数", Integer, Sum, NONNEG, Gen::Events { mean: 0.15, sens: -3.0 })
                .field("fixed", "整改率(%)", Percent, Last, PCT, Gen::Level { centre: F(95.0), sens: 15.0, noise: 3.0 })
                .formula(dice.pick::<&str>(&[
                    "if(incidents == 0 and fixed >= 95, points, max(points - incidents * 0.5 - (100 - fixed) * 0.02, 0))",
                    "if(incidents > 2, 0, points * (1 - incidents / 3) * min(fixed / 90, 1))",
                ]));
            (leaf, false)
        }
        Shape::Parts => {
            let leaf = leaf.field("planned", "计划数", Integer, Last, range(0.0, 200.0), Gen::Constant { lo: 0, hi: 40 });
            let of = leaf.field_index("planned");
            let leaf = leaf
                .field("done", "完成数", Integer, Last, NONNEG, Gen::Part { of, share: 1.0, sens: 0.0, progressive: true })
                .formula(dice.pick::<&str>(&[
                    "round(min(safe_div(done, planned * progress, 1), 1) * points, 2)",
                    "if(planned == 0, points, tier(done / (planned * progress), 1, points, 0.8, points * 0.8, 0.5, points * 0.5, 0))",
                ]));
            (leaf, false)
        }
        Shape::Mixed => {
            let leaf = leaf
                .window(window(period))
                .field("quality", "合格率(%)", Percent, Min, PCT, Gen::Level { centre: F(93.0), sens: 20.0, noise: 3.0 })
                .field("peak", "峰值", Number, Max, range(0.0, 100.0), Gen::Level { centre: F(60.0), sens: 30.0, noise: 8.0 })
                .field("filed", "按时报送", Boolean, Last, ANY, Gen::Flag { p: 0.9 })
                .formula(dice.pick::<&str>(&[
                    "if(not (filed == 1) or quality < 80, points * 0.5, points * (0.6 * quality / 100 + 0.4 * min(peak, 80) / 80))",
                    "min(points, floor(quality / 10) / 10 * points + if(filed == 1 and peak >= 50, 0.5, 0))",
                ]));
            (leaf, false)
        }
        Shape::Deviation => {
            let level = round_sig(dice.uniform(20.0, 80.0));
            let leaf = leaf
                .window(window(period))
                .field("level", "监测值", Number, Avg, NONNEG, Gen::Level { centre: P("target"), sens: 10.0, noise: 4.0 })
                .param("target", level)
                .formula("max(points - abs(level - target) / target * points * 2, 0)");
            (leaf, true)
        }
        Shape::Peer => {
            let leaf = leaf
                .window(window(period))
                .field("score", "考评得分", Number, Avg, range(1.0, 100.0), Gen::Level { centre: F(85.0), sens: 30.0, noise: 4.0 })
                .formula(dice.pick::<&str>(&[
                    "points * clamp(1 - (group_rank(score) - 1) / max(group_count(), 1), 0, 1)",
                    "clamp(points * (0.85 + (score - group_avg(score)) / 40), 0, points)",
                    "round(safe_div(score, group_max(score), 0) * points, 2)",
                    "safe_div(group_min(score), score, 0) * points * 0.5 + points * 0.5",
                    "points * tier(group_rank_asc(score) / group_count(), 0.7, 1, 0.3, 0.8, 0.6)",
                ]));
            (leaf, false)
        }
    };
    assign(dice, leaf, groups, units, has_target.then_some(target))
}

fn window(period: bool) -> crate::scheme::Window {
    if period { crate::scheme::Window::Period } else { crate::scheme::Window::Ytd }
}

/// Rounds to 3 significant digits, as targets are written.
fn round_sig(x: f64) -> f64 {
    let scale = if x >= 1000.0 {
        10.0
    } else if x >= 100.0 {
        1.0
    } else {
        0.1
    };
    (x / scale).round() * scale
}

/// Assigns a leaf to all groups (two thirds of them) or a random subset, with
/// per-group targets and, for a few units, their own target.
fn assign(dice: &mut Dice, mut leaf: Leaf, groups: &[&str], units: &[UnitDef], target: Option<f64>) -> Leaf {
    let everyone = dice.chance(0.65);
    let mut chosen: Vec<&str> = groups.iter().copied().filter(|_| everyone || dice.chance(0.5)).collect();
    if chosen.is_empty() {
        chosen.push(*dice.pick(groups));
    }
    for g in &chosen {
        let params: Vec<(&str, f64)> = match target {
            Some(t) if dice.chance(0.6) => vec![("target", round_sig(t * dice.uniform(0.7, 1.3)))],
            _ => Vec::new(),
        };
        leaf = leaf.group(g, &params);
    }
    if let Some(t) = target {
        for u in units {
            if chosen.contains(&u.group.as_str()) && dice.chance(0.03) {
                leaf = leaf.unit(u.id.clone(), &[("target", round_sig(t * dice.uniform(0.5, 1.5)))]);
            }
        }
    }
    leaf
}

/// A bonus or deduction indicator counting records, assigned to every group.
fn record_leaf(dice: &mut Dice, id: &str, bonus: bool, groups: &[&str]) -> Leaf {
    let (name, formulas): (&str, &[(&str, Option<f64>)]) = if bonus {
        ("创新创优", &[("record_points", None), ("min(record_points, 3)", Some(3.0)), ("round(record_points * 0.3, 1)", Some(2.0))])
    } else {
        ("违规失职", &[("record_count * 0.5", Some(3.0)), ("record_points", None), ("tier(record_points, 5, 3, 2, 1.5, 0)", Some(3.0))])
    };
    let (formula, points) = *dice.pick(formulas);
    let mut leaf = Leaf::new(id, format!("{name}{id}")).records().formula(formula);
    if let Some(p) = points {
        leaf = leaf.points(p);
    }
    for g in groups {
        leaf = leaf.group(g, &[]);
    }
    leaf
}

const NOTES: [&str; 6] = ["上级表彰", "创新项目推广", "信息被采用", "督办逾期", "信访问题", "通报批评"];

fn data(dice: &mut Dice, file: &SchemeFile, gens: &HashMap<String, Vec<Gen>>) -> DataFile {
    let units = &file.units;
    let unit_pos: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
    let ability: Vec<f64> = units.iter().map(|_| dice.uniform(0.8, 1.12)).collect();
    let months: Vec<String> = (1..=12).map(|m| month_text(file.year, m)).collect();
    let all = leaves(&file.tree);

    let assignments: Vec<_> = all.iter().map(|node| resolve_params(node, units, &unit_pos)).collect();
    // Room for every due entry up front: millions of rows, so no regrowth.
    let due: usize = all
        .iter()
        .zip(&assignments)
        .filter(|(node, _)| node.source.is_none())
        .map(|(node, a)| a.iter().flatten().count() * due_months(node.frequency.unwrap_or_default(), 12).count())
        .sum();
    let mut entries = Vec::with_capacity(due);
    let mut records = Vec::new();
    for (node, assigned) in all.into_iter().zip(assignments) {
        if node.source.is_some() {
            let rate = dice.uniform(0.3, 2.0);
            for (u, params) in assigned.iter().enumerate() {
                if params.is_none() {
                    continue;
                }
                for _ in 0..dice.events(rate) {
                    let month = dice.int(1, 12) as usize;
                    let note = dice.chance(0.5).then(|| (*dice.pick(&NOTES)).to_string());
                    records.push(RecordRow {
                        unit: units[u].id.clone(),
                        indicator: node.id.clone(),
                        date: format!("{}-{:02}", months[month - 1], dice.int(1, 28)),
                        points: dice.int(1, 6) as f64 / 2.0,
                        note,
                    });
                }
            }
            continue;
        }
        let gens = &gens[&node.id];
        let fields = node.fields.as_deref().unwrap_or_default();
        let frequency = node.frequency.unwrap_or_default();
        for (u, params) in assigned.iter().enumerate() {
            let Some(params) = params else { continue };
            // A few units never report this indicator.
            if dice.chance(0.005) {
                continue;
            }
            let perf = Performance::draw(dice, ability[u]);
            let series = simulate(dice, gens, params, perf);
            for month in due_months(frequency, 12) {
                if dice.chance(0.03) {
                    continue;
                }
                // Now and then an entry carries only some of its fields.
                let drop = if fields.len() > 1 && dice.chance(0.01) { dice.below(fields.len()) } else { usize::MAX };
                let values = entry_values(dice, fields, gens, &series, frequency, month, perf, |f| f != drop);
                entries.push(EntryRow {
                    unit: units[u].id.clone(),
                    indicator: node.id.clone(),
                    month: months[usize::from(month) - 1].clone(),
                    values,
                });
            }
        }
    }
    DataFile { entries, records }
}
