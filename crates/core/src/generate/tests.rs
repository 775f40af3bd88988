//! Properties of the generated files: they validate and load, have the promised
//! shape, use only what the formula language allows, and depend only on the seed.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::*;
use crate::data::{DataFile, Dataset};
use crate::scheme::{Aggregation, FieldType, Frequency, Kind, Scheme, SchemeFile, Window};

const FUNCTIONS: [&str; 16] = [
    "min",
    "max",
    "abs",
    "floor",
    "ceil",
    "round",
    "clamp",
    "if",
    "safe_div",
    "tier",
    "group_max",
    "group_min",
    "group_avg",
    "group_rank",
    "group_rank_asc",
    "group_count",
];
const KEYWORDS: [&str; 3] = ["and", "or", "not"];

/// Identifiers of a formula (spec §4), split into function names and variables.
fn identifiers(formula: &str) -> (Vec<String>, Vec<String>) {
    let chars: Vec<char> = formula.chars().collect();
    let (mut functions, mut variables) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            // A number: digits, a point, an exponent with an optional sign.
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                if d.is_ascii_digit() || d == '.' {
                    i += 1;
                } else if (d == 'e' || d == 'E')
                    && (chars.get(i + 1).is_some_and(char::is_ascii_digit)
                        || (matches!(chars.get(i + 1), Some('+' | '-')) && chars.get(i + 2).is_some_and(char::is_ascii_digit)))
                {
                    i += 2;
                } else {
                    break;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            if KEYWORDS.contains(&word.as_str()) {
                continue;
            }
            if matches!(next, Some('(' | '（')) {
                functions.push(word);
            } else {
                variables.push(word);
            }
        } else {
            i += 1;
        }
    }
    (functions, variables)
}

/// The arguments of every `tier(...)` call, split at top-level commas.
fn tier_calls(formula: &str) -> Vec<Vec<String>> {
    let text: String = formula
        .chars()
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '，' => ',',
            c => c,
        })
        .collect();
    let mut calls = Vec::new();
    for (at, _) in text.match_indices("tier(") {
        let mut depth = 0;
        let mut args = vec![String::new()];
        for c in text[at + 5..].chars() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    args.push(String::new());
                    continue;
                }
                _ => {}
            }
            args.last_mut().unwrap().push(c);
        }
        calls.push(args.into_iter().map(|a| a.trim().to_string()).collect());
    }
    calls
}

/// Checks every formula against spec §4 as far as a scanner can: known functions,
/// variables the indicator has, balanced brackets, well-formed `tier` calls.
fn check_formulas(file: &SchemeFile) {
    for node in leaves(&file.tree) {
        let formula = node.formula.as_deref().unwrap_or_else(|| panic!("{} has no formula", node.id));
        let mut vocabulary: HashSet<String> = ["points", "progress", "month"].map(String::from).into();
        vocabulary.extend(node.fields.iter().flatten().map(|f| f.key.clone()));
        vocabulary.extend(node.params.iter().flatten().map(|(k, _)| k.clone()));
        vocabulary.extend(node.assign.iter().flatten().flat_map(|r| r.params.keys().cloned()));
        if node.source == Some(Source::Records) {
            vocabulary.extend(["record_points".into(), "record_count".into()]);
        }
        let (functions, variables) = identifiers(formula);
        for f in &functions {
            assert!(FUNCTIONS.contains(&f.as_str()), "{}: unknown function `{f}` in {formula}", node.id);
        }
        for v in &variables {
            assert!(vocabulary.contains(v), "{}: unknown variable `{v}` in {formula}", node.id);
        }
        let mut depth = 0i32;
        for c in formula.chars() {
            match c {
                '(' | '（' => depth += 1,
                ')' | '）' => depth -= 1,
                _ => {}
            }
            assert!(depth >= 0, "{}: unbalanced brackets in {formula}", node.id);
        }
        assert_eq!(depth, 0, "{}: unbalanced brackets in {formula}", node.id);
        for args in tier_calls(formula) {
            assert!(args.len() >= 4 && args.len() % 2 == 0, "{}: tier needs x, pairs and a default: {formula}", node.id);
            let thresholds: Vec<f64> = args[1..args.len() - 1].iter().step_by(2).filter_map(|t| t.parse().ok()).collect();
            assert!(thresholds.windows(2).all(|w| w[0] > w[1]), "{}: tier thresholds must descend: {formula}", node.id);
        }
        // Every param the formula reads has a value for every assigned unit.
        let units_by_id: HashMap<&str, usize> = file.units.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
        for (u, params) in resolve_params(node, &file.units, &units_by_id).iter().enumerate() {
            if let Some(params) = params {
                for v in &variables {
                    let is_param = vocabulary.contains(v)
                        && !node.fields.iter().flatten().any(|f| &f.key == v)
                        && !["points", "progress", "month", "record_points", "record_count"].contains(&v.as_str());
                    if is_param {
                        assert!(params.iter().any(|(k, _)| k == v), "{}: unit {} lacks param {v}", node.id, file.units[u].id);
                    }
                }
            }
        }
    }
}

