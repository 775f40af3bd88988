//! Bulletins (通报): publishing freezes the content, a correction afterwards makes a
//! new revision and leaves the published one as it was; who sees drafts, details and
//! public bulletins; the page, the workbook and the stored scores agree on the demo
//! district; bad input is refused with nothing changed.

use std::collections::BTreeMap;

use calamine::DataType;
use jixiao_core::data::RecordRow;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{Session, TestApp, backend_tests, num, sheet, text};

backend_tests!(
    bulletin_publish_freezes_and_revise_makes_revision_2,
    bulletin_scope_drafts_details_and_public,
    bulletin_page_workbook_and_scores_agree,
    bulletin_bad_input_changes_nothing,
);

/// The demo district with data through March 2027, scored.
async fn seed_demo(app: &TestApp) {
    crate::common::seed_demo(app, 3, 1).await;
}

/// Drafts the bulletin of `period` as the office; its id.
async fn create(app: &TestApp, office: &Session, period: &str) -> i64 {
    let r = app.post(Some(office), "/bulletins", &[("period", period), ("title", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/bulletins/").split('?').next().unwrap();
    assert!(location.ends_with("?flash=bulletin_created"), "{location}");
    id.parse().unwrap()
}

async fn publish(app: &TestApp, office: &Session, id: i64) {
    let r = app.post(Some(office), &format!("/bulletins/{id}/publish"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
}

/// Stored totals of a period, by unit.
async fn stored_totals(app: &TestApp, period: &str) -> BTreeMap<String, f64> {
    app.store.scores(2027, 1, period).await.unwrap().into_iter().map(|r| (r.unit_id, r.result["total"].as_f64().unwrap())).collect()
}

/// Adds a 违反廉政纪律 record (2 points off) for `unit` in March and rescores.
async fn add_deduction(app: &TestApp, unit: &str) {
    let mut tx = app.store.begin("office").await.unwrap();
    let row = RecordRow {
        unit: unit.into(),
        indicator: "Y5".into(),
        date: "2027-03-20".into(),
        points: 1.0,
        note: Some("更正：补记违纪一次".into()),
    };
    app.store.add_record(&mut tx, 2027, &row).await.unwrap();
    tx.audit("record.add", "record", unit, None, None).await.unwrap();
    tx.commit().await.unwrap();
    app.store.refresh_scores(2027).await.unwrap();
}

async fn bulletin_publish_freezes_and_revise_makes_revision_2(app: TestApp) {
    seed_demo(&app).await;
    let office = app.session("office").await;
    let id = create(&app, &office, "2027-03").await;
    let draft = app.store.bulletin(id).await.unwrap();
    assert_eq!((draft.number, draft.revision, draft.state.as_str(), draft.content.is_none()), (1, 1, "draft", true));
    assert_eq!(draft.number_text(), "〔2027〕第1号");
    assert_eq!(draft.title, "2027年3月绩效考核情况通报");
    publish(&app, &office, id).await;
    let published = app.store.bulletin(id).await.unwrap();
    assert_eq!(published.state.as_str(), "published");
    assert_eq!(published.published_by.as_deref(), Some("office"));
    let frozen = published.content.clone().unwrap();
    let before = stored_totals(&app, "2027-03").await;
    assert_eq!(frozen.results.len(), 76);
    assert_eq!(frozen.results.iter().map(|r| (r.unit.clone(), r.total)).collect::<BTreeMap<_, _>>(), before);
    assert!(frozen.nodes.iter().any(|n| n.id == "Y5" && n.formula.as_deref() == Some("record_count * 2")));
    let page_before = app.get(Some(&office), &format!("/bulletins/{id}")).await.text().await.unwrap();

    // A correction after publishing: the stored scores change, the bulletin does not.
    add_deduction(&app, "u01").await;
    let after = stored_totals(&app, "2027-03").await;
    assert_ne!(after["u01"], before["u01"], "the record changes u01's total");
    assert_eq!(app.store.bulletin(id).await.unwrap(), published, "the published row is untouched");
    let page_after = app.get(Some(&office), &format!("/bulletins/{id}")).await.text().await.unwrap();
    assert!(page_after.contains(&format!("id=\"total-u01\">{}<", num(before["u01"]))));
    assert_eq!(page_before, page_after);
    assert!(!frozen.ledger.iter().any(|l| l.note.as_deref() == Some("更正：补记违纪一次")));

    // Revising needs a reason; it drafts revision 2 from the current scores.
    let r = app.post(Some(&office), &format!("/bulletins/{id}/revise"), &[("note", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app.post(Some(&office), &format!("/bulletins/{id}/revise"), &[("note", "补记区发改局违纪记录")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id2: i64 = location.trim_start_matches("/bulletins/").split('?').next().unwrap().parse().unwrap();
    assert_ne!(id2, id);
    let body = app.get(Some(&office), &location).await.text().await.unwrap();
    assert!(body.contains(&format!("id=\"total-u01\">{}<", num(after["u01"]))), "the draft revision shows the new scores");
    // A second revision while one is being drafted is refused.
    let r = app.post(Some(&office), &format!("/bulletins/{id}/revise"), &[("note", "again")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    publish(&app, &office, id2).await;
    let rev2 = app.store.bulletin(id2).await.unwrap();
    assert_eq!((rev2.number, rev2.revision, rev2.period.as_str(), rev2.note.as_str()), (1, 2, "2027-03", "补记区发改局违纪记录"));
    let content2 = rev2.content.unwrap();
    assert_eq!(content2.results.iter().map(|r| (r.unit.clone(), r.total)).collect::<BTreeMap<_, _>>(), after);
    assert!(content2.ledger.iter().any(|l| l.unit == "u01" && l.note.as_deref() == Some("更正：补记违纪一次") && l.date == "2027-03-20"));
    // The old revision stays readable, with its numbers, and links the new one.
    assert_eq!(app.store.bulletin(id).await.unwrap(), published);
    let old = app.get(Some(&office), &format!("/bulletins/{id}")).await.text().await.unwrap();
    assert!(old.contains(&format!("id=\"total-u01\">{}<", num(before["u01"]))));
    assert!(old.contains(&format!("href=\"/bulletins/{id2}\"")));
    // Every step is in the audit log.
    let actions = |id: i64| {
        let store = app.store.clone();
        async move { store.audit_trail("bulletin", &id.to_string()).await.unwrap().into_iter().map(|e| e.action).collect::<Vec<_>>() }
    };
    assert_eq!(actions(id).await, ["bulletin.create", "bulletin.publish"]);
    assert_eq!(actions(id2).await, ["bulletin.revise", "bulletin.publish"]);
}

async fn bulletin_scope_drafts_details_and_public(app: TestApp) {
    seed_demo(&app).await;
    let office = app.session("office").await;
    let published = create(&app, &office, "2027-03").await;
    publish(&app, &office, published).await;
    let draft = create(&app, &office, "2027-Q1").await;
    let reporter = app.session("reporter").await;
    let leader = app.session("leader").await;

    // Drafts are the office's: 404 for everyone else, in pages, print, xlsx and the API.
    for path in [
        format!("/bulletins/{draft}"),
        format!("/bulletins/{draft}/print"),
        format!("/bulletins/{draft}/export.xlsx"),
        format!("/api/v1/bulletins/{draft}"),
    ] {
        assert_eq!(app.get(Some(&reporter), &path).await.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(app.get(Some(&leader), &path).await.status(), StatusCode::NOT_FOUND, "{path}");
        let anonymous = if path.starts_with("/api/") { StatusCode::UNAUTHORIZED } else { StatusCode::NOT_FOUND };
        assert_eq!(app.get(None, &path).await.status(), anonymous, "{path}");
        assert_eq!(app.get(Some(&office), &path).await.status(), StatusCode::OK, "{path}");
    }
    let list = app.get(Some(&reporter), "/bulletins").await.text().await.unwrap();
    assert!(list.contains(&format!("bulletin-row-{published}")) && !list.contains(&format!("bulletin-row-{draft}")));
    let api: Value = app.get(Some(&reporter), "/api/v1/bulletins").await.json().await.unwrap();
    assert_eq!(api["items"].as_array().unwrap().iter().map(|b| b["id"].as_i64().unwrap()).collect::<Vec<_>>(), [published]);
    let api: Value = app.get(Some(&office), "/api/v1/bulletins").await.json().await.unwrap();
    assert_eq!(api["total"], 2);

    // A reporter of u01: the whole ranking, the detail and the ledger of u01 only.
    let body = app.get(Some(&reporter), &format!("/bulletins/{published}")).await.text().await.unwrap();
    assert!(body.contains("id=\"total-u01\"") && body.contains("id=\"total-u02\"") && body.contains("id=\"total-u40\""));
    assert!(body.contains("id=\"s-u01-A\"") && body.contains("id=\"s-u01-Y5\""));
    assert!(!body.contains("id=\"s-u02-"), "another unit's scores are not shown");
    assert!(body.contains("id=\"detail-own\""));
    assert!(
        !body.contains("id=\"bulletin-publish\"")
            && !body.contains("id=\"bulletin-revise\"")
            && !body.contains("id=\"bulletin-make-public\""),
        "no office buttons"
    );
    let api: Value = app.get(Some(&reporter), &format!("/api/v1/bulletins/{published}")).await.json().await.unwrap();
    let units = api["units"].as_array().unwrap();
    assert_eq!(units.len(), 76);
    let line = |u: &str| units.iter().find(|x| x["unit"] == u).unwrap().clone();
    assert!(line("u01")["scores"].is_object() && line("u02")["scores"].is_null() && line("u02")["total"].is_number());
    assert!(api["records"].as_array().unwrap().iter().all(|r| r["unit"] == "u01"));
    // The office's steps are refused to a reporter.
    for step in ["publish", "revise", "public"] {
        let r = app.post(Some(&reporter), &format!("/bulletins/{published}/{step}"), &[("note", "x"), ("public", "1")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{step}");
    }
    assert_eq!(app.post(Some(&reporter), "/bulletins", &[("period", "2027-02")]).await.status(), StatusCode::FORBIDDEN);
    // A leader sees every unit's detail.
    let body = app.get(Some(&leader), &format!("/bulletins/{published}")).await.text().await.unwrap();
    assert!(body.contains("id=\"s-u02-A\"") && body.contains("id=\"s-u76-A\"") && !body.contains("id=\"detail-own\""));

    // Visitors: not before the office makes it public; then the ranking only.
    let r = app.get(None, &format!("/bulletins/{published}")).await;
    assert!(r.status().is_redirection() && r.headers()["location"].to_str().unwrap().starts_with("/login"), "{:?}", r.status());
    assert!(!app.get(None, "/").await.text().await.unwrap().contains(&format!("/bulletins/{published}\"")));
    let r = app.post(Some(&office), &format!("/bulletins/{published}/public"), &[("public", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let home = app.get(None, "/").await.text().await.unwrap();
    assert!(home.contains(&format!("href=\"/bulletins/{published}\"")) && home.contains("〔2027〕第1号"));
    let body = app.get(None, &format!("/bulletins/{published}")).await.text().await.unwrap();
    assert!(body.contains("id=\"total-u01\"") && !body.contains("id=\"s-u01-") && body.contains("id=\"detail-hidden\""));
    let headings: Vec<&str> = body.split("<h2>").skip(1).map(|h| &h[..h.find("</h2>").unwrap()]).collect();
    assert_eq!(headings, ["一、总分、排名与等次", "二、各项指标得分", "三、指标体系与计分方法"], "numbered as shown, no ledger");
    assert!(!body.contains("· office"), "signed by the issuing body, not the account");
    assert_eq!(app.get(None, &format!("/bulletins/{published}/print")).await.status(), StatusCode::OK);
    let r = app.post(Some(&office), &format!("/bulletins/{published}/public"), &[("public", "0")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.get(None, &format!("/bulletins/{published}")).await.status().is_redirection());
    let trail = app.store.audit_trail("bulletin", &published.to_string()).await.unwrap();
    assert_eq!(
        trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["bulletin.create", "bulletin.publish", "bulletin.public", "bulletin.public"]
    );
}

async fn bulletin_page_workbook_and_scores_agree(app: TestApp) {
    seed_demo(&app).await;
    let office = app.session("office").await;
    for period in ["2027-03", "2027-Q1"] {
        let id = create(&app, &office, period).await;
        // The draft's live preview and the published bulletin show the same numbers.
        let draft_page = app.get(Some(&office), &format!("/bulletins/{id}")).await.text().await.unwrap();
        publish(&app, &office, id).await;
        let page = app.get(Some(&office), &format!("/bulletins/{id}")).await.text().await.unwrap();
        let print = app.get(Some(&office), &format!("/bulletins/{id}/print")).await.text().await.unwrap();
        let r = app.get(Some(&office), &format!("/bulletins/{id}/export.xlsx")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let xlsx = r.bytes().await.unwrap().to_vec();
        let stored = app.store.scores(2027, 1, period).await.unwrap();
        assert_eq!(stored.len(), 76);
        let indicators: Vec<String> = app
            .store
            .bulletin(id)
            .await
            .unwrap()
            .content
            .unwrap()
            .nodes
            .into_iter()
            .filter(|n| n.formula.is_some())
            .map(|n| n.id)
            .collect();

        // Ranking sheets: one per group, rank order, totals and grades as stored.
        let mut ranked = 0;
        for (group, name) in [("dept", "区直部门"), ("street", "街道"), ("other", "其他单位")] {
            let rows = sheet(&xlsx, &format!("排名-{name}"));
            assert_eq!(text(&rows[0][0]), "名次");
            let total_col = rows[0].iter().position(|c| text(c) == "总分").unwrap();
            for row in &rows[1..] {
                let unit = text(&row[1]);
                let s = stored.iter().find(|s| s.unit_id == unit).unwrap();
                assert_eq!(s.result["group"], group);
                assert_eq!(row[0].get_float().unwrap(), s.result["rank"].as_f64().unwrap(), "{period} {unit} rank");
                assert_eq!(row[total_col].get_float().unwrap(), s.result["total"].as_f64().unwrap(), "{period} {unit} total");
                assert_eq!(text(&row[total_col + 1]), s.result["grade"].as_str().unwrap_or(""), "{period} {unit} grade");
                ranked += 1;
            }
        }
        assert_eq!(ranked, 76);

        // Every category and indicator score: the page's cells, the sheet's cells and
        // the stored results are the same numbers; nodes not assessed are blank.
        let rows = sheet(&xlsx, "指标得分");
        let header: Vec<String> = rows[0].iter().map(text).collect();
        assert_eq!(&header[..3], ["单位编号", "单位", "考核类别"]);
        let mut cells = 0;
        for s in &stored {
            let unit = &s.unit_id;
            let total = s.result["total"].as_f64().unwrap();
            for html in [&page, &print, &draft_page] {
                assert!(html.contains(&format!("id=\"total-{unit}\">{}<", num(total))), "{period} {unit} total {total}");
                assert!(html.contains(&format!("id=\"rank-{unit}\">{}<", s.result["rank"])), "{period} {unit} rank");
            }
            let row = rows.iter().find(|r| text(&r[0]) == *unit).unwrap_or_else(|| panic!("{unit} in 指标得分"));
            let scores = s.result["scores"].as_object().unwrap();
            for (col, name) in header.iter().enumerate().skip(3) {
                let node = name.split(' ').next().unwrap();
                match scores.get(node) {
                    Some(v) => {
                        let v = v.as_f64().unwrap();
                        assert_eq!(row.get(col).and_then(|c| c.get_float()), Some(v), "{period} {unit} {node} in the sheet");
                        assert!(page.contains(&format!("id=\"s-{unit}-{node}\">{}<", num(v))), "{period} {unit} {node} = {v} on the page");
                        // …and drills down: an indicator to its explanation, a category to the unit's tree.
                        let href = if !indicators.iter().any(|i| i == node) {
                            format!("/scores/{period}/units/{unit}#line-{node}")
                        } else {
                            format!("/scores/{period}/units/{unit}/indicators/{node}")
                        };
                        assert!(
                            page.contains(&format!("href=\"{href}\" id=\"s-{unit}-{node}\">")),
                            "{period} {unit} {node} links to {href}"
                        );
                        cells += 1;
                    }
                    None => {
                        assert!(row.get(col).is_none_or(|c| matches!(c, calamine::Data::Empty)), "{period} {unit} {node} is blank");
                        assert!(page.contains(&format!("id=\"s-{unit}-{node}\">—<")), "{period} {unit} {node} not assessed");
                    }
                }
            }
        }
        assert!(cells > 76 * 30, "{cells} cells compared");

        // The ledger: the records of the period's windows, as stored.
        let ledger = sheet(&xlsx, "加减分台账");
        let content = app.store.bulletin(id).await.unwrap().content.unwrap();
        assert_eq!(ledger.len() - 1, content.ledger.len());
        assert!(!content.ledger.is_empty(), "the demo has bonus and deduction records in {period}");
        for (row, l) in ledger[1..].iter().zip(&content.ledger) {
            assert_eq!((text(&row[0]), text(&row[4]), row[5].get_float().unwrap()), (l.unit.clone(), l.date.clone(), l.points));
        }
        assert!(content.ledger.iter().all(|l| l.date.as_str() >= "2027-01-01" && l.date.as_str() <= "2027-03-31"));
        // Formulas: every node, with its formula as written.
        let formulas = sheet(&xlsx, "计分方法");
        assert_eq!(formulas.len() - 1, content.nodes.len());
        assert!(page.contains("record_count * 2") && print.contains("record_count * 2"));
        // The print view is the red-headed notice.
        assert!(
            print.contains("id=\"issuer\">绩效考核办公室<")
                && print.contains(&format!("〔2027〕第{}号", app.store.bulletin(id).await.unwrap().number))
        );
        assert!(print.contains("/static/print.css") && !print.contains("<script"));
    }
    let css = app.get(None, "/static/print.css").await.text().await.unwrap();
    assert!(css.contains("size: A4"));
}

async fn bulletin_bad_input_changes_nothing(app: TestApp) {
    let office = app.session("office").await;
    // No scheme yet: nothing to publish.
    let r = app.post(Some(&office), "/bulletins", &[("period", "2027-03")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("no scheme for 2027"));
    seed_demo(&app).await;
    for (period, message) in [
        ("2027-13", "`2027-13` is not a period"),
        ("", "is not a period"),
        ("march", "`march` is not a period"),
        ("2031-03", "no scheme for 2031"),
    ] {
        let r = app.post(Some(&office), "/bulletins", &[("period", period)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{period}");
        let body = r.text().await.unwrap().replace("&#96;", "`").replace("&#x60;", "`");
        assert!(body.contains(message), "{period}: {body}");
    }
    assert!(app.store.bulletins().await.unwrap().is_empty());
    let id = create(&app, &office, "2027-03").await;
    // The same period twice: refused, naming the bulletin to revise.
    let r = app.post(Some(&office), "/bulletins", &[("period", "2027-03")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("〔2027〕第1号"));
    // Revising or making public a draft: refused.
    let r = app.post(Some(&office), &format!("/bulletins/{id}/revise"), &[("note", "x")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app.post(Some(&office), &format!("/bulletins/{id}/public"), &[("public", "1")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("only a published bulletin can be made public"));
    publish(&app, &office, id).await;
    let published = app.store.bulletin(id).await.unwrap();
    // Publishing twice: refused, the row unchanged.
    let r = app.post(Some(&office), &format!("/bulletins/{id}/publish"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("already"));
    let r = app.post(Some(&office), &format!("/bulletins/{id}/public"), &[("public", "yes")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.bulletin(id).await.unwrap(), published);
    // Forged ids: 404, for pages, steps and the API.
    for path in
        ["/bulletins/999999", "/bulletins/abc", "/bulletins/-1/print", "/bulletins/1%20OR%201=1/export.xlsx", "/api/v1/bulletins/999999"]
    {
        assert_eq!(app.get(Some(&office), path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in ["/bulletins/999999/publish", "/bulletins/abc/revise", "/bulletins/999999/public"] {
        assert_eq!(app.post(Some(&office), path, &[("note", "x"), ("public", "1")]).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let all = app.store.bulletins().await.unwrap();
    assert_eq!(all.len(), 1);
    let trail = app.store.audit_trail("bulletin", &id.to_string()).await.unwrap();
    assert_eq!(trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["bulletin.create", "bulletin.publish"]);
}
