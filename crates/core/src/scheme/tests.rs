//! One test per rule of spec §2.

use serde_json::{Value, json};

use super::*;

/// The example scheme of spec §2.
pub(crate) fn spec_example() -> Value {
    json!({
      "year": 2027,
      "name": "2027年度区直部门及街道绩效考核方案",
      "normalize_to": null,
      "groups": [ {"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"} ],
      "units":  [ {"id": "u01", "name": "区发改局", "group": "dept"},
                  {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "汉中街道", "group": "street"} ],
      "grades": [
        {"name": "优秀", "min_score": 90, "quota": 0.3},
        {"name": "良好", "min_score": 80},
        {"name": "一般", "min_score": 60},
        {"name": "较差"}
      ],
      "tree": [
        {"id": "A", "name": "职能履行", "points": 60, "children": [
          {"id": "A1", "name": "招商引资到位资金", "points": 10,
           "frequency": "monthly", "window": "ytd",
           "fields": [ {"key": "actual", "name": "累计到位资金(亿元)", "type": "number", "agg": "last", "min": 0} ],
           "params": {"target": 100},
           "formula": "min(actual / (target * progress), 1.2) / 1.2 * points",
           "assign": [ {"group": "dept"}, {"unit": "u01", "params": {"target": 50}} ] },
          {"id": "A2", "name": "其他职能", "points": 50, "fields": [{"key": "x"}], "formula": "x", "assign": [{"group": "dept"}]}
        ]},
        {"id": "X", "name": "创新创优加分", "kind": "bonus", "cap": 5, "children": [
          {"id": "X1", "name": "上级表彰", "source": "records", "formula": "record_points",
           "assign": [ {"group": "dept"}, {"group": "street"} ] }
        ]},
        {"id": "Y", "name": "违规失职减分", "kind": "deduction", "cap": 10, "children": [
          {"id": "Y1", "name": "督办事项逾期", "source": "records", "points": 3,
           "formula": "record_count * 0.5", "assign": [ {"group": "dept"} ] }
        ]}
      ]
    })
}

fn load(v: &Value) -> Result<Scheme, SchemeError> {
    Scheme::from_json(&v.to_string())
}

/// Asserts the scheme is rejected with an issue at `location` whose message contains `needle`.
fn rejects(v: &Value, location: &str, needle: &str) {
    let err = load(v).expect_err("scheme should be rejected");
    assert!(err.issues.iter().any(|i| i.location == location && i.message.contains(needle)), "expected `{location}: …{needle}…` in {err}");
}

#[test]
fn spec_example_is_valid() {
    let s = load(&spec_example()).unwrap();
    assert_eq!(s.units.len(), 3);
    assert_eq!(s.roots.len(), 3);
    let ids: Vec<&str> = s.indicators.iter().map(|&i| s.nodes[i].id.as_str()).collect();
    assert_eq!(ids, ["A1", "A2", "X1", "Y1"]);
    let y = s.node_index("Y").unwrap();
    assert_eq!(s.nodes[y].kind, Kind::Deduction);
    assert_eq!(s.nodes[y].cap, Some(10.0));
    // Kind is inherited by the subtree.
    assert_eq!(s.nodes[s.node_index("Y1").unwrap()].kind, Kind::Deduction);
}

#[test]
fn params_are_overridden_by_group_then_unit_rules() {
    let mut v = spec_example();
    v["tree"][0]["children"][0]["assign"] = json!([
        {"unit": "u01", "params": {"target": 50}},
        {"group": "dept", "params": {"target": 80}},
        {"group": "street"}
    ]);
    let s = load(&v).unwrap();
    let a1 = s.indicator(s.node_index("A1").unwrap()).unwrap();
    let target = |u: &str| a1.assignments[s.unit_index(u).unwrap()].as_ref().unwrap()[0];
    assert_eq!(target("u01"), Some(50.0), "unit rule beats group rule");
    assert_eq!(target("u02"), Some(80.0), "group rule beats default");
    assert_eq!(target("s01"), Some(100.0), "default");
}