/// Regular categories' children add up to the category (compared in cents).
fn check_points(nodes: &[NodeDef], kind: Kind) {
    for n in nodes {
        let kind = n.kind.unwrap_or(kind);
        if let Some(children) = &n.children {
            if kind == Kind::Regular {
                let cents = |p: Option<f64>| (p.expect("regular nodes have points") * 100.0).round() as i64;
                let sum: i64 = children.iter().map(|c| cents(c.points)).sum();
                assert_eq!(sum, cents(n.points), "category {} does not add up", n.id);
            }
            check_points(children, kind);
        }
    }
}

fn load(file: &SchemeFile, data: &DataFile) -> (Scheme, Dataset) {
    let scheme = Scheme::from_file(file.clone()).unwrap_or_else(|e| panic!("{e}"));
    let dataset = Dataset::load(&scheme, data).unwrap_or_else(|e| panic!("{e}"));
    (scheme, dataset)
}

fn month_of(text: &str) -> u8 {
    text[5..7].parse().unwrap()
}

#[test]
fn demo_validates_and_loads_for_any_month() {
    for through in [0, 1, 3, 7, 12, 15] {
        let (file, data) = demo_district(2027, through, 42);
        let (scheme, dataset) = load(&file, &data);
        let through = through.min(12);
        assert!(data.entries.iter().all(|e| month_of(&e.month) <= through));
        assert!(data.records.iter().all(|r| month_of(&r.date) <= through && r.date.starts_with("2027-")));
        if through == 0 {
            assert!(data.entries.is_empty() && data.records.is_empty());
        } else {
            assert!(dataset.value_count() > 0);
        }
        // Every entry is for an assigned unit and a due month.
        for e in &data.entries {
            let node = scheme.node_index(&e.indicator).unwrap();
            let indicator = scheme.indicator(node).unwrap();
            assert!(indicator.is_assigned(scheme.unit_index(&e.unit).unwrap()), "{} not assigned {}", e.unit, e.indicator);
            assert!(indicator.is_due(month_of(&e.month)), "{} reported off-cycle in {}", e.indicator, e.month);
        }
    }
    let (file, _) = demo_district(2031, 2, 1);
    assert!(file.name.starts_with("2031年度"));
    assert_eq!(file.year, 2031);
}

#[test]
fn demo_has_the_district_shape() {
    let (file, _) = demo_district(2027, 12, 7);
    assert_eq!(file.units.len(), 76);
    let count = |g: &str| file.units.iter().filter(|u| u.group == g).count();
    let groups: Vec<&str> = file.groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(groups, ["dept", "street", "other"]);
    assert!((45..=55).contains(&count("dept")), "about 50 departments");
    assert_eq!(count("street"), 11);
    assert_eq!(count("dept") + count("street") + count("other"), 76);
    let names: HashSet<&str> = file.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names.len(), 76, "unit names are unique");
    for name in ["区发改局", "区财政局", "区统计局", "区审计局", "区市场监管局", "区人民法院", "区税务局"] {
        assert!(names.contains(name), "{name}");
    }
    assert!(file.units.iter().filter(|u| u.group == "street").all(|u| u.name.ends_with("街道")));

    let all = leaves(&file.tree);
    assert!((36..=46).contains(&all.len()), "about 40 indicators, got {}", all.len());
    // "3+2": three regular categories adding up to 100, a capped bonus and deduction.
    type Top<'a> = (&'a str, Option<Kind>, Option<f64>, Option<f64>);
    let top: Vec<Top> = file.tree.iter().map(|n| (n.name.as_str(), n.kind, n.points, n.cap)).collect();
    assert_eq!(top[0], ("职能履行", None, Some(60.0), None));
    assert_eq!(top[1], ("依法行政", None, Some(20.0), None));
    assert_eq!(top[2], ("领导班子建设", None, Some(20.0), None));
    assert_eq!((top[3].1, top[3].3), (Some(Kind::Bonus), Some(5.0)));
    assert_eq!((top[4].1, top[4].3), (Some(Kind::Deduction), Some(10.0)));
    assert!(top[3].0.contains("创新创优") && top[4].0.contains("违规失职"));
    check_points(&file.tree, Kind::Regular);

    let grades: Vec<(&str, Option<f64>, Option<f64>)> = file.grades.iter().map(|g| (g.name.as_str(), g.min_score, g.quota)).collect();
    assert_eq!(grades, [("优秀", Some(90.0), Some(0.3)), ("良好", Some(80.0), None), ("一般", Some(60.0), None), ("较差", None, None)]);
}

