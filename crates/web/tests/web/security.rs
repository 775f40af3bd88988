//! Security of every route: lockout and rate limit of logins, CSRF, headers, escaping,
//! body size limits, error pages without internal detail.

use reqwest::StatusCode;

use crate::common::{PASSWORD, TestApp, backend_tests};

backend_tests!(
    lockout_after_failures,
    parallel_guesses_lock_the_account,
    parallel_guesses_from_five_addresses_lock_the_account,
    unknown_and_wrong_look_the_same,
    csrf_is_required,
    cross_origin_post_is_refused,
    security_headers_on_pages_and_api,
    xss_in_admin_fields_comes_back_escaped,
    oversized_body_is_refused,
    not_found_is_a_friendly_page,
    login_redirect_stays_on_site,
    separation_of_duties
);

async fn lockout_after_failures(app: TestApp) {
    // Default policy: 5 failures lock for 15 minutes.
    for i in 0..5 {
        let (r, session) = app.login("reporter", "wrong-password").await;
        assert!(session.is_none(), "attempt {i}");
        assert_eq!(r.status(), StatusCode::OK);
    }
    let user = app.store.user_by_username("reporter").await.unwrap().unwrap();
    assert!(user.locked_until.is_some(), "locked after 5 failures");
    let (r, session) = app.login("reporter", PASSWORD).await;
    assert!(session.is_none(), "the right password does not open a locked account");
    let body = r.text().await.unwrap();
    assert!(body.contains("已锁定"), "the page says the account is locked");
    // The administrator's reset clears the lock.
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.set_password(&mut tx, user.id, PASSWORD, false).await.unwrap();
    tx.audit("test.reset", "user", "reporter", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let (r, session) = app.login("reporter", PASSWORD).await;
    assert!(session.is_some(), "{}", r.status());
    // Each failure is in the audit log.
    let filter = jixiao_store::AuditFilter { action: Some("auth.login_failed".into()), ..Default::default() };
    let (_, n) = app.store.search_audit(&filter, 0, 100).await.unwrap();
    assert_eq!(n, 5);
}

/// Sends `n` wrong passwords for `username` at once, spread over the loopback
/// addresses `127.0.0.11` … `127.0.0.<10 + addresses>`, each from its own client (the
/// test's own client, on 127.0.0.1, keeps its rate limit for the logins after).
async fn guess_in_parallel(app: &TestApp, username: &str, n: usize, addresses: u8) {
    let page = app.http.get(app.url("/login")).send().await.unwrap();
    let anon = crate::common::set_cookie(&page, "jx_csrf").unwrap();
    let token = crate::common::hidden_csrf(&page.text().await.unwrap()).unwrap();
    let clients: Vec<reqwest::Client> = (1..=addresses)
        .map(|i| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(std::net::IpAddr::from([127, 0, 0, 10 + i]))
                .build()
                .unwrap()
        })
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let request = clients[i % clients.len()].post(app.url("/login")).header("cookie", format!("jx_csrf={anon}")).form(&[
            ("username", username),
            ("password", &format!("Wrong-guess-{i}")),
            ("_csrf", &token),
        ]);
        set.spawn(async move { request.send().await.unwrap() });
    }
    for r in set.join_all().await {
        assert_eq!(r.status(), StatusCode::OK, "a refused login is the form again");
        assert!(crate::common::set_cookie(&r, "jx_session").is_none());
    }
}

/// Issue 15, item 2: 20 simultaneous wrong passwords for one account were all
/// checked and left the counter at 1.
async fn parallel_guesses_lock_the_account(app: TestApp) {
    guess_in_parallel(&app, "reporter", 20, 1).await;
    let user = app.store.user_by_username("reporter").await.unwrap().unwrap();
    assert_eq!(user.failed_logins, 20, "every attempt counted");
    assert!(user.locked_until.is_some(), "locked");
    // Only the first 5 were checked; the others were refused under the lock.
    let failed = jixiao_store::AuditFilter { action: Some("auth.login_failed".into()), ..Default::default() };
    let refused = jixiao_store::AuditFilter { action: Some("auth.login_refused".into()), ..Default::default() };
    assert_eq!(app.store.search_audit(&failed, 0, 100).await.unwrap().1, 5);
    assert_eq!(app.store.search_audit(&refused, 0, 100).await.unwrap().1, 15);
    let (r, session) = app.login("reporter", PASSWORD).await;
    assert!(session.is_none(), "the right password does not open the locked account");
    assert!(r.text().await.unwrap().contains("已锁定"));
    assert_eq!(app.store.user_by_username("reporter").await.unwrap().unwrap().failed_logins, 21);
}

