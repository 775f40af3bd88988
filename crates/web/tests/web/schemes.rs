//! Schemes in the browser: upload as versions (all or nothing, problems by node id),
//! amendments with reasons, export, publish, node-by-node diff, the formula check
//! and "try it".

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::{Session, TestApp, backend_tests};

backend_tests!(
    upload_versions_diff_and_export,
    bad_scheme_files_store_nothing,
    formula_check_and_try_it,
    new_year_from_copy_template_or_blank,
    scheme_workbook_round_trip,
    malformed_scheme_workbooks_store_nothing
);

fn scheme(points_a1: f64, formula_a1: &str) -> Value {
    json!({
        "year": 2027, "name": "2027年度绩效考核方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "城关街道", "group": "street"}],
        "grades": [{"name": "合格"}],
        "tree": [{"id": "A", "name": "职能履行", "points": 10, "children": [
            {"id": "A1", "name": "到位资金", "points": points_a1, "fields": [{"key": "actual", "name": "累计到位资金"}],
             "params": {"target": 100}, "formula": formula_a1, "assign": [{"group": "dept"}]},
            {"id": "A2", "name": "项目开工", "points": 10.0 - points_a1, "fields": [{"key": "rate", "name": "开工率"}],
             "formula": "rate * points", "assign": [{"group": "dept"}, {"group": "street"}]}]}]
    })
}

async fn upload(app: &TestApp, s: &Session, body: &str, reason: &str) -> reqwest::Response {
    upload_bytes(app, s, body.as_bytes().to_vec(), "scheme.json", reason).await
}

async fn upload_bytes(app: &TestApp, s: &Session, body: Vec<u8>, name: &str, reason: &str) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(body).file_name(name.to_string())).text("reason", reason.to_string());
    app.http.post(app.url(&format!("/schemes?_csrf={}", s.csrf))).header("cookie", &s.cookie).multipart(form).send().await.unwrap()
}

