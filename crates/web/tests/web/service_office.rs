//! The rest of the service pages: a department's metrics on its dashboard and the
//! unit's page (the same figures as the system-filled indicator), evidence files a
//! department attaches, the office's category editor, and the service settings
//! (working weekend days, the public address the SMS link to).

use serde_json::json;

use crate::common::{Session, TestApp, backend_tests};
use crate::service::{filed, seed_categories};

backend_tests!(
    department_sees_its_service_metrics,
    department_attaches_evidence,
    office_edits_categories,
    settings_take_workdays_and_the_public_address
);

async fn step(app: &TestApp, who: &Session, id: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post(Some(who), &format!("/service/requests/{id}"), fields).await
}

async fn request_id(app: &TestApp, case: &str) -> i64 {
    app.store.service_request_by_case(case).await.unwrap().unwrap().id
}

/// Files a request and takes it to `verified` at u01; (id, case, password).
async fn verified(app: &TestApp, office: &Session, reporter: &Session) -> (i64, String, String) {
    let (case, password) = filed(app, "road").await;
    let id = request_id(app, &case).await;
    for (who, f) in [
        (office, vec![("step", "dispatch"), ("unit", "u01")]),
        (reporter, vec![("step", "accept")]),
        (reporter, vec![("step", "reply"), ("text", "已处理")]),
        (office, vec![("step", "verify")]),
    ] {
        assert_eq!(step(app, who, id, &f).await.status(), 303, "{f:?}");
    }
    (id, case, password)
}

async fn rate(app: &TestApp, case: &str, password: &str, rating: &str) {
    let r = app.post(None, "/service/query", &[("case", case), ("password", password), ("rating", rating)]).await;
    assert_eq!(r.status(), 200);
}

/// The cells of the metrics row of `month` in a page: (received, closed, on-time,
/// satisfaction, rated, redo).
fn metrics_row(html: &str, month: &str) -> Option<(String, String, String, String, String, String)> {
    let start = html.find(&format!("<tr data-month=\"{month}\">"))?;
    let row = &html[start..start + html[start..].find("</tr>")?];
    let cell = |class: &str| -> String {
        let i = row.find(&format!("class=\"num {class}\"")).unwrap_or_else(|| panic!("no {class} in {row}"));
        let rest = &row[i..];
        let open = rest.find('>').unwrap() + 1;
        rest[open..open + rest[open..].find('<').unwrap()].to_string()
    };
    let rated = {
        let i = row.find("data-rated=\"").unwrap() + "data-rated=\"".len();
        row[i..i + row[i..].find('"').unwrap()].to_string()
    };
    Some((cell("received"), cell("closed"), cell("on-time"), cell("satisfaction"), rated, cell("redo")))
}