#[test]
fn unassigned_units_are_not_assigned() {
    let s = load(&spec_example()).unwrap();
    let y1 = s.indicator(s.node_index("Y1").unwrap()).unwrap();
    assert!(y1.is_assigned(s.unit_index("u01").unwrap()));
    assert!(!y1.is_assigned(s.unit_index("s01").unwrap()));
}

#[test]
fn duplicate_ids_are_rejected() {
    let mut v = spec_example();
    v["groups"][1]["id"] = json!("dept");
    rejects(&v, "group dept", "duplicate group id");
    let mut v = spec_example();
    v["units"][1]["id"] = json!("u01");
    rejects(&v, "unit u01", "duplicate unit id");
    let mut v = spec_example();
    v["tree"][2]["children"][0]["id"] = json!("A1");
    rejects(&v, "node A1", "duplicate node id");
}

#[test]
fn empty_ids_are_rejected() {
    let mut v = spec_example();
    v["units"][0]["id"] = json!("");
    assert!(load(&v).unwrap_err().issues.iter().any(|i| i.message.contains("empty id")));
}

#[test]
fn unit_with_unknown_group_is_rejected() {
    let mut v = spec_example();
    v["units"][0]["group"] = json!("nope");
    rejects(&v, "unit u01", "unknown group `nope`");
}

#[test]
fn regular_children_must_add_up() {
    let mut v = spec_example();
    v["tree"][0]["points"] = json!(61);
    rejects(&v, "node A", "add up to 60");
    // Compared at 2 decimals: 0.1 + 0.2 is 0.3.
    let mut v = spec_example();
    v["tree"][0]["points"] = json!(0.3);
    v["tree"][0]["children"][0]["points"] = json!(0.1);
    v["tree"][0]["children"][1]["points"] = json!(0.2);
    load(&v).unwrap();
}

#[test]
fn bonus_children_need_not_add_up() {
    let mut v = spec_example();
    v["tree"][2]["points"] = json!(1);
    load(&v).unwrap();
}

#[test]
fn kind_only_on_top_level() {
    let mut v = spec_example();
    v["tree"][0]["children"][0]["kind"] = json!("bonus");
    rejects(&v, "node A1", "kind is allowed on top-level nodes only");
}

#[test]
fn cap_only_on_bonus_or_deduction_top_level() {
    let mut v = spec_example();
    v["tree"][0]["cap"] = json!(5);
    rejects(&v, "node A", "cap is allowed only on bonus and deduction");
    let mut v = spec_example();
    v["tree"][1]["children"][0]["cap"] = json!(5);
    rejects(&v, "node X1", "cap is allowed on bonus and deduction top-level nodes only");
}

#[test]
fn points_required_on_regular_nodes() {
    let mut v = spec_example();
    v["tree"][0]["children"][0].as_object_mut().unwrap().remove("points");
    rejects(&v, "node A1", "points is required");
    let mut v = spec_example();
    v["tree"][0]["children"][0]["points"] = json!(-1);
    rejects(&v, "node A1", "points must be a number ≥ 0");
}

#[test]
fn indicator_needs_formula_and_assign() {
    let mut v = spec_example();
    v["tree"][0]["children"][1].as_object_mut().unwrap().remove("formula");
    rejects(&v, "node A2", "needs a `formula`");
    let mut v = spec_example();
    v["tree"][0]["children"][1].as_object_mut().unwrap().remove("assign");
    rejects(&v, "node A2", "needs `assign`");
}

#[test]
fn category_cannot_carry_indicator_keys() {
    let mut v = spec_example();
    v["tree"][0]["formula"] = json!("1");
    rejects(&v, "node A", "`formula` belongs on an indicator");
}