async fn upload_versions_diff_and_export(app: TestApp) {
    let office = app.session("office").await;
    let v1 = scheme(6.0, "min(actual / target, 1) * points").to_string();
    let r = upload(&app, &office, &v1, "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(r.headers()["location"], "/schemes/2027?version=1&flash=scheme_imported");
    // An amendment needs a reason.
    let v2 = scheme(4.0, "min(actual / target, 1.2) / 1.2 * points").to_string();
    let r = upload(&app, &office, &v2, "").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("needs a reason"));
    assert_eq!(app.store.scheme_versions(2027).await.unwrap().len(), 1);
    let r = upload(&app, &office, &v2, "年中调整：招商引资权重下调").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let versions = app.store.scheme_versions(2027).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].reason, "年中调整：招商引资权重下调");
    // The tree page, the list, the diff.
    let body = app.get(Some(&office), "/schemes/2027").await.text().await.unwrap();
    assert!(body.contains("到位资金") && body.contains("v2") && body.contains("min(actual / target, 1.2) / 1.2 * points"));
    let body = app.get(Some(&office), "/schemes").await.text().await.unwrap();
    assert!(body.contains("年中调整"));
    let body = app.get(Some(&office), "/schemes/2027/diff?from=1&to=2").await.text().await.unwrap();
    for text in ["formula", "points", "min(actual / target, 1) * points", "min(actual / target, 1.2) / 1.2 * points"] {
        assert!(body.contains(text), "the diff shows {text}");
    }
    assert!(body.contains("A1") && body.contains("A2"));
    // Export gives the version's file back.
    let r = app.get(Some(&office), "/schemes/2027/export?version=1").await;
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("scheme-2027-v1.json"));
    let exported: Value = r.json().await.unwrap();
    let original: Value = serde_json::from_str(&v1).unwrap();
    assert_eq!(exported["tree"][0]["children"][0]["formula"], original["tree"][0]["children"][0]["formula"]);
    let parsed: jixiao_core::scheme::SchemeFile = serde_json::from_value(exported).unwrap();
    assert_eq!(parsed, serde_json::from_value(original).unwrap());
    // Publishing, once.
    let r = app.post(Some(&office), "/schemes/2027/publish", &[("version", "2")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.scheme_versions(2027).await.unwrap()[1].published);
    let r = app.post(Some(&office), "/schemes/2027/publish", &[("version", "2")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Only the office uploads.
    let admin = app.session("admin").await;
    assert_eq!(upload(&app, &admin, &v1, "x").await.status(), StatusCode::FORBIDDEN);
    let trail = app.store.audit_trail("scheme", "2027/v2").await.unwrap();
    assert_eq!(trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["scheme.import", "scheme.publish"]);
}

async fn bad_scheme_files_store_nothing(app: TestApp) {
    let office = app.session("office").await;
    let mut bad = scheme(6.0, "min(actul / target, 1) * points");
    bad["tree"][0]["children"][1]["points"] = json!(3);
    let r = upload(&app, &office, &bad.to_string(), "").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("A1") && body.contains("actual"), "the misspelt variable, by node, with the suggestion");
    assert!(body.contains("&#96;A&#96;") || body.contains("`A`") || body.contains("A:"), "the points that do not add up name the category");
    for junk in ["not json", "{\"year\": 2027}", ""] {
        let r = upload(&app, &office, junk, "").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{junk:?}");
    }
    assert!(app.store.scheme_years().await.unwrap().is_empty(), "nothing stored");
    assert_eq!(app.get(Some(&office), "/schemes/2027").await.status(), StatusCode::NOT_FOUND);
}

async fn formula_check_and_try_it(app: TestApp) {
    let office = app.session("office").await;
    upload(&app, &office, &scheme(6.0, "min(actual / target, 1) * points").to_string(), "").await;
    let check = |formula: &str, inputs: Value| {
        app.http
            .post(app.url("/api/v1/formula/check"))
            .header("cookie", &office.cookie)
            .header("x-csrf-token", &office.csrf)
            .json(&json!({"formula": formula, "inputs": inputs}))
            .send()
    };
    let v: Value =
        check("min(actul / target, 1) * points", json!({"actual": 50, "target": 100, "points": 6})).await.unwrap().json().await.unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!((v["errors"][0]["line"].as_u64(), v["errors"][0]["column"].as_u64()), (Some(1), Some(5)));
    assert_eq!(v["errors"][0]["suggestion"], "actual");
    let v: Value =
        check("min(actual / target, 1) * points", json!({"actual": 50, "target": 100, "points": 6})).await.unwrap().json().await.unwrap();
    assert_eq!((v["ok"].as_bool(), v["score"].as_f64()), (Some(true), Some(3.0)));
    let v: Value = check("actual / target", json!({"actual": 1, "target": 0})).await.unwrap().json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("division by zero"));
    // The page's "try it", without scripts.
    let body = app.get(Some(&office), "/schemes/2027/indicators/A1").await.text().await.unwrap();
    assert!(body.contains("name=\"in.actual\"") || body.contains("到位资金"));
    let r = app
        .post(
            Some(&office),
            "/schemes/2027/indicators/A1",
            &[("formula", "min(actual / target, 1) * points"), ("in.actual", "80"), ("in.target", "100"), ("in.points", "6")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"try-score\">4.8<"), "0.8 × 6 = 4.8");
    assert!(app.store.scheme_versions(2027).await.unwrap().len() == 1, "trying stores nothing");
    assert_eq!(app.get(Some(&office), "/schemes/2027/indicators/ZZ").await.status(), StatusCode::NOT_FOUND);
}

