//! Public service requests through the pages: the citizen's form and query page,
//! the office's and departments' queues, scope, CSRF, the SMS outbox and sender,
//! and the department metrics feeding an indicator.

use jixiao_store::{ServiceAttribute, ServiceCategory, Store};
use serde_json::json;

use crate::common::{Session, TestApp, backend_tests};

backend_tests!(
    citizen_files_with_errors_kept_and_escaped,
    a_request_through_every_desk,
    sms_survive_a_failing_gateway,
    ratings_move_the_department_score,
    two_senders_send_each_message_once
);

const ANON: &str = "anon-service-token";

/// Categories `road` (→ u01, 3 working days, attribute `depth`) and `water` (→ u02).
pub async fn seed_categories(store: &Store) {
    let mut tx = store.begin("test").await.unwrap();
    for (code, name, unit) in [("road", "道路破损", "u01"), ("water", "停水漏水", "u02")] {
        let c = ServiceCategory {
            code: code.into(),
            name: name.into(),
            description: format!("{name}类诉求"),
            group_name: "城市管理".into(),
            keywords: "城管,道路".into(),
            unit_id: Some(unit.into()),
            sla_days: 3,
            sort_order: 0,
            disabled: false,
        };
        store.upsert_service_category(&mut tx, &c).await.unwrap();
    }
    let depth = ServiceAttribute {
        code: "depth".into(),
        datatype: "singlevaluelist".into(),
        required: false,
        description: "塌陷深度".into(),
        datatype_description: String::new(),
        sort_order: 1,
        values: vec![("shallow".into(), "小于10厘米".into()), ("deep".into(), "10厘米以上".into())],
    };
    store.set_service_attributes(&mut tx, "road", &[depth]).await.unwrap();
    tx.audit("test.seed", "service_category", "road", None, Some(json!({}))).await.unwrap();
    tx.commit().await.unwrap();
}

