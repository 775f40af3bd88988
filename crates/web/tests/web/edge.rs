//! Input at the edge and the origin of requests (security #15, items 8 and 9, and the
//! bounds of every text): a NUL or another control character in each kind of input —
//! form field, multipart field, query parameter, path parameter, JSON string — is a
//! 400 naming the field, on both databases, and nothing is written; texts over their
//! limits are refused naming the field; `Origin` must match the request's scheme,
//! host and port; redirects built from ids stay on the site.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{TestApp, backend_tests};
use crate::service::{file_request, seed_categories};

backend_tests!(
    nul_in_every_kind_of_input_is_a_400_naming_the_field,
    long_texts_are_refused_naming_the_field,
    origin_of_another_scheme_or_port_is_refused,
    a_trusted_proxy_decides_the_scheme_and_the_client
);

async fn refused(r: reqwest::Response, field: &str) {
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
    assert!(body.contains(&format!("“{field}”")) && (body.contains("控制字符") || body.contains("control character")), "{field}: {body}");
}

async fn nul_in_every_kind_of_input_is_a_400_naming_the_field(app: TestApp) {
    seed_categories(&app.store).await;
    // The public form (multipart): a text field, with the CAPTCHA solved.
    for (field, value) in [("description", "路面\0塌陷"), ("address", "人民路\u{1}12号"), ("name", "张\u{7f}")] {
        let mut fields = vec![("service_code", "road"), ("description", "路面塌陷"), ("phone", "13800000000")];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        refused(file_request(&app, &fields, None).await, field).await;
    }
    // Line breaks and tabs belong in a text area, not in a one-line field.
    let ok = file_request(&app, &[("service_code", "road"), ("description", "第一行\r\n第二行\t完"), ("phone", "13800000000")], None).await;
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap());
    refused(
        file_request(&app, &[("service_code", "road"), ("description", "x"), ("address", "a\nb"), ("phone", "1380000")], None).await,
        "address",
    )
    .await;

    // The login form (URL-encoded), in English for an English browser.
    refused(app.post(None, "/login", &[("username", "adm\0in"), ("password", "x")]).await, "username").await;
    let r = app
        .http
        .post(app.url("/login"))
        .header("cookie", "jx_csrf=t; jx_lang=en")
        .form(&[("username", "admin"), ("password", "pa\0ss"), ("_csrf", "t")])
        .send()
        .await
        .unwrap();
    refused(r, "password").await;

    // The query page (URL-encoded) and a query parameter of a page.
    refused(app.post(None, "/service/query", &[("case", "QK-2027-\u{0}001"), ("password", "x")]).await, "case").await;
    refused(app.get(None, "/service/query?case=QK%00").await, "case").await;
    let office = app.session("office").await;
    refused(app.get(Some(&office), "/scores?period=2027%0003").await, "period").await;
    // A path parameter of a page, before its guard looks at it.
    refused(app.get(Some(&office), "/units/u0%001").await, "unit").await;
    // An admin form.
    let admin = app.session("admin").await;
    refused(app.post(Some(&admin), "/admin/groups", &[("id", "g9"), ("name", "新\0类别")]).await, "name").await;

    // A JSON body of the API: every string, named by its path.
    let r = app
        .http
        .post(app.url("/api/v1/units/u01/entries/A1/2027-03"))
        .header("cookie", &office.cookie)
        .header("x-csrf-token", &office.csrf)
        .json(&json!({"version": null, "values": {"x": "1\u{0}"}, "reason": "ok"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["details"]["field"], json!("values.x"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("“values.x”"), "{v}");

    // Open311: a path id, a query parameter, a posted field — in Open311's format.
    for f in ["json", "xml"] {
        let r = app.http.get(app.url(&format!("/open311/v2/requests/QK-2027-%00001.{f}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body = r.text().await.unwrap();
        assert!(body.contains("“service_request_id” contains a control character"), "{body}");
        assert!(if f == "json" { body.starts_with("[{\"code\":400") } else { body.contains("<errors><error><code>400</code>") }, "{body}");
    }
    let r = app.http.get(app.url("/open311/v2/requests.json?service_code=ro%00ad")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("“service_code”"));
    let r = app
        .http
        .post(app.url("/open311/v2/requests.json"))
        .form(&[("api_key", "k"), ("service_code", "road"), ("description", "a\0b")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("“description”"));

    // Nothing of it was written: one request (the good one), no group g9.
    let (_, total) = app.store.service_requests(&jixiao_store::RequestFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(total, 1);
    assert!(app.store.groups().await.unwrap().iter().all(|g| g.id != "g9"));
}

async fn long_texts_are_refused_naming_the_field(app: TestApp) {
    let admin = app.session("admin").await;
    let office = app.session("office").await;
    // The 200,000-character unit name: refused at the edge, naming the field.
    let huge = "名".repeat(200_000);
    let r = app.post(Some(&admin), "/admin/units", &[("id", "u99"), ("name", &huge), ("group", "dept")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("“name”过长：最多 2000 个字符"), "{}", &body[..body.len().min(3000)]);
    assert!(app.store.units().await.unwrap().iter().all(|u| u.id != "u99"));
    // Under the backstop, the use case's own limit with the field's label.
    let title = "题".repeat(101);
    let r = app.post(Some(&office), "/bulletins", &[("period", "2027-03"), ("title", &title)]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("“标题”过长：最多 100 个字，现有 101 个。"));
    let name = "名".repeat(101);
    let r = app.post(Some(&admin), "/admin/groups", &[("id", "g9"), ("name", &name)]).await;
    assert!(r.text().await.unwrap().contains("最多 100 字"), "the organisation's names are bounded too");
    // A service request's description and the address, each named.
    seed_categories(&app.store).await;
    let description = "诉".repeat(2001);
    let address = "址".repeat(201);
    let r = file_request(
        &app,
        &[("service_code", "road"), ("description", &description), ("address", &address), ("phone", "13800000000")],
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("诉求内容过长（最多 2000 字）") && body.contains("地址过长（最多 200 字）"), "{body}");
    assert!(body.contains("data-field=\"description\"") && body.contains("data-field=\"address\""));
    let (_, total) = app.store.service_requests(&jixiao_store::RequestFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(total, 0);
}

async fn origin_of_another_scheme_or_port_is_refused(app: TestApp) {
    let admin = app.session("admin").await;
    let host = app.addr.to_string();
    let post = |origin: String, id: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.http
                .post(app.url("/admin/groups"))
                .header("cookie", &admin.cookie)
                .header("origin", origin)
                .form(&[("id", id), ("name", "新类别"), ("_csrf", admin.csrf.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // The attack: a page served over https (another origin) posting to the http site.
    assert_eq!(post(format!("https://{host}"), "g7").await, StatusCode::FORBIDDEN);
    let port = app.addr.port();
    assert_eq!(post(format!("http://127.0.0.1:{}", port.wrapping_add(1)), "g7").await, StatusCode::FORBIDDEN);
    assert_eq!(post(format!("http://localhost:{port}"), "g7").await, StatusCode::FORBIDDEN);
    assert_eq!(post("null".into(), "g7").await, StatusCode::FORBIDDEN);
    assert!(app.store.groups().await.unwrap().iter().all(|g| g.id != "g7"), "nothing written");
    // The site itself.
    assert_eq!(post(format!("http://{host}"), "g8").await, StatusCode::SEE_OTHER);
    assert!(app.store.groups().await.unwrap().iter().any(|g| g.id == "g8"));
    // The redirect after a form goes through the safe rule: an id with spaces and
    // Chinese is percent-encoded, and the response is no 500.
    let r = app.post(Some(&admin), "/admin/groups", &[("id", "g 中"), ("name", "x")]).await;
    assert!(r.status().is_client_error() || r.status() == StatusCode::SEE_OTHER, "{}", r.status());
}

/// Behind a TLS proxy the browser's origin is `https://host`: believed only when the
/// connection comes from a configured trusted proxy, which also names the client.
async fn a_trusted_proxy_decides_the_scheme_and_the_client(app: TestApp) {
    let backend = app.store.backend();
    let config = jixiao_web::WebConfig { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() };
    let proxied = TestApp::start(backend, config).await.expect("a second server");
    let admin = proxied.session("admin").await;
    let host = proxied.addr.to_string();
    let post = |proto: Option<&'static str>, app: &TestApp, id: &'static str| {
        let mut req = app
            .http
            .post(app.url("/admin/groups"))
            .header("cookie", &admin.cookie)
            .header("origin", format!("https://{host}"))
            .form(&[("id", id), ("name", "新类别"), ("_csrf", admin.csrf.as_str())]);
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.send()
    };
    assert_eq!(post(Some("https"), &proxied, "g5").await.unwrap().status(), StatusCode::SEE_OTHER, "the proxy says https");
    assert_eq!(post(None, &proxied, "g6").await.unwrap().status(), StatusCode::FORBIDDEN, "without the proxy's word: http");
    // The same headers from a client that is no trusted proxy change nothing.
    let session = app.session("admin").await;
    let r = app
        .http
        .post(app.url("/admin/groups"))
        .header("cookie", &session.cookie)
        .header("origin", format!("https://{}", app.addr))
        .header("x-forwarded-proto", "https")
        .form(&[("id", "g4"), ("name", "新类别"), ("_csrf", session.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Per-address limits count the forwarded client, not the proxy: two clients behind
    // it each get their own query attempts (10 a minute).
    let attempt = |client: &'static str| {
        proxied
            .http
            .post(proxied.url("/service/query"))
            .header("cookie", "jx_csrf=t")
            .header("x-forwarded-for", client)
            .form(&[("case", "QK-2027-000001"), ("password", "WRONGPWD"), ("_csrf", "t")])
            .send()
    };
    for _ in 0..10 {
        assert_eq!(attempt("203.0.113.1").await.unwrap().status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(attempt("203.0.113.1").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(attempt("203.0.113.2").await.unwrap().status(), StatusCode::BAD_REQUEST, "another client behind the proxy");
}