async fn new_year_from_copy_template_or_blank(app: TestApp) {
    let office = app.session("office").await;
    let r = app.post(Some(&office), "/schemes/new", &[("year", "2026"), ("from", "copy")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no 2025 to copy");
    let r = app.post(Some(&office), "/schemes/new", &[("year", "2026"), ("from", "blank")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let blank = app.store.scheme(2026, None).await.unwrap();
    assert_eq!(blank.file.units.len(), 3, "the organisation's units");
    upload(&app, &office, &scheme(6.0, "min(actual / target, 1) * points").to_string(), "").await;
    let r = app.post(Some(&office), "/schemes/new", &[("year", "2028"), ("from", "copy")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let copy = app.store.scheme(2028, None).await.unwrap();
    let original = app.store.scheme(2027, None).await.unwrap();
    assert_eq!(copy.file.year, 2028);
    assert_eq!(copy.file.tree, original.file.tree, "formulas, targets and assignments carried over");
    assert_eq!(copy.file.name, "2028年度绩效考核方案");
    let r = app.post(Some(&office), "/schemes/new", &[("year", "2029"), ("from", "template")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let template = app.store.scheme(2029, None).await.unwrap().compile().unwrap();
    assert!(template.indicators.len() > 30 && template.units.len() == 3, "the template's tree on this organisation");
    for (year, from, status) in
        [("2028", "copy", StatusCode::CONFLICT), ("1999", "blank", StatusCode::BAD_REQUEST), ("2030", "magic", StatusCode::BAD_REQUEST)]
    {
        assert_eq!(app.post(Some(&office), "/schemes/new", &[("year", year), ("from", from)]).await.status(), status, "{year} {from}");
    }
    let reporter = app.session("reporter").await;
    assert_eq!(app.post(Some(&reporter), "/schemes/new", &[("year", "2031"), ("from", "blank")]).await.status(), StatusCode::FORBIDDEN);
}

/// What a page says, with the HTML escapes undone.
fn unescape(body: &str) -> String {
    body.replace("&#96;", "`")
        .replace("&#x60;", "`")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn export_xlsx(app: &TestApp, s: &Session, year: i32, version: i32) -> Vec<u8> {
    let r = app.get(Some(s), &format!("/schemes/{year}/export.xlsx?version={version}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains(&format!("scheme-{year}-v{version}.xlsx")));
    r.bytes().await.unwrap().to_vec()
}

async fn scheme_workbook_round_trip(app: TestApp) {
    let office = app.session("office").await;
    let mut demo = jixiao_core::generate::demo_district(2028, 1, 0).0;
    demo.year = 2028;
    let mut synthetic = jixiao_core::generate::synthetic(30, 40, 2).0;
    synthetic.year = 2029;
    let small: jixiao_core::scheme::SchemeFile = serde_json::from_value(scheme(6.0, "min(actual / target, 1) * points")).unwrap();
    for file in [small, demo, synthetic] {
        let year = file.year;
        let r = upload(&app, &office, &serde_json::to_string(&file).unwrap(), "").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{year}: {:?}", r.text().await);
        // Anyone who may read schemes may download the workbook; a reporter too.
        let reporter = app.session("reporter").await;
        let bytes = export_xlsx(&app, &reporter, year, 1).await;
        assert!(bytes.starts_with(b"PK"));
        // Written to disk for the LibreOffice check of scripts/test.
        if let Ok(dir) = std::env::var("JIXIAO_XLSX_OUT") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(std::path::Path::new(&dir).join(format!("scheme-{year}-{:?}.xlsx", app.db.backend)), &bytes).unwrap();
        }
        // Uploaded back (under any name) it is the next version, equal to the first.
        let r = upload_bytes(&app, &office, bytes.clone(), "方案.bin", "").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "an amendment needs its reason, also as a workbook");
        assert!(r.text().await.unwrap().contains("needs a reason"));
        assert_eq!(app.store.scheme_versions(year).await.unwrap().len(), 1);
        assert_eq!(upload_bytes(&app, &reporter, bytes.clone(), "s.xlsx", "x").await.status(), StatusCode::FORBIDDEN);
        let r = upload_bytes(&app, &office, bytes, "s.xlsx", "经 Excel 修订").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{year}: {:?}", r.text().await.map(|t| unescape(&t)));
        assert_eq!(r.headers()["location"], format!("/schemes/{year}?version=2&flash=scheme_imported"));
        let (v1, v2) = (app.store.scheme(year, Some(1)).await.unwrap(), app.store.scheme(year, Some(2)).await.unwrap());
        assert_eq!(v2.file, v1.file, "{year}: export → import gives the version's file");
        assert_eq!(v2.file, file);
        let trail = app.store.audit_trail("scheme", &format!("{year}/v2")).await.unwrap();
        assert_eq!(trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["scheme.import"]);
    }
    // The tree page links the workbook.
    let body = app.get(Some(&office), "/schemes/2027").await.text().await.unwrap();
    assert!(body.contains("/schemes/2027/export.xlsx?version=2"));
    assert_eq!(app.get(Some(&office), "/schemes/2031/export.xlsx").await.status(), StatusCode::NOT_FOUND);
}

/// A cell of a hand-made workbook.
#[derive(Clone)]
enum C {
    T(&'static str),
    N(f64),
    E,
}

type Sheets = Vec<(&'static str, Vec<Vec<C>>)>;

/// The sheets of `scheme(6.0, "min(actual / target, 1) * points")`, typed as an office would.
fn sheets() -> Sheets {
    use C::*;
    let header = |h: &[&'static str]| h.iter().map(|t| T(t)).collect::<Vec<_>>();
    vec![
        ("方案", vec![header(&["项目", "值", "说明"]), vec![T("年度"), N(2027.0)], vec![T("名称"), T("2027年度绩效考核方案")]]),
        ("考核类别", vec![header(&["类别编号", "类别名称"]), vec![T("dept"), T("区直部门")], vec![T("street"), T("街道")]]),
        (
            "被考核单位",
            vec![
                header(&["单位编号", "单位名称", "类别编号"]),
                vec![T("u01"), T("区发改局"), T("dept")],
                vec![T("u02"), T("区财政局"), T("dept")],
                vec![T("s01"), T("城关街道"), T("street")],
            ],
        ),
        ("等次", vec![header(&["等次", "最低分", "比例上限"]), vec![T("合格")]]),
        (
            "指标",
            vec![
                header(&[
                    "编号",
                    "上级编号",
                    "名称",
                    "类型",
                    "分值",
                    "封顶",
                    "频次",
                    "计算区间",
                    "数据来源",
                    "公式",
                    "填报项",
                    "默认参数",
                    "填报单位",
                    "审核单位",
                    "系统填报",
                ]),
                vec![T("A"), E, T("职能履行"), E, N(10.0)],
                vec![
                    T("A1"),
                    T("A"),
                    T("到位资金"),
                    E,
                    N(6.0),
                    E,
                    E,
                    E,
                    E,
                    T("min(actual / target, 1) * points"),
                    T("actual 累计到位资金"),
                    T("target=100"),
                ],
                vec![T("A2"), T("A"), T("项目开工"), E, N(4.0), E, E, E, E, T("rate * points"), T("rate 开工率")],
            ],
        ),
        (
            "考核对象",
            vec![
                header(&["指标编号", "类别编号", "单位编号", "参数", "指标名称（不导入）", "对象名称（不导入）"]),
                vec![T("A1"), T("dept")],
                vec![T("A2"), T("dept")],
                vec![T("A2"), T("street")],
            ],
        ),
    ]
}

fn book(sheets: &Sheets) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet().set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    C::T(t) => sheet.write_string(r as u32, c as u16, *t).unwrap(),
                    C::N(x) => sheet.write_number(r as u32, c as u16, *x).unwrap(),
                    C::E => sheet,
                };
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn sheet<'a>(sheets: &'a mut Sheets, name: &str) -> &'a mut Vec<Vec<C>> {
    &mut sheets.iter_mut().find(|(n, _)| *n == name).unwrap().1
}

async fn malformed_scheme_workbooks_store_nothing(app: TestApp) {
    let office = app.session("office").await;
    let mut cases: Vec<(Sheets, Vec<&str>)> = Vec::new();
    let mut s = sheets();
    s.iter_mut().find(|(n, _)| *n == "指标").unwrap().0 = "指标体系";
    cases.push((s, vec!["指标: the sheet is missing", "指标体系: unknown sheet"]));
    let mut s = sheets();
    sheet(&mut s, "被考核单位")[0][1] = C::T("名称");
    cases.push((s, vec!["被考核单位!B1: the header must be `单位名称`, not `名称`"]));
    let mut s = sheets();
    sheet(&mut s, "指标")[2][4] = C::T("六");
    cases.push((s, vec!["指标!E3: 分值 is not a number: `六` is text"]));
    let mut s = sheets();
    sheet(&mut s, "考核对象").push(vec![C::T("A1"), C::E, C::T("u99")]);
    cases.push((s, vec!["考核对象!C5: unknown unit `u99`"]));
    let mut s = sheets();
    sheet(&mut s, "指标").push(vec![C::T("A1"), C::T("A"), C::T("重复"), C::E, C::N(0.0)]);
    cases.push((s, vec!["指标!A5: node id `A1` is already used on row 3"]));
    let mut s = sheets();
    sheet(&mut s, "指标")[2][10] = C::T("actual 累计到位资金 [numbr]");
    sheet(&mut s, "指标")[3].push(C::T("target"));
    cases.push((s, vec!["指标!K3: field `actual`: `numbr` is not a type", "指标!L4: `target` is not `name=value`"]));
    // Read fine, but the scheme check fails: named by node, with the row it is on.
    let mut s = sheets();
    sheet(&mut s, "指标")[2][4] = C::N(7.0);
    sheet(&mut s, "指标")[3][9] = C::T("rte * points");
    cases.push((s, vec!["指标!A2 (node A):", "指标!A4 (node A2):", "rte"]));
    for (i, (sheets, expected)) in cases.iter().enumerate() {
        let r = upload_bytes(&app, &office, book(sheets), "scheme.xlsx", "").await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "case {i}");
        let body = unescape(&r.text().await.unwrap());
        assert!(body.contains("方案未导入"), "case {i}");
        for e in expected {
            assert!(body.contains(e), "case {i}: the page names `{e}`");
        }
        assert!(app.store.scheme_years().await.unwrap().is_empty(), "case {i}: nothing stored");
    }
    assert_eq!(upload_bytes(&app, &office, b"PK\x03\x04 not a zip".to_vec(), "x.xlsx", "").await.status(), StatusCode::BAD_REQUEST);
    // The hand-made workbook itself is fine, and equals the JSON scheme.
    let r = upload_bytes(&app, &office, book(&sheets()), "scheme.xlsx", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await.map(|t| unescape(&t)));
    let stored = app.store.scheme(2027, None).await.unwrap().file;
    assert_eq!(stored, serde_json::from_value(scheme(6.0, "min(actual / target, 1) * points")).unwrap());
    assert!(app.store.verify_audit().await.unwrap().is_intact());
}
