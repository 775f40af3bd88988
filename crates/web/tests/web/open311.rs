//! Open311 GeoReport v2 conformance: every endpoint in JSON and XML, errors with the
//! standard's body and status, form-encoded POST with `attribute[code]` and
//! `lat`/`long` or `address_string`, filters of GET requests, UTF-8 Chinese intact.

use serde_json::{Value, json};

use crate::common::{TestApp, backend_tests};
use crate::service::seed_categories;

backend_tests!(discovery_and_services, posting_requests, listing_and_fetching);

async fn key(app: &TestApp) -> String {
    let office = app.session("office").await;
    let html = app.post(Some(&office), "/service/keys", &[("name", "市民热线12345")]).await.text().await.unwrap();
    let start = html.find("id=\"new-key\">").expect("the key is shown once") + "id=\"new-key\">".len();
    html[start..start + html[start..].find('<').unwrap()].to_string()
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app.http.get(app.url(path)).send().await.unwrap();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (r.status().as_u16(), ct, r.text().await.unwrap())
}

async fn post(app: &TestApp, file: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = app.http.post(app.url(&format!("/open311/v2/{file}"))).form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The standard's error body in either format, checked.
fn assert_error(format: &str, status: u16, got: (u16, String), needle: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    if format == "json" {
        let v = json_of(&got.1);
        assert_eq!(v[0]["code"], json!(status), "{v}");
        assert!(v[0]["description"].as_str().unwrap().contains(needle), "{v}");
    } else {
        assert!(got.1.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error>"), "{}", got.1);
        assert!(got.1.contains(&format!("<code>{status}</code>")) && got.1.contains(needle), "{}", got.1);
    }
}

async fn discovery_and_services(app: TestApp) {
    seed_categories(&app.store).await;
    let (s, ct, body) = get(&app, "/open311/v2/discovery.json").await;
    assert_eq!((s, ct.as_str()), (200, "application/json; charset=utf-8"));
    let v = json_of(&body);
    assert_eq!(v["endpoints"][0]["specification"], json!("http://wiki.open311.org/GeoReport_v2"));
    assert!(v["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2"));
    let (_, ct, xml) = get(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(ct, "text/xml; charset=utf-8");
    assert!(
        xml.contains("<discovery><changeset>")
            && xml.contains("<formats><format>text/xml</format><format>application/json</format></formats>"),
        "{xml}"
    );

    let (s, _, body) = get(&app, "/open311/v2/services.json").await;
    assert_eq!(s, 200);
    let v = json_of(&body);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(
        v[0],
        json!({"service_code": "road", "service_name": "道路破损", "description": "道路破损类诉求", "metadata": true, "type": "realtime", "keywords": "城管,道路", "group": "城市管理"})
    );
    assert_eq!(v[1]["metadata"], json!(false));
    let (_, _, xml) = get(&app, "/open311/v2/services.xml").await;
    assert!(xml.contains("<services><service><service_code>road</service_code><service_name>道路破损</service_name>"), "{xml}");

    let (s, _, body) = get(&app, "/open311/v2/services/road.json").await;
    assert_eq!(s, 200);
    let v = json_of(&body);
    assert_eq!(v["service_code"], json!("road"));
    assert_eq!(v["attributes"][0]["code"], json!("depth"));
    assert_eq!(v["attributes"][0]["datatype"], json!("singlevaluelist"));
    assert_eq!(v["attributes"][0]["values"][1], json!({"key": "deep", "name": "10厘米以上"}));
    let (_, _, xml) = get(&app, "/open311/v2/services/road.xml").await;
    assert!(
        xml.contains(
            "<service_definition><service_code>road</service_code><attributes><attribute><variable>true</variable><code>depth</code>"
        ),
        "{xml}"
    );
    assert!(xml.contains("<values><value><key>shallow</key><name>小于10厘米</name></value>"), "{xml}");
    for f in ["json", "xml"] {
        let (s, _, body) = get(&app, &format!("/open311/v2/services/nope.{f}")).await;
        assert_error(f, 404, (s, body), "service_code");
        let (s, _, body) = get(&app, &format!("/open311/v2/unknown.{f}")).await;
        assert_error(f, 404, (s, body), "unknown");
    }
    let (s, _, _) = get(&app, "/open311/v2/services.html").await;
    assert_eq!(s, 404);
}

async fn posting_requests(app: TestApp) {
    seed_categories(&app.store).await;
    let key = key(&app).await;
    for f in ["json", "xml"] {
        let file = format!("requests.{f}");
        assert_error(
            f,
            403,
            post(&app, &file, &[("service_code", "road"), ("description", "x"), ("address_string", "人民路")]).await,
            "api_key",
        );
        assert_error(
            f,
            403,
            post(&app, &file, &[("api_key", "o311_wrong"), ("service_code", "road"), ("description", "x"), ("address_string", "a")]).await,
            "api_key",
        );
        assert_error(f, 400, post(&app, &file, &[("api_key", &key), ("description", "x"), ("address_string", "a")]).await, "service_code");
        assert_error(
            f,
            404,
            post(&app, &file, &[("api_key", &key), ("service_code", "nope"), ("description", "x"), ("address_string", "a")]).await,
            "service_code",
        );
        assert_error(f, 400, post(&app, &file, &[("api_key", &key), ("service_code", "road"), ("description", "x")]).await, "address");
        assert_error(
            f,
            400,
            post(&app, &file, &[("api_key", &key), ("service_code", "road"), ("description", "x"), ("lat", "91"), ("long", "114")]).await,
            "lat",
        );
        assert_error(
            f,
            400,
            post(
                &app,
                &file,
                &[
                    ("api_key", &key),
                    ("service_code", "road"),
                    ("description", "x"),
                    ("address_string", "a"),
                    ("attribute[depth]", "bottomless"),
                ],
            )
            .await,
            "attribute",
        );
    }
    let (_, total) = app.store.service_requests(&jixiao_store::RequestFilter { limit: 1, ..Default::default() }).await.unwrap();
    assert_eq!(total, 0, "no refused POST stored anything");
    // Not form-encoded: 400.
    let r = app.http.post(app.url("/open311/v2/requests.json")).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(r.status(), 400);

    let (s, body) = post(
        &app,
        "requests.json",
        &[
            ("api_key", &key),
            ("service_code", "road"),
            ("lat", "30.5928"),
            ("long", "114.3055"),
            ("description", "路面塌陷，约半米"),
            ("attribute[depth]", "deep"),
            ("first_name", "明"),
            ("last_name", "李"),
            ("phone", "13900000000"),
            ("jurisdiction_id", "jianghan"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let v = json_of(&body);
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("QK-") && v[0]["token"].is_string(), "{v}");
    let stored = app.store.service_request_by_case(&id).await.unwrap().unwrap();
    assert_eq!(
        (stored.channel.as_str(), stored.contact_name.as_str(), stored.attributes["depth"].as_str()),
        ("open311", "李明", Some("deep"))
    );
    assert_eq!(stored.lat, Some(30.5928));
    let (s, xml) = post(
        &app,
        "requests.xml",
        &[("api_key", &key), ("service_code", "water"), ("address_string", "解放大道100号"), ("description", "停水")],
    )
    .await;
    assert_eq!(s, 200);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request><service_request_id>QK-"), "{xml}");
    let audit = app.store.audit_entries(0, 1000).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "service.create" && e.actor == "api:市民热线12345"));
    // A revoked key stops working.
    let office = app.session("office").await;
    let kid = app.store.open311_keys().await.unwrap()[0].id;
    assert_eq!(app.post(Some(&office), &format!("/service/keys/{kid}/revoke"), &[]).await.status(), 303);
    assert_error(
        "json",
        403,
        post(&app, "requests.json", &[("api_key", &key), ("service_code", "road"), ("address_string", "a"), ("description", "x")]).await,
        "api_key",
    );
}

async fn listing_and_fetching(app: TestApp) {
    seed_categories(&app.store).await;
    let key = key(&app).await;
    let mut ids = Vec::new();
    for (code, text) in [("road", "路灯不亮"), ("water", "水管爆裂"), ("road", "井盖缺失")] {
        let (_, body) =
            post(&app, "requests.json", &[("api_key", &key), ("service_code", code), ("address_string", "江汉路"), ("description", text)])
                .await;
        ids.push(json_of(&body)[0]["service_request_id"].as_str().unwrap().to_string());
    }
    // Close one: open/closed filters.
    let r = app.store.service_request_by_case(&ids[1]).await.unwrap().unwrap();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store
        .update_service_request(&mut tx, &jixiao_store::ServiceRequest { state: "closed".into(), reply: "已抢修".into(), ..r })
        .await
        .unwrap();
    tx.audit("test.close", "service_request", &ids[1], None, None).await.unwrap();
    tx.commit().await.unwrap();

    let (s, ct, body) = get(&app, "/open311/v2/requests.json").await;
    assert_eq!((s, ct.as_str()), (200, "application/json; charset=utf-8"));
    let v = json_of(&body);
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["service_request_id"], json!(ids[2]), "newest first");
    assert_eq!(v[0]["description"], json!("井盖缺失"));
    assert_eq!(v[0]["service_name"], json!("道路破损"));
    assert!(v[0]["requested_datetime"].as_str().unwrap().len() >= 25, "W3C with offset: {}", v[0]["requested_datetime"]);
    assert!(v[0].get("phone").is_none(), "no personal data");
    let list = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            json_of(&get(app, &format!("/open311/v2/requests.json{q}")).await.2)
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["service_request_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("?service_code=water").await, [ids[1].clone()]);
    assert_eq!(list("?status=closed").await, [ids[1].clone()]);
    assert_eq!(list("?status=open&service_code=road").await, [ids[2].clone(), ids[0].clone()]);
    assert_eq!(list(&format!("?service_request_id={},{}&service_code=water", ids[0], ids[2])).await.len(), 2, "ids override other filters");
    let now = app.app.clock.local(app.app.clock.now());
    let fmt = |t: chrono::DateTime<_>| crate::common::encode(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false));
    assert_eq!(
        list(&format!("?start_date={}&end_date={}", fmt(now - chrono::Duration::days(1)), fmt(now + chrono::Duration::days(1))))
            .await
            .len(),
        3
    );
    assert!(list(&format!("?start_date={}", fmt(now + chrono::Duration::days(1)))).await.is_empty());
    let (_, _, xml) = get(&app, "/open311/v2/requests.xml?status=closed").await;
    assert!(
        xml.contains("<service_requests><request><service_request_id>")
            && xml.contains("<status>closed</status><status_notes>已抢修</status_notes>"),
        "{xml}"
    );
    for f in ["json", "xml"] {
        let (s, _, b) = get(&app, &format!("/open311/v2/requests.{f}?start_date=yesterday")).await;
        assert_error(f, 400, (s, b), "start_date");
        let (s, _, b) = get(&app, &format!("/open311/v2/requests.{f}?start_date=2027-01-01T00:00:00Z&end_date=2027-06-01T00:00:00Z")).await;
        assert_error(f, 400, (s, b), "90 days");
        let (s, _, b) = get(&app, &format!("/open311/v2/requests.{f}?start_date=2027-02-01T00:00:00Z&end_date=2027-01-01T00:00:00Z")).await;
        assert_error(f, 400, (s, b), "before");
        let (s, _, b) = get(&app, &format!("/open311/v2/requests.{f}?status=pending")).await;
        assert_error(f, 400, (s, b), "status");
        let (s, _, b) = get(&app, &format!("/open311/v2/requests/QK-2027-999999.{f}")).await;
        assert_error(f, 404, (s, b), "service_request_id");
        let (s, _, b) = get(&app, &format!("/open311/v2/tokens/nope.{f}")).await;
        assert_error(f, 404, (s, b), "token");
    }

    let (s, _, body) = get(&app, &format!("/open311/v2/requests/{}.json", ids[0])).await;
    assert_eq!(s, 200);
    let v = json_of(&body);
    assert_eq!((v.as_array().unwrap().len(), v[0]["description"].as_str()), (1, Some("路灯不亮")));
    assert_eq!(v[0]["status"], json!("open"));
    let (_, _, xml) = get(&app, &format!("/open311/v2/requests/{}.xml", ids[0])).await;
    assert!(
        xml.contains(&format!("<service_requests><request><service_request_id>{}</service_request_id><status>open</status>", ids[0])),
        "{xml}"
    );
    let token = app.store.service_request_by_case(&ids[0]).await.unwrap().unwrap().token;
    let (s, _, body) = get(&app, &format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!((s, json_of(&body)), (200, json!([{"service_request_id": ids[0], "token": token}])));
    let (_, _, xml) = get(&app, &format!("/open311/v2/tokens/{token}.xml")).await;
    assert!(xml.contains(&format!("<request><service_request_id>{}</service_request_id><token>{token}</token></request>", ids[0])));
}