/// Files the public form as a citizen, solving a new CAPTCHA unless `fields` bring
/// their own answer.
pub async fn file_request(app: &TestApp, fields: &[(&str, &str)], photo: Option<Vec<u8>>) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    if !fields.iter().any(|(k, _)| *k == "captcha") {
        let (token, answer) = crate::common::solved_captcha(app).await;
        form = form.text("captcha_token", token).text("captcha", answer);
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some(bytes) = photo {
        form = form.part("photo", reqwest::multipart::Part::bytes(bytes).file_name("现场.png"));
    }
    app.http
        .post(app.url(&format!("/service?_csrf={ANON}")))
        .header("cookie", format!("jx_csrf={ANON}"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn between<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("id=\"{id}\">")).unwrap_or_else(|| panic!("no #{id} in {html}")) + id.len() + 6;
    &html[start..start + html[start..].find('<').unwrap()]
}

/// Files a valid request; (case number, password).
pub async fn filed(app: &TestApp, code: &str) -> (String, String) {
    filed_by(app, code, "13800000000").await
}

/// Files a valid request naming `phone`; (case number, password).
pub async fn filed_by(app: &TestApp, code: &str, phone: &str) -> (String, String) {
    let r =
        file_request(app, &[("service_code", code), ("description", "人民路路面塌陷"), ("address", "人民路12号"), ("phone", phone)], None)
            .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    (between(&html, "case-no").to_string(), between(&html, "query-password").to_string())
}

async fn query(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post(None, "/service/query", fields).await
}

async fn citizen_files_with_errors_kept_and_escaped(app: TestApp) {
    seed_categories(&app.store).await;
    let page = app.get(None, "/service").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("道路破损") && html.contains("_csrf="), "{html}");

    // Bad input: every problem named, what was typed kept and escaped, nothing stored.
    let xss = "<script>alert(1)</script>";
    let r = file_request(
        &app,
        &[("service_code", "road"), ("description", xss), ("address", xss), ("lat", "95"), ("long", "114"), ("phone", "abc")],
        None,
    )
    .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        !html.contains(xss) && html.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || html.contains("&lt;script&gt;"),
        "escaped"
    );
    assert!(html.contains("data-field=\"lat\"") && html.contains("data-field=\"phone\""), "{html}");
    let r = file_request(&app, &[("service_code", "nope"), ("description", " "), ("phone", "13800000000")], None).await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field=\"service_code\"") && html.contains("data-field=\"description\""));
    let big = vec![0u8; 6 * 1024 * 1024];
    let r = file_request(&app, &[("service_code", "road"), ("description", "x"), ("phone", "13800000000")], Some(big)).await;
    assert_eq!(r.status(), 400, "an oversize photo is refused");
    let r = file_request(&app, &[("service_code", "road"), ("description", "x"), ("phone", "13800000000")], Some(b"not an image".to_vec()))
        .await;
    assert_eq!(r.status(), 400, "a photo must be an image");
    // A forged CSRF token changes nothing.
    let forged = app
        .http
        .post(app.url("/service?_csrf=forged"))
        .header("cookie", format!("jx_csrf={ANON}"))
        .multipart(reqwest::multipart::Form::new().text("service_code", "road").text("description", "x").text("phone", "13800000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let (_, total) = app.store.service_requests(&jixiao_store::RequestFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(total, 0, "nothing stored");

    // A good request with a photo: case number and password shown once, SMS queued.
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let r = file_request(
        &app,
        &[
            ("service_code", "road"),
            ("description", xss),
            ("address", "人民路12号"),
            ("lat", "30.59"),
            ("long", "114.30"),
            ("phone", "13800000000"),
        ],
        Some(png),
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let (case, password) = (between(&html, "case-no").to_string(), between(&html, "query-password").to_string());
    assert_eq!(case, format!("QK-{}-000001", chrono::Datelike::year(&app.app.clock.today())));
    assert_eq!(password.len(), 8);
    let (messages, _) = app.store.outbox(Some("service.received"), None, 10, 0).await.unwrap();
    assert_eq!(messages.len(), 1);
    // The outbox never holds the password: the text is completed when it is sent.
    assert!(messages[0].body.contains(&case) && !messages[0].body.contains(&password) && messages[0].recipient == "13800000000");
    assert!(messages[0].body.contains("查询密码{password}"), "{}", messages[0].body);
    let sent = jixiao_app::service::privacy::text_of(&app.app, &messages[0]).await.unwrap();
    assert!(sent.contains(&format!("查询密码{password}")), "{sent}");
    let stored = app.store.service_request_by_case(&case).await.unwrap().unwrap();
    assert_eq!(stored.description, xss, "stored as typed");
    // Only a keyed hash is kept: HMAC-SM3 under the lookup key of the key file.
    let keyed =
        jixiao_store::hmac_sm3(jixiao_store::Keys::for_tests().lookup(), format!("jixiao query password hash v1\n{password}").as_bytes());
    assert_eq!(stored.password_hash, format!("hmac-sm3:{}", hex::encode(keyed)));
    let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM outbox").fetch_all(app.store.pool()).await.unwrap();
    assert!(rows.iter().all(|b| !b.contains(&password)), "no row of the outbox holds the password");

    // The query page: a wrong password and an unknown case get the same answer.
    for (c, p) in [(case.as_str(), "WRONGPWD"), ("QK-2027-999999", password.as_str()), ("garbage", "x")] {
        let r = query(&app, &[("case", c), ("password", p)]).await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("受理编号或查询密码不正确") && !html.contains("id=\"found\""));
    }
    let r = query(&app, &[("case", &case), ("password", &password)]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"found\"") && html.contains("已受理") && !html.contains(xss), "{html}");
    assert!(!html.contains("13800000000"), "no personal data on the page");
    // Rate limit: the 10th attempt in a minute from one address is refused.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(query(&app, &[("case", &case), ("password", "WRONGPWD")]).await.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

async fn step(app: &TestApp, who: &Session, id: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post(Some(who), &format!("/service/requests/{id}"), fields).await
}

async fn state_of(app: &TestApp, case: &str) -> jixiao_store::ServiceRequest {
    app.store.service_request_by_case(case).await.unwrap().unwrap()
}

async fn a_request_through_every_desk(app: TestApp) {
    seed_categories(&app.store).await;
    let (case, password) = filed(&app, "road").await;
    let id = state_of(&app, &case).await.id;
    let office = app.session("office").await;
    let reporter = app.session("reporter").await; // u01
    let victim = app.session("victim").await; // u02
    let leader = app.session("leader").await;

    let page = app.get(Some(&office), "/service/dispatch").await.text().await.unwrap();
    assert!(page.contains(&case), "new requests wait in the dispatch queue");
    let page = app.get(Some(&office), &format!("/service/requests/{id}")).await.text().await.unwrap();
    assert!(page.contains("id=\"step-dispatch\"") && page.contains("<option value=\"u01\" selected>"), "the category suggests u01");
    assert!(!page.contains("id=\"step-reply\""), "the office does not reply for a department");

    // A department cannot dispatch; nothing changes.
    assert_eq!(step(&app, &reporter, id, &[("step", "dispatch"), ("unit", "u01")]).await.status(), 404, "not yet its request: invisible");
    assert_eq!(step(&app, &office, id, &[("step", "dispatch"), ("unit", "nowhere")]).await.status(), 400);
    assert_eq!(step(&app, &office, id, &[("step", "fly")]).await.status(), 400);
    let r = step(&app, &office, id, &[("step", "dispatch"), ("unit", "u01")]).await;
    assert_eq!(r.status(), 303);
    let r1 = state_of(&app, &case).await;
    assert_eq!((r1.state.as_str(), r1.unit_id.as_deref()), ("dispatched", Some("u01")));
    assert!(r1.deadline.is_some());

    // Scope: the other department sees nothing of it and cannot act.
    assert!(!app.get(Some(&victim), "/service/queue?state=dispatched").await.text().await.unwrap().contains(&case));
    assert_eq!(app.get(Some(&victim), &format!("/service/requests/{id}")).await.status(), 404);
    assert_eq!(step(&app, &victim, id, &[("step", "accept")]).await.status(), 404);
    assert!(app.get(Some(&reporter), "/service/queue?state=dispatched").await.text().await.unwrap().contains(&case));
    // A forged CSRF token and a stale version change nothing.
    let forged = app
        .http
        .post(app.url(&format!("/service/requests/{id}")))
        .header("cookie", &reporter.cookie)
        .form(&[("step", "accept"), ("_csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(step(&app, &reporter, id, &[("step", "accept"), ("version", "1")]).await.status(), 409);
    assert_eq!(state_of(&app, &case).await.version, r1.version);

    assert_eq!(step(&app, &reporter, id, &[("step", "accept")]).await.status(), 303);
    assert_eq!(step(&app, &reporter, id, &[("step", "reply"), ("text", "")]).await.status(), 400, "a reply needs text");
    assert_eq!(step(&app, &reporter, id, &[("step", "note"), ("text", "已派人到现场")]).await.status(), 303);
    assert_eq!(step(&app, &leader, id, &[("step", "escalate"), ("text", "群众反映强烈")]).await.status(), 303);
    assert_eq!(step(&app, &reporter, id, &[("step", "reply"), ("text", "路面已修复 <b>")]).await.status(), 303);
    assert_eq!(step(&app, &reporter, id, &[("step", "verify")]).await.status(), 403, "only the office verifies");
    assert_eq!(step(&app, &office, id, &[("step", "verify")]).await.status(), 303);
    let (sms, _) = app.store.outbox(Some("service.verify"), None, 10, 0).await.unwrap();
    assert!(sms[0].body.contains(&case), "the citizen is told by SMS");

    // The citizen sees the reply (not the internal note) and rates it.
    let html = query(&app, &[("case", &case), ("password", &password)]).await.text().await.unwrap();
    assert!(html.contains("路面已修复 &#60;b&#62;") || html.contains("路面已修复 &lt;b&gt;"), "{html}");
    assert!(!html.contains("已派人到现场") && !html.contains("群众反映强烈") && !html.contains("reporter"), "no internal notes or staff");
    assert!(html.contains("id=\"rate-form\""));
    let r = query(&app, &[("case", &case), ("password", &password), ("rating", "dissatisfied"), ("comment", "坑还在")]).await;
    assert_eq!(r.status(), 200);
    let closed = state_of(&app, &case).await;
    assert_eq!(
        (closed.state.as_str(), closed.rating.as_deref(), closed.rating_comment.as_str(), closed.escalated),
        ("closed", Some("dissatisfied"), "坑还在", 1)
    );
    let again = query(&app, &[("case", &case), ("password", &password), ("rating", "satisfied")]).await;
    assert_eq!(again.status(), 400, "rated once");

    // Redo (重办): back to the department with a new time limit.
    assert_eq!(step(&app, &office, id, &[("step", "redo"), ("text", "群众不满意")]).await.status(), 303);
    let redone = state_of(&app, &case).await;
    assert_eq!((redone.state.as_str(), redone.redo_count, redone.rating.as_deref()), ("dispatched", 1, None));
    // Reject as not ours, then the office arbitrates by dispatching elsewhere.
    assert_eq!(step(&app, &reporter, id, &[("step", "reject"), ("text", "属水务职责")]).await.status(), 303);
    assert_eq!(state_of(&app, &case).await.state, "rejected");
    assert_eq!(step(&app, &office, id, &[("step", "dispatch"), ("unit", "u02")]).await.status(), 303);
    assert_eq!(state_of(&app, &case).await.unit_id.as_deref(), Some("u02"));
    assert_eq!(app.get(Some(&reporter), &format!("/service/requests/{id}")).await.status(), 404, "no longer u01's");

    let history = app.store.service_events(id).await.unwrap();
    let steps: Vec<&str> = history.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(steps, ["receive", "dispatch", "accept", "note", "escalate", "reply", "verify", "rate", "redo", "reject", "dispatch"]);
    let audit = app.store.audit_entries(0, 1000).await.unwrap();
    assert!(audit.iter().filter(|e| e.action.starts_with("service.")).count() >= 11, "every step audited");

    let outbox = app.get(Some(&office), "/service/outbox").await.text().await.unwrap();
    assert!(outbox.contains(&case) && !outbox.contains(&password), "the outbox masks the query password");
}

async fn sms_survive_a_failing_gateway(app: TestApp) {
    use std::sync::{Arc, Mutex};
    seed_categories(&app.store).await;
    let (case, _) = filed(&app, "road").await;
    // Default: no gateway, only recorded.
    let report = jixiao_app::service::sms::deliver_due(&app.with_sms(jixiao_app::service::sms::SmsConfig::default()).await).await.unwrap();
    assert_eq!(report.recorded, 1);
    let (_, water_password) = filed(&app, "water").await;

    // A fake gateway that fails the first time, then accepts.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen2 = seen.clone();
    let gateway = axum::Router::new().route(
        "/send",
        axum::routing::get(move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
            let seen = seen2.clone();
            async move {
                let mut s = seen.lock().unwrap();
                s.push(q.unwrap_or_default());
                if s.len() == 1 { axum::http::StatusCode::SERVICE_UNAVAILABLE } else { axum::http::StatusCode::OK }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });
    let config = jixiao_app::service::sms::SmsConfig {
        url: format!("http://{addr}/send?to={{phone}}&msg={{text}}&u={{username}}&p={{password}}"),
        username: "jixiao".into(),
        password: "s3cret&=".into(),
        backoff_seconds: 0,
        ..jixiao_app::service::sms::SmsConfig::default()
    };
    let first = jixiao_app::service::sms::deliver_due(&app.with_sms(config.clone()).await).await.unwrap();
    assert_eq!((first.sent, first.retried), (0, 1));
    let (pending, _) = app.store.outbox(None, Some("pending"), 10, 0).await.unwrap();
    assert_eq!(
        (pending.len(), pending[0].attempts, pending[0].last_error.as_deref()),
        (1, 1, Some("gateway answered 503 Service Unavailable"))
    );
    let second = jixiao_app::service::sms::deliver_due(&app.with_sms(config.clone()).await).await.unwrap();
    assert_eq!(second.sent, 1);
    let (all, total) = app.store.outbox(None, None, 10, 0).await.unwrap();
    assert_eq!(total, 2, "nothing lost");
    assert_eq!(all.iter().map(|m| m.status.as_str()).collect::<Vec<_>>(), ["sent", "recorded"]);
    let seen: Vec<String> = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].contains("to=13800000000") && seen[1].contains("p=s3cret%26%3D"), "{}", seen[1]);
    // The text the gateway got has the query password, filled in at send time; the
    // stored text has only its placeholder.
    assert!(seen[1].contains(&water_password) && !seen[1].contains("%7Bpassword%7D"), "{}", seen[1]);
    assert!(all.iter().all(|m| !m.body.contains(&water_password)));
    assert!(!case.is_empty());
    // An unreachable gateway: retried, then failed after max_attempts, still kept.
    let (_, _) = filed(&app, "road").await;
    let down = jixiao_app::service::sms::SmsConfig {
        url: "http://127.0.0.1:9/send?to={phone}".into(),
        max_attempts: 2,
        backoff_seconds: 0,
        timeout_seconds: 1,
        ..config.clone()
    };
    assert_eq!(jixiao_app::service::sms::deliver_due(&app.with_sms(down.clone()).await).await.unwrap().retried, 1);
    assert_eq!(jixiao_app::service::sms::deliver_due(&app.with_sms(down.clone()).await).await.unwrap().failed, 1);
    let (failed, _) = app.store.outbox(None, Some("failed"), 10, 0).await.unwrap();
    assert_eq!((failed.len(), failed[0].attempts), (1, 2));
}

/// Two processes' senders at once against one database: every message reaches the
/// gateway exactly once.
async fn two_senders_send_each_message_once(app: TestApp) {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    seed_categories(&app.store).await;
    // Six citizens (one number may file only three requests an hour).
    for i in 0..6 {
        filed_by(&app, "road", &format!("1380000000{i}")).await;
    }
    let hits: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let hits2 = hits.clone();
    // A slow gateway, so that the passes overlap.
    let gateway = axum::Router::new().route(
        "/send",
        axum::routing::get(move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
            let hits = hits2.clone();
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                *hits.lock().unwrap().entry(q.unwrap_or_default()).or_default() += 1;
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });
    let config = jixiao_app::service::sms::SmsConfig {
        url: format!("http://{addr}/send?id={{text}}"),
        ..jixiao_app::service::sms::SmsConfig::default()
    };
    // Two applications on their own pools: two processes on the same database.
    let (one, two) = (app.with_sms(config.clone()).await, app.with_sms(config.clone()).await);
    let (a, b) = tokio::join!(jixiao_app::service::sms::deliver_due(&one), jixiao_app::service::sms::deliver_due(&two));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 6, "{a:?} {b:?}");
    let hits = hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 6, "six different messages");
    assert!(hits.values().all(|&n| n == 1), "none sent twice: {hits:?}");
    let (all, _) = app.store.outbox(None, Some("sent"), 10, 0).await.unwrap();
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|m| m.attempts == 1 && m.claimed_by.is_none()), "one attempt each, claims released");
    let audit = app.store.audit_entries(0, 1000).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "outbox.claim"), "claims are audited");
    assert_eq!(audit.iter().filter(|e| e.action == "outbox.attempt").count(), 6);
}

