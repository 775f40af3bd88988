//! The scheme editor: a draft started from a version, edited step by step (add,
//! settings, move, reorder, delete, per-unit targets pasted or uploaded), refused
//! steps changing nothing, stale revisions refused, and the draft saved as the next
//! version with its reason.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::common::{Session, TestApp, backend_tests};

backend_tests!(edit_a_draft_into_a_new_version, bad_steps_change_nothing, targets_pasted_and_uploaded);

async fn with_scheme(app: &TestApp) {
    let file: jixiao_core::scheme::SchemeFile = serde_json::from_value(json!({
        "year": 2027, "name": "2027年度绩效考核方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "城关街道", "group": "street"}],
        "tree": [{"id": "A", "name": "职能履行", "points": 10, "children": [
            {"id": "A1", "name": "到位资金", "points": 6, "fields": [{"key": "actual", "name": "累计到位资金"}],
             "params": {"target": 100}, "formula": "min(actual / target, 1) * points", "assign": [{"group": "dept"}]},
            {"id": "A2", "name": "项目开工", "points": 4, "fields": [{"key": "rate", "name": "开工率"}],
             "formula": "rate * points", "assign": [{"group": "dept"}, {"group": "street"}]}]}]
    }))
    .unwrap();
    let mut tx = app.store.begin("office").await.unwrap();
    app.store.import_scheme(&mut tx, &file, "").await.unwrap();
    tx.audit("scheme.import", "scheme", "2027/v1", None, None).await.unwrap();
    tx.commit().await.unwrap();
}

