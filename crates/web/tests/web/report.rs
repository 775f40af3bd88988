//! The monthly form and its workflow through the pages: save, submit, approve,
//! accept, return; optimistic locking; scope; bad input saving nothing; scores
//! counting only accepted data.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, backend_tests};

backend_tests!(
    office_loads_a_month_workbook,
    evidence_files,
    excel_round_trip,
    workflow_end_to_end,
    bad_input_saves_nothing,
    second_writer_gets_a_conflict,
    scope_and_forged_steps
);

const MONTH: &str = "2027-03";
const FORM: &str = "/units/u01/report/2027-03";

/// The test scheme of 2027: A1 (到位资金) for the department group.
pub fn scheme_file() -> jixiao_core::scheme::SchemeFile {
    jixiao_app::testing::scheme_2027()
}

pub async fn seed(app: &TestApp) {
    let scheme = scheme_file();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &scheme, "test").await.unwrap();
    tx.audit("scheme.import", "scheme", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
}

async fn entry_state(app: &TestApp) -> Option<(String, serde_json::Value)> {
    app.store.entry(2027, "u01", "A1", MONTH).await.unwrap().map(|e| (e.state, serde_json::Value::Object(e.row.values)))
}

/// The version the form shows for A1.
async fn shown_version(app: &TestApp, s: &crate::common::Session) -> String {
    let body = app.get(Some(s), FORM).await.text().await.unwrap();
    let i = body.find("name=\"ver.A1\" value=\"").expect("a version field") + "name=\"ver.A1\" value=\"".len();
    body[i..i + body[i..].find('"').unwrap()].to_string()
}

async fn total(app: &TestApp) -> Option<f64> {
    let rows = app.store.scores(2027, 1, MONTH).await.unwrap();
    rows.into_iter().find(|r| r.unit_id == "u01").and_then(|r| r.result["scores"]["A1"].as_f64())
}

