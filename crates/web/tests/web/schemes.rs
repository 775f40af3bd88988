//! Schemes in the browser: upload as versions (all or nothing, problems by node id),
//! amendments with reasons, export, publish, node-by-node diff, the formula check
//! and "try it".

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::{Session, TestApp, backend_tests};

backend_tests!(upload_versions_diff_and_export, bad_scheme_files_store_nothing, formula_check_and_try_it, new_year_from_copy_template_or_blank);

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
    let form = Form::new()
        .part("file", Part::bytes(body.as_bytes().to_vec()).file_name("scheme.json").mime_str("application/json").unwrap())
        .text("reason", reason.to_string());
    app.http
        .post(app.url(&format!("/schemes?_csrf={}", s.csrf)))
        .header("cookie", &s.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap()
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
    let v: Value = check("min(actul / target, 1) * points", json!({"actual": 50, "target": 100, "points": 6})).await.unwrap().json().await.unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!((v["errors"][0]["line"].as_u64(), v["errors"][0]["column"].as_u64()), (Some(1), Some(5)));
    assert_eq!(v["errors"][0]["suggestion"], "actual");
    let v: Value = check("min(actual / target, 1) * points", json!({"actual": 50, "target": 100, "points": 6})).await.unwrap().json().await.unwrap();
    assert_eq!((v["ok"].as_bool(), v["score"].as_f64()), (Some(true), Some(3.0)));
    let v: Value = check("actual / target", json!({"actual": 1, "target": 0})).await.unwrap().json().await.unwrap();
    assert!(v["error"].as_str().unwrap().contains("division by zero"));
    // The page's "try it", without scripts.
    let body = app.get(Some(&office), "/schemes/2027/indicators/A1").await.text().await.unwrap();
    assert!(body.contains("name=\"in.actual\"") || body.contains("到位资金"));
    let r = app
        .post(Some(&office), "/schemes/2027/indicators/A1", &[("formula", "min(actual / target, 1) * points"), ("in.actual", "80"), ("in.target", "100"), ("in.points", "6")])
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
    for (year, from, status) in [("2028", "copy", StatusCode::CONFLICT), ("1999", "blank", StatusCode::BAD_REQUEST), ("2030", "magic", StatusCode::BAD_REQUEST)] {
        assert_eq!(app.post(Some(&office), "/schemes/new", &[("year", year), ("from", from)]).await.status(), status, "{year} {from}");
    }
    let reporter = app.session("reporter").await;
    assert_eq!(app.post(Some(&reporter), "/schemes/new", &[("year", "2031"), ("from", "blank")]).await.status(), StatusCode::FORBIDDEN);
}
