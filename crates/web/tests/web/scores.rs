//! The scores pages: ranking with lights, a unit's tree, and the drill-down of one
//! score to its explanation and the entries behind it, in scope.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, backend_tests};

backend_tests!(ranking_lights_and_drill_down, analysis_report_page_print_and_workbook);

async fn ranking_lights_and_drill_down(app: TestApp) {
    crate::report::seed(&app).await;
    // u02's March comes as a data file (accepted); u01's through the workflow.
    let file: jixiao_core::data::DataFile = serde_json::from_value(json!({
        "entries": [{"unit": "u02", "indicator": "A1", "month": "2027-03", "values": {"actual": 90}}], "records": []
    }))
    .unwrap();
    let mut tx = app.store.begin("office").await.unwrap();
    app.store.import_data(&mut tx, 2027, &file).await.unwrap();
    tx.audit("data.import", "data", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let (reporter, head, office) = (app.session("reporter").await, app.session("head").await, app.session("office").await);
    let form = "/units/u01/report/2027-03";
    assert_eq!(
        app.post(Some(&reporter), form, &[("action", "submit"), ("v.A1.actual", "40"), ("ver.A1", "")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.post(Some(&head), form, &[("action", "approve")]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.post(Some(&office), form, &[("action", "accept")]).await.status(), StatusCode::SEE_OTHER);

    // A1: min(actual / 100, 1) × 10 → u01 4 (pace 40 %: red), u02 9 (90 %: green).
    let page = app.get(Some(&office), "/scores?period=2027-03").await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    let row = |id: &str| {
        let start = body.find(&format!("id=\"unit-{id}\"")).unwrap_or_else(|| panic!("a row for {id}"));
        body[start..start + body[start..].find("</tr>").unwrap()].to_string()
    };
    assert!(row("u01").contains("light-red") && row("u01").contains(">4<"), "{}", row("u01"));
    assert!(row("u02").contains("light-green") && row("u02").contains(">9<"), "{}", row("u02"));
    assert!(body.contains("<svg"), "the ranking has its chart");
    assert!(body.contains("得分率 40%，低于 60%"), "the rule that lit the light");
    // Filter: only red units.
    let body = app.get(Some(&office), "/scores?period=2027-03&light=red").await.text().await.unwrap();
    assert!(body.contains("id=\"unit-u01\"") && !body.contains("id=\"unit-u02\""));

    // The unit page and the drill-down of u01's A1.
    let body = app.get(Some(&office), "/scores/2027-03/units/u01").await.text().await.unwrap();
    assert!(body.contains("id=\"unit-score-total\">4<") && body.contains("/scores/2027-03/units/u01/indicators/A1"));
    let body = app.get(Some(&office), "/scores/2027-03/units/u01/indicators/A1").await.text().await.unwrap();
    for text in [
        "min(actual / target, 1) * points",
        "id=\"explain-raw\">4<",
        "id=\"explain-score\">4<",
        "reporter",
        "head",
        "office",
        "考核办接收",
        "2027-03",
    ] {
        assert!(body.contains(text), "the drill-down shows {text}");
    }
    // Scope: the reporter of u01 sees its own unit only.
    let body = app.get(Some(&reporter), "/scores?period=2027-03").await.text().await.unwrap();
    assert!(body.contains("id=\"unit-u01\"") && !body.contains("id=\"unit-u02\""));
    assert_eq!(app.get(Some(&reporter), "/scores/2027-03/units/u02").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(Some(&reporter), "/scores/2027-03/units/u02/indicators/A1").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(Some(&reporter), "/scores/2027-03/units/u01/indicators/A1").await.status(), StatusCode::OK);
    // The API gives the same numbers and lights, in scope.
    let api: serde_json::Value = app.get(Some(&office), "/api/v1/scores?period=2027-03").await.json().await.unwrap();
    let unit = |id: &str| api["units"].as_array().unwrap().iter().find(|u| u["result"]["unit"] == id).cloned().unwrap();
    assert_eq!((unit("u01")["result"]["total"].as_f64(), unit("u02")["result"]["total"].as_f64()), (Some(4.0), Some(9.0)));
    // One unit only, in scope.
    let one: serde_json::Value = app.get(Some(&office), "/api/v1/scores?period=2027-03&unit=u02").await.json().await.unwrap();
    assert_eq!(one["units"].as_array().unwrap().iter().map(|u| u["result"]["unit"].as_str().unwrap()).collect::<Vec<_>>(), ["u02"]);
    assert_eq!(one["units"][0]["result"]["total"].as_f64(), Some(9.0));
    assert_eq!(app.get(Some(&reporter), "/api/v1/scores?period=2027-03&unit=u02").await.status(), StatusCode::FORBIDDEN);
    let r = app.get(Some(&office), "/api/v1/scores?period=2027-03&unit=u99").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("u99"));
    assert_eq!(unit("u01")["indicator_lights"]["A1"]["light"], "red");
    assert_eq!(unit("u01")["indicator_lights"]["A1"]["why"], json!({"rule": "pace", "pace": 0.4, "threshold": 0.6}));
    assert_eq!(unit("u02")["light"]["light"], "green");
    let mine: serde_json::Value = app.get(Some(&reporter), "/api/v1/scores?period=2027-03").await.json().await.unwrap();
    assert_eq!(mine["units"].as_array().unwrap().len(), 1);
    let e: serde_json::Value = app.get(Some(&office), "/api/v1/units/u01/scores/2027-03/explain/A1").await.json().await.unwrap();
    assert_eq!(
        (e["raw"].as_f64(), e["score"].as_f64(), e["formula"].as_str()),
        (Some(4.0), Some(4.0), Some("min(actual / target, 1) * points"))
    );
    assert_eq!(app.get(Some(&reporter), "/api/v1/units/u02/scores/2027-03/explain/A1").await.status(), StatusCode::FORBIDDEN);
    // Bad input.
    assert_eq!(app.get(Some(&office), "/scores?period=2027-13").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get(Some(&office), "/scores/2027-03/units/u01/indicators/ZZ").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(Some(&office), "/scores/2031-03/units/u01").await.status(), StatusCode::NOT_FOUND);
}

/// The analysis report of March on the small district: u01 at pace 40 % on A1 (red),
/// u02 at 90 %, in the page, its print view and its workbook; for those who see
/// every unit only.
async fn analysis_report_page_print_and_workbook(app: TestApp) {
    crate::report::seed(&app).await;
    let file: jixiao_core::data::DataFile = serde_json::from_value(json!({
        "entries": [{"unit": "u01", "indicator": "A1", "month": "2027-03", "values": {"actual": 40}},
                    {"unit": "u02", "indicator": "A1", "month": "2027-03", "values": {"actual": 90}}], "records": []
    }))
    .unwrap();
    let mut tx = app.store.begin("office").await.unwrap();
    app.store.import_data(&mut tx, 2027, &file).await.unwrap();
    tx.audit("data.import", "data", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    app.store.refresh_scores(2027).await.unwrap();
    let office = app.session("office").await;

    let ranking = app.get(Some(&office), "/scores?period=2027-03").await.text().await.unwrap();
    assert!(ranking.contains("href=\"/scores/2027-03/analysis\""), "the ranking links the report");
    let r = app.get(Some(&office), "/scores/2027-03/analysis").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    for id in ["overview", "moves", "lagging", "red", "reporting", "records"] {
        assert!(body.contains(&format!("id=\"analysis-{id}\"")), "section {id}");
    }
    // Each number links to where it comes from: the unit's total, the drill-down.
    assert!(body.contains("<a href=\"/scores/2027-03/units/u01\">4</a>"), "u01's total, linked");
    assert!(body.contains("href=\"/scores/2027-03/units/u01/indicators/A1\">区发改局（40%）</a>"), "A1's laggard, to its drill-down");
    assert!(body.contains("应考核 2 个单位，1 个进度落后（50%），其中 1 个亮红灯，平均得分率 65%"), "(40 % + 90 %) / 2");
    assert!(body.contains("<svg"), "charts");
    let print = app.get(Some(&office), "/scores/2027-03/analysis/print").await.text().await.unwrap();
    assert!(print.contains("/static/print.css") && !print.contains("<script") && print.contains("2027年3月绩效考核分析报告"));

    let r = app.get(Some(&office), "/scores/2027-03/analysis.xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    if let Ok(dir) = std::env::var("JIXIAO_XLSX_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/analysis-2027-03.xlsx"), &bytes).unwrap();
    }
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["分析", "总体情况", "名次变化", "进度落后的指标", "亮红灯的单位", "数据报送情况", "加分与减分"]);
    let lagging = book.worksheet_range("进度落后的指标").unwrap();
    let row: Vec<String> = lagging.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(row, ["A1", "到位资金", "2", "1", "1", "0.65"]);

    // Not for a unit's users, and a bad period is named.
    for user in ["reporter", "assessor", "staff"] {
        let s = app.session(user).await;
        assert_eq!(app.get(Some(&s), "/scores/2027-03/analysis").await.status(), StatusCode::FORBIDDEN, "{user}");
        assert_eq!(app.get(Some(&s), "/scores/2027-03/analysis.xlsx").await.status(), StatusCode::FORBIDDEN, "{user}");
    }
    let r = app.get(Some(&office), "/scores/2027-13/analysis").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("2027-13"));
}