async fn department_sees_its_service_metrics(app: TestApp) {
    seed_categories(&app.store).await;
    // This year's scheme with an indicator filled from the metrics.
    let year = chrono::Datelike::year(&app.app.clock.today());
    let scheme: jixiao_core::scheme::SchemeFile = serde_json::from_value(json!({
        "year": year, "name": "诉求考核", "normalize_to": null,
        "groups": [{"id": "dept", "name": "区直部门"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"}],
        "grades": [{"name": "良好"}],
        "tree": [{"id": "S", "name": "群众满意", "points": 10, "children": [
            {"id": "S1", "name": "诉求满意率", "points": 10, "filled_by": "service",
             "fields": [{"key": "satisfaction_rate", "name": "满意率", "type": "percent"}],
             "formula": "satisfaction_rate * points", "assign": [{"group": "dept"}]}
        ]}]
    }))
    .unwrap();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &scheme, "test").await.unwrap();
    tx.audit("test.scheme", "scheme", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let month = app.app.clock.today().format("%Y-%m").to_string();
    let office = app.session("office").await;
    let reporter = app.session("reporter").await;

    let before = app.get(Some(&reporter), "/").await.text().await.unwrap();
    assert!(before.contains("id=\"service-metrics\""), "a department's dashboard has the table");
    assert_eq!(
        metrics_row(&before, &month).unwrap(),
        ("0".into(), "0".into(), "—".into(), "—".into(), "0".into(), "—".into()),
        "nothing yet: no rates"
    );

    let (_, case_a, pw_a) = verified(&app, &office, &reporter).await;
    let (_, case_b, pw_b) = verified(&app, &office, &reporter).await;
    rate(&app, &case_a, &pw_a, "satisfied").await;
    let one = app.get(Some(&reporter), "/").await.text().await.unwrap();
    assert_eq!(metrics_row(&one, &month).unwrap(), ("2".into(), "1".into(), "100%".into(), "100%".into(), "1".into(), "0%".into()));
    rate(&app, &case_b, &pw_b, "dissatisfied").await;
    let two = app.get(Some(&reporter), "/").await.text().await.unwrap();
    let row = metrics_row(&two, &month).unwrap();
    assert_eq!(row, ("2".into(), "2".into(), "100%".into(), "50%".into(), "2".into(), "0%".into()), "满意率 falls to a half");
    // The same figure the system filled into the indicator.
    let entry = app.store.entry(year, "u01", "S1", &month).await.unwrap().expect("system-filled entry");
    assert_eq!(entry.row.values["satisfaction_rate"], json!(0.5));

    // The office sees it on the unit's page, a leader too; another department has its own (empty) figures.
    for who in ["office", "leader"] {
        let s = app.session(who).await;
        let page = app.get(Some(&s), "/units/u01").await.text().await.unwrap();
        assert_eq!(metrics_row(&page, &month).unwrap().3, "50%", "{who}");
        let home = app.get(Some(&s), "/").await.text().await.unwrap();
        assert!(!home.contains("id=\"service-metrics\""), "{who}'s dashboard is not a department's");
    }
    let victim = app.session("victim").await;
    let theirs = app.get(Some(&victim), "/").await.text().await.unwrap();
    assert_eq!(metrics_row(&theirs, &month).unwrap().0, "0", "u02 sees its own numbers, not u01's");
    let assessor = app.session("assessor").await;
    let page = app.get(Some(&assessor), "/units/u01").await.text().await.unwrap();
    assert!(!page.contains("id=\"service-metrics\""), "an assessor does not see service requests");
    // English labels exist for the table.
    let en = app.get(Some(&reporter), "/").await;
    assert_eq!(en.status(), 200);
}

/// A minimal PDF of `size` bytes.
fn pdf(size: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n".to_vec();
    b.resize(size, b' ');
    b
}

async fn upload(app: &TestApp, who: &Session, id: i64, csrf: &str, name: &str, bytes: Option<Vec<u8>>) -> reqwest::Response {
    send_upload(app, who, id, csrf, name, bytes).await.unwrap()
}

async fn send_upload(
    app: &TestApp,
    who: &Session,
    id: i64,
    csrf: &str,
    name: &str,
    bytes: Option<Vec<u8>>,
) -> reqwest::Result<reqwest::Response> {
    let mut form = reqwest::multipart::Form::new();
    if let Some(b) = bytes {
        form = form.part("file", reqwest::multipart::Part::bytes(b).file_name(name.to_string()));
    }
    // A fresh connection each time: the server closes one whose body it refused.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(&format!("/service/requests/{id}/evidence?_csrf={csrf}")))
        .header("cookie", &who.cookie)
        .multipart(form)
        .send()
        .await
}

async fn department_attaches_evidence(app: TestApp) {
    seed_categories(&app.store).await;
    let (case, password) = filed(&app, "road").await;
    let id = request_id(&app, &case).await;
    let office = app.session("office").await;
    let reporter = app.session("reporter").await;
    let victim = app.session("victim").await;
    let leader = app.session("leader").await;
    assert_eq!(step(&app, &office, id, &[("step", "dispatch"), ("unit", "u01")]).await.status(), 303);

    // Not yet accepted: refused with the state named.
    let r = upload(&app, &reporter, id, &reporter.csrf, "现场.pdf", Some(pdf(100))).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("已派单"), "the message names the state");
    assert_eq!(step(&app, &reporter, id, &[("step", "accept")]).await.status(), 303);
    let page = app.get(Some(&reporter), &format!("/service/requests/{id}")).await.text().await.unwrap();
    assert!(page.contains("id=\"evidence-form\"") && page.contains("暂无佐证材料"), "the department gets the upload form");
    let page = app.get(Some(&office), &format!("/service/requests/{id}")).await.text().await.unwrap();
    assert!(!page.contains("id=\"evidence-form\""), "the office does not attach for the department");

    // Bad uploads change nothing.
    assert_eq!(upload(&app, &reporter, id, &reporter.csrf, "tool.pdf", Some(b"MZ\x90\x00".to_vec())).await.status(), 400, "not a PDF");
    assert_eq!(upload(&app, &reporter, id, &reporter.csrf, "a.pdf", None).await.status(), 400, "no file");
    // Over 10 MB.
    crate::common::assert_too_large(send_upload(&app, &reporter, id, &reporter.csrf, "big.pdf", Some(pdf(11 * 1024 * 1024))).await);
    assert_eq!(upload(&app, &reporter, id, "forged", "a.pdf", Some(pdf(100))).await.status(), 403, "CSRF");
    assert_eq!(upload(&app, &victim, id, &victim.csrf, "a.pdf", Some(pdf(100))).await.status(), 404, "another department's request");
    assert_eq!(upload(&app, &office, id, &office.csrf, "a.pdf", Some(pdf(100))).await.status(), 403, "the office may see, not handle");
    assert!(app.store.attachments("service_evidence", std::slice::from_ref(&case)).await.unwrap().is_empty(), "nothing stored");

    // A 3 MB PDF (above axum's default body limit) with a name to escape.
    let content = pdf(3 * 1024 * 1024);
    let r = upload(&app, &reporter, id, &reporter.csrf, "整改<b>报告</b>.pdf", Some(content.clone())).await;
    assert_eq!(r.status(), 303);
    let stored = app.store.attachments("service_evidence", std::slice::from_ref(&case)).await.unwrap();
    assert_eq!((stored.len(), stored[0].size, stored[0].uploaded_by.as_str()), (1, 3 * 1024 * 1024, "reporter"));
    let aid = stored[0].id;
    for who in [&office, &reporter, &leader] {
        let page = app.get(Some(who), &format!("/service/requests/{id}")).await.text().await.unwrap();
        assert!(
            page.contains(&format!("/evidence/{aid}")) && (page.contains("整改&#60;b&#62;报告") || page.contains("整改&lt;b&gt;报告")),
            "listed, escaped"
        );
        assert!(!page.contains("整改<b>"), "never raw");
        let file = app.get(Some(who), &format!("/evidence/{aid}")).await;
        assert_eq!(file.status(), 200);
        assert_eq!(file.bytes().await.unwrap().len(), content.len());
    }
    assert_eq!(app.get(Some(&victim), &format!("/evidence/{aid}")).await.status(), 404, "another department cannot download it");
    assert_eq!(app.get(None, &format!("/evidence/{aid}")).await.status(), 303, "nor can a visitor");
    // Still possible once replied, not once verified.
    assert_eq!(step(&app, &reporter, id, &[("step", "reply"), ("text", "已修复")]).await.status(), 303);
    assert_eq!(upload(&app, &reporter, id, &reporter.csrf, "after.png", Some(b"\x89PNG\r\n\x1a\n0000".to_vec())).await.status(), 303);
    assert_eq!(step(&app, &office, id, &[("step", "verify")]).await.status(), 303);
    assert_eq!(upload(&app, &reporter, id, &reporter.csrf, "late.pdf", Some(pdf(100))).await.status(), 400);

    // The citizen's page shows none of it; the history and the audit log have it.
    let html = app.post(None, "/service/query", &[("case", &case), ("password", &password)]).await.text().await.unwrap();
    assert!(!html.contains("整改") && !html.contains("after.png") && !html.contains("/evidence/"));
    let events = app.store.service_events(id).await.unwrap();
    let evidence: Vec<_> = events.iter().filter(|e| e.step == "evidence").collect();
    assert_eq!(evidence.len(), 2);
    assert!(evidence.iter().all(|e| !e.public && e.actor == "reporter"));
    let audit = app.store.audit_entries(0, 1000).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "service.evidence" && e.object_id == case).count(), 2);
}