async fn started(app: &TestApp) -> Session {
    with_scheme(app).await;
    let office = app.session("office").await;
    let page = app.get(Some(&office), "/schemes/2027/draft").await.text().await.unwrap();
    assert!(page.contains("draft-start"), "no draft yet: the page offers to start one");
    let r = app.post(Some(&office), "/schemes/2027/draft", &[("version", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    office
}

async fn revision(app: &TestApp) -> String {
    app.store.scheme_draft(2027).await.unwrap().unwrap().revision.to_string()
}

async fn draft_file(app: &TestApp) -> jixiao_core::scheme::SchemeFile {
    app.store.scheme_draft(2027).await.unwrap().unwrap().file
}

fn ids(nodes: &[jixiao_core::scheme::NodeDef]) -> Vec<String> {
    nodes.iter().map(|n| n.id.clone()).collect()
}

async fn edit_a_draft_into_a_new_version(app: TestApp) {
    let office = started(&app).await;
    let page = app.get(Some(&office), "/schemes/2027/draft").await.text().await.unwrap();
    assert!(page.contains("draft-valid") && page.contains("∑ 10 / 10"), "the copy of v1 is valid and adds up");

    // A new indicator under A: it has no points yet, so the draft is not a valid scheme.
    let rev = revision(&app).await;
    let r = app
        .post(
            Some(&office),
            "/schemes/2027/draft/nodes",
            &[("revision", &rev), ("parent", "A"), ("id", "A3"), ("name", "<b>营商环境</b>"), ("what", "indicator")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/schemes/2027/draft/nodes/A3?flash=draft_saved");
    let page = app.get(Some(&office), "/schemes/2027/draft").await.text().await.unwrap();
    assert!(page.contains("draft-issues") && page.contains("node A3"), "the engine's problem with A3 is listed");
    assert!(page.contains("营商环境") && !page.contains("<b>营商环境"), "names are escaped");
    let r = app.post(Some(&office), "/schemes/2027/draft/save", &[("revision", &revision(&app).await), ("reason", "增加营商环境")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "an invalid draft is not saved");
    assert_eq!(app.store.scheme_versions(2027).await.unwrap().len(), 1);

    // Its settings: points, fields, params, rules, who enters and reviews it.
    let form = [
        ("revision", revision(&app).await),
        ("name", "营商环境".into()),
        ("points", "2".into()),
        ("frequency", "quarterly".into()),
        ("window", "period".into()),
        ("source", "fields".into()),
        ("formula", "min(score / target, 1) * points".into()),
        ("fields", "score | 测评得分 | number | avg | 0 | 100".into()),
        ("params", "target = 90".into()),
        ("assign", "group:dept\nunit:s01 target=80".into()),
        ("entered_by", "u02".into()),
        ("reviewed_by", "u01".into()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.post(Some(&office), "/schemes/2027/draft/nodes/A3", &pairs).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let page = app.get(Some(&office), "/schemes/2027/draft").await.text().await.unwrap();
    assert!(page.contains("∑ 12 / 10 ✗"), "the running check shows A's children over its points");
    // A gets 12 points: now it adds up and the draft is valid.
    let r = app
        .post(Some(&office), "/schemes/2027/draft/nodes/A", &[("revision", &revision(&app).await), ("name", "职能履行"), ("points", "12")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = app.get(Some(&office), "/schemes/2027/draft").await.text().await.unwrap();
    assert!(page.contains("draft-valid") && page.contains("∑ 12 / 12 ✓"), "{page}");

    // Reorder: A3 up, then A1 to the end.
    let r = app.post(Some(&office), "/schemes/2027/draft/nodes/A3/tree", &[("revision", &revision(&app).await), ("op", "up")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(
            Some(&office),
            "/schemes/2027/draft/nodes/A1/tree",
            &[("revision", &revision(&app).await), ("op", "move"), ("parent", "A"), ("position", "3")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(ids(draft_file(&app).await.tree[0].children.as_ref().unwrap()), ["A3", "A2", "A1"]);

    // Saved as version 2, with the reason; the draft is gone.
    let r =
        app.post(Some(&office), "/schemes/2027/draft/save", &[("revision", &revision(&app).await), ("reason", "增加营商环境指标")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(r.headers()["location"], "/schemes/2027?version=2&flash=scheme_imported");
    assert_eq!(app.store.scheme_draft(2027).await.unwrap(), None);
    let v2 = app.store.scheme(2027, Some(2)).await.unwrap();
    assert_eq!(v2.info.reason, "增加营商环境指标");
    let scheme = v2.compile().unwrap();
    let a3 = scheme.indicator(scheme.node_index("A3").unwrap()).unwrap();
    assert_eq!(a3.formula.source(), "min(score / target, 1) * points");
    assert_eq!((a3.entered_by, a3.reviewed_by), (scheme.unit_index("u02"), scheme.unit_index("u01")));
    assert_eq!(a3.fields[0].max, Some(100.0));
    let target = a3.param_names.iter().position(|p| p == "target").unwrap();
    let s01 = scheme.unit_index("s01").unwrap();
    assert_eq!(a3.assignments[s01].as_ref().unwrap()[target], Some(80.0));
    assert_eq!(a3.assignments[scheme.unit_index("u01").unwrap()].as_ref().unwrap()[target], Some(90.0));
    // Version 1 is untouched, and every step is in the audit trail.
    assert!(app.store.scheme(2027, Some(1)).await.unwrap().compile().unwrap().node_index("A3").is_none());
    let audit = app.get(Some(&office), "/audit?action=scheme.draft_edit").await.text().await.unwrap();
    assert!(audit.matches("scheme.draft_edit").count() >= 5, "each step has its audit entry");
}

async fn bad_steps_change_nothing(app: TestApp) {
    let office = started(&app).await;
    let before = app.store.scheme_draft(2027).await.unwrap().unwrap();
    let rev = before.revision.to_string();
    // Settings that do not parse come back with every problem and what was typed.
    let r = app
        .post(
            Some(&office),
            "/schemes/2027/draft/nodes/A1",
            &[
                ("revision", &rev),
                ("name", "到位资金"),
                ("points", "六"),
                ("formula", "actual"),
                ("fields", "actual | 资金 | numbr"),
                ("params", "target 100"),
                ("assign", "dept"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    for text in ["node-errors", "“六”不是数字", "numbr", "target", "group:编号", "actual | 资金 | numbr"] {
        assert!(page.contains(text), "the form shows {text}");
    }
    // Structural mistakes, a stale revision, a reporter: refused.
    let steps: [(&str, Vec<(&str, &str)>, StatusCode); 6] = [
        ("/schemes/2027/draft/nodes/A/tree", vec![("op", "move"), ("parent", "A1")], StatusCode::BAD_REQUEST),
        ("/schemes/2027/draft/nodes/A1/tree", vec![("op", "up")], StatusCode::BAD_REQUEST),
        ("/schemes/2027/draft/nodes/nope/tree", vec![("op", "delete")], StatusCode::BAD_REQUEST),
        (
            "/schemes/2027/draft/nodes",
            vec![("parent", "A"), ("id", "A1"), ("name", "重复"), ("what", "indicator")],
            StatusCode::BAD_REQUEST,
        ),
        ("/schemes/2027/draft/nodes", vec![("parent", "A1"), ("id", "Z"), ("name", "下级"), ("what", "category")], StatusCode::BAD_REQUEST),
        (
            "/schemes/2027/draft/nodes",
            vec![("parent", ""), ("id", "a b/c"), ("name", "坏编号"), ("what", "category")],
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, mut form, status) in steps {
        form.push(("revision", &rev));
        let r = app.post(Some(&office), path, &form).await;
        assert_eq!(r.status(), status, "{path} {form:?}");
    }
    let r = app.post(Some(&office), "/schemes/2027/draft/nodes/A2/tree", &[("revision", "99"), ("op", "delete")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("刷新"), "a stale step says to reload");
    let reporter = app.session("reporter").await;
    let r = app.post(Some(&reporter), "/schemes/2027/draft/nodes/A2/tree", &[("revision", &rev), ("op", "delete")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.post(Some(&office), "/schemes/2027/draft/save", &[("revision", &rev), ("reason", "  ")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "saving needs a reason");
    assert_eq!(app.store.scheme_draft(2027).await.unwrap().unwrap(), before, "nothing changed the draft");
    assert_eq!(app.store.scheme_versions(2027).await.unwrap().len(), 1);
    // Deleting works and can be thrown away with the draft.
    let r = app.post(Some(&office), "/schemes/2027/draft/nodes/A2/tree", &[("revision", &rev), ("op", "delete")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(ids(draft_file(&app).await.tree[0].children.as_ref().unwrap()), ["A1"]);
    let r = app.post(Some(&office), "/schemes/2027/draft/discard", &[("revision", &revision(&app).await)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.scheme_draft(2027).await.unwrap(), None);
}

async fn post_targets(app: &TestApp, s: &Session, form: Form) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/schemes/2027/draft/nodes/A1/targets?_csrf={}", s.csrf)))
        .header("cookie", &s.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn workbook(rows: &[(&str, Option<&str>, Option<f64>)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("目标值").unwrap();
    sheet.write_string(0, 0, "单位编码").unwrap();
    sheet.write_string(0, 1, "target").unwrap();
    for (i, (unit, text, number)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *unit).unwrap();
        if let Some(t) = text {
            sheet.write_string(r, 1, *t).unwrap();
        }
        if let Some(x) = number {
            sheet.write_number(r, 1, *x).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn unit_target(file: &jixiao_core::scheme::SchemeFile, unit: &str) -> Option<f64> {
    let scheme = jixiao_core::scheme::Scheme::from_file(file.clone()).unwrap();
    let a1 = scheme.indicator(scheme.node_index("A1").unwrap()).unwrap();
    let t = a1.param_names.iter().position(|p| p == "target").unwrap();
    a1.assignments[scheme.unit_index(unit).unwrap()].as_ref().unwrap()[t]
}

async fn targets_pasted_and_uploaded(app: TestApp) {
    let office = started(&app).await;
    // Two columns pasted from Excel.
    let form = Form::new().text("revision", revision(&app).await).text("param", "target").text("paste", "u01\t150\nu02 1,200\n");
    let r = post_targets(&app, &office, form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let file = draft_file(&app).await;
    assert_eq!((unit_target(&file, "u01"), unit_target(&file, "u02")), (Some(150.0), Some(1200.0)));
    // One column: it must match the units listed (u01, u02 are assigned A1).
    let form = Form::new().text("revision", revision(&app).await).text("param", "target").text("paste", "1\n2\n3");
    let r = post_targets(&app, &office, form).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("3 个数值"));
    let form = Form::new().text("revision", revision(&app).await).text("param", "target").text("paste", "110\n-");
    assert_eq!(post_targets(&app, &office, form).await.status(), StatusCode::SEE_OTHER);
    let file = draft_file(&app).await;
    assert_eq!((unit_target(&file, "u01"), unit_target(&file, "u02")), (Some(110.0), Some(100.0)), "`-` falls back to the default");

    // The template lists the assigned units with their own values.
    let r = app.get(Some(&office), "/schemes/2027/draft/nodes/A1/targets.xlsx?param=target").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range("分单位目标值").unwrap();
    let rows: Vec<(String, String)> = range.rows().skip(1).map(|r| (r[0].to_string(), r[1].to_string())).collect();
    assert_eq!(rows, [("u01".to_string(), "110".to_string()), ("u02".to_string(), String::new())]);

    // An uploaded workbook: a bad cell is named and nothing is set; a good one is set.
    let before = app.store.scheme_draft(2027).await.unwrap().unwrap();
    let bad = workbook(&[("u01", None, Some(130.0)), ("u02", Some("很多"), None)]);
    let form =
        Form::new().text("revision", revision(&app).await).text("param", "target").part("file", Part::bytes(bad).file_name("t.xlsx"));
    let r = post_targets(&app, &office, form).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("目标值!B3"));
    let form = Form::new()
        .text("revision", revision(&app).await)
        .text("param", "target")
        .part("file", Part::bytes(b"not a workbook".to_vec()).file_name("t.xlsx"));
    assert_eq!(post_targets(&app, &office, form).await.status(), StatusCode::BAD_REQUEST);
    let unknown = workbook(&[("u99", None, Some(1.0))]);
    let form =
        Form::new().text("revision", revision(&app).await).text("param", "target").part("file", Part::bytes(unknown).file_name("t.xlsx"));
    let r = post_targets(&app, &office, form).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("u99"));
    assert_eq!(app.store.scheme_draft(2027).await.unwrap().unwrap(), before);
    let good = workbook(&[("u01", None, Some(130.0)), ("u02", Some("140"), None)]);
    let form =
        Form::new().text("revision", revision(&app).await).text("param", "target").part("file", Part::bytes(good).file_name("t.xlsx"));
    assert_eq!(post_targets(&app, &office, form).await.status(), StatusCode::SEE_OTHER);
    let file = draft_file(&app).await;
    assert_eq!((unit_target(&file, "u01"), unit_target(&file, "u02")), (Some(130.0), Some(140.0)));
}