#[test]
fn demo_formulas_use_the_language_richly() {
    let (file, _) = demo_district(2027, 12, 7);
    check_formulas(&file);
    let all = leaves(&file.tree);
    let formulas: Vec<&str> = all.iter().map(|n| n.formula.as_deref().unwrap()).collect();
    let uses = |f: &str| formulas.iter().filter(|x| identifiers(x).0.iter().any(|g| g == f)).count();
    for f in ["min", "max", "tier", "if", "safe_div", "clamp", "round", "floor", "ceil", "group_rank"] {
        assert!(uses(f) > 0, "no formula uses {f}");
    }
    assert!(uses("group_avg") + uses("group_max") >= 2, "at least two formulas use group_avg/group_max");
    assert!(formulas.contains(&"min(actual / (target * progress), 1.2) / 1.2 * points"));
    assert!(formulas.iter().any(|f| f.contains("record_points")));
    assert!(formulas.iter().any(|f| f.contains("record_count")));
    assert!(formulas.iter().any(|f| f.contains(" and ")) && formulas.iter().any(|f| f.contains(" or ")));
    let has_chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    assert!(all.iter().flat_map(|n| n.fields.iter().flatten()).any(|f| has_chinese(&f.key)));
    assert!(all.iter().flat_map(|n| n.fields.iter().flatten()).any(|f| f.key == "满意率"));
    assert!(all.iter().all(|n| has_chinese(&n.name)));

    // Frequencies, windows, types and aggregations all appear.
    let freq = |f: Option<Frequency>| all.iter().filter(|n| n.source.is_none() && n.frequency == f).count();
    assert!(freq(None) > 0 && freq(Some(Frequency::Quarterly)) > 0 && freq(Some(Frequency::Annual)) > 0);
    assert!(all.iter().any(|n| n.window == Some(Window::Period)));
    let fields: Vec<_> = all.iter().flat_map(|n| n.fields.iter().flatten()).collect();
    for t in [FieldType::Number, FieldType::Integer, FieldType::Percent, FieldType::Boolean] {
        assert!(fields.iter().any(|f| f.field_type == t), "{t:?}");
    }
    for a in [Aggregation::Last, Aggregation::Sum, Aggregation::Avg] {
        assert!(fields.iter().any(|f| f.agg == a), "{a:?}");
    }
    assert!(fields.iter().all(|f| f.field_type == FieldType::Boolean || f.min.is_some()), "numeric fields have bounds");

    // Streets and departments are assessed on different indicators; targets differ by unit.
    let units_by_id: HashMap<&str, usize> = file.units.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
    let street_only = all.iter().filter(|n| {
        let a = resolve_params(n, &file.units, &units_by_id);
        a.iter().zip(&file.units).all(|(p, u)| p.is_some() == (u.group == "street"))
    });
    assert!(street_only.count() >= 2);
    let a11 = all.iter().find(|n| n.id == "A11").unwrap();
    let targets: BTreeSet<String> = resolve_params(a11, &file.units, &units_by_id)
        .iter()
        .flatten()
        .map(|p| p.iter().find(|(k, _)| *k == "target").unwrap().1.to_string())
        .collect();
    assert!(targets.len() > 3, "per-unit targets: {targets:?}");
}

