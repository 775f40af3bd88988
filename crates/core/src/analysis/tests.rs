//! The analysis of a small district whose numbers are worked out by hand below.

use serde_json::json;

use super::*;
use crate::data::{DataFile, Dataset};
use crate::score::{PeriodReport, score_periods};

/// dept u1 u2 u3, street s1 s2; A1 = min(x / 100, 1) × 10, A2 = min(y / 50, 1) × 10
/// (monthly, ytd, last value); bonus X1 and deduction Y1 from records.
///
/// January: u1 10+10=20, u2 5+10=15, u3 1+2=3, s1 8+8=16, s2 missing = 0.
/// February: u1 4+10−1=13, u2 10+10=20, u3 1+2+2=5 (January's values, a bonus of 2),
/// s1 9+9=18, s2 10+10=20.
fn district() -> (Scheme, Dataset, DataFile) {
    let scheme = json!({
        "year": 2027, "name": "测试方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u1", "name": "甲局", "group": "dept"}, {"id": "u2", "name": "乙局", "group": "dept"},
                  {"id": "u3", "name": "丙局", "group": "dept"}, {"id": "s1", "name": "东街道", "group": "street"},
                  {"id": "s2", "name": "西街道", "group": "street"}],
        "grades": [{"name": "优秀", "min_score": 18}, {"name": "合格", "min_score": 10}, {"name": "不合格"}],
        "tree": [
            {"id": "A", "name": "职能指标", "points": 20, "children": [
                {"id": "A1", "name": "甲指标", "points": 10, "fields": [{"key": "x", "name": "x", "type": "number", "agg": "last"}],
                 "formula": "min(x / 100, 1) * points", "assign": [{"group": "dept"}, {"group": "street"}]},
                {"id": "A2", "name": "乙指标", "points": 10, "fields": [{"key": "y", "name": "y", "type": "number", "agg": "last"}],
                 "formula": "min(y / 50, 1) * points", "assign": [{"group": "dept"}, {"group": "street"}]}]},
            {"id": "X", "name": "加分", "kind": "bonus", "cap": 5, "children": [
                {"id": "X1", "name": "表彰", "source": "records", "formula": "record_points", "assign": [{"group": "dept"}, {"group": "street"}]}]},
            {"id": "Y", "name": "减分", "kind": "deduction", "cap": 5, "children": [
                {"id": "Y1", "name": "违纪", "source": "records", "formula": "record_points", "assign": [{"group": "dept"}, {"group": "street"}]}]}]
    });
    let scheme = Scheme::from_json(&scheme.to_string()).unwrap();
    let e = |u: &str, i: &str, m: &str, k: &str, v: f64| json!({"unit": u, "indicator": i, "month": m, "values": {k: v}});
    let mut entries = Vec::new();
    for (u, m, x, y) in [
        ("u1", "01", 100.0, 50.0),
        ("u2", "01", 50.0, 50.0),
        ("u3", "01", 10.0, 10.0),
        ("s1", "01", 80.0, 40.0),
        ("u1", "02", 40.0, 50.0),
        ("u2", "02", 100.0, 50.0),
        ("s1", "02", 90.0, 45.0),
        ("s2", "02", 100.0, 50.0),
    ] {
        entries.push(e(u, "A1", &format!("2027-{m}"), "x", x));
        entries.push(e(u, "A2", &format!("2027-{m}"), "y", y));
    }
    let data = json!({"entries": entries, "records": [
        {"unit": "u3", "indicator": "X1", "date": "2027-02-10", "points": 2, "note": "市级表彰"},
        {"unit": "u1", "indicator": "Y1", "date": "2027-02-05", "points": 1, "note": "违反工作纪律"},
        {"unit": "u1", "indicator": "Y1", "date": "2027-03-05", "points": 1, "note": "三月违纪，不在二月的区间内"}]});
    let file: DataFile = serde_json::from_value(data).unwrap();
    let data = Dataset::load(&scheme, &file).unwrap();
    (scheme, data, file)
}

fn reports(scheme: &Scheme, data: &Dataset, period: &str) -> Vec<UnitReport> {
    let result = score_periods(scheme, data, &[period.parse().unwrap()]).remove(0);
    PeriodReport::new(scheme, &result).units
}

fn feb() -> Month {
    "2027-02".parse().unwrap()
}

fn analysis() -> (Scheme, Analysis) {
    let (scheme, data, file) = district();
    let (jan, february) = (reports(&scheme, &data, "2027-01"), reports(&scheme, &data, "2027-02"));
    let reporting = vec![
        ("u3".to_string(), feb(), Timeliness::Missing),
        ("s1".to_string(), feb(), Timeliness::Late),
        ("s1".to_string(), "2027-01".parse().unwrap(), Timeliness::Late),
    ];
    let a = analyse(&Input {
        scheme: &scheme,
        period: Period::Month(feb()),
        units: &february,
        previous: Some((Period::Month("2027-01".parse().unwrap()), &jan)),
        reporting: &reporting,
        records: &file.records,
    });
    (scheme, a)
}

