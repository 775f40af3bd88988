//! Records and bonus applications over HTTP: the office registers in the form, the
//! unit sees its own and not another's, a stale form is a conflict, bad input is a
//! 400 naming the field with nothing changed; a unit applies through the API, the
//! office approves in the page, and the unit's total moves.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, backend_tests};

backend_tests!(
    register_edit_cancel_in_the_browser,
    bad_input_changes_nothing,
    application_through_api_and_page,
    topics_export,
    evidence_of_records_and_applications,
);

/// The records scheme of the app tests: bonuses X1, X2 (cap 5), deduction Y5 entered by u02.
fn scheme() -> jixiao_core::scheme::SchemeFile {
    serde_json::from_value(json!({
        "year": 2027, "name": "测试方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "城关街道", "group": "street"}],
        "grades": [{"name": "合格"}],
        "tree": [
            {"id": "A", "name": "职能履行", "points": 10, "children": [
                {"id": "A1", "name": "到位资金", "points": 10,
                 "fields": [{"key": "actual", "name": "累计到位资金", "min": 0, "max": 1000}],
                 "params": {"target": 100},
                 "formula": "min(actual / target, 1) * points", "assign": [{"group": "dept"}]}]},
            {"id": "X", "name": "创新创优加分", "kind": "bonus", "cap": 5, "children": [
                {"id": "X1", "name": "上级表彰", "source": "records", "formula": "record_points", "assign": [{"group": "dept"}]},
                {"id": "X2", "name": "创新项目", "source": "records", "points": 3, "formula": "min(record_points, 3)",
                 "assign": [{"group": "dept"}]}]},
            {"id": "Y", "name": "违规失职减分", "kind": "deduction", "children": [
                {"id": "Y5", "name": "违反廉政纪律", "source": "records", "points": 6, "formula": "record_count * 2",
                 "entered_by": "u02", "assign": [{"group": "dept"}]}]}
        ]
    }))
    .unwrap()
}

/// The scheme loaded and the clock in April 2027 (the accounts' passwords set then, so
/// that they have not expired on the moved clock).
async fn seed(app: &TestApp) {
    app.app.clock.set(chrono::DateTime::parse_from_rfc3339("2027-04-12T02:00:00Z").unwrap().to_utc());
    sqlx::query("UPDATE users SET password_changed_at = $1")
        .bind(jixiao_store::timestamp(app.app.clock.now()))
        .execute(app.store.pool())
        .await
        .unwrap();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &scheme(), "test").await.unwrap();
    tx.audit("scheme.import", "scheme", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
}