/// The fingerprint of an edit form.
fn fingerprint(html: &str) -> String {
    let i = html.find("name=\"fingerprint\" value=\"").unwrap() + "name=\"fingerprint\" value=\"".len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

async fn office_edits_categories(app: TestApp) {
    seed_categories(&app.store).await;
    let office = app.session("office").await;
    let list = app.get(Some(&office), "/service/categories").await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    assert!(html.contains("道路破损") && html.contains("停水漏水") && html.contains("id=\"category-new\""));

    // Every problem named at once, nothing stored.
    let bad = [
        ("code", "Bad Code"),
        ("name", ""),
        ("sla_days", "0"),
        ("sort_order", "x"),
        ("unit_id", "nowhere"),
        ("attributes", "ok | string | 可选 | 说明\nbroken line\nlist | singlevaluelist | 可选 | 没有选项"),
    ];
    let r = app.post(Some(&office), "/service/categories", &bad).await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    for field in ["code", "name", "sla_days", "sort_order", "unit_id", "attributes"] {
        assert!(html.contains(&format!("data-field=\"{field}\"")), "{field} named: {html}");
    }
    assert!(html.contains("补充项第 2 行") && html.contains("补充项第 3 行") && !html.contains("补充项第 1 行"), "attribute lines named");
    assert!(html.contains("Bad Code"), "what was typed is kept");
    let taken = app.post(Some(&office), "/service/categories", &[("code", "road"), ("name", "重复"), ("sla_days", "3")]).await;
    assert_eq!(taken.status(), 400, "a code in use");
    assert_eq!(app.store.service_categories(true).await.unwrap().len(), 2, "nothing stored");
    let forged = app
        .http
        .post(app.url("/service/categories"))
        .header("cookie", &office.cookie)
        .form(&[("code", "x"), ("name", "x"), ("sla_days", "3"), ("_csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // A good one, with an attribute and a name to escape.
    let good = [
        ("code", "light"),
        ("name", "路灯<故障>"),
        ("group_name", "城市管理"),
        ("unit_id", "u02"),
        ("sla_days", "4"),
        ("sort_order", "5"),
        ("attributes", "pole | string | 必填 | 灯杆编号\nkind | multivaluelist | 可选 | 故障类型 | 可多选 | dark=不亮; flicker=闪烁"),
    ];
    let r = app.post(Some(&office), "/service/categories", &good).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/service/categories/light?flash=category_saved");
    let c = app.store.service_category("light").await.unwrap().unwrap();
    assert_eq!((c.name.as_str(), c.unit_id.as_deref(), c.sla_days, c.sort_order, c.disabled), ("路灯<故障>", Some("u02"), 4, 5, false));
    let attrs = app.store.service_attributes("light").await.unwrap();
    assert_eq!(
        attrs.iter().map(|a| (a.code.as_str(), a.required, a.values.len())).collect::<Vec<_>>(),
        [("pole", true, 0), ("kind", false, 2)]
    );
    let edit = app.get(Some(&office), "/service/categories/light").await.text().await.unwrap();
    assert!(edit.contains("路灯&#60;故障&#62;") || edit.contains("路灯&lt;故障&gt;"), "escaped");
    assert!(!edit.contains("路灯<故障>"));
    let public = app.get(None, "/service").await.text().await.unwrap();
    assert!(public.contains("value=\"light\""), "citizens can choose it");
    let o311 = app.get(None, "/open311/v2/services.json").await.text().await.unwrap();
    assert!(o311.contains("\"light\""), "{o311}");

    // An edit from a stale form is refused; a fresh one saves with before and after audited.
    let print = fingerprint(&edit);
    let mut changed: Vec<(&str, &str)> = good.iter().copied().filter(|(k, _)| *k != "code").collect();
    changed.retain(|(k, _)| *k != "sla_days");
    changed.push(("sla_days", "7"));
    changed.push(("fingerprint", "stale"));
    assert_eq!(app.post(Some(&office), "/service/categories/light", &changed).await.status(), 409);
    changed.pop();
    changed.push(("fingerprint", &print));
    let bad_edit: Vec<(&str, &str)> = changed.iter().map(|&(k, v)| if k == "sla_days" { (k, "400") } else { (k, v) }).collect();
    let r = app.post(Some(&office), "/service/categories/light", &bad_edit).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("data-field=\"sla_days\""));
    assert_eq!(app.store.service_category("light").await.unwrap().unwrap().sla_days, 4, "unchanged");
    assert_eq!(app.post(Some(&office), "/service/categories/light", &changed).await.status(), 303);
    assert_eq!(app.store.service_category("light").await.unwrap().unwrap().sla_days, 7);
    assert_eq!(
        app.post(Some(&office), "/service/categories/light", &changed).await.status(),
        409,
        "the same form twice: the second is stale"
    );
    let audit = app.store.audit_entries(0, 1000).await.unwrap();
    let update = audit.iter().find(|e| e.action == "service.category.update").expect("audited");
    let field = |text: &Option<String>| serde_json::from_str::<serde_json::Value>(text.as_deref().unwrap()).unwrap()["sla_days"].clone();
    assert_eq!((field(&update.before_json), field(&update.after_json)), (json!(4), json!(7)));
    assert!(audit.iter().any(|e| e.action == "service.category.add" && e.object_id == "light"));

    // Deactivate: no longer offered; reactivate.
    let edit = app.get(Some(&office), "/service/categories/light").await.text().await.unwrap();
    let print = fingerprint(&edit);
    assert_eq!(app.post(Some(&office), "/service/categories/light/disable", &[("fingerprint", &print)]).await.status(), 303);
    assert!(app.store.service_category("light").await.unwrap().unwrap().disabled);
    assert!(!app.get(None, "/service").await.text().await.unwrap().contains("value=\"light\""), "a deactivated category is not offered");
    let edit = app.get(Some(&office), "/service/categories/light").await.text().await.unwrap();
    assert!(edit.contains("重新启用"));
    assert_eq!(app.post(Some(&office), "/service/categories/light/disable", &[("fingerprint", &fingerprint(&edit))]).await.status(), 303);
    assert!(!app.store.service_category("light").await.unwrap().unwrap().disabled);
    assert!(audit.len() < app.store.audit_entries(0, 1000).await.unwrap().len());
    assert_eq!(app.get(Some(&office), "/service/categories/nothing").await.status(), 404);
    let reporter = app.session("reporter").await;
    assert_eq!(app.get(Some(&reporter), "/service/categories").await.status(), 403);
}

async fn settings_take_workdays_and_the_public_address(app: TestApp) {
    seed_categories(&app.store).await;
    let admin = app.session("admin").await;
    let policy = [
        ("security.lockout_threshold", "5"),
        ("security.lockout_minutes", "15"),
        ("security.session_idle_minutes", "30"),
        ("security.session_absolute_hours", "12"),
    ];
    let page = app.get(Some(&admin), "/admin/settings").await.text().await.unwrap();
    assert!(page.contains("id=\"workdays\"") && page.contains("id=\"base_url\""));

    // 2027-02-06 and 07 are a Saturday and a Sunday; 2027-02-30 does not exist and
    // 2027-02-03 is a Wednesday.
    let mut form = policy.to_vec();
    form.push(("workdays", "2027-02-07\n2027-02-30\n\n2027-02-03\n2027-02-06"));
    form.push(("base_url", "https://12345.example.gov.cn/"));
    let r = app.post(Some(&admin), "/admin/settings", &form).await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("第 2 行：“2027-02-30”不是日期") && html.contains("第 4 行：2027-02-03 不是周六或周日"), "{html}");
    assert!(!html.contains("第 1 行") && !html.contains("第 5 行"));
    assert!(html.contains("2027-02-30"), "what was typed is kept");
    for url in ["ftp://example.org", "https://example.org/?a=1", "not a url", "https://user:pw@example.org"] {
        let mut form = policy.to_vec();
        form.push(("workdays", ""));
        form.push(("base_url", url));
        let r = app.post(Some(&admin), "/admin/settings", &form).await;
        assert_eq!(r.status(), 400, "{url}");
        assert!(r.text().await.unwrap().contains("data-field=\"base_url\""), "{url}");
    }
    assert_eq!(app.store.setting("service.workdays").await.unwrap(), None, "nothing saved");
    assert_eq!(app.store.setting("service.public_base_url").await.unwrap(), None);

    let mut form = policy.to_vec();
    form.push(("workdays", "2027-02-07\n 2027-02-06 \n2027-02-07"));
    form.push(("base_url", "https://12345.example.gov.cn/"));
    assert_eq!(app.post(Some(&admin), "/admin/settings", &form).await.status(), 303);
    assert_eq!(app.store.setting("service.workdays").await.unwrap().as_deref(), Some("2027-02-06,2027-02-07"), "sorted, once each");
    assert_eq!(app.store.setting("service.public_base_url").await.unwrap().as_deref(), Some("https://12345.example.gov.cn"));
    let page = app.get(Some(&admin), "/admin/settings").await.text().await.unwrap();
    assert!(page.contains("2027-02-06\n2027-02-07</textarea>"), "one a line");
    let audit = app.store.audit_entries(0, 1000).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "setting.set" && e.object_id == "service.workdays"));
    // The service calendar counts them as working days.
    let cal = jixiao_app::service::calendar(&app.app).await.unwrap();
    let sat = chrono::NaiveDate::from_ymd_opt(2027, 2, 6).unwrap();
    assert!(cal.is_working(sat) && !cal.is_working(chrono::NaiveDate::from_ymd_opt(2027, 2, 13).unwrap()));

    // The SMS to citizens link to the query page under the public address.
    let (case, _) = filed(&app, "road").await;
    let (sms, _) = app.store.outbox(Some("service.received"), None, 10, 0).await.unwrap();
    assert!(sms[0].body.contains(&format!("https://12345.example.gov.cn/service/query?case={case}")), "{}", sms[0].body);
}