#[test]
fn assign_rules_are_checked() {
    let mut v = spec_example();
    v["tree"][0]["children"][0]["assign"] = json!([{"group": "nope"}]);
    rejects(&v, "node A1", "assign[0]: unknown group `nope`");
    v["tree"][0]["children"][0]["assign"] = json!([{"unit": "u99"}]);
    rejects(&v, "node A1", "assign[0]: unknown unit `u99`");
    v["tree"][0]["children"][0]["assign"] = json!([{"unit": "u01", "group": "dept"}]);
    rejects(&v, "node A1", "exactly one of");
    v["tree"][0]["children"][0]["assign"] = json!([{}]);
    rejects(&v, "node A1", "exactly one of");
}

#[test]
fn fields_are_checked() {
    let mut v = spec_example();
    v["tree"][0]["children"][0]["fields"][0]["key"] = json!("1st");
    rejects(&v, "node A1", "not an identifier");
    let mut v = spec_example();
    v["tree"][0]["children"][0]["fields"][0]["key"] = json!("progress");
    rejects(&v, "node A1", "reserved name");
    let mut v = spec_example();
    v["tree"][0]["children"][0]["fields"] = json!([{"key": "actual"}, {"key": "actual"}]);
    rejects(&v, "node A1", "duplicate field key `actual`");
    let mut v = spec_example();
    v["tree"][0]["children"][0]["fields"][0]["max"] = json!(-1);
    rejects(&v, "node A1", "min 0 is greater than max -1");
    let mut v = spec_example();
    v["tree"][0]["children"][0]["fields"][0]["type"] = json!("text");
    assert!(load(&v).is_err());
}

#[test]
fn unicode_field_keys_are_identifiers() {
    let mut v = spec_example();
    v["tree"][0]["children"][1]["fields"] = json!([{"key": "满意率", "type": "percent"}]);
    v["tree"][0]["children"][1]["formula"] = json!("满意率 / 100 * points");
    load(&v).unwrap();
}

#[test]
fn params_are_checked() {
    let mut v = spec_example();
    v["tree"][0]["children"][0]["params"] = json!({"target": "a lot"});
    rejects(&v, "node A1", "param `target` must be a number");
    let mut v = spec_example();
    v["tree"][0]["children"][0]["params"] = json!({"actual": 1, "target": 1});
    rejects(&v, "node A1", "same name as a field");
}

#[test]
fn every_assigned_unit_needs_the_params_its_formula_reads() {
    let mut v = spec_example();
    v["tree"][0]["children"][0]["params"] = json!({});
    v["tree"][0]["children"][0]["assign"] = json!([{"group": "dept", "params": {"target": 10}}, {"unit": "s01"}]);
    rejects(&v, "node A1", "unit s01 is assigned but has no value for param `target`");
}

#[test]
fn records_indicators_take_no_fields() {
    let mut v = spec_example();
    v["tree"][1]["children"][0]["fields"] = json!([{"key": "x"}]);
    rejects(&v, "node X1", "has no fields");
}

#[test]
fn grades_are_checked() {
    let mut v = spec_example();
    v["grades"][0]["quota"] = json!(1.5);
    rejects(&v, "grades[0]", "quota 1.5 must be between 0 and 1");
}

#[test]
fn quota_places_are_exact_decimal() {
    let q = Quota::from_f64(0.7).unwrap();
    assert_eq!(q.places(90), 63, "0.7 × 90 = 63 exactly (the double product is 62.99…)");
    assert_eq!(Quota::from_f64(0.3).unwrap().places(10), 3);
    assert_eq!(Quota::from_f64(0.15).unwrap().places(76), 11);
    assert_eq!(Quota::from_f64(1.0).unwrap().places(7), 7);
    assert_eq!(Quota::from_f64(0.0).unwrap().places(7), 0);
}

#[test]
fn unknown_keys_are_rejected_with_position() {
    let text = spec_example().to_string().replace("\"window\"", "\"windw\"");
    let err = Scheme::from_json(&text).unwrap_err();
    assert!(err.issues[0].message.contains("windw"), "{err}");
    assert!(err.issues[0].location.starts_with("line 1, column"), "{err}");
}

