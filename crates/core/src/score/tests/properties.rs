//! Properties over random schemes and data: scores within bounds, categories
//! equal the sum of their rounded indicators, ranks follow totals, totals follow
//! spec §6, and incremental recompute equals a full recompute.

use proptest::prelude::*;

use super::*;

/// Formula shapes over field `x`, field `y` and param `target`.
const SHAPES: [&str; 9] = [
    "x",
    "min(x / (target * progress), 1.2) / 1.2 * points",
    "safe_div(x, y, 0) * points",
    "tier(x, 90, points, 60, points * 0.6, 0)",
    "if(x >= target, points, x / target * points)",
    "points - (group_rank(x) - 1)",
    "x / group_max(x) * points",
    "x - group_avg(y)",
    "round(x / 7, 3) + month",
];

#[derive(Debug, Clone)]
struct Case {
    scheme: Value,
    entries: Vec<(usize, usize, u8, Option<f64>, Option<f64>)>,
    records: Vec<(usize, usize, u8, f64)>,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..7, 1usize..3, prop::collection::vec((0usize..SHAPES.len(), 1u32..30, 0u8..3, any::<bool>()), 1..6), any::<bool>())
        .prop_flat_map(|(units, groups, inds, normalize)| {
            let n_inds = inds.len();
            let entries = prop::collection::vec(
                (0..units, 0..n_inds, 1u8..=12, prop::option::weighted(0.9, 0.0..150.0f64), prop::option::weighted(0.9, -5.0..50.0f64)),
                0..60,
            );
            let records = prop::collection::vec((0..units, 0..2usize, 1u8..=12, -3.0..5.0f64), 0..20);
            (Just((units, groups, inds, normalize)), entries, records)
        })
        .prop_map(|((units, groups, inds, normalize), entries, records)| {
            let children: Vec<Value> = inds
                .iter()
                .enumerate()
                .map(|(i, &(shape, points, freq, period_window))| {
                    let frequency = ["monthly", "quarterly", "annual"][freq as usize];
                    let window = if period_window { "period" } else { "ytd" };
                    let agg = ["last", "sum", "avg", "max", "min"][i % 5];
                    json!({"id": format!("I{i}"), "name": format!("I{i}"), "points": points,
                           "frequency": frequency,
                           "window": window,
                           "fields": [{"key": "x", "agg": agg}, {"key": "y"}],
                           "params": {"target": 50 + i * 10},
                           "formula": SHAPES[shape],
                           "assign": [{"group": "g0"}, {"unit": "u1", "params": {"target": 7}}] })
                })
                .collect();
            let total: u32 = inds.iter().map(|i| i.1).sum();
            let normalize_to = if normalize { json!(100) } else { Value::Null };
            let scheme = json!({
                "year": 2027, "name": "p",
                "normalize_to": normalize_to,
                "groups": (0..groups).map(|g| json!({"id": format!("g{g}"), "name": "G"})).collect::<Vec<_>>(),
                "units": (0..units).map(|u| json!({"id": format!("u{u}"), "name": "U", "group": format!("g{}", u % groups)})).collect::<Vec<_>>(),
                "grades": [{"name": "A", "min_score": 20, "quota": 0.5}, {"name": "B"}],
                "tree": [
                    {"id": "R", "name": "R", "points": total, "children": children},
                    {"id": "X", "name": "X", "kind": "bonus", "cap": 4, "children": [
                        {"id": "XR", "name": "XR", "source": "records", "formula": "record_points", "assign": [{"group": "g0"}, {"group": "g1"}]}]},
                    {"id": "Y", "name": "Y", "kind": "deduction", "cap": 3, "children": [
                        {"id": "YR", "name": "YR", "source": "records", "points": 2, "formula": "record_count * 0.75", "assign": [{"group": "g0"}]}]}
                ]
            });
            let scheme = if groups == 1 {
                let mut s = scheme;
                s["tree"][1]["children"][0]["assign"] = json!([{"group": "g0"}]);
                s
            } else {
                scheme
            };
            let entries = entries.into_iter().map(|(u, i, m, x, y)| (u, i, m, x.map(two_dp), y.map(two_dp))).collect();
            let records = records.into_iter().map(|(u, k, m, p)| (u, k, m, two_dp(p))).collect();
            Case { scheme, entries, records }
        })
}

