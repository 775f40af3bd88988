//! Served over TLS — behind a trusted proxy that says `X-Forwarded-Proto: https`, or
//! configured so (`secure_cookies`) — responses carry HSTS and every cookie is
//! `Secure`; over plain HTTP neither, and a client that is no trusted proxy cannot
//! switch HSTS on.

use reqwest::StatusCode;

use crate::common::{PASSWORD, TestApp, backend_tests, hidden_csrf};

backend_tests!(hsts_and_secure_cookies_over_tls);

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect()
}

async fn hsts_and_secure_cookies_over_tls(app: TestApp) {
    let hsts = "max-age=31536000; includeSubDomains";
    // Plain HTTP: no HSTS, cookies without `Secure`.
    let r = app.get(None, "/login").await;
    assert!(r.headers().get("strict-transport-security").is_none());
    let cookies = set_cookies(&r);
    assert!(cookies.iter().any(|c| c.starts_with("jx_csrf=")) && cookies.iter().all(|c| !c.contains("Secure")), "{cookies:?}");
    // A stranger's forwarded scheme does not turn HSTS on.
    let r = app.http.get(app.url("/login")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());

    // Behind the trusted proxy, over https.
    let config = jixiao_web::WebConfig { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() };
    let proxied = TestApp::start(app.store.backend(), config).await.expect("a second server");
    let r = proxied.http.get(proxied.url("/login")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], hsts);
    let cookies = set_cookies(&r);
    let csrf = cookies.iter().find(|c| c.starts_with("jx_csrf=")).expect("the CSRF cookie").clone();
    assert!(csrf.contains("; Secure") && csrf.contains("HttpOnly"), "{csrf}");
    let token = hidden_csrf(&r.text().await.unwrap()).unwrap();
    let anon = csrf.split(';').next().unwrap().to_string();
    let r = proxied
        .http
        .post(proxied.url("/login"))
        .header("x-forwarded-proto", "https")
        .header("origin", format!("https://{}", proxied.addr))
        .header("cookie", anon)
        .form(&[("username", "office"), ("password", PASSWORD), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["strict-transport-security"], hsts);
    let session = set_cookies(&r).into_iter().find(|c| c.starts_with("jx_session=")).expect("a session");
    assert!(session.contains("; Secure") && session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    // The same proxy forwarding plain http: no HSTS.
    let r = proxied.http.get(proxied.url("/login")).header("x-forwarded-proto", "http").send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());

    // Configured for TLS (`secure_cookies`): HSTS and Secure cookies on every response.
    let config = jixiao_web::WebConfig { secure_cookies: true, ..Default::default() };
    let tls = TestApp::start(app.store.backend(), config).await.expect("a third server");
    let r = tls.get(None, "/login").await;
    assert_eq!(r.headers()["strict-transport-security"], hsts);
    assert!(set_cookies(&r).iter().all(|c| c.contains("; Secure")));
}