#[test]
fn demo_data_is_plausible() {
    let (file, data) = demo_district(2027, 12, 3);
    let (scheme, dataset) = load(&file, &data);

    // Some units are missing months, and some never report an indicator at all.
    let mut reported: HashMap<(usize, usize), Vec<u8>> = HashMap::new();
    for e in &data.entries {
        let key = (scheme.unit_index(&e.unit).unwrap(), scheme.node_index(&e.indicator).unwrap());
        reported.entry(key).or_default().push(month_of(&e.month));
    }
    let mut never = 0;
    let mut gaps = 0;
    for &node in &scheme.indicators {
        let indicator = scheme.indicator(node).unwrap();
        if indicator.source != Source::Fields {
            continue;
        }
        for u in 0..scheme.units.len() {
            if indicator.is_assigned(u) {
                let due = (1..=12).filter(|&m| indicator.is_due(m)).count();
                match reported.get(&(u, node)) {
                    None => never += 1,
                    Some(months) if months.len() < due => gaps += months.len().abs_diff(due),
                    Some(_) => {}
                }
            }
        }
    }
    assert!(never >= 2, "a couple of units miss an indicator entirely");
    assert!(gaps > 0, "some months are missing");
    assert!(gaps * 10 < data.entries.len(), "but most months are reported");

    // Units differ: the streets' ratings of the same indicator are not all equal.
    let a31 = scheme.node_index("A31").unwrap();
    let scores: BTreeSet<String> = (0..scheme.units.len()).filter_map(|u| dataset.value(a31, u, 6, 0)).map(|v| v.to_string()).collect();
    assert!(scores.len() >= 5, "{scores:?}");

    // Cumulative (year-to-date) values never fall.
    let a11 = scheme.node_index("A11").unwrap();
    for u in 0..scheme.units.len() {
        let values: Vec<f64> = (1..=12).filter_map(|m| dataset.value(a11, u, m, 0)).collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    }

    // Bonus and deduction records, with Chinese notes, for every record indicator.
    for id in ["X1", "X3", "Y1", "Y4"] {
        assert!(data.records.iter().any(|r| r.indicator == id), "no records for {id}");
    }
    assert!(data.records.iter().all(|r| r.note.as_deref().is_some_and(|n| !n.is_empty()) && r.points > 0.0));
    assert!(data.records.windows(2).all(|w| w[0].date <= w[1].date), "the ledger is in date order");
}

#[test]
fn demo_is_deterministic_in_the_seed() {
    let a = demo_district(2027, 9, 11);
    let b = demo_district(2027, 9, 11);
    assert_eq!(a, b);
    assert_eq!(serde_json::to_string(&a.1).unwrap(), serde_json::to_string(&b.1).unwrap());
    let c = demo_district(2027, 9, 12);
    assert_eq!(a.0, c.0, "the scheme does not depend on the seed");
    assert_ne!(a.1, c.1, "the data does");
}

#[test]
fn demo_users_cover_every_role() {
    let (file, _) = demo_district(2027, 1, 0);
    let users = demo_users();
    let roles: BTreeSet<&str> = users.iter().map(|u| u.role).collect();
    let expected: BTreeSet<&str> = ["admin", "security", "auditor", "office", "assessor", "reporter", "head", "leader", "staff"].into();
    assert_eq!(roles, expected);
    assert_eq!(users.len(), expected.len() + 1, "one account per role, and one of a department with service requests");
    let departments: BTreeSet<String> = super::demo_categories().into_iter().map(|c| c.unit_id).collect();
    assert!(
        users.iter().any(|u| u.role == "reporter" && u.unit.as_ref().is_some_and(|unit| departments.contains(unit))),
        "someone can see and handle service requests"
    );
    let usernames: HashSet<&str> = users.iter().map(|u| u.username).collect();
    assert_eq!(usernames.len(), users.len());
    let passwords: HashSet<&str> = users.iter().map(|u| u.password).collect();
    assert_eq!(passwords.len(), users.len());
    assert!(users.iter().all(|u| u.password.len() >= 12 && !u.display_name.is_empty()));
    let unit_name = |id: &str| file.units.iter().find(|u| u.id == id).map(|u| u.name.as_str());
    for u in &users {
        let needs_unit = matches!(u.role, "assessor" | "reporter" | "head" | "staff");
        assert_eq!(u.unit.is_some(), needs_unit, "{}", u.username);
        if let Some(id) = &u.unit {
            assert!(unit_name(id).is_some(), "{} belongs to unknown unit {id}", u.username);
        }
    }
    let assessor = users.iter().find(|u| u.role == "assessor").unwrap();
    assert_eq!(unit_name(assessor.unit.as_deref().unwrap()), Some("区统计局"));
}

