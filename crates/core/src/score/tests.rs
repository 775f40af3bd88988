//! Engine tests: one per rule of spec §5–§8, with expected numbers worked out by
//! hand, then properties over random schemes and data.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::data::{EntryRow, RecordRow, validate_entry, validate_record};

fn scheme(v: Value) -> Scheme {
    Scheme::from_json(&v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn data(s: &Scheme, v: Value) -> Dataset {
    Dataset::from_json(s, &v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn period(p: &str) -> Period {
    p.parse().unwrap()
}

/// One group `g` of units u1..un, one regular category `A` holding `indicators`.
fn one_category(units: usize, indicators: Value) -> Value {
    let points: f64 = indicators.as_array().unwrap().iter().map(|i| i["points"].as_f64().unwrap_or(0.0)).sum();
    json!({
        "year": 2027, "name": "t",
        "groups": [{"id": "g", "name": "G"}],
        "units": (1..=units).map(|i| json!({"id": format!("u{i}"), "name": format!("U{i}"), "group": "g"})).collect::<Vec<_>>(),
        "tree": [{"id": "A", "name": "A", "points": points, "children": indicators}]
    })
}

/// An indicator with one number field `x` per key in `fields`, assigned to group g.
fn ind(id: &str, points: f64, formula: &str, extra: Value) -> Value {
    let mut v = json!({"id": id, "name": id, "points": points, "formula": formula,
                       "fields": [{"key": "x"}], "assign": [{"group": "g"}]});
    for (k, val) in extra.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

fn entry(unit: &str, indicator: &str, month: &str, values: Value) -> Value {
    json!({"unit": unit, "indicator": indicator, "month": month, "values": values})
}

fn score_of(s: &Scheme, r: &PeriodResult, unit: &str, node: &str) -> Option<f64> {
    r.score(s.unit_index(unit).unwrap(), s.node_index(node).unwrap())
}

fn status_of(s: &Scheme, r: &PeriodResult, unit: &str, node: &str) -> Status {
    r.status(s.unit_index(unit).unwrap(), s.node_index(node).unwrap())
}

fn total_of(s: &Scheme, r: &PeriodResult, unit: &str) -> UnitTotal {
    *r.total(s.unit_index(unit).unwrap())
}

#[test]
fn spec_worked_example() {
    // Spec §9: u01 target 50, u02 target 100; 2027-03 so progress = 0.25.
    let s = scheme(json!({
        "year": 2027, "name": "t",
        "groups": [{"id": "dept", "name": "区直部门"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"}],
        "tree": [{"id": "A", "name": "职能履行", "points": 10, "children": [
            {"id": "A1", "name": "招商引资到位资金", "points": 10, "frequency": "monthly", "window": "ytd",
             "fields": [{"key": "actual", "name": "累计到位资金(亿元)", "type": "number", "agg": "last", "min": 0}],
             "params": {"target": 100},
             "formula": "min(actual / (target * progress), 1.2) / 1.2 * points",
             "assign": [{"group": "dept"}, {"unit": "u01", "params": {"target": 50}}]}]}]
    }));
    let d = data(
        &s,
        json!({"entries": [
        entry("u01", "A1", "2027-01", json!({"actual": 10})),
        entry("u01", "A1", "2027-03", json!({"actual": 14}))]}),
    );
    let r = score_period(&s, &d, period("2027-03"));
    assert_eq!(score_of(&s, &r, "u01", "A1"), Some(9.33));
    assert_eq!(status_of(&s, &r, "u01", "A1"), Status::Ok);
    assert_eq!(score_of(&s, &r, "u02", "A1"), Some(0.0));
    assert_eq!(status_of(&s, &r, "u02", "A1"), Status::Missing);
    assert_eq!(total_of(&s, &r, "u01").total, 9.33);
    assert_eq!(total_of(&s, &r, "u01").rank, 1);
    assert_eq!(total_of(&s, &r, "u02").rank, 2);
    // February: only January's 10 in the window; progress 2/12.
    // 10 / (50 × 2/12) = 1.2 → 1.2 / 1.2 × 10 = 10.
    let feb = score_period(&s, &d, period("2027-02"));
    assert_eq!(score_of(&s, &feb, "u01", "A1"), Some(10.0));
}

#[test]
fn due_months_make_pending() {
    let s = scheme(one_category(
        1,
        json!([
            ind("Q", 10.0, "x", json!({"frequency": "quarterly"})),
            ind("Y", 10.0, "x", json!({"frequency": "annual"})),
            ind("P", 10.0, "x", json!({"frequency": "quarterly", "window": "period"}))
        ]),
    ));
    let d = data(
        &s,
        json!({"entries": [
        entry("u1", "Q", "2027-03", json!({"x": 5})),
        entry("u1", "Y", "2027-03", json!({"x": 6})),
        entry("u1", "P", "2027-03", json!({"x": 7}))]}),
    );
    let at = |p: &str, node: &str| {
        let r = score_period(&s, &d, period(p));
        (status_of(&s, &r, "u1", node), score_of(&s, &r, "u1", node))
    };
    assert_eq!(at("2027-01", "Q"), (Status::Pending, Some(0.0)));
    assert_eq!(at("2027-02", "Q"), (Status::Pending, Some(0.0)));
    assert_eq!(at("2027-03", "Q"), (Status::Ok, Some(5.0)));
    assert_eq!(at("2027-04", "Q"), (Status::Ok, Some(5.0)), "ytd window 1..4 holds March");
    assert_eq!(at("2027-Q1", "Q"), (Status::Ok, Some(5.0)));
    assert_eq!(at("2027-Q3", "Y"), (Status::Pending, Some(0.0)));
    assert_eq!(at("2027", "Y"), (Status::Ok, Some(6.0)));
    assert_eq!(at("2027-Q4", "Y"), (Status::Ok, Some(6.0)));
    assert_eq!(at("2027-04", "P"), (Status::Pending, Some(0.0)), "period window 4..4 has no due month");
    assert_eq!(at("2027-Q2", "P"), (Status::Missing, Some(0.0)), "June is due but nothing in 4..6");
    assert_eq!(at("2027-Q1", "P"), (Status::Ok, Some(7.0)));
}

#[test]
fn aggregations_over_the_window() {
    let aggs = ["last", "sum", "avg", "max", "min"];
    let inds: Vec<Value> = aggs
        .iter()
        .map(|a| json!({"id": a, "name": a, "points": 100, "formula": "x", "fields": [{"key": "x", "agg": a}], "assign": [{"group": "g"}]}))
        .collect();
    let s = scheme(one_category(1, Value::Array(inds)));
    // Jan 1, Feb none, Mar 4, Apr 2.
    let entries: Vec<Value> = aggs
        .iter()
        .flat_map(|a| [("2027-01", 1), ("2027-03", 4), ("2027-04", 2)].map(|(m, x)| entry("u1", a, m, json!({"x": x}))))
        .collect();
    let d = data(&s, json!({ "entries": entries }));
    let r = score_period(&s, &d, period("2027-04"));
    assert_eq!(score_of(&s, &r, "u1", "last"), Some(2.0));
    assert_eq!(score_of(&s, &r, "u1", "sum"), Some(7.0));
    assert_eq!(score_of(&s, &r, "u1", "avg"), Some(2.33), "7 / 3 months that carry the field");
    assert_eq!(score_of(&s, &r, "u1", "max"), Some(4.0));
    assert_eq!(score_of(&s, &r, "u1", "min"), Some(1.0));
    let q2 = score_period(&s, &d, period("2027-Q2"));
    assert_eq!(score_of(&s, &q2, "u1", "sum"), Some(7.0), "ytd window");
}

#[test]
fn entries_may_carry_some_fields_and_missing_is_per_field() {
    let s = scheme(one_category(
        1,
        json!([
            {"id": "I", "name": "I", "points": 100, "formula": "a + b", "fields": [{"key": "a"}, {"key": "b"}], "assign": [{"group": "g"}]},
            {"id": "J", "name": "J", "points": 100, "formula": "if(a > 0, a, b)", "fields": [{"key": "a"}, {"key": "b"}], "assign": [{"group": "g"}]}
        ]),
    ));
    let d = data(
        &s,
        json!({"entries": [
        entry("u1", "I", "2027-01", json!({"a": 1})),
        entry("u1", "I", "2027-02", json!({"b": 2})),
        entry("u1", "J", "2027-01", json!({"a": 5}))]}),
    );
    let jan = score_period(&s, &d, period("2027-01"));
    assert_eq!(status_of(&s, &jan, "u1", "I"), Status::Missing);
    let feb = score_period(&s, &d, period("2027-02"));
    assert_eq!(score_of(&s, &feb, "u1", "I"), Some(3.0));
    // `b` appears only in the branch not taken, but it is referenced: missing.
    assert_eq!(status_of(&s, &feb, "u1", "J"), Status::Missing);
}

#[test]
fn clamps_then_rounds() {
    let mut v = one_category(4, json!([ind("I", 10.0, "x", json!({}))]));
    v["tree"].as_array_mut().unwrap().push(json!({"id": "X", "name": "X", "kind": "bonus", "children": [
        {"id": "X1", "name": "X1", "formula": "x", "fields": [{"key": "x"}], "assign": [{"group": "g"}]}]}));
    let s = scheme(v);
    let d = data(
        &s,
        json!({"entries": [
        entry("u1", "I", "2027-01", json!({"x": 12})),
        entry("u2", "I", "2027-01", json!({"x": -3})),
        entry("u3", "I", "2027-01", json!({"x": 2.675})),
        entry("u4", "I", "2027-01", json!({"x": -1.005})),
        entry("u1", "X1", "2027-01", json!({"x": 12}))]}),
    );
    let r = score_period(&s, &d, period("2027-01"));
    assert_eq!(score_of(&s, &r, "u1", "I"), Some(10.0));
    assert_eq!(score_of(&s, &r, "u2", "I"), Some(0.0));
    assert_eq!(score_of(&s, &r, "u3", "I"), Some(2.68));
    assert_eq!(score_of(&s, &r, "u4", "I"), Some(0.0));
    assert_eq!(score_of(&s, &r, "u1", "X1"), Some(12.0), "no points: no upper clamp");
}

#[test]
fn categories_sum_rounded_indicator_scores() {
    let s = scheme(one_category(1, json!([ind("I1", 5.0, "x", json!({})), ind("I2", 5.0, "x", json!({}))])));
    let d = data(
        &s,
        json!({"entries": [
        entry("u1", "I1", "2027-01", json!({"x": 1.004})),
        entry("u1", "I2", "2027-01", json!({"x": 1.004}))]}),
    );
    let r = score_period(&s, &d, period("2027-01"));
    assert_eq!(score_of(&s, &r, "u1", "I1"), Some(1.0));
    assert_eq!(score_of(&s, &r, "u1", "A"), Some(2.0), "not round2(2.008) = 2.01");
}

fn bonus_deduction_scheme(normalize: Value) -> Scheme {
    scheme(json!({
        "year": 2027, "name": "t", "normalize_to": normalize,
        "groups": [{"id": "g", "name": "G"}],
        "units": [{"id": "u1", "name": "U1", "group": "g"}, {"id": "u2", "name": "U2", "group": "g"}],
        "tree": [
            {"id": "A", "name": "A", "points": 100, "children": [
                ind("A1", 10.0, "x", json!({})),
                ind("A2", 30.0, "x", json!({})),
                ind("A3", 60.0, "x", json!({"frequency": "annual"}))]},
            {"id": "X", "name": "X", "kind": "bonus", "cap": 5, "children": [
                {"id": "X1", "name": "X1", "source": "records", "formula": "record_points", "assign": [{"group": "g"}]}]},
            {"id": "Y", "name": "Y", "kind": "deduction", "cap": 10, "children": [
                {"id": "Y1", "name": "Y1", "source": "records", "points": 3, "formula": "record_count * 0.5", "assign": [{"group": "g"}]}]}
        ]
    }))
}

fn record(unit: &str, indicator: &str, date: &str, points: f64) -> Value {
    json!({"unit": unit, "indicator": indicator, "date": date, "points": points})
}

#[test]
fn bonus_and_deduction_caps_and_negative_totals() {
    let s = bonus_deduction_scheme(Value::Null);
    let mut records = vec![record("u1", "X1", "2027-01-05", 3.0), record("u1", "X1", "2027-02-05", 4.0)];
    records.extend((0..8).map(|i| record("u1", "Y1", &format!("2027-01-{:02}", i + 1), 0.0)));
    records.push(record("u2", "Y1", "2027-01-09", 0.0));
    records.push(record("u2", "Y1", "2027-01-10", 0.0));
    let d = data(&s, json!({"entries": [entry("u1", "A1", "2027-01", json!({"x": 8}))], "records": records}));
    let r = score_period(&s, &d, period("2027-02"));
    assert_eq!(score_of(&s, &r, "u1", "X1"), Some(7.0));
    assert_eq!(score_of(&s, &r, "u1", "X"), Some(5.0), "capped");
    assert_eq!(score_of(&s, &r, "u1", "Y1"), Some(3.0), "8 × 0.5 = 4, clamped to its points 3");
    assert_eq!(score_of(&s, &r, "u1", "Y"), Some(3.0));
    let t = total_of(&s, &r, "u1");
    assert_eq!((t.regular, t.bonus, t.deduction, t.total), (8.0, 5.0, 3.0, 10.0));
    // u2: nothing reported, one deduction of 2 × 0.5 = 1: total −1.
    assert_eq!(total_of(&s, &r, "u2").total, -1.0);
    assert_eq!(total_of(&s, &r, "u2").rank, 2);
    // Records outside the window do not count: in January X1 is 3.
    let jan = score_period(&s, &d, period("2027-01"));
    assert_eq!(score_of(&s, &jan, "u1", "X1"), Some(3.0));
}

#[test]
fn normalisation_excludes_pending_and_counts_missing() {
    let s = bonus_deduction_scheme(json!(100));
    let d = data(
        &s,
        json!({
        "entries": [entry("u1", "A1", "2027-01", json!({"x": 5}))],
        "records": [record("u1", "X1", "2027-01-02", 2.0)]}),
    );
    let r = score_period(&s, &d, period("2027-03"));
    // S = 5; A = 10 (A1) + 30 (A2, missing) = 40; A3 is annual → pending.
    // regular = 5 / 40 × 100 = 12.5; total = 12.5 + 2.
    let t = total_of(&s, &r, "u1");
    assert_eq!(t.regular, 12.5);
    assert_eq!(t.total, 14.5);
    assert_eq!(score_of(&s, &r, "u1", "A"), Some(5.0), "normalisation leaves scores alone");
    // In the year, A3 is due and missing: A = 100.
    let y = score_period(&s, &d, period("2027"));
    assert_eq!(total_of(&s, &y, "u1").regular, 5.0);
}

#[test]
fn ranks_share_ties_and_grades_use_quota() {
    let mut v = one_category(5, json!([ind("I", 100.0, "x", json!({}))]));
    v["grades"] = json!([
        {"name": "优秀", "min_score": 90, "quota": 0.4},
        {"name": "良好", "min_score": 80},
        {"name": "较差"}]);
    let s = scheme(v);
    let xs = [95, 90, 90, 85, 50];
    let entries: Vec<Value> = xs.iter().enumerate().map(|(i, x)| entry(&format!("u{}", i + 1), "I", "2027-01", json!({"x": x}))).collect();
    let d = data(&s, json!({ "entries": entries }));
    let r = score_period(&s, &d, period("2027-01"));
    let ranks: Vec<usize> = (1..=5).map(|i| total_of(&s, &r, &format!("u{i}")).rank).collect();
    assert_eq!(ranks, [1, 2, 2, 4, 5]);
    let grades: Vec<Option<&str>> = (1..=5).map(|i| total_of(&s, &r, &format!("u{i}")).grade.map(|g| s.grades[g].name.as_str())).collect();
    // floor(0.4 × 5) = 2 places: ranks 1, 2, 2 qualify.
    assert_eq!(grades, [Some("优秀"), Some("优秀"), Some("优秀"), Some("良好"), Some("较差")]);
}

#[test]
fn no_matching_grade_gives_none() {
    let mut v = one_category(1, json!([ind("I", 100.0, "x", json!({}))]));
    v["grades"] = json!([{"name": "优秀", "min_score": 90}]);
    let s = scheme(v);
    let r = score_period(&s, &Dataset::new(&s), period("2027-01"));
    assert_eq!(total_of(&s, &r, "u1").grade, None);
}

#[test]
fn evaluation_errors_score_zero_and_do_not_stop_the_run() {
    let s = scheme(one_category(
        2,
        json!([
        {"id": "I", "name": "I", "points": 10, "formula": "x / y", "fields": [{"key": "x"}, {"key": "y"}], "assign": [{"group": "g"}]},
        ind("J", 10.0, "x", json!({}))]),
    ));
    let d = data(
        &s,
        json!({"entries": [
        entry("u1", "I", "2027-01", json!({"x": 1, "y": 0})),
        entry("u2", "I", "2027-01", json!({"x": 1, "y": 4})),
        entry("u1", "J", "2027-01", json!({"x": 3}))]}),
    );
    let r = score_period(&s, &d, period("2027-01"));
    assert_eq!(status_of(&s, &r, "u1", "I"), Status::Error);
    assert_eq!(score_of(&s, &r, "u1", "I"), Some(0.0));
    let u1 = s.unit_index("u1").unwrap();
    assert!(r.error(u1, s.node_index("I").unwrap()).unwrap().contains("division by zero"));
    assert_eq!(score_of(&s, &r, "u2", "I"), Some(0.25));
    assert_eq!(score_of(&s, &r, "u1", "J"), Some(3.0));
    assert_eq!(total_of(&s, &r, "u1").total, 3.0);
}

fn peers_scheme(formula: &str) -> Scheme {
    scheme(json!({
        "year": 2027, "name": "t",
        "groups": [{"id": "g", "name": "G"}, {"id": "h", "name": "H"}],
        "units": [{"id": "u1", "name": "U1", "group": "g"}, {"id": "v1", "name": "V1", "group": "h"},
                  {"id": "u2", "name": "U2", "group": "g"}, {"id": "u3", "name": "U3", "group": "g"},
                  {"id": "u4", "name": "U4", "group": "g"}],
        "tree": [{"id": "A", "name": "A", "points": 100, "children": [
            {"id": "P", "name": "P", "points": 100, "formula": formula, "fields": [{"key": "x"}],
             "assign": [{"group": "g"}, {"group": "h"}]}]}]
    }))
}

fn peers_data(s: &Scheme, xs: &[(&str, f64)]) -> Dataset {
    let entries: Vec<Value> = xs.iter().map(|(u, x)| entry(u, "P", "2027-01", json!({"x": x}))).collect();
    data(s, json!({ "entries": entries }))
}

#[test]
fn peer_functions_use_complete_units_of_the_same_group() {
    // u4 reports nothing: not a peer. v1 is in another group.
    let xs = [("u1", 10.0), ("u2", 20.0), ("u3", 20.0), ("v1", 1000.0)];
    let at = |formula: &str, unit: &str| {
        let s = peers_scheme(formula);
        let r = score_period(&s, &peers_data(&s, &xs), period("2027-01"));
        score_of(&s, &r, unit, "P").unwrap()
    };
    assert_eq!(at("group_rank(x)", "u1"), 3.0);
    assert_eq!(at("group_rank(x)", "u2"), 1.0, "ties share the smaller rank");
    assert_eq!(at("group_rank_asc(x)", "u1"), 1.0);
    assert_eq!(at("group_rank_asc(x)", "u3"), 2.0);
    assert_eq!(at("group_avg(x)", "u1"), 16.67, "50 / 3");
    assert_eq!(at("group_max(x)", "u1"), 20.0);
    assert_eq!(at("group_min(x)", "u2"), 10.0);
    assert_eq!(at("group_count() + x * 0", "u1"), 3.0);
    assert_eq!(at("group_count() + x * 0", "v1"), 1.0);
    // Without a field in the formula nothing can be missing: u4 is a peer too.
    assert_eq!(at("group_count()", "u1"), 4.0);
    assert_eq!(at("x / group_max(x) * 100", "u1"), 50.0);
    let s = peers_scheme("group_count() + x * 0");
    let r = score_period(&s, &peers_data(&s, &xs), period("2027-01"));
    assert_eq!(status_of(&s, &r, "u4", "P"), Status::Missing);
}

#[test]
fn a_unit_whose_own_evaluation_fails_is_still_a_peer() {
    let s = peers_scheme("10 / x + group_count()");
    let r = score_period(&s, &peers_data(&s, &[("u1", 10.0), ("u2", 0.0), ("u3", 5.0)]), period("2027-01"));
    assert_eq!(status_of(&s, &r, "u2", "P"), Status::Error);
    assert_eq!(score_of(&s, &r, "u1", "P"), Some(4.0), "10/10 + 3 peers");
    assert_eq!(score_of(&s, &r, "u3", "P"), Some(5.0));
}

#[test]
fn a_failing_peer_fails_the_whole_group() {
    let s = peers_scheme("group_max(100 / x)");
    let r = score_period(&s, &peers_data(&s, &[("u1", 10.0), ("u2", 0.0), ("v1", 4.0)]), period("2027-01"));
    assert_eq!(status_of(&s, &r, "u1", "P"), Status::Error);
    assert_eq!(status_of(&s, &r, "u2", "P"), Status::Error);
    assert_eq!(score_of(&s, &r, "v1", "P"), Some(25.0));
}

#[test]
fn records_count_in_their_window() {
    let mut v = one_category(1, json!([ind("I", 1.0, "x", json!({}))]));
    v["tree"].as_array_mut().unwrap().push(json!({"id": "X", "name": "X", "kind": "bonus", "children": [
        {"id": "C", "name": "C", "source": "records", "window": "period", "formula": "record_count", "assign": [{"group": "g"}]},
        {"id": "S", "name": "S", "source": "records", "formula": "record_points", "assign": [{"group": "g"}]}]}));
    let s = scheme(v);
    let d = data(
        &s,
        json!({"records": [
        record("u1", "C", "2027-01-31", 0.0), record("u1", "C", "2027-04-01", 0.0),
        record("u1", "S", "2027-01-31", 1.5), record("u1", "S", "2027-04-01", 0.25)]}),
    );
    let at = |p: &str, node: &str| score_of(&s, &score_period(&s, &d, period(p)), "u1", node);
    assert_eq!(at("2027-Q1", "C"), Some(1.0));
    assert_eq!(at("2027-Q2", "C"), Some(1.0), "period window: April only");
    assert_eq!(at("2027-04", "S"), Some(1.75), "ytd window");
    assert_eq!(at("2027-02", "C"), Some(0.0), "no records is a valid 0");
    assert_eq!(status_of(&s, &score_period(&s, &d, period("2027-02")), "u1", "C"), Status::Ok);
    assert_eq!(at("2027", "X"), Some(3.75), "no cap: 2 + 1.75");
}

#[test]
fn report_matches_spec_section_8() {
    let s = scheme(crate::scheme::tests::spec_example());
    let d = data(
        &s,
        json!({
        "entries": [entry("u01", "A1", "2027-01", json!({"actual": 10})),
                    entry("u01", "A1", "2027-03", json!({"actual": 14})),
                    entry("u02", "A2", "2027-03", json!({"x": 48}))],
        "records": [record("u01", "X1", "2027-02-10", 2.0), record("u01", "Y1", "2027-03-01", 0.0),
                    record("s01", "X1", "2027-03-03", 9.0)]}),
    );
    let report = PeriodReport::new(&s, &score_period(&s, &d, period("2027-03")));
    let out = serde_json::to_value(&report).unwrap();
    assert_eq!(out["period"], "2027-03");
    // dept before street; within dept by rank: u02 (48) before u01 (9.33 + 2 − 0.5).
    let order: Vec<&str> = out["units"].as_array().unwrap().iter().map(|u| u["unit"].as_str().unwrap()).collect();
    assert_eq!(order, ["u02", "u01", "s01"]);
    let u01 = &out["units"][1];
    assert_eq!(u01["group"], "dept");
    assert_eq!(u01["total"].as_f64(), Some(10.83));
    assert_eq!(u01["rank"], 2);
    assert_eq!(u01["grade"], "较差", "the grade without conditions matches everyone");
    assert_eq!(u01["scores"]["A"].as_f64(), Some(9.33), "A2 is missing: 0");
    assert_eq!(u01["scores"]["X"].as_f64(), Some(2.0));
    assert_eq!(u01["scores"]["Y"].as_f64(), Some(0.5));
    assert_eq!(u01["status"]["A2"], "missing");
    assert_eq!(u01["errors"], json!({}));
    // s01 is assigned only X1: A, A1, A2, Y, Y1 are absent; X is capped at 5.
    let s01 = &out["units"][2];
    let keys: Vec<&String> = s01["scores"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["X", "X1"]);
    assert_eq!(s01["scores"]["X"].as_f64(), Some(5.0));
    assert_eq!(s01["scores"]["X1"].as_f64(), Some(9.0));
    assert_eq!(s01["status"], json!({"X1": "ok"}));
    assert_eq!(s01["total"].as_f64(), Some(5.0));
}

#[test]
fn explanation_lists_inputs_and_months() {
    let s = scheme(crate::scheme::tests::spec_example());
    let d = data(
        &s,
        json!({"entries": [entry("u01", "A1", "2027-01", json!({"actual": 10})),
                                         entry("u01", "A1", "2027-03", json!({"actual": 14}))]}),
    );
    let r = score_period(&s, &d, period("2027-03"));
    let e = explain(&s, &d, &r, s.unit_index("u01").unwrap(), s.node_index("A1").unwrap()).unwrap();
    assert_eq!(e.score, 9.33);
    assert_eq!(e.status, Status::Ok);
    let actual = e.inputs.iter().find(|i| i.name == "actual").unwrap();
    assert_eq!(actual.value, Some(14.0));
    assert_eq!(actual.months.iter().map(|m| (m.month.month, m.value)).collect::<Vec<_>>(), [(1, 10.0), (3, 14.0)]);
    let target = e.inputs.iter().find(|i| i.name == "target").unwrap();
    assert_eq!((target.kind, target.value), ("param", Some(50.0)));
    assert!((e.raw.unwrap() - 28.0 / 3.0).abs() < 1e-12);
    assert!(explain(&s, &d, &r, s.unit_index("s01").unwrap(), s.node_index("A1").unwrap()).is_none());
}

#[test]
fn scoreboard_updates_after_an_entry() {
    let s = Arc::new(scheme(crate::scheme::tests::spec_example()));
    let mut board = Scoreboard::new(s.clone(), Dataset::new(&s));
    let row = EntryRow {
        unit: "u01".into(),
        indicator: "A1".into(),
        month: "2027-03".into(),
        values: json!({"actual": 14}).as_object().unwrap().clone(),
    };
    let touched = board.set_entry(&validate_entry(&s, &row).unwrap());
    // March, April…December, Q1…Q4 and the year: ytd windows reach forward.
    assert_eq!(touched.len(), 10 + 4 + 1);
    let r = board.period(period("2027-03")).unwrap();
    // 14 / (50 × 0.25) = 1.12; 1.12 / 1.2 × 10 = 9.33.
    assert_eq!(score_of(&s, r, "u01", "A1"), Some(9.33));
    let before_march = board.period(period("2027-02")).unwrap();
    assert_eq!(status_of(&s, before_march, "u01", "A1"), Status::Missing);
}

#[test]
fn parallel_periods_equal_serial_periods() {
    // A synthetic province in small: every formula shape, peer functions,
    // quarterly and annual indicators, gaps, bonus and deduction records.
    let (scheme_file, data_file) = crate::generate::synthetic(90, 40, 3);
    let s = Scheme::from_file(scheme_file).unwrap_or_else(|e| panic!("{e}"));
    let d = Dataset::load(&s, &data_file).unwrap_or_else(|e| panic!("{e}"));
    let periods = Period::all_in_year(s.year);
    // Serial as before parallelisation: one plan, one scratch reused in period order.
    let plan = Plan::new(&s);
    let mut scratch = indicator::Scratch::default();
    let serial: Vec<PeriodResult> = periods.iter().map(|&p| incremental::compute_period(&s, &plan, &d, p, &mut scratch)).collect();
    assert!(serial.iter().any(|r| r.status.contains(&Status::Ok)), "the case scores something");
    for threads in [1, 2, 5] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let parallel = pool.install(|| score_periods(&s, &d, &periods));
        assert_eq!(parallel.len(), serial.len());
        for (p, q) in parallel.iter().zip(&serial) {
            assert!(p == q, "period {} differs with {threads} threads", q.period);
        }
    }
    for (p, q) in periods.iter().zip(&serial) {
        assert!(score_period(&s, &d, *p) == *q, "period {p}: fresh scratch differs");
    }
}

#[path = "tests/properties.rs"]
mod properties;
