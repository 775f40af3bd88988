//! Closing months, correction requests and the reporting calendar.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, backend_tests};

backend_tests!(closed_month_changes_only_by_correction, calendar_moves_deadlines, timeliness_on_the_status_page, office_loads_a_data_file);

const FORM: &str = "/units/u01/report/2027-03";

async fn closed_month_changes_only_by_correction(app: TestApp) {
    crate::report::seed(&app).await;
    let reporter = app.session("reporter").await;
    let office = app.session("office").await;
    let head = app.session("head").await;
    app.post(Some(&reporter), FORM, &[("action", "submit"), ("v.A1.actual", "40"), ("ver.A1", "")]).await;
    app.post(Some(&head), FORM, &[("action", "approve")]).await;
    app.post(Some(&office), FORM, &[("action", "accept")]).await;
    // The office closes March.
    let r = app.post(Some(&office), "/periods/2027-03", &[("state", "closed")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let body = app.get(Some(&office), "/periods?year=2027").await.text().await.unwrap();
    assert!(body.contains("id=\"period-2027-03\">已关账<"));
    // Changes are refused, in the form and the API.
    let r = app.post(Some(&office), FORM, &[("action", "return"), ("indicator", "A1"), ("reason", "复核")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("已关账"));
    assert_eq!(app.store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap().state, "accepted");
    // The reporter asks for a correction; it needs a reason and valid values.
    let page = app.get(Some(&reporter), FORM).await.text().await.unwrap();
    assert!(page.contains("id=\"month-closed\"") && page.contains("correction-A1"));
    let url = "/units/u01/report/2027-03/correction";
    let r = app.post(Some(&reporter), url, &[("indicator", "A1"), ("v.actual", "45"), ("reason", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app.post(Some(&reporter), url, &[("indicator", "A1"), ("v.actual", "-3"), ("reason", "更正")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app.post(Some(&reporter), url, &[("indicator", "A1"), ("v.actual", "45"), ("reason", "统计口径更正")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post(Some(&reporter), url, &[("indicator", "A1"), ("v.actual", "46"), ("reason", "再次")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "one open request per entry");
    // Another unit's reporter cannot ask for u01.
    let victim = app.session("victim").await;
    assert_eq!(
        app.post(Some(&victim), url, &[("indicator", "A1"), ("v.actual", "1"), ("reason", "x")]).await.status(),
        StatusCode::FORBIDDEN
    );
    // The office approves: the entry changes, the old value stays visible.
    let requests = app.store.corrections(2027, Some("requested")).await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].old_values.as_ref().unwrap()["actual"], json!(40.0));
    let id = requests[0].id;
    let r = app.post(Some(&reporter), &format!("/corrections/{id}"), &[("decision", "approve")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the reporter cannot decide");
    let r = app.post(Some(&office), &format!("/corrections/{id}"), &[("decision", "approve"), ("note", "同意")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let entry = app.store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap();
    assert_eq!((entry.state.as_str(), entry.row.values["actual"].as_f64()), ("accepted", Some(45.0)));
    let scores = app.store.scores(2027, 1, "2027-03").await.unwrap();
    assert_eq!(scores.iter().find(|r| r.unit_id == "u01").unwrap().result["scores"]["A1"], json!(4.5), "rescored");
    let page = app.get(Some(&reporter), FORM).await.text().await.unwrap();
    assert!(page.contains("corrections-table") && page.contains("40") && page.contains("45") && page.contains("已批准"));
    let trail: Vec<String> = app.store.audit_trail("entry", "2027/u01/A1/2027-03").await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail.last().map(String::as_str), Some("entry.correct"));
    // Deciding twice is refused; a rejection needs a note.
    assert_eq!(
        app.post(Some(&office), &format!("/corrections/{id}"), &[("decision", "reject"), ("note", "x")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    app.post(Some(&reporter), url, &[("indicator", "A1"), ("v.actual", "50"), ("reason", "再次更正")]).await;
    let id2 = app.store.corrections(2027, Some("requested")).await.unwrap()[0].id;
    assert_eq!(app.post(Some(&office), &format!("/corrections/{id2}"), &[("decision", "reject")]).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.post(Some(&office), &format!("/corrections/{id2}"), &[("decision", "reject"), ("note", "依据不足")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap().row.values["actual"], json!(45.0));
    // A locked month stays locked.
    assert_eq!(app.post(Some(&office), "/periods/2027-03", &[("state", "locked")]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.post(Some(&office), "/periods/2027-03", &[("state", "open")]).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.post(Some(&office), "/periods/2027-03", &[("state", "ajar")]).await.status(), StatusCode::BAD_REQUEST);
}

async fn calendar_moves_deadlines(app: TestApp) {
    crate::report::seed(&app).await;
    let office = app.session("office").await;
    let r = app.post(Some(&office), "/periods/calendar", &[("due_day", "10"), ("holidays", "2027-04-10, 2027-04-11")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let body = app.get(Some(&office), "/periods?year=2027").await.text().await.unwrap();
    assert!(body.contains("<td>2027-03</td><td>2027-04-12</td>"), "the 10th and 11th are off: the 12th");
    assert!(body.contains("<td>2027-01</td><td>2027-02-10</td>"));
    for (day, holidays) in [("0", ""), ("29", ""), ("x", ""), ("10", "2027-02-30")] {
        let r = app.post(Some(&office), "/periods/calendar", &[("due_day", day), ("holidays", holidays)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{day} {holidays}");
    }
    assert_eq!(app.store.setting("collection.due_day").await.unwrap().as_deref(), Some("10"), "bad input changed nothing");
}

/// Timeliness on the status page: a month whose deadline has passed, one unit
/// submitting now (late), one never (missing); a month still open.
async fn timeliness_on_the_status_page(app: TestApp) {
    use chrono::Datelike;
    let today = app.app.clock.today();
    // Two months back: its deadline (the 15th of last month) has passed.
    let back = today.checked_sub_months(chrono::Months::new(2)).unwrap();
    let (year, m) = (back.year(), back.month());
    let month = format!("{year}-{m:02}");
    let mut file = serde_json::to_value(crate::report::scheme_file()).unwrap();
    file["year"] = json!(year);
    file["tree"].as_array_mut().unwrap().push(json!({"id": "Y", "name": "违规失职减分", "kind": "deduction", "cap": 5, "children": [
        {"id": "Y1", "name": "报送不及时", "source": "records", "formula": "record_points", "assign": [{"group": "dept"}]}]}));
    file["reporting"] = json!({"deduction": "Y1", "late_points": 0.5, "missing_points": 1});
    let file: jixiao_core::scheme::SchemeFile = serde_json::from_value(file).unwrap();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &file, "test").await.unwrap();
    tx.audit("scheme.import", "scheme", &year.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    let reporter = app.session("reporter").await;
    let form = format!("/units/u01/report/{month}");
    let r = app.post(Some(&reporter), &form, &[("action", "submit"), ("v.A1.actual", "10"), ("ver.A1", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let office = app.session("office").await;
    let body = app.get(Some(&office), &format!("/reports?month={month}")).await.text().await.unwrap();
    assert!(body.contains("id=\"timeliness-u01\">逾期报送<"), "submitted after the deadline");
    assert!(body.contains("id=\"timeliness-u02\">逾期未报<"), "nothing in after the deadline");
    assert!(body.contains("id=\"count-late\">1<") && body.contains("id=\"count-missing\">1<"));
    // The scheme's rule turns them into deductions, once.
    let r = app.post(Some(&office), "/reports/deductions", &[("month", &month)]).await;
    assert_eq!(r.headers()["location"], format!("/reports?month={month}&flash=lateness_recorded"));
    let records = app.store.records(year).await.unwrap();
    let points =
        |unit: &str| records.iter().filter(|r| r.row.unit == unit && r.row.indicator == "Y1").map(|r| r.row.points).collect::<Vec<_>>();
    assert_eq!((points("u01"), points("u02")), (vec![0.5], vec![1.0]));
    assert!(points("s01").is_empty(), "s01 has nothing due");
    let scores = app.store.scores(year, 1, &month).await.unwrap();
    assert_eq!(scores.iter().find(|r| r.unit_id == "u02").unwrap().result["scores"]["Y"], json!(1), "the deduction counts");
    let r = app.post(Some(&office), "/reports/deductions", &[("month", &month)]).await;
    assert_eq!(r.headers()["location"], format!("/reports?month={month}&flash=lateness_none"), "repeating adds nothing");
    assert_eq!(app.store.records(year).await.unwrap().len(), 2);
}

async fn office_loads_a_data_file(app: TestApp) {
    crate::report::seed(&app).await;
    let office = app.session("office").await;
    let send = |s: &crate::common::Session, body: String| {
        let form = reqwest::multipart::Form::new()
            .text("year", "2027")
            .part("file", reqwest::multipart::Part::bytes(body.into_bytes()).file_name("month.json"));
        app.http.post(app.url(&format!("/reports/import?_csrf={}", s.csrf))).header("cookie", &s.cookie).multipart(form).send()
    };
    let bad = json!({"entries": [
        {"unit": "u01", "indicator": "A1", "month": "2027-05", "values": {"actual": 30}},
        {"unit": "u02", "indicator": "A1", "month": "2027-05", "values": {"actual": -1}},
        {"unit": "u09", "indicator": "A1", "month": "2027-05", "values": {"actual": 1}}
    ]});
    let r = send(&office, bad.to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("entries[1]") && body.contains("entries[2]"), "each bad row by position");
    assert!(app.store.entry(2027, "u01", "A1", "2027-05").await.unwrap().is_none(), "nothing loaded");
    assert_eq!(send(&office, "{not json".into()).await.unwrap().status(), StatusCode::BAD_REQUEST);
    let good = json!({"entries": [
        {"unit": "u01", "indicator": "A1", "month": "2027-05", "values": {"actual": 30}},
        {"unit": "u02", "indicator": "A1", "month": "2027-05", "values": {"actual": 80}}
    ]});
    let r = send(&office, good.to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.entry(2027, "u02", "A1", "2027-05").await.unwrap().unwrap().state, "accepted");
    let scores = app.store.scores(2027, 1, "2027-05").await.unwrap();
    assert_eq!(scores.iter().find(|r| r.unit_id == "u02").unwrap().result["scores"]["A1"], json!(8), "80 / 100 × 10");
    // Closed months are refused; only the office loads files.
    app.post(Some(&office), "/periods/2027-06", &[("state", "closed")]).await;
    let june = json!({"entries": [{"unit": "u01", "indicator": "A1", "month": "2027-06", "values": {"actual": 1}}]});
    assert_eq!(send(&office, june.to_string()).await.unwrap().status(), StatusCode::BAD_REQUEST);
    let reporter = app.session("reporter").await;
    assert_eq!(send(&reporter, good.to_string()).await.unwrap().status(), StatusCode::FORBIDDEN);
}
