//! Workbooks built to take the server down, through every upload that reads one: the
//! monthly form, the office's month import, a scheme, per-unit targets.
//!
//! - A sheet holding only `A1` and `XFD1048576`: 3.9 KB that a dense reader turns
//!   into 17 billion cells (512 GiB), aborting the process.
//! - A part that inflates far past what a workbook of its kind holds (a zip bomb).
//!
//! Each is refused with a 400 naming what was over which bound, nothing changes,
//! and the server goes on answering.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::common::{Session, TestApp, backend_tests};

backend_tests!(hostile_workbooks_are_refused_and_the_server_lives);

/// A workbook whose sheet `sheet` holds `A1` and `XFD1048576`, beside `extra` sheets.
fn far_cells(sheet: &str, extra: &[(&str, &[(u32, u16, &str)])]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let s = book.add_worksheet().set_name(sheet).unwrap();
    s.write(0, 0, "指标编号").unwrap();
    s.write(1_048_575, 16_383, "x").unwrap();
    for (name, cells) in extra {
        let s = book.add_worksheet().set_name(*name).unwrap();
        for (r, c, v) in *cells {
            s.write(*r, *c, *v).unwrap();
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    assert!(bytes.len() < 16 * 1024, "the attack is a few kilobytes ({} bytes)", bytes.len());
    bytes
}

/// `workbook` with one more part that inflates to `size` bytes of zeros.
fn with_bomb(workbook: &[u8], size: usize) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(workbook)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflate = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..source.len() {
        let mut part = source.by_index(i).unwrap();
        let name = part.name().unwrap().to_string();
        let mut content = Vec::new();
        part.read_to_end(&mut content).unwrap();
        out.start_file(name, deflate).unwrap();
        out.write_all(&content).unwrap();
    }
    out.start_file("xl/media/zeros.bin", deflate).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..size / chunk.len() {
        out.write_all(&chunk).unwrap();
    }
    let bytes = out.finish().unwrap().into_inner();
    assert!(bytes.len() < size / 100, "the bomb is small ({} bytes for {size})", bytes.len());
    bytes
}

fn file(bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name("upload.xlsx")
}

async fn post(app: &TestApp, s: &Session, path: &str, form: Form) -> (StatusCode, String) {
    let r = app.http.post(app.url(&format!("{path}?_csrf={}", s.csrf))).header("cookie", &s.cookie).multipart(form).send().await.unwrap();
    let status = r.status();
    (status, r.text().await.unwrap())
}

async fn still_serving(app: &TestApp) {
    let r = app.get(None, "/healthz").await;
    assert_eq!(r.status(), StatusCode::OK, "the server still answers");
}

async fn hostile_workbooks_are_refused_and_the_server_lives(app: TestApp) {
    crate::report::seed(&app).await;
    let reporter = app.session("reporter").await;
    let office = app.session("office").await;
    let versions = app.store.scheme_versions(2027).await.unwrap().len();

    // The monthly form: the reporter's upload.
    let info: &[(u32, u16, &str)] = &[(0, 1, "u01"), (1, 1, "2027-03")];
    let attack = far_cells("填报", &[("说明", info)]);
    let (status, body) = post(&app, &reporter, "/units/u01/report/2027-03/xlsx", Form::new().part("file", file(attack))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("XFD1048576") && body.contains("填报"), "the refusal names the cell and the sheet: {body}");
    still_serving(&app).await;
    let template = app.get(Some(&reporter), "/units/u01/report/2027-03/xlsx").await.bytes().await.unwrap().to_vec();
    let (status, body) =
        post(&app, &reporter, "/units/u01/report/2027-03/xlsx", Form::new().part("file", file(with_bomb(&template, 48 << 20)))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("zeros.bin"), "the refusal names the part that inflates too far: {body}");
    still_serving(&app).await;
    assert_eq!(app.store.entry(2027, "u01", "A1", "2027-03").await.unwrap(), None, "nothing saved");

    // The office's month import.
    let attack = far_cells("2027-05", &[]);
    let (status, body) = post(&app, &office, "/reports/import", Form::new().text("year", "2027").part("file", file(attack))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("XFD1048576"), "{body}");
    still_serving(&app).await;
    assert!(app.store.stored_entries(2027).await.unwrap().is_empty(), "nothing loaded");

    // A scheme workbook.
    let attack = far_cells("方案", &[]);
    let (status, body) = post(&app, &office, "/schemes", Form::new().part("file", file(attack)).text("reason", "攻击")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("XFD1048576"), "{body}");
    let exported = app.get(Some(&office), "/schemes/2027/export.xlsx").await.bytes().await.unwrap().to_vec();
    let (status, body) =
        post(&app, &office, "/schemes", Form::new().part("file", file(with_bomb(&exported, 160 << 20))).text("reason", "攻击")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("zeros.bin"), "{body}");
    still_serving(&app).await;
    assert_eq!(app.store.scheme_versions(2027).await.unwrap().len(), versions, "no version added");

    // Per-unit targets in the scheme editor.
    assert_eq!(app.post(Some(&office), "/schemes/2027/draft", &[("version", "1")]).await.status(), StatusCode::SEE_OTHER);
    let before = app.store.scheme_draft(2027).await.unwrap().unwrap();
    let attack = far_cells("目标值", &[]);
    let form = Form::new().text("revision", before.revision.to_string()).text("param", "target").part("file", file(attack));
    let (status, body) = post(&app, &office, "/schemes/2027/draft/nodes/A1/targets", form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("XFD1048576"), "{body}");
    still_serving(&app).await;
    assert_eq!(app.store.scheme_draft(2027).await.unwrap().unwrap(), before, "the draft is as it was");
}