async fn total(app: &TestApp, period: &str, unit: &str) -> f64 {
    let rows = app.store.scores(2027, 1, period).await.unwrap();
    rows.iter().find(|r| r.unit_id == unit).map_or(0.0, |r| r.result["total"].as_f64().unwrap())
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

const X1: [(&str, &str); 7] = [
    ("unit", "u01"),
    ("indicator", "X1"),
    ("date", "2027-03-10"),
    ("points", "2"),
    ("topic", "commendation"),
    ("reason", "获省级表彰"),
    ("responsible", "张三"),
];

async fn register_edit_cancel_in_the_browser(app: TestApp) {
    seed(&app).await;
    let office = app.session("office").await;
    let page = app.get(Some(&office), "/records?year=2027").await.text().await.unwrap();
    assert!(page.contains("id=\"record-new\"") && page.contains("X1 上级表彰（加分 · 每条最多 5 分）"), "the register form");
    let r = app.post(Some(&office), "/records", &X1).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let at = location(&r);
    assert!(at.starts_with("/records/") && at.ends_with("flash=records.registered"), "{at}");
    assert_eq!(total(&app, "2027-03", "u01").await, 2.0);
    let id = app.store.registered_records(2027).await.unwrap()[0].id;
    let page = app.get(Some(&office), &at).await.text().await.unwrap();
    assert!(page.contains("记录已登记，得分已更新。"), "the flash of the subsystem's section");
    assert!(page.contains("获省级表彰") && page.contains("id=\"record-edit\""));

    // The unit sees its record, without the forms; another unit does not find it.
    let reporter = app.session("reporter").await;
    let page = app.get(Some(&reporter), "/records?year=2027").await.text().await.unwrap();
    assert!(page.contains(&format!("id=\"record-row-{id}\"")) && !page.contains("id=\"record-new\""));
    let page = app.get(Some(&reporter), &format!("/records/{id}")).await.text().await.unwrap();
    assert!(!page.contains("id=\"record-edit\""));
    let victim = app.session("victim").await;
    assert_eq!(app.get(Some(&victim), &format!("/records/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(Some(&victim), &format!("/api/v1/records/{id}")).await.status(), StatusCode::NOT_FOUND);
    let listed: Value = app.get(Some(&victim), "/api/v1/records?year=2027").await.json().await.unwrap();
    assert_eq!(listed["total"], 0);
    // A unit cannot register.
    assert_eq!(app.post(Some(&reporter), "/records", &X1).await.status(), StatusCode::FORBIDDEN);

    // Edit with the version read: then the same form again is stale.
    let mut edit: Vec<(&str, &str)> = X1.to_vec();
    edit.extend([("points", "3"), ("version", "1"), ("why", "级别录错")]);
    edit.retain(|(k, v)| *k != "points" || *v == "3");
    let r = app.post(Some(&office), &format!("/records/{id}"), &edit).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(total(&app, "2027-03", "u01").await, 3.0);
    let r = app.post(Some(&office), &format!("/records/{id}"), &edit).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("该条目已被他人修改，请刷新页面后重试。"));
    // Cancel needs a reason.
    let r = app.post(Some(&office), &format!("/records/{id}/cancel"), &[("version", "2"), ("why", "")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = app.post(Some(&office), &format!("/records/{id}/cancel"), &[("version", "2"), ("why", "重复登记")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(total(&app, "2027-03", "u01").await, 0.0);
    let shown: Value = app.get(Some(&office), &format!("/api/v1/records/{id}")).await.json().await.unwrap();
    assert_eq!(
        (shown["state"].as_str(), shown["cancel_reason"].as_str(), shown["version"].as_i64()),
        (Some("cancelled"), Some("重复登记"), Some(3))
    );
}

async fn bad_input_changes_nothing(app: TestApp) {
    seed(&app).await;
    let office = app.session("office").await;
    let with = |k: &'static str, v: &'static str| {
        let mut f = X1.to_vec();
        f.retain(|(key, _)| *key != k);
        f.push((k, v));
        f
    };
    // Control characters are refused at the edge, naming the field.
    let r = app.post(Some(&office), "/records", &with("reason", "表彰\u{0}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("reason"));
    // Points outside the rule, an indicator not scored from records, a unit outside the
    // scheme, a date after today.
    for (form, message) in [
        (with("points", "6"), "分值超出规则：每条最多 5 分。"),
        (with("indicator", "A1"), "指标“A1”不按记录计分"),
        (with("unit", "u99"), "单位“u99”不在本年度考核方案中。"),
        (with("date", "2027-12-01"), "日期“2027-12-01”晚于今天。"),
    ] {
        let r = app.post(Some(&office), "/records", &form).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
    }
    // The assessor of u02 enters Y5 but not X1; through the API, JSON errors.
    let assessor = app.session("assessor").await;
    let body = json!({"unit": "u01", "indicator": "X1", "date": "2027-03-10", "points": 1, "topic": "other", "reason": "x"});
    let r = app
        .http
        .post(app.url("/api/v1/records"))
        .header("cookie", &assessor.cookie)
        .header("x-csrf-token", &assessor.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = json!({"unit": "u01", "indicator": "Y5", "date": "2027-03-10", "points": 7, "topic": "discipline", "reason": "x"});
    let r = app
        .http
        .post(app.url("/api/v1/records"))
        .header("cookie", &assessor.cookie)
        .header("x-csrf-token", &assessor.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "分值超出规则：每条最多 6 分。");
    assert_eq!(v["error"]["details"]["field"], "points");
    assert!(app.store.registered_records(2027).await.unwrap().is_empty(), "nothing written");
    assert!(app.store.records(2027).await.unwrap().is_empty());
}

async fn application_through_api_and_page(app: TestApp) {
    seed(&app).await;
    let reporter = app.session("reporter").await;
    let body =
        json!({"category": "innovation", "indicator": "X2", "date": "2027-04-02", "title": "一网通办", "basis": "市级推广", "points": 2.5});
    let r = app
        .http
        .post(app.url("/api/v1/applications"))
        .header("cookie", &reporter.cookie)
        .header("x-csrf-token", &reporter.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a: Value = r.json().await.unwrap();
    assert_eq!((a["unit"].as_str(), a["state"].as_str()), (Some("u01"), Some("submitted")), "the caller's unit");
    let id = a["id"].as_i64().unwrap();
    // Another unit neither sees nor decides it.
    let victim = app.session("victim").await;
    assert_eq!(app.get(Some(&victim), &format!("/records/applications/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(Some(&reporter), &format!("/records/applications/{id}/decision"), &[("decision", "approve")]).await.status(),
        StatusCode::FORBIDDEN
    );
    // The office approves 2 of the 2.5 in the page.
    let office = app.session("office").await;
    let page = app.get(Some(&office), &format!("/records/applications/{id}")).await.text().await.unwrap();
    assert!(page.contains("id=\"application-decide\""));
    let before = total(&app, "2027-04", "u01").await;
    let path = format!("/records/applications/{id}/decision");
    let r = app.post(Some(&office), &path, &[("decision", "approve"), ("points", "3"), ("version", "1")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "above the claim");
    let r = app.post(Some(&office), &path, &[("decision", "approve"), ("points", "2"), ("note", "按市级核定"), ("version", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(total(&app, "2027-04", "u01").await, before + 2.0);
    let r = app.post(Some(&office), &path, &[("decision", "reject"), ("note", "x"), ("version", "1")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "decided once");
    let shown: Value = app.get(Some(&reporter), &format!("/api/v1/applications/{id}")).await.json().await.unwrap();
    assert_eq!((shown["state"].as_str(), shown["approved_points"].as_f64()), (Some("approved"), Some(2.0)));
    let record = shown["record"].as_i64().unwrap();
    let page = app.get(Some(&reporter), &format!("/records/{record}")).await.text().await.unwrap();
    assert!(page.contains("一网通办") && page.contains("创新项目"));
}

async fn topics_export(app: TestApp) {
    seed(&app).await;
    let office = app.session("office").await;
    let mut form = X1.to_vec();
    form.retain(|(k, _)| !matches!(*k, "topic" | "indicator"));
    form.extend([("topic", "innovation"), ("indicator", "X2")]);
    assert_eq!(app.post(Some(&office), "/records", &form).await.status(), StatusCode::SEE_OTHER);
    let page = app.get(Some(&office), "/records/topics?year=2027").await.text().await.unwrap();
    assert!(page.contains("id=\"topic-innovation\"") && page.contains("u01 区发改局"));
    let r = app.get(Some(&office), "/records/topics.xlsx?year=2027").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let rows = crate::common::sheet(&bytes, "2027 创新项目");
    assert_eq!(crate::common::text(&rows[1][0]), "u01");
    assert_eq!(crate::common::text(&rows[1][2]), "2027-03");
    assert_eq!(crate::common::text(&rows[1][4]), "2");
}

async fn upload(app: &TestApp, s: &crate::common::Session, path: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    app.http.post(app.url(&format!("{path}?_csrf={}", s.csrf))).header("cookie", &s.cookie).multipart(form).send().await.unwrap()
}

async fn evidence_of_records_and_applications(app: TestApp) {
    seed(&app).await;
    let (office, reporter, victim) = (app.session("office").await, app.session("reporter").await, app.session("victim").await);
    let pdf = b"%PDF-1.4\n% jixiao test\n".to_vec();
    assert_eq!(app.post(Some(&office), "/records", &X1).await.status(), StatusCode::SEE_OTHER);
    let id = app.store.registered_records(2027).await.unwrap()[0].id;
    let path = format!("/records/{id}/evidence");
    // The unit does not attach to a record; the office does; a file that is not what
    // its name says is refused.
    assert_eq!(upload(&app, &reporter, &path, "a.pdf", pdf.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(upload(&app, &office, &path, "a.png", pdf.clone()).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(upload(&app, &office, &path, "表彰文件.pdf", pdf.clone()).await.status(), StatusCode::SEE_OTHER);
    let page = app.get(Some(&reporter), &format!("/records/{id}")).await.text().await.unwrap();
    let at = page.find("href=\"/evidence/").expect("the file is listed") + "href=\"/evidence/".len();
    let file = &page[at..at + page[at..].find('"').unwrap()];
    assert!(page.contains("表彰文件.pdf"));
    let r = app.get(Some(&reporter), &format!("/evidence/{file}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    assert_eq!(app.get(Some(&victim), &format!("/evidence/{file}")).await.status(), StatusCode::NOT_FOUND, "another unit's evidence");

    // An application's evidence: its unit attaches while it waits, not another unit.
    let r = app
        .post(
            Some(&reporter),
            "/records/applications",
            &[
                ("category", "research"),
                ("indicator", "X1"),
                ("date", "2027-04-01"),
                ("title", "调研报告"),
                ("basis", "区领导批示"),
                ("points", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let a = app.store.applications(2027).await.unwrap()[0].id;
    let path = format!("/records/applications/{a}/evidence");
    assert_eq!(upload(&app, &victim, &path, "b.pdf", pdf.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(upload(&app, &reporter, &path, "批示.pdf", pdf.clone()).await.status(), StatusCode::SEE_OTHER);
    let page = app.get(Some(&office), &format!("/records/applications/{a}")).await.text().await.unwrap();
    assert!(page.contains("批示.pdf"), "the office sees the evidence it decides on");
    let r = app
        .post(
            Some(&office),
            &format!("/records/applications/{a}/decision"),
            &[("decision", "reject"), ("note", "不属于加分范围"), ("version", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(upload(&app, &reporter, &path, "c.pdf", pdf).await.status(), StatusCode::BAD_REQUEST, "decided: no more evidence");
    let audit: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'evidence.add'").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(audit, 2);
}