async fn ratings_move_the_department_score(app: TestApp) {
    seed_categories(&app.store).await;
    let year = chrono::Datelike::year(&app.app.clock.today());
    let scheme: jixiao_core::scheme::SchemeFile = serde_json::from_value(json!({
        "year": year, "name": "诉求考核", "normalize_to": null,
        "groups": [{"id": "dept", "name": "区直部门"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"}],
        "grades": [{"name": "良好"}],
        "tree": [{"id": "S", "name": "群众满意", "points": 10, "children": [
            {"id": "S1", "name": "诉求满意率", "points": 10, "filled_by": "service",
             "fields": [{"key": "satisfaction_rate", "name": "满意率", "type": "percent"}, {"key": "on_time_rate", "name": "按时办结率", "type": "percent"}],
             "formula": "satisfaction_rate * 6 + on_time_rate * 4", "assign": [{"group": "dept"}]}
        ]}]
    }))
    .unwrap();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &scheme, "test").await.unwrap();
    tx.audit("test.scheme", "scheme", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let office = app.session("office").await;
    let reporter = app.session("reporter").await;
    let mut cases = Vec::new();
    for rating in ["satisfied", "dissatisfied"] {
        let (case, password) = filed(&app, "road").await;
        let id = state_of(&app, &case).await.id;
        for (who, f) in [
            (&office, vec![("step", "dispatch"), ("unit", "u01")]),
            (&reporter, vec![("step", "accept")]),
            (&reporter, vec![("step", "reply"), ("text", "已处理")]),
            (&office, vec![("step", "verify")]),
        ] {
            assert_eq!(step(&app, who, id, &f).await.status(), 303, "{f:?}");
        }
        assert_eq!(query(&app, &[("case", &case), ("password", &password), ("rating", rating)]).await.status(), 200);
        cases.push(case);
    }
    let month = app.app.clock.today().format("%Y-%m").to_string();
    let entry = app.store.entry(year, "u01", "S1", &month).await.unwrap().expect("a system-filled entry");
    assert_eq!((entry.state.as_str(), entry.updated_by.as_str()), ("accepted", "system:service"));
    assert_eq!(entry.row.values["satisfaction_rate"], json!(0.5));
    assert_eq!(entry.row.values["on_time_rate"], json!(1.0));
    let scores = app.store.scores(year, 1, &month).await.unwrap();
    let u01 = scores.iter().find(|s| s.unit_id == "u01").expect("scored");
    assert_eq!(u01.result["scores"]["S1"].as_f64(), Some(7.0), "0.5 × 6 + 1 × 4: {}", u01.result);
    assert_eq!(u01.result["status"]["S1"], json!("ok"));
    assert!(cases.len() == 2);
}

mod more {
    use super::*;

    backend_tests!(an_operator_takes_a_phone_request, unrated_requests_close_after_the_set_days);

    async fn an_operator_takes_a_phone_request(app: TestApp) {
        seed_categories(&app.store).await;
        let office = app.session("office").await;
        let page = app.get(Some(&office), "/service").await.text().await.unwrap();
        assert!(page.contains("id=\"channel\""), "the office gets the operator's form");
        assert!(!page.contains("captcha_token"), "and no CAPTCHA");
        let form = reqwest::multipart::Form::new()
            .text("channel", "phone")
            .text("service_code", "water")
            .text("description", "来电：小区停水")
            .text("address", "新华路5号");
        let r = app
            .http
            .post(app.url(&format!("/service?_csrf={}", office.csrf)))
            .header("cookie", &office.cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "no phone needed when an operator takes it");
        let (rows, _) = app.store.service_requests(&jixiao_store::RequestFilter { limit: 5, ..Default::default() }).await.unwrap();
        assert_eq!((rows[0].channel.as_str(), rows[0].phone.as_str()), ("phone", ""));
        let audit = app.store.audit_entries(0, 1000).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "service.create" && e.actor == "office"));
        // A citizen cannot claim to be the call centre.
        let r = file_request(&app, &[("channel", "phone"), ("service_code", "road"), ("description", "x"), ("phone", "13800000000")], None)
            .await;
        assert_eq!(r.status(), 400);
        // The query page works signed in (the session's CSRF token).
        let html = app.get(Some(&office), "/service/query").await.text().await.unwrap();
        assert!(html.contains(&office.csrf));
    }

    async fn unrated_requests_close_after_the_set_days(app: TestApp) {
        seed_categories(&app.store).await;
        let (case, _) = filed(&app, "road").await;
        let r = state_of(&app, &case).await;
        let eight_days_ago = jixiao_store::timestamp(chrono::Utc::now() - chrono::Duration::days(8));
        let one_day_ago = jixiao_store::timestamp(chrono::Utc::now() - chrono::Duration::days(1));
        let mut tx = app.store.begin("test").await.unwrap();
        let verified =
            jixiao_store::ServiceRequest { state: "verified".into(), unit_id: Some("u01".into()), verified_at: Some(eight_days_ago), ..r };
        app.store.update_service_request(&mut tx, &verified).await.unwrap();
        tx.audit("test", "service_request", &case, None, None).await.unwrap();
        tx.commit().await.unwrap();
        let (case2, _) = filed(&app, "road").await;
        let r2 = state_of(&app, &case2).await;
        let mut tx = app.store.begin("test").await.unwrap();
        app.store
            .update_service_request(
                &mut tx,
                &jixiao_store::ServiceRequest {
                    state: "verified".into(),
                    unit_id: Some("u01".into()),
                    verified_at: Some(one_day_ago),
                    ..r2
                },
            )
            .await
            .unwrap();
        tx.audit("test", "service_request", &case2, None, None).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            jixiao_app::service::sms::deliver_due(&app.with_sms(jixiao_app::service::sms::SmsConfig::default()).await)
                .await
                .unwrap()
                .recorded,
            2
        );
        assert_eq!(jixiao_app::service::flow::auto_close(&app.app, 7).await.unwrap(), (1, 0));
        let closed = state_of(&app, &case).await;
        assert_eq!((closed.state.as_str(), closed.rating.as_deref()), ("closed", None));
        assert_eq!(app.store.service_events(closed.id).await.unwrap().last().unwrap().actor, "system:auto_close");
        assert_eq!(state_of(&app, &case2).await.state, "verified", "one day is not seven");
        assert_eq!(jixiao_app::service::flow::auto_close(&app.app, 7).await.unwrap(), (0, 0), "closed once");
    }
}