/// Issue 15, item 2: 100 guesses from 5 loopback addresses (within each address's
/// rate limit of 20 a minute).
async fn parallel_guesses_from_five_addresses_lock_the_account(app: TestApp) {
    guess_in_parallel(&app, "head", 100, 5).await;
    let user = app.store.user_by_username("head").await.unwrap().unwrap();
    assert_eq!(user.failed_logins, 100, "every attempt counted");
    assert!(user.locked_until.is_some(), "locked");
    let failed = jixiao_store::AuditFilter { action: Some("auth.login_failed".into()), ..Default::default() };
    assert_eq!(app.store.search_audit(&failed, 0, 200).await.unwrap().1, 5, "5 passwords checked, 95 refused unchecked");
    let (_, session) = app.login("head", PASSWORD).await;
    assert!(session.is_none(), "the right password does not open the locked account");
}

async fn unknown_and_wrong_look_the_same(app: TestApp) {
    let (a, _) = app.login("nobody-here", "whatever-1A").await;
    let (b, _) = app.login("office", "whatever-1A").await;
    let (sa, sb) = (a.status(), b.status());
    let (ta, tb) = (a.text().await.unwrap(), b.text().await.unwrap());
    assert_eq!(sa, sb);
    assert!(ta.contains("用户名或密码错误") && tb.contains("用户名或密码错误"));
}

