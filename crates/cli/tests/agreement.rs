//! One test for the numbers people see: for the demo district and every one of the
//! 17 periods of 2027, the ranking page, the API, the published bulletin's page and
//! its workbook give every unit the total, rank and grade — and the bulletin every
//! category and indicator score — that `jixiao score` computes from the scheme and
//! data files the store exports. `jixiao score` is run as a program, on files, with
//! no database: an independent path through spec §8.

#[path = "../../web/tests/web/common.rs"]
#[allow(dead_code, unused_macros, unused_imports)]
mod common;

use std::collections::BTreeMap;

use calamine::DataType;
use common::{TestApp, backend_tests, num, sheet, text};
use jixiao_core::period::Period;
use reqwest::StatusCode;
use serde_json::Value;

backend_tests!(every_view_agrees_with_jixiao_score_for_every_period);

/// `jixiao score --period all` on the store's scheme and data: period → unit → §8 result.
fn reference(app_scheme: &Value, app_data: &Value) -> BTreeMap<String, BTreeMap<String, Value>> {
    let dir = tempfile::tempdir().unwrap();
    let (s, d) = (dir.path().join("scheme.json"), dir.path().join("data.json"));
    std::fs::write(&s, app_scheme.to_string()).unwrap();
    std::fs::write(&d, app_data.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jixiao"))
        .args(["score", "--scheme", s.to_str().unwrap(), "--data", d.to_str().unwrap(), "--period", "all"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reports: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports.len(), 17);
    reports
        .into_iter()
        .map(|r| {
            let units = r["units"].as_array().unwrap().iter().map(|u| (u["unit"].as_str().unwrap().to_string(), u.clone())).collect();
            (r["period"].as_str().unwrap().to_string(), units)
        })
        .collect()
}

/// Every `id="…">text<` of a page: element id → its text.
fn ids(html: &str) -> std::collections::HashMap<&str, &str> {
    let mut out = std::collections::HashMap::new();
    for (i, _) in html.match_indices(" id=\"") {
        let rest = &html[i + 5..];
        let Some(end) = rest.find('"') else { continue };
        if let Some(body) = rest[end + 1..].strip_prefix('>') {
            out.insert(&rest[..end], &body[..body.find('<').unwrap_or(body.len())]);
        }
    }
    out
}

/// The `<tr id="unit-…">` row of the ranking page.
fn ranking_row<'a>(body: &'a str, unit: &str) -> &'a str {
    let start = body.find(&format!("id=\"unit-{unit}\"")).unwrap_or_else(|| panic!("a ranking row for {unit}"));
    &body[start..start + body[start..].find("</tr>").unwrap()]
}

async fn every_view_agrees_with_jixiao_score_for_every_period(app: TestApp) {
    let (scheme, _) = common::seed_demo(&app, 11, 2027).await;
    let stored_scheme = serde_json::to_value(app.store.scheme(2027, None).await.unwrap().file).unwrap();
    let stored_data = serde_json::to_value(app.store.data_file(2027).await.unwrap()).unwrap();
    let reference = reference(&stored_scheme, &stored_data);
    let office = app.session("office").await;
    let nodes: Vec<String> = jixiao_core::scheme::Scheme::from_file(scheme.clone()).unwrap().nodes.iter().map(|n| n.id.clone()).collect();
    let mut compared = 0usize;

    for period in Period::all_in_year(2027).into_iter().map(|p| p.to_string()) {
        let want = &reference[&period];
        assert_eq!(want.len(), 76, "{period}");

        // The API.
        let api: Value = app.get(Some(&office), &format!("/api/v1/scores?period={period}")).await.json().await.unwrap();
        let api: BTreeMap<String, Value> = api["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["result"]["unit"].as_str().unwrap().to_string(), u["result"].clone()))
            .collect();
        assert_eq!(api.len(), 76, "{period} API");

        // The ranking page (the leader's and office's dashboard of the period).
        let ranking = app.get(Some(&office), &format!("/scores?period={period}")).await.text().await.unwrap();

        // The bulletin, published, and its workbook.
        let r = app.post(Some(&office), "/bulletins", &[("period", period.as_str()), ("title", "")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{period}");
        let id = r.headers()["location"].to_str().unwrap().trim_start_matches("/bulletins/").split('?').next().unwrap().to_string();
        assert_eq!(app.post(Some(&office), &format!("/bulletins/{id}/publish"), &[]).await.status(), StatusCode::SEE_OTHER);
        let bulletin_page = app.get(Some(&office), &format!("/bulletins/{id}")).await.text().await.unwrap();
        let bulletin = ids(&bulletin_page);
        let xlsx = app.get(Some(&office), &format!("/bulletins/{id}/export.xlsx")).await.bytes().await.unwrap().to_vec();
        let scores_sheet = sheet(&xlsx, "指标得分");
        let header: Vec<String> = scores_sheet[0].iter().map(text).collect();
        let mut ranked: BTreeMap<String, (f64, f64, String)> = BTreeMap::new();
        for name in ["区直部门", "街道", "其他单位"] {
            let rows = sheet(&xlsx, &format!("排名-{name}"));
            let total_col = rows[0].iter().position(|c| text(c) == "总分").unwrap();
            for row in &rows[1..] {
                ranked.insert(text(&row[1]), (row[0].as_f64().unwrap(), row[total_col].as_f64().unwrap(), text(&row[total_col + 1])));
            }
        }

        for (unit, w) in want {
            let (total, rank, grade) = (w["total"].as_f64().unwrap(), w["rank"].as_u64().unwrap(), w["grade"].as_str().unwrap_or(""));
            let a = &api[unit];
            assert_eq!(
                (a["total"].as_f64(), a["rank"].as_u64(), a["grade"].as_str().unwrap_or("")),
                (Some(total), Some(rank), grade),
                "{period} {unit} API"
            );
            assert_eq!(a["scores"], w["scores"], "{period} {unit} API scores");
            let row = ranking_row(&ranking, unit);
            assert!(
                row.contains(&format!("<td class=\"num\">{rank}</td>")) && row.contains(&format!("class=\"total\">{}<", num(total))),
                "{period} {unit} ranking: {row}"
            );
            let shown = |id: String| bulletin.get(id.as_str()).copied().unwrap_or_else(|| panic!("{period}: no {id} in the bulletin"));
            assert_eq!(
                (shown(format!("total-{unit}")), shown(format!("rank-{unit}"))),
                (num(total).as_str(), rank.to_string().as_str()),
                "{period} {unit} bulletin"
            );
            assert_eq!(ranked[unit], (rank as f64, total, grade.to_string()), "{period} {unit} bulletin workbook");
            let sheet_row = scores_sheet.iter().find(|r| text(&r[0]) == *unit).unwrap();
            for node in &nodes {
                let col = header.iter().position(|h| h.split(' ').next() == Some(node)).unwrap();
                match w["scores"].get(node).and_then(Value::as_f64) {
                    Some(v) => {
                        assert_eq!(shown(format!("s-{unit}-{node}")), num(v), "{period} {unit} {node} in the bulletin");
                        assert_eq!(sheet_row[col].as_f64(), Some(v), "{period} {unit} {node} in the workbook");
                    }
                    None => assert_eq!(shown(format!("s-{unit}-{node}")), "—", "{period} {unit} {node} not assessed"),
                }
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 17 * 76 * nodes.len());
}