fn two_dp(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn entry_row(c: &(usize, usize, u8, Option<f64>, Option<f64>)) -> EntryRow {
    let mut values = serde_json::Map::new();
    if let Some(x) = c.3 {
        values.insert("x".into(), json!(x));
    }
    if let Some(y) = c.4 {
        values.insert("y".into(), json!(y));
    }
    EntryRow { unit: format!("u{}", c.0), indicator: format!("I{}", c.1), month: format!("2027-{:02}", c.2), values }
}

fn record_row(c: &(usize, usize, u8, f64)) -> RecordRow {
    RecordRow {
        unit: format!("u{}", c.0),
        indicator: ["XR", "YR"][c.1].into(),
        date: format!("2027-{:02}-15", c.2),
        points: c.3,
        note: None,
    }
}

fn check_invariants(s: &Scheme, r: &PeriodResult) -> Result<(), TestCaseError> {
    let plan = Plan::new(s);
    for u in 0..s.units.len() {
        for (n, node) in s.nodes.iter().enumerate() {
            let Some(score) = r.score(u, n) else { continue };
            if let Some(ind) = &node.indicator {
                prop_assert!(ind.is_assigned(u));
                prop_assert!(score >= 0.0, "{} {}", node.id, score);
                if let Some(p) = node.points {
                    prop_assert!(score <= p, "{} {} > {}", node.id, score, p);
                }
                prop_assert_eq!(crate::round::round2(score), score);
            } else if node.parent.is_some() || node.kind == crate::scheme::Kind::Regular {
                let sum = plan.below[n].iter().filter_map(|&i| r.score(u, i)).fold(0.0, |a, b| a + b);
                prop_assert_eq!(crate::round::round2(sum), score, "category {}", node.id);
            }
        }
        let t = r.total(u);
        prop_assert_eq!(t.total, crate::round::round2((t.regular + t.bonus) - t.deduction));
        let group = s.units[u].group;
        let better = plan.group_units[group].iter().filter(|&&v| r.total(v).total > t.total).count();
        prop_assert_eq!(t.rank, better + 1);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn full_recompute_invariants(c in case()) {
        let s = scheme(c.scheme.clone());
        let mut file = crate::data::DataFile::default();
        let mut seen = std::collections::HashSet::new();
        for e in &c.entries {
            if seen.insert((e.0, e.1, e.2)) {
                file.entries.push(entry_row(e));
            }
        }
        file.records = c.records.iter().map(record_row).collect();
        let d = Dataset::load(&s, &file).unwrap();
        for p in Period::all_in_year(2027) {
            check_invariants(&s, &score_period(&s, &d, p))?;
        }
    }

    #[test]
    fn incremental_equals_full(c in case(), removals in prop::collection::vec((0usize..60, any::<bool>()), 0..10)) {
        let s = Arc::new(scheme(c.scheme.clone()));
        let mut board = Scoreboard::new(s.clone(), Dataset::new(&s));
        // Apply entries (later ones replace earlier ones of the same month), records,
        // and some removals, one edit at a time.
        for e in &c.entries {
            board.set_entry(&validate_entry(&s, &entry_row(e)).unwrap());
        }
        for r in &c.records {
            board.push_record(validate_record(&s, &record_row(r)).unwrap());
        }
        for (k, is_entry) in removals {
            if is_entry {
                if let Some(e) = c.entries.get(k) {
                    let node = s.node_index(&format!("I{}", e.1)).unwrap();
                    board.remove_entry(node, e.0, e.2);
                }
            } else if let Some(r) = c.records.get(k) {
                let node = s.node_index(["XR", "YR"][r.1]).unwrap();
                board.remove_record(node, r.0, 0);
            }
        }
        for p in board.periods() {
            let full = score_period(&s, board.data(), p.period);
            prop_assert_eq!(p, &full, "period {}", p.period);
        }
    }
}