async fn csrf_is_required(app: TestApp) {
    let s = app.session("admin").await;
    // No token.
    let r =
        app.http.post(app.url("/admin/groups")).header("cookie", &s.cookie).form(&[("id", "g9"), ("name", "新类别")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A wrong token.
    let r = app
        .http
        .post(app.url("/admin/groups"))
        .header("cookie", &s.cookie)
        .form(&[("id", "g9"), ("name", "新类别"), ("_csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("表单已过期"));
    // Another session's token.
    let other = app.session("admin").await;
    let r = app
        .http
        .post(app.url("/admin/groups"))
        .header("cookie", &s.cookie)
        .form(&[("id", "g9"), ("name", "新类别"), ("_csrf", other.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.store.groups().await.unwrap().iter().all(|g| g.id != "g9"), "nothing was written");
    // The header form works, as does the field.
    let r = app
        .http
        .post(app.url("/admin/groups"))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .form(&[("id", "g9"), ("name", "新类别")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.groups().await.unwrap().iter().any(|g| g.id == "g9"));
    // The login form needs its double-submit token too.
    let r = app.http.post(app.url("/login")).form(&[("username", "admin"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn cross_origin_post_is_refused(app: TestApp) {
    let s = app.session("admin").await;
    let r = app
        .http
        .post(app.url("/admin/groups"))
        .header("cookie", &s.cookie)
        .header("origin", "https://evil.example")
        .form(&[("id", "g8"), ("name", "x"), ("_csrf", s.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.store.groups().await.unwrap().iter().all(|g| g.id != "g8"));
}

async fn security_headers_on_pages_and_api(app: TestApp) {
    for path in ["/", "/login", "/api/v1/openapi.json", "/no/such/page"] {
        let r = app.get(None, path).await;
        let h = r.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{path}");
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
    }
    // Cookies: HttpOnly and SameSite; Secure when the request came over TLS.
    let r = app.get(None, "/login").await;
    let c = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"), "{c}");
    let r = app.http.get(app.url("/login")).header("x-forwarded-proto", "https").send().await.unwrap();
    let c = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(c.contains("Secure"), "{c}");
    // No inline script or style in pages.
    let s = app.session("admin").await;
    for path in ["/", "/admin/users", "/admin/units", "/audit", "/account"] {
        let body = app.get(Some(&s), path).await.text().await.unwrap();
        assert!(!body.contains("<script>") && !body.contains("style=\""), "{path} has inline script or style");
    }
}

const XSS: &str = "<script>alert('x')</script>\"'&";

async fn xss_in_admin_fields_comes_back_escaped(app: TestApp) {
    let s = app.session("admin").await;
    let r = app.post(Some(&s), "/admin/groups", &[("id", "gx"), ("name", XSS)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post(Some(&s), "/admin/units", &[("id", "ux"), ("name", XSS), ("group", "gx"), ("sort_order", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post(
            Some(&s),
            "/admin/users",
            &[("username", "xss_user"), ("display_name", XSS), ("unit", "ux"), ("password", "Xss-pass-2027"), ("role_reporter", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let r = app.post(Some(&s), "/admin/tokens", &[("name", XSS), ("role", "admin")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Fields that come back in error forms keep what was typed, escaped.
    let r = app.post(Some(&s), "/admin/units", &[("id", XSS), ("name", XSS), ("group", "nope")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let error_form = r.text().await.unwrap();
    let uid = app.user_id("xss_user").await;
    let mut pages = vec![error_form];
    for path in [
        "/admin/groups",
        "/admin/units",
        "/admin/units/ux",
        "/admin/users",
        &format!("/admin/users/{uid}"),
        "/admin/tokens",
        "/units",
        "/",
        "/units/ux",
    ] {
        let r = app.get(Some(&s), path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        pages.push(r.text().await.unwrap());
    }
    // The audit log is the auditor's (三权分立).
    let auditor = app.session("auditor").await;
    pages.push(app.get(Some(&auditor), "/audit").await.text().await.unwrap());
    pages.push(app.get(None, "/").await.text().await.unwrap());
    for (i, body) in pages.iter().enumerate() {
        assert!(!body.contains("<script>alert"), "page {i} shows the payload unescaped");
    }
    assert!(pages.iter().any(|b| b.contains("&#60;script&#62;") || b.contains("&lt;script&gt;")), "the payload is shown, escaped");
}

async fn oversized_body_is_refused(app: TestApp) {
    let Some(small) = TestApp::start(app.db.backend, jixiao_web::WebConfig { max_body_bytes: 1024, ..Default::default() }).await else {
        return;
    };
    let s = small.session("admin").await;
    let big = "x".repeat(4096);
    let r = small.post(Some(&s), "/admin/groups", &[("id", "big"), ("name", &big)]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(small.store.groups().await.unwrap().iter().all(|g| g.id != "big"));
    // The API answers in JSON.
    let r = small
        .http
        .post(small.url("/api/v1/me"))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["error"]["code"].is_string(), "{v}");
}

async fn not_found_is_a_friendly_page(app: TestApp) {
    let r = app.get(None, "/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body = r.text().await.unwrap();
    assert!(body.contains("页面不存在") && body.contains("<html"), "{body}");
    let s = app.session("admin").await;
    let r = app.get(Some(&s), "/admin/users/999999").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body = r.text().await.unwrap();
    assert!(!body.contains("user 999999") && !body.contains("not found:"), "no internal detail: {body}");
}

async fn login_redirect_stays_on_site(app: TestApp) {
    let page = app.http.get(app.url("/login?next=//evil.example/x")).send().await.unwrap();
    let body = page.text().await.unwrap();
    assert!(!body.contains("evil.example"), "an off-site next is dropped");
    let r = app.get(None, "/admin/users?q=a").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fadmin%2Fusers%3Fq%3Da");
}

/// 三权分立: three administrators, each alone in its role; administrative roles only
/// from the command line; nobody changes their own roles; the audit log is read
/// only by those who may, and no route deletes or edits it.
async fn separation_of_duties(app: TestApp) {
    let admin = app.session("admin").await;
    let form = |roles: &[&'static str]| {
        let mut f = vec![("username", "newbie"), ("display_name", "新人"), ("unit", "u01"), ("password", "Fresh-2027-pw!")];
        f.extend(roles.iter().map(|r| (*r, "on")));
        f
    };
    for (roles, message) in [
        (&["role_admin"][..], "只能在服务器命令行授予"),
        (&["role_auditor"][..], "只能在服务器命令行授予"),
        (&["role_security", "role_office"][..], "不能与其他角色同时授予"),
    ] {
        let r = app.post(Some(&admin), "/admin/users", &form(roles)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{roles:?}");
        assert!(r.text().await.unwrap().contains(message), "{roles:?}: {message}");
        assert!(app.store.user_by_username("newbie").await.unwrap().is_none(), "nothing created");
    }
    // Business roles are the administrator's to give, to others.
    let r = app.post(Some(&admin), "/admin/users", &form(&["role_reporter", "role_staff"])).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // But not to itself: the administrator cannot make itself the office.
    let me = app.user_id("admin").await;
    let r = app.post(Some(&admin), &format!("/admin/users/{me}"), &[("display_name", "王磊"), ("role_office", "on")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("不能修改自己的角色"));
    let roles: Vec<String> = app.store.roles(me).await.unwrap().into_iter().map(|g| g.role).collect();
    assert_eq!(roles, ["admin"]);
    // The command line gives administrative roles, each alone.
    let cli = jixiao_app::Actor::system("cli", jixiao_core::org::Role::Admin);
    let tr = jixiao_app::Tr::default();
    let input = |username: &str, roles: Vec<jixiao_core::org::Role>| jixiao_app::accounts::AccountInput {
        username: username.into(),
        display_name: username.into(),
        password: "Second-2027-pw".into(),
        roles: roles.into_iter().map(|r| (r, String::new())).collect(),
        ..Default::default()
    };
    use jixiao_core::org::Role;
    let both = jixiao_app::accounts::create_user(&app.app, &cli, &tr, &input("sec2", vec![Role::Security, Role::Leader])).await.unwrap();
    assert!(both.unwrap_err()["roles"].contains("不能与其他角色同时授予"));
    let alone = jixiao_app::accounts::create_user(&app.app, &cli, &tr, &input("aud2", vec![Role::Auditor])).await.unwrap();
    assert!(alone.is_ok());

    // The auditor reads the audit log and nothing else; the administrator and the
    // security administrator do not read it.
    let auditor = app.session("auditor").await;
    let security = app.session("security").await;
    assert_eq!(app.get(Some(&auditor), "/audit").await.status(), StatusCode::OK);
    assert_eq!(app.get(Some(&auditor), "/api/v1/audit").await.status(), StatusCode::OK);
    for path in ["/units", "/scores", "/admin/users", "/admin/security", "/admin/settings", "/service/dispatch", "/api/v1/units"] {
        assert_eq!(app.get(Some(&auditor), path).await.status(), StatusCode::FORBIDDEN, "auditor {path}");
    }
    for (who, s) in [("admin", &admin), ("security", &security)] {
        assert_eq!(app.get(Some(s), "/audit").await.status(), StatusCode::FORBIDDEN, "{who}");
        assert_eq!(app.get(Some(s), "/api/v1/audit").await.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(app.get(Some(&security), "/admin/security").await.status(), StatusCode::OK);
    assert_eq!(app.get(Some(&security), "/admin/users").await.status(), StatusCode::FORBIDDEN);
    // No route changes the audit log: every route under it only reads.
    for route in jixiao_web::ROUTES.iter().filter(|r| r.path.contains("audit")) {
        assert_eq!(route.method, "GET", "{}", route.path);
    }
    for method in [reqwest::Method::DELETE, reqwest::Method::PUT, reqwest::Method::POST, reqwest::Method::PATCH] {
        let r = app
            .http
            .request(method.clone(), app.url("/audit"))
            .header("cookie", &auditor.cookie)
            .header("x-csrf-token", &auditor.csrf)
            .send()
            .await
            .unwrap();
        assert!(r.status() == StatusCode::METHOD_NOT_ALLOWED || r.status() == StatusCode::FORBIDDEN, "{method} /audit: {}", r.status());
    }
}