async fn workflow_end_to_end(app: TestApp) {
    seed(&app).await;
    let reporter = app.session("reporter").await;
    let head = app.session("head").await;
    let office = app.session("office").await;
    let page = app.get(Some(&reporter), FORM).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(body.contains("到位资金") && body.contains("target = 100"), "the indicator with its target");

    let r = app.post(Some(&reporter), FORM, &[("action", "save"), ("v.A1.actual", "40"), ("ver.A1", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(entry_state(&app).await, Some(("draft".into(), json!({"actual": 40.0}))));
    let body = app.get(Some(&reporter), FORM).await.text().await.unwrap();
    assert!(body.contains("id=\"score-A1\">4<"), "the draft's score: min(40/100, 1) × 10 = 4");
    assert_eq!(total(&app).await, None, "a draft does not count");

    let v = shown_version(&app, &reporter).await;
    let r = app.post(Some(&reporter), FORM, &[("action", "submit"), ("v.A1.actual", "40"), ("ver.A1", &v)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(entry_state(&app).await.unwrap().0, "submitted");
    // Submitted values are no longer the reporter's to change.
    let v = shown_version(&app, &reporter).await;
    let r = app.post(Some(&reporter), FORM, &[("action", "save"), ("v.A1.actual", "99"), ("ver.A1", &v)]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(entry_state(&app).await.unwrap().1, json!({"actual": 40.0}));

    // The office cannot accept what the head has not approved.
    let r = app.post(Some(&office), FORM, &[("action", "accept")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(entry_state(&app).await.unwrap().0, "submitted");
    let r = app.post(Some(&head), FORM, &[("action", "approve")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(entry_state(&app).await.unwrap().0, "approved");
    let r = app.post(Some(&office), FORM, &[("action", "accept")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(entry_state(&app).await.unwrap().0, "accepted");
    assert_eq!(total(&app).await, Some(4.0), "accepted data is scored at once");

    // The accepted entry has its own return control, naming it.
    let body = app.get(Some(&office), FORM).await.text().await.unwrap();
    let control = &body[body.find("id=\"return-form-A1\"").expect("a return control for A1")..];
    assert!(control[..control.find("</form>").unwrap()].contains("name=\"indicator\" value=\"A1\""), "{control}");
    // A return needs a reason; then the reporter fixes it and it goes round again.
    let r = app.post(Some(&office), FORM, &[("action", "return"), ("indicator", "A1"), ("reason", " ")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app.post(Some(&office), FORM, &[("action", "return"), ("indicator", "A1"), ("reason", "口径有误，请按实际到位资金填报")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(entry_state(&app).await.unwrap().0, "returned");
    assert_eq!(total(&app).await, Some(0.0), "returned data no longer counts (missing)");
    let body = app.get(Some(&reporter), FORM).await.text().await.unwrap();
    assert!(body.contains("退回原因：口径有误，请按实际到位资金填报"), "the reporter sees why");
    let body = app.get(Some(&office), FORM).await.text().await.unwrap();
    assert!(!body.contains("return-form-A1"), "a returned entry is not offered for another return");
    let v = shown_version(&app, &reporter).await;
    let r = app
        .post(Some(&reporter), FORM, &[("action", "submit"), ("v.A1.actual", "55"), ("ver.A1", &v), ("why.A1", "按实际到位资金更正")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    app.post(Some(&head), FORM, &[("action", "approve")]).await;
    let r = app.post(Some(&office), "/reports/accept", &[("month", MONTH)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "bulk accept");
    assert_eq!(entry_state(&app).await, Some(("accepted".into(), json!({"actual": 55.0}))));
    assert_eq!(total(&app).await, Some(5.5));

    // Every step is in the audit trail of the entry, the return with its reason.
    let trail = app.store.audit_trail("entry", "2027/u01/A1/2027-03").await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["entry.save", "entry.submit", "entry.approve", "entry.accept", "entry.return", "entry.submit", "entry.approve", "entry.accept"]
    );
    assert!(trail[4].after_json.as_deref().unwrap().contains("口径有误"));
    assert!(app.store.verify_audit().await.unwrap().is_intact());
    // The status page counts it.
    let body = app.get(Some(&office), "/reports?month=2027-03").await.text().await.unwrap();
    assert!(body.contains("区发改局") && body.contains("区财政局"));
}

async fn bad_input_saves_nothing(app: TestApp) {
    seed(&app).await;
    let reporter = app.session("reporter").await;
    for (value, message) in [("-1", "below"), ("abc", "number"), ("5000", "above")] {
        let r = app.post(Some(&reporter), FORM, &[("action", "save"), ("v.A1.actual", value), ("ver.A1", "")]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{value}");
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("value=\"{value}\"")), "what was typed stays: {value}");
        assert!(body.to_lowercase().contains(message) || body.contains("actual"), "{value}: the error names the problem");
        assert_eq!(entry_state(&app).await, None, "nothing saved for {value}");
    }
    // Submitting needs every field.
    let r = app.post(Some(&reporter), FORM, &[("action", "submit"), ("v.A1.actual", ""), ("ver.A1", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A big jump from last month needs a reason.
    let february = jixiao_core::data::EntryRow {
        unit: "u01".into(),
        indicator: "A1".into(),
        month: "2027-02".into(),
        values: serde_json::from_value(json!({"actual": 10})).unwrap(),
    };
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.upsert_entry(&mut tx, 2027, &february, None).await.unwrap();
    tx.audit("entry.import", "entry", "feb", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let r = app.post(Some(&reporter), FORM, &[("action", "save"), ("v.A1.actual", "30"), ("ver.A1", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("变化较大"));
    assert_eq!(entry_state(&app).await, None);
    let r = app.post(Some(&reporter), FORM, &[("action", "save"), ("v.A1.actual", "30"), ("ver.A1", ""), ("why.A1", "三月集中签约")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let trail = app.store.audit_trail("entry", "2027/u01/A1/2027-03").await.unwrap();
    assert!(trail[0].after_json.as_deref().unwrap().contains("三月集中签约"), "the reason is kept");
}

async fn second_writer_gets_a_conflict(app: TestApp) {
    seed(&app).await;
    let a = app.session("reporter").await;
    let b = app.session("reporter").await;
    app.post(Some(&a), FORM, &[("action", "save"), ("v.A1.actual", "10"), ("ver.A1", "")]).await;
    let seen = shown_version(&app, &a).await;
    // Both opened the form at the same version.
    let r = app.post(Some(&a), FORM, &[("action", "save"), ("v.A1.actual", "11"), ("ver.A1", &seen)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post(Some(&b), FORM, &[("action", "save"), ("v.A1.actual", "12"), ("ver.A1", &seen)]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "a version conflict is 409, as in the API");
    let body = r.text().await.unwrap();
    assert!(body.contains("已被 reporter") && body.contains("11"), "says who changed it and what it is now");
    assert_eq!(entry_state(&app).await.unwrap().1, json!({"actual": 11.0}), "nothing overwritten");
}

async fn scope_and_forged_steps(app: TestApp) {
    seed(&app).await;
    let reporter = app.session("reporter").await;
    // Another unit's form, by URL.
    assert_eq!(app.get(Some(&reporter), "/units/u02/report/2027-03").await.status(), StatusCode::FORBIDDEN);
    let r = app.post(Some(&reporter), "/units/u02/report/2027-03", &[("action", "save"), ("v.A1.actual", "1")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.store.entry(2027, "u02", "A1", MONTH).await.unwrap().is_none());
    // Forged steps: a reporter approving or accepting, a head saving.
    app.post(Some(&reporter), FORM, &[("action", "submit"), ("v.A1.actual", "10"), ("ver.A1", "")]).await;
    for action in ["approve", "accept"] {
        let r = app.post(Some(&reporter), FORM, &[("action", action)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{action}");
    }
    let r = app.post(Some(&reporter), FORM, &[("action", "return"), ("indicator", "A1"), ("reason", "x")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.post(Some(&reporter), FORM, &[("action", "publish")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(entry_state(&app).await.unwrap().0, "submitted", "no forged step changed anything");
    // The assessor leads A1 and may enter it for any unit; a leader may only look.
    let assessor = app.session("assessor").await;
    let r = app.post(Some(&assessor), "/units/u02/report/2027-03", &[("action", "save"), ("v.A1.actual", "7"), ("ver.A1", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let leader = app.session("leader").await;
    assert_eq!(app.get(Some(&leader), FORM).await.status(), StatusCode::OK);
    assert_eq!(app.post(Some(&leader), FORM, &[("action", "save"), ("v.A1.actual", "1")]).await.status(), StatusCode::FORBIDDEN);
    // A month that is not a month.
    assert_eq!(app.get(Some(&reporter), "/units/u01/report/2027-13").await.status(), StatusCode::BAD_REQUEST);
}

/// A workbook laid out like the template, as Excel or WPS would save it after filling:
/// `rows` are (indicator, field, value cell) below the header.
fn workbook(unit: &str, month: &str, rows: &[(&str, &str, Cell)], edit: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("填报").unwrap();
    for (c, h) in
        ["指标编号", "指标名称", "填报项编号", "填报项名称", "类型", "下限", "上限", "上月", "本月数值", "说明"].iter().enumerate()
    {
        sheet.write(0, c as u16, *h).unwrap();
    }
    for (i, (ind, field, value)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write(r, 0, *ind).unwrap();
        sheet.write(r, 2, *field).unwrap();
        match value {
            Cell::Number(x) => sheet.write(r, 8, *x).unwrap(),
            Cell::Text(t) => sheet.write(r, 8, *t).unwrap(),
            Cell::Formula(f) => sheet.write_formula(r, 8, *f).unwrap(),
        };
    }
    edit(sheet);
    let info = book.add_worksheet().set_name("说明").unwrap();
    info.write(0, 1, unit).unwrap();
    info.write(1, 1, month).unwrap();
    book.save_to_buffer().unwrap()
}

#[derive(Clone)]
enum Cell {
    Number(f64),
    Text(&'static str),
    Formula(&'static str),
}

async fn upload_xlsx(app: &TestApp, s: &crate::common::Session, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("report.xlsx");
    app.http
        .post(app.url(&format!("{FORM}/xlsx?_csrf={}", s.csrf)))
        .header("cookie", &s.cookie)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

async fn excel_round_trip(app: TestApp) {
    seed(&app).await;
    let reporter = app.session("reporter").await;
    // The template: the due field with its bounds, readable by a spreadsheet reader.
    let r = app.get(Some(&reporter), &format!("{FORM}/xlsx")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let bytes = r.bytes().await.unwrap().to_vec();
    {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
        let sheet = book.worksheet_range("填报").unwrap();
        let cell = |r: u32, c: u32| sheet.get_value((r, c)).map(|d| d.to_string()).unwrap_or_default();
        assert_eq!((cell(0, 0), cell(0, 8)), ("指标编号".to_string(), "本月数值".to_string()));
        assert_eq!((cell(1, 0), cell(1, 2), cell(1, 5), cell(1, 6)), ("A1".into(), "actual".into(), "0".into(), "1000".into()));
        let info = book.worksheet_range("说明").unwrap();
        assert_eq!(info.get_value((0, 1)).unwrap().to_string(), "u01");
    }
    // Bad files: each names the cell, nothing is saved.
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (workbook("u01", MONTH, &[("A1", "actual", Cell::Text("四十"))], |_| {}), "填报!I2"),
        (workbook("u01", MONTH, &[("A1", "actual", Cell::Formula("=20+20"))], |_| {}), "formulas"),
        (workbook("u01", MONTH, &[("A1", "actual", Cell::Number(5000.0))], |_| {}), "填报!I2"),
        (workbook("u01", MONTH, &[("A9", "actual", Cell::Number(1.0))], |_| {}), "填报!A2"),
        (workbook("u01", MONTH, &[("A1", "nope", Cell::Number(1.0))], |_| {}), "填报!C2"),
        (workbook("u02", MONTH, &[("A1", "actual", Cell::Number(1.0))], |_| {}), "说明!B1"),
        (workbook("u01", "2027-04", &[("A1", "actual", Cell::Number(1.0))], |_| {}), "说明!B2"),
        (
            workbook("u01", MONTH, &[("A1", "actual", Cell::Number(1.0))], |s| {
                s.merge_range(3, 0, 3, 3, "合并", &rust_xlsxwriter::Format::new()).unwrap();
            }),
            "merged",
        ),
        (b"PK\x03\x04 not really a zip".to_vec(), "not an .xlsx"),
        (
            {
                let mut book = rust_xlsxwriter::Workbook::new();
                book.add_worksheet().set_name("Sheet1").unwrap();
                book.save_to_buffer().unwrap()
            },
            "填报",
        ),
    ];
    for (i, (file, expected)) in cases.into_iter().enumerate() {
        let r = upload_xlsx(&app, &reporter, file).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "case {i}");
        let body = r.text().await.unwrap();
        assert!(body.contains(expected), "case {i}: the error names {expected}");
        assert_eq!(entry_state(&app).await, None, "case {i}: nothing saved");
    }
    // The filled template loads as a draft.
    let r = upload_xlsx(&app, &reporter, workbook("u01", MONTH, &[("A1", "actual", Cell::Number(42.5))], |_| {})).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(entry_state(&app).await, Some(("draft".into(), json!({"actual": 42.5}))));
    // Another unit's template upload is refused by scope.
    let victim = app.session("victim").await;
    assert_eq!(upload_xlsx(&app, &victim, workbook("u01", MONTH, &[], |_| {})).await.status(), StatusCode::FORBIDDEN);
    // The file the project writes is written to disk for the LibreOffice check in CI.
    if let Ok(dir) = std::env::var("JIXIAO_XLSX_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("report-template-{:?}.xlsx", app.db.backend)), &bytes).unwrap();
    }
}

async fn upload_evidence(
    app: &TestApp,
    s: &crate::common::Session,
    unit: &str,
    indicator: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    send_evidence(app, s, unit, indicator, name, bytes).await.unwrap()
}

async fn send_evidence(
    app: &TestApp,
    s: &crate::common::Session,
    unit: &str,
    indicator: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    let form = reqwest::multipart::Form::new()
        .text("indicator", indicator.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    app.http
        .post(app.url(&format!("/units/{unit}/report/{MONTH}/evidence?_csrf={}", s.csrf)))
        .header("cookie", &s.cookie)
        .multipart(form)
        .send()
        .await
}

async fn evidence_files(app: TestApp) {
    seed(&app).await;
    let reporter = app.session("reporter").await;
    let pdf = b"%PDF-1.4\n% jixiao test\n".to_vec();
    let r = upload_evidence(&app, &reporter, "u01", "A1", "到位资金证明.pdf", pdf.clone()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let owners = vec!["2027/u01/A1/2027-03".to_string()];
    let stored = app.store.attachments("entry", &owners).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].sha256, {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&pdf))
    });
    let body = app.get(Some(&reporter), FORM).await.text().await.unwrap();
    assert!(body.contains(&format!("/evidence/{}", stored[0].id)) && body.contains("到位资金证明.pdf"));
    // Downloads: the same bytes, as an attachment, for those in scope only.
    let r = app.get(Some(&reporter), &format!("/evidence/{}", stored[0].id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    let office = app.session("office").await;
    assert_eq!(app.get(Some(&office), &format!("/evidence/{}", stored[0].id)).await.status(), StatusCode::OK);
    let victim = app.session("victim").await;
    assert_eq!(app.get(Some(&victim), &format!("/evidence/{}", stored[0].id)).await.status(), StatusCode::FORBIDDEN, "another unit");
    assert_eq!(app.get(None, &format!("/evidence/{}", stored[0].id)).await.status(), StatusCode::SEE_OTHER, "login first");
    // Wrong types, renamed files, oversized files, another unit's form: refused, nothing stored.
    for (name, bytes) in [
        ("tool.exe", b"MZ\x90\x00".to_vec()),
        ("tool.pdf", b"MZ\x90\x00".to_vec()),
        ("page.html", b"<html><script>alert(1)</script>".to_vec()),
        ("photo.png", b"%PDF-1.4".to_vec()),
        ("empty.pdf", Vec::new()),
    ] {
        let r = upload_evidence(&app, &reporter, "u01", "A1", name, bytes).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{name}");
    }
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(11 * 1024 * 1024, b' ');
    crate::common::assert_too_large(send_evidence(&app, &reporter, "u01", "A1", "big.pdf", big).await);
    assert_eq!(upload_evidence(&app, &reporter, "u02", "A1", "x.pdf", pdf.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(upload_evidence(&app, &reporter, "u01", "ZZ", "x.pdf", pdf).await.status(), StatusCode::BAD_REQUEST, "not due");
    assert_eq!(app.store.attachments("entry", &owners).await.unwrap().len(), 1, "nothing else stored");
}

async fn import_file(app: &TestApp, s: &crate::common::Session, bytes: Vec<u8>) -> reqwest::Response {
    let form =
        reqwest::multipart::Form::new().text("year", "2027").part("file", reqwest::multipart::Part::bytes(bytes).file_name("month.xlsx"));
    app.http.post(app.url(&format!("/reports/import?_csrf={}", s.csrf))).header("cookie", &s.cookie).multipart(form).send().await.unwrap()
}

/// A month workbook typed by hand: rows of (unit, indicator, field, value cell).
fn month_book(sheet_name: &str, header: &[&str], rows: &[(&str, &str, &str, Cell)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name(sheet_name).unwrap();
    for (c, h) in header.iter().enumerate() {
        sheet.write(0, c as u16, *h).unwrap();
    }
    for (r, (unit, indicator, field, value)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write(r, 0, *unit).unwrap();
        sheet.write(r, 1, *indicator).unwrap();
        sheet.write(r, 2, *field).unwrap();
        match value {
            Cell::Number(x) => sheet.write(r, 3, *x).unwrap(),
            Cell::Text(t) => sheet.write(r, 3, *t).unwrap(),
            Cell::Formula(f) => sheet.write_formula(r, 3, *f).unwrap(),
        };
    }
    book.save_to_buffer().unwrap()
}

async fn entry_count(app: &TestApp) -> usize {
    app.store.stored_entries(2027).await.unwrap().len()
}

async fn office_loads_a_month_workbook(app: TestApp) {
    seed(&app).await;
    let office = app.session("office").await;
    const HEADER: [&str; 4] = ["单位编号", "指标编号", "填报项编号", "数值"];
    // The template: every field due from every unit, names beside the ids, no values yet.
    let r = app.get(Some(&office), "/reports/import/template.xlsx?month=2027-05").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("data-2027-05.xlsx"));
    let template = r.bytes().await.unwrap().to_vec();
    {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(template.clone())).unwrap();
        assert_eq!(book.sheet_names(), ["2027-05"]);
        let range = book.worksheet_range("2027-05").unwrap();
        let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        assert_eq!(rows[0], ["单位编号", "指标编号", "填报项编号", "数值", "单位名称", "指标名称", "填报项名称"]);
        assert_eq!(
            rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str())).collect::<Vec<_>>(),
            [("u01", "A1", "actual", ""), ("u02", "A1", "actual", "")],
            "s01 is not assigned A1"
        );
        assert_eq!(rows[1][5], "到位资金");
    }
    if let Ok(dir) = std::env::var("JIXIAO_XLSX_OUT") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(format!("month-template-{:?}.xlsx", app.db.backend)), &template).unwrap();
    }
    assert_eq!(app.get(Some(&office), "/reports/import/template.xlsx").await.status(), StatusCode::BAD_REQUEST, "a month is needed");
    let reporter = app.session("reporter").await;
    assert_eq!(app.get(Some(&reporter), "/reports/import/template.xlsx?month=2027-05").await.status(), StatusCode::FORBIDDEN);
    let body = app.get(Some(&office), "/reports?month=2027-05").await.text().await.unwrap();
    assert!(body.contains("/reports/import/template.xlsx?month=2027-05"), "the reporting page links the template");

    // Malformed workbooks: each problem by sheet and cell, nothing loaded.
    let good = [("u01", "A1", "actual", Cell::Number(30.0)), ("u02", "A1", "actual", Cell::Number(80.0))];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (month_book("Sheet1", &HEADER, &good), "Sheet1: the sheet is not named after a month"),
        (month_book("2027-05", &["unit", "indicator", "field", "value"], &good), "2027-05!A1: the header must be"),
        (
            month_book("2027-05", &HEADER, &[good[0].clone(), ("u02", "A1", "actual", Cell::Text("八十"))]),
            "2027-05!D3: `八十` is text, not a number",
        ),
        (month_book("2027-05", &HEADER, &[good[0].clone(), ("u99", "A1", "actual", Cell::Number(1.0))]), "2027-05!A3: unknown unit `u99`"),
        (month_book("2027-05", &HEADER, &[("u01", "A1", "actal", Cell::Number(1.0))]), "2027-05!C2: indicator `A1` has no field `actal`"),
        (
            month_book("2027-05", &HEADER, &[("u01", "A1", "actual", Cell::Number(-1.0))]),
            "2027-05!D2: field `actual` = -1 is below its minimum 0",
        ),
        (month_book("2027-05", &HEADER, &[good[0].clone(), good[0].clone()]), "2027-05!C3: u01 A1 actual appears twice"),
        (month_book("2026-05", &HEADER, &good), "outside the scheme's year 2027"),
        (month_book("2027-05", &HEADER, &[("u01", "A1", "actual", Cell::Formula("=20+10"))]), "2027-05!D2: formulas are not accepted"),
        (b"PK\x03\x04 not a zip".to_vec(), "not an .xlsx workbook"),
    ];
    for (i, (bytes, expected)) in cases.into_iter().enumerate() {
        let r = import_file(&app, &office, bytes).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "case {i}");
        let body = r.text().await.unwrap().replace("&#96;", "`").replace("&#x60;", "`").replace("&#39;", "'").replace("&#x27;", "'");
        assert!(body.contains(expected), "case {i}: the page names `{expected}`");
        assert_eq!(entry_count(&app).await, 0, "case {i}: nothing loaded");
    }

    // The filled template loads as accepted data and is scored.
    let filled = jixiao_app::xlsx::month::write(
        "2027-05",
        [("u01", 30.0), ("u02", 80.0)].into_iter().map(|(unit, x)| jixiao_app::xlsx::month::Row {
            unit,
            indicator: "A1",
            field: "actual",
            value: jixiao_app::xlsx::month::Cell::Number(x),
            names: Some(("名称", "到位资金", "累计到位资金")),
        }),
    )
    .unwrap()
    .0;
    assert_eq!(import_file(&app, &reporter, filled.clone()).await.status(), StatusCode::FORBIDDEN);
    let r = import_file(&app, &office, filled).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/reports?month=2027-05&flash=data_imported");
    let entry = app.store.entry(2027, "u02", "A1", "2027-05").await.unwrap().unwrap();
    assert_eq!((entry.state.as_str(), serde_json::Value::Object(entry.row.values)), ("accepted", json!({"actual": 80.0})));
    let scores = app.store.scores(2027, 1, "2027-05").await.unwrap();
    assert_eq!(scores.iter().find(|r| r.unit_id == "u02").unwrap().result["scores"]["A1"], json!(8), "80 / 100 × 10");
    let trail = app.store.audit_trail("data", "2027").await.unwrap();
    assert_eq!(trail.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["data.import"]);
    // The template now carries the accepted values; as it is, it loads again.
    let template = app.get(Some(&office), "/reports/import/template.xlsx?month=2027-05").await.bytes().await.unwrap().to_vec();
    let read = jixiao_app::xlsx::month::read(&template, None).unwrap();
    assert_eq!(
        read.file.entries.iter().map(|e| (e.unit.as_str(), e.values["actual"].as_f64())).collect::<Vec<_>>(),
        [("u01", Some(30.0)), ("u02", Some(80.0))]
    );
    assert_eq!(import_file(&app, &office, template).await.status(), StatusCode::SEE_OTHER);
    // A closed month is refused.
    app.post(Some(&office), "/periods/2027-06", &[("state", "closed")]).await;
    let june = month_book("2027-06", &HEADER, &good);
    let r = import_file(&app, &office, june).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The words `jixiao data import` prints too (crates/cli/tests/data_import.rs).
    assert!(r.text().await.unwrap().contains("2027-06 已关账，数据只能通过更正申请修改。"), "the closed month is named");
    assert!(app.store.entry(2027, "u01", "A1", "2027-06").await.unwrap().is_none());
}