#[test]
fn malformed_json_names_the_position() {
    let err = Scheme::from_json("{\n  \"year\": 2027,\n  oops\n}").unwrap_err();
    assert_eq!(err.issues.len(), 1);
    assert!(err.issues[0].location.starts_with("line 3, column"), "{err}");
}

#[test]
fn every_error_is_listed_at_once() {
    let mut v = spec_example();
    v["units"][0]["group"] = json!("nope");
    v["tree"][0]["points"] = json!(61);
    v["grades"][0]["quota"] = json!(2);
    let err = load(&v).unwrap_err();
    assert!(err.issues.len() >= 3, "{err}");
}

#[test]
fn round_trips_through_json() {
    let s = load(&spec_example()).unwrap();
    let again = Scheme::from_json(&s.to_json()).unwrap();
    assert_eq!(again.file, s.file);
}

#[test]
fn reporting_rule_names_a_deduction_records_indicator() {
    let mut v = spec_example();
    v["reporting"] = json!({"deduction": "Y1", "late_points": 0.5, "missing_points": 1});
    let s = load(&v).unwrap();
    assert_eq!(s.file.reporting.as_ref().unwrap().late_points, 0.5);
    for target in ["X1", "A1", "Y", "ZZ"] {
        v["reporting"] = json!({"deduction": target, "late_points": 0.5});
        rejects(&v, "reporting", "records indicator under a deduction node");
    }
    v["reporting"] = json!({"deduction": "Y1", "late_points": -1});
    rejects(&v, "reporting", "late_points must be a number ≥ 0");
    v["reporting"] = json!({"deduction": "Y1", "late": 1});
    assert!(load(&v).is_err(), "unknown keys are refused");
}

#[test]
fn supervision_rule_and_supervision_filled_indicators() {
    let mut v = spec_example();
    v["supervision"] = json!({"deduction": "Y1", "overdue_points": 0.5});
    v["tree"][1]["children"].as_array_mut().unwrap().push(json!({
        "id": "X2", "name": "督办落实", "filled_by": "supervision",
        "fields": [{"key": "completion_rate", "name": "办结率", "type": "percent", "agg": "avg"}, {"key": "evaluation", "name": "平均评价", "agg": "avg"}],
        "formula": "completion_rate * evaluation / 100", "assign": [{"group": "dept"}]
    }));
    let s = load(&v).unwrap();
    assert_eq!(s.file.supervision.as_ref().unwrap().overdue_points, 0.5);
    let x2 = s.node_index("X2").and_then(|n| s.indicator(n)).unwrap();
    assert_eq!(x2.filled_by, Some(FilledBy::Supervision));
    assert!(x2.system_filled());
    // A supervision metric is not a service metric, and the other way round.
    v["tree"][1]["children"][1]["filled_by"] = json!("service");
    rejects(&v, "node X2", "field `completion_rate` is not a service metric");
    v["tree"][1]["children"][1]["filled_by"] = json!("plans");
    rejects(&v, "node X2", "filled_by: unknown value `plans`");
    v["tree"][1]["children"][1]["filled_by"] = json!("supervision");
    v["tree"][1]["children"][1]["fields"].as_array_mut().unwrap().push(json!({"key": "received", "name": "受理量"}));
    rejects(&v, "node X2", "field `received` is not a supervision metric");
    v["tree"][1]["children"][1]["fields"].as_array_mut().unwrap().pop();
    for target in ["X1", "A1", "Y"] {
        v["supervision"] = json!({"deduction": target, "overdue_points": 0.5});
        rejects(&v, "supervision", "records indicator under a deduction node");
    }
    v["supervision"] = json!({"deduction": "Y1", "overdue_points": -0.5});
    rejects(&v, "supervision", "overdue_points must be a number ≥ 0");
}
