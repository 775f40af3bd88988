//! `jixiao score` as a program calls it: spec §8 output, formats, exit codes, and
//! nothing on standard output when something is wrong.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn jixiao(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jixiao")).args(args).output().expect("jixiao runs")
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path.display().to_string()
}

/// Spec §9's example: u01 (target 50) and u02 (target 100) on A1.
fn worked_example() -> (Value, Value) {
    let scheme = json!({
        "year": 2027, "name": "2027年度区直部门及街道绩效考核方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "汉中街道", "group": "street"}],
        "grades": [{"name": "优秀", "min_score": 90, "quota": 0.3}, {"name": "良好", "min_score": 80},
                   {"name": "一般", "min_score": 60}, {"name": "较差"}],
        "tree": [
            {"id": "A", "name": "职能履行", "points": 10, "children": [
                {"id": "A1", "name": "招商引资到位资金", "points": 10, "frequency": "monthly", "window": "ytd",
                 "fields": [{"key": "actual", "name": "累计到位资金(亿元)", "type": "number", "agg": "last", "min": 0}],
                 "params": {"target": 100},
                 "formula": "min(actual / (target * progress), 1.2) / 1.2 * points",
                 "assign": [{"group": "dept"}, {"unit": "u01", "params": {"target": 50}}]}]},
            {"id": "X", "name": "创新创优加分", "kind": "bonus", "cap": 5, "children": [
                {"id": "X1", "name": "上级表彰", "source": "records", "formula": "record_points",
                 "assign": [{"group": "dept"}, {"group": "street"}]}]}]
    });
    let data = json!({
        "entries": [{"unit": "u01", "indicator": "A1", "month": "2027-01", "values": {"actual": 10}},
                    {"unit": "u01", "indicator": "A1", "month": "2027-03", "values": {"actual": 14}}],
        "records": [{"unit": "s01", "indicator": "X1", "date": "2027-02-10", "points": 7, "note": "省级表彰"}]
    });
    (scheme, data)
}

#[test]
fn json_output_follows_spec_section_8() {
    let dir = tempfile::tempdir().unwrap();
    let (scheme, data) = worked_example();
    let (s, d) = (write(dir.path(), "s.json", &scheme), write(dir.path(), "d.json", &data));
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-03", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["period"], "2027-03");
    let units = v["units"].as_array().unwrap();
    assert_eq!(units.iter().map(|u| u["unit"].as_str().unwrap()).collect::<Vec<_>>(), ["u01", "u02", "s01"]);
    assert_eq!(units[0]["scores"]["A1"].as_f64(), Some(9.33));
    assert_eq!(units[0]["total"].as_f64(), Some(9.33));
    assert_eq!(units[0]["rank"], 1);
    assert_eq!(units[0]["grade"], "较差");
    assert_eq!(units[1]["status"]["A1"], "missing");
    assert_eq!(units[1]["scores"]["A1"].as_f64(), Some(0.0));
    assert_eq!(units[2]["scores"], json!({"X": 5, "X1": 7}), "capped bonus; no regular nodes");
    assert_eq!(units[2]["status"], json!({"X1": "ok"}));
    assert_eq!(units[2]["errors"], json!({}));
}

#[test]
fn several_periods_give_an_array_and_all_gives_seventeen() {
    let dir = tempfile::tempdir().unwrap();
    let (scheme, data) = worked_example();
    let (s, d) = (write(dir.path(), "s.json", &scheme), write(dir.path(), "d.json", &data));
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-01,2027-Q1"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().iter().map(|p| p["period"].as_str().unwrap()).collect::<Vec<_>>(), ["2027-01", "2027-Q1"]);
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "all"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 17);
}

#[test]
fn table_and_csv_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (scheme, data) = worked_example();
    let (s, d) = (write(dir.path(), "s.json", &scheme), write(dir.path(), "d.json", &data));
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-03", "--format", "table"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("区发改局") && text.contains("9.33"), "{text}");
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-03", "--format", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "period,group,unit,name,total,rank,grade,A,A1,X,X1");
    assert_eq!(lines[1], "2027-03,dept,u01,区发改局,9.33,1,较差,9.33,9.33,0.00,0.00");
    assert_eq!(lines.len(), 4);
}

#[test]
fn explain_shows_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (scheme, data) = worked_example();
    let (s, d) = (write(dir.path(), "s.json", &scheme), write(dir.path(), "d.json", &data));
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-03", "--explain", "u01:A1", "--format", "json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["score"].as_f64(), Some(9.33));
    assert_eq!(v[0]["inputs"][0]["months"], json!([{"month": "2027-01", "value": 10.0}, {"month": "2027-03", "value": 14.0}]));
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-03", "--explain", "u99"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown unit `u99`"));
}

/// Asserts failure with nothing on stdout and `needle` on stderr.
fn fails(out: Output, needle: &str) {
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "stderr lacks `{needle}`: {err}");
}

#[test]
fn invalid_scheme_names_the_node_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let (mut scheme, data) = worked_example();
    scheme["tree"][0]["children"][0]["formula"] = json!("min(actul / target, 1)");
    scheme["tree"][0]["points"] = json!(11);
    let (s, d) = (write(dir.path(), "s.json", &scheme), write(dir.path(), "d.json", &data));
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-03"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    fails(out, "node A1: formula line 1, column 5");
    assert!(err.contains("actual"), "suggestion: {err}");
    assert!(err.contains("node A: children's points add up to 10"), "{err}");
}

#[test]
fn bad_data_row_loads_nothing_and_names_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let (scheme, mut data) = worked_example();
    data["entries"][1]["values"]["actual"] = json!(-1);
    data["entries"].as_array_mut().unwrap().push(json!({"unit": "u77", "indicator": "A1", "month": "2027-01", "values": {}}));
    let (s, d) = (write(dir.path(), "s.json", &scheme), write(dir.path(), "d.json", &data));
    let out = jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-03"]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    fails(out, "entries[1]: field `actual` = -1 is below its minimum 0");
    assert!(err.contains("entries[2]: unknown unit `u77`"), "{err}");
}

#[test]
fn unknown_period_and_missing_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (scheme, data) = worked_example();
    let (s, d) = (write(dir.path(), "s.json", &scheme), write(dir.path(), "d.json", &data));
    fails(jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2027-13"]), "`2027-13` is not a period");
    fails(jixiao(&["score", "--scheme", &s, "--data", &d, "--period", "2026-03"]), "not in the scheme's year 2027");
    fails(jixiao(&["score", "--scheme", "/nonexistent.json", "--data", &d, "--period", "2027-03"]), "cannot read scheme file");
    std::fs::write(dir.path().join("bad.json"), "{\"entries\": [").unwrap();
    let bad = dir.path().join("bad.json").display().to_string();
    fails(jixiao(&["score", "--scheme", &s, "--data", &bad, "--period", "2027-03"]), "line 1, column");
}