fn unit(scheme: &Scheme, id: &str) -> usize {
    scheme.unit_index(id).unwrap()
}

#[test]
fn group_pictures() {
    let (s, a) = analysis();
    assert_eq!(a.groups.len(), 2);
    let dept = &a.groups[0];
    assert_eq!((dept.units, dept.mean), (3, 12.67), "(13 + 20 + 5) / 3");
    assert_eq!((dept.best, dept.worst), ((unit(&s, "u2"), 20.0), (unit(&s, "u3"), 5.0)));
    assert_eq!(dept.grades, [("优秀".to_string(), 1), ("合格".to_string(), 1), ("不合格".to_string(), 1)]);
    assert_eq!(dept.lights, [1, 1, 1], "u3 red (pace 0.15), u1 yellow (pace 0.7), u2 green");
    let street = &a.groups[1];
    assert_eq!((street.units, street.mean, street.best, street.worst), (2, 19.0, (unit(&s, "s2"), 20.0), (unit(&s, "s1"), 18.0)));
    assert_eq!(street.lights, [0, 0, 2], "s1's late report dims its indicators, not the unit");
}

#[test]
fn rank_moves_against_the_month_before() {
    let (s, a) = analysis();
    assert_eq!(a.previous, Some(Period::Month("2027-01".parse().unwrap())));
    let moves: Vec<_> = a.moves.iter().map(|m| (s.units[m.unit].id.as_str(), m.from, m.to, m.total, m.change)).collect();
    assert_eq!(moves, [("u2", 2, 1, 20.0, 5.0), ("u1", 1, 2, 13.0, -7.0), ("s2", 2, 1, 20.0, 20.0), ("s1", 1, 2, 18.0, 2.0)]);
    assert_eq!(a.moves[1].places(), -1);
}

#[test]
fn lagging_indicators_worst_share_first() {
    let (s, a) = analysis();
    let a1 = &a.lagging[0];
    assert_eq!(s.nodes[a1.indicator].id, "A1");
    assert_eq!((a1.assessed, a1.behind, a1.red), (5, 2, 2), "u1 (0.4) and u3 (0.1); s1's late light is not lagging");
    assert!((a1.mean_pace - 0.68).abs() < 1e-9, "(0.4 + 1 + 0.1 + 0.9 + 1) / 5");
    assert_eq!(a1.worst, [(unit(&s, "u3"), 0.1), (unit(&s, "u1"), 0.4), (unit(&s, "s1"), 0.9)]);
    let a2 = &a.lagging[1];
    assert_eq!((s.nodes[a2.indicator].id.as_str(), a2.behind, a2.red), ("A2", 1, 1));
    assert_eq!(a.lagging.len(), 2, "bonus and deduction indicators are not lagging");
}

#[test]
fn red_units_reporting_and_records() {
    let (s, a) = analysis();
    assert_eq!(a.red_units.len(), 1);
    let red = &a.red_units[0];
    assert_eq!((red.unit, red.total, red.rank), (unit(&s, "u3"), 5.0, 3));
    assert_eq!(red.red_indicators.iter().map(|&n| s.nodes[n].id.as_str()).collect::<Vec<_>>(), ["A1", "A2"]);
    assert!(matches!(red.lit.why, lights::Why::UnitPace { threshold, .. } if threshold == 0.6));

    let gaps: Vec<_> = a.reporting.iter().map(|g| (s.units[g.unit].id.as_str(), g.late.len(), g.missing.len())).collect();
    assert_eq!(gaps, [("u3", 0, 1), ("s1", 2, 0)], "missing before late");
    assert_eq!(a.reporting[1].late[0].to_string(), "2027-01", "months in order");

    assert_eq!(a.bonuses.len(), 1);
    assert_eq!((a.bonuses[0].unit, a.bonuses[0].score), (unit(&s, "u3"), 2.0));
    assert_eq!(a.bonuses[0].records[0].note.as_deref(), Some("市级表彰"));
    assert_eq!(a.deductions.len(), 1);
    assert_eq!((a.deductions[0].unit, a.deductions[0].score), (unit(&s, "u1"), 1.0));
    let dates: Vec<_> = a.deductions[0].records.iter().map(|r| r.date.as_str()).collect();
    assert_eq!(dates, ["2027-02-05"], "a March record is outside February's window");
}

#[test]
fn previous_period_of_each_kind() {
    let p = |s: &str| s.parse::<Period>().unwrap();
    assert_eq!(p("2027-03").previous(), Some(p("2027-02")));
    assert_eq!(p("2027-01").previous(), None);
    assert_eq!(p("2027-Q3").previous(), Some(p("2027-Q2")));
    assert_eq!(p("2027-Q1").previous(), None);
    assert_eq!(p("2027").previous(), None);
}