#[test]
fn synthetic_validates_loads_and_has_the_shape() {
    for (units, indicators) in [(1, 1), (2, 2), (3, 3), (7, 20), (260, 60)] {
        let (file, data) = synthetic(units, indicators, 5);
        let (scheme, dataset) = load(&file, &data);
        assert_eq!(scheme.units.len(), units);
        assert_eq!(scheme.indicators.len(), indicators);
        check_points(&file.tree, Kind::Regular);
        check_formulas(&file);
        if units >= 2 {
            assert!(scheme.groups.len() >= 2);
        }
        if indicators >= 3 {
            let kinds: Vec<Option<Kind>> = file.tree.iter().map(|n| n.kind).collect();
            assert!(kinds.contains(&Some(Kind::Bonus)) && kinds.contains(&Some(Kind::Deduction)));
            assert!(file.tree.iter().filter(|n| n.kind.is_some()).all(|n| n.cap.is_some()));
        }
        assert!(dataset.value_count() > 0);
    }
}

#[test]
fn synthetic_mixes_shapes_frequencies_and_aggregations() {
    let (file, data) = synthetic(120, 300, 9);
    let all = leaves(&file.tree);
    let regular: Vec<&&NodeDef> = all.iter().filter(|n| n.source.is_none()).collect();
    let share = |p: &dyn Fn(&NodeDef) -> bool| regular.iter().filter(|n| p(n)).count() as f64 / regular.len() as f64;
    let monthly = share(&|n| n.frequency.is_none());
    let quarterly = share(&|n| n.frequency == Some(Frequency::Quarterly));
    let annual = share(&|n| n.frequency == Some(Frequency::Annual));
    assert!((0.6..0.8).contains(&monthly) && (0.12..0.28).contains(&quarterly) && (0.04..0.16).contains(&annual));
    let peers = share(&|n| n.formula.as_deref().unwrap().contains("group_"));
    assert!((0.05..0.16).contains(&peers), "about 10% use peer functions: {peers}");
    assert!(share(&|n| n.window == Some(Window::Period)) > 0.05);
    for f in ["min", "max", "clamp", "tier", "if", "safe_div", "round", "abs", "floor"] {
        assert!(share(&|n| identifiers(n.formula.as_deref().unwrap()).0.iter().any(|g| g == f)) > 0.0, "{f}");
    }
    let fields: Vec<_> = regular.iter().flat_map(|n| n.fields.iter().flatten()).collect();
    for a in [Aggregation::Last, Aggregation::Sum, Aggregation::Avg, Aggregation::Max, Aggregation::Min] {
        assert!(fields.iter().any(|f| f.agg == a), "{a:?}");
    }
    assert!(regular.iter().all(|n| (1..=3).contains(&n.fields.as_ref().map_or(0, Vec::len))));
    // Per-group and per-unit assignment rules.
    let rules: Vec<_> = all.iter().flat_map(|n| n.assign.iter().flatten()).collect();
    assert!(rules.iter().any(|r| r.unit.is_some() && !r.params.is_empty()));
    assert!(rules.iter().any(|r| r.group.is_some() && !r.params.is_empty()));
    // Records for the bonus and deduction indicators.
    let record_ids: HashSet<&str> = all.iter().filter(|n| n.source.is_some()).map(|n| n.id.as_str()).collect();
    assert!(!data.records.is_empty() && data.records.iter().all(|r| record_ids.contains(r.indicator.as_str())));

    // Every assigned unit reports nearly every due month of the year.
    let (scheme, _) = load(&file, &data);
    let due: usize = scheme
        .indicators
        .iter()
        .map(|&n| scheme.indicator(n).unwrap())
        .filter(|i| i.source == Source::Fields)
        .map(|i| (0..scheme.units.len()).filter(|&u| i.is_assigned(u)).count() * (1..=12).filter(|&m| i.is_due(m)).count())
        .sum();
    let missing = 1.0 - data.entries.len() as f64 / due as f64;
    assert!((0.01..0.08).contains(&missing), "a few percent missing: {missing}");
}

#[test]
fn synthetic_is_deterministic_in_the_seed() {
    let a = synthetic(50, 40, 1);
    assert_eq!(a, synthetic(50, 40, 1));
    let b = synthetic(50, 40, 2);
    assert_ne!(a.1, b.1);
}
