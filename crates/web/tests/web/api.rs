//! The JSON API: authentication by token and session, errors, pagination, scope,
//! and the OpenAPI document covering every API route.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{TestApp, backend_tests};

backend_tests!(entries_api, errors_are_json, token_lifecycle, paging_and_scope, openapi_lists_every_api_route, audit_api_filters);

async fn errors_are_json(app: TestApp) {
    let r = app.get(None, "/api/v1/users").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unauthenticated");
    assert!(v["error"]["message"].is_string() && v["error"].get("details").is_some());
    let s = app.session("reporter").await;
    let r = app.get(Some(&s), "/api/v1/users").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "forbidden");
    let r = app.get(Some(&s), "/api/v1/nothing").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "not_found");
    let a = app.session("admin").await;
    let r = app.get(Some(&a), "/api/v1/users/not-a-number").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "invalid");
    let r = app.get(Some(&a), "/api/v1/users/424242").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.http.get(app.url("/api/v1/me")).header("authorization", "Bearer jx_wrong").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"jixiao\"");
}

async fn token_lifecycle(app: TestApp) {
    let admin = app.session("admin").await;
    // 三权分立: a token acts at most as its maker — the administrator cannot make a
    // reporter's (or the office's) token, only one in its own role; the command line
    // makes any.
    for (role, unit) in [("reporter", "u01"), ("office", "")] {
        let r = app.post(Some(&admin), "/admin/tokens", &[("name", "越权"), ("role", role), ("unit", unit)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{role}");
        assert!(r.text().await.unwrap().contains("不能创建比自己权限更高的令牌"), "{role}");
    }
    let r = app.post(Some(&admin), "/admin/tokens", &[("name", "管理推送"), ("role", "admin")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let start = body.find("id=\"token-secret\">").unwrap() + "id=\"token-secret\">".len();
    assert!(body[start..].starts_with("jx_"), "shown once on the page");
    let secret = cli_token(&app, "统计推送", "reporter", "u01").await;
    assert!(secret.starts_with("jx_"));
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(app.store.pool()).await.unwrap();
    assert!(!stored.contains(&secret), "only the hash is stored");
    let call = |path: &'static str| {
        let http = app.http.clone();
        let url = app.url(path);
        let secret = secret.clone();
        async move { http.get(url).header("authorization", format!("Bearer {secret}")).send().await.unwrap() }
    };
    let me: Value = call("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["actor"], "api:统计推送");
    assert_eq!(me["roles"][0]["scope"], serde_json::json!({"units": ["u01"]}));
    assert_eq!(call("/api/v1/units/u01").await.status(), StatusCode::OK);
    assert_eq!(call("/api/v1/units/u02").await.status(), StatusCode::FORBIDDEN, "scoped to its unit");
    assert_eq!(call("/api/v1/users").await.status(), StatusCode::FORBIDDEN, "and to its role");
    let token = app.store.tokens().await.unwrap().into_iter().find(|t| t.name == "统计推送").unwrap();
    assert!(token.last_used_at.is_some(), "last use recorded");
    // A token needs no CSRF token: it is not a cookie.
    let r = app.http.post(app.url("/logout")).header("authorization", format!("Bearer {secret}")).send().await.unwrap();
    assert_ne!(r.status(), StatusCode::FORBIDDEN);
    let r = app.post(Some(&admin), &format!("/admin/tokens/{}/revoke", token.id), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(call("/api/v1/me").await.status(), StatusCode::UNAUTHORIZED, "revoked for good");
    let r = app.post(Some(&admin), &format!("/admin/tokens/{}/revoke", token.id), &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "revoking twice is refused");
}

async fn paging_and_scope(app: TestApp) {
    let s = app.session("reporter").await;
    let v: Value = app.get(Some(&s), "/api/v1/units?per_page=2").await.json().await.unwrap();
    assert_eq!((v["total"].as_u64(), v["page"].as_u64(), v["per_page"].as_u64()), (Some(3), Some(1), Some(2)));
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    let v: Value = app.get(Some(&s), "/api/v1/units?per_page=2&page=2").await.json().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    let v: Value = app.get(Some(&s), "/api/v1/units?per_page=100000").await.json().await.unwrap();
    assert_eq!(v["per_page"], 500, "bounded");
    assert_eq!(app.get(Some(&s), "/api/v1/units/u01").await.status(), StatusCode::OK);
    assert_eq!(app.get(Some(&s), "/api/v1/units/u02").await.status(), StatusCode::FORBIDDEN);
    let unit: Value = app.get(Some(&s), "/api/v1/units/u01").await.json().await.unwrap();
    assert_eq!(unit["name"], "区发改局");
}

async fn openapi_lists_every_api_route(app: TestApp) {
    let doc: Value = app.get(None, "/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for route in jixiao_web::ROUTES.iter().filter(|r| r.path.starts_with("/api/v1/") && r.path != "/api/v1/openapi.json") {
        let entry = paths.get(route.path).unwrap_or_else(|| panic!("{} is not in the OpenAPI document", route.path));
        assert!(entry.get(route.method.to_lowercase()).is_some(), "{} {}", route.method, route.path);
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // What OpenAPI 3 requires and validators check (CI also runs openapi-spec-validator):
    // every response described, every operationId unique.
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} repeats ({method} {path})");
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{method} {path} {status}: no description");
            }
        }
    }
}

async fn audit_api_filters(app: TestApp) {
    let s = app.session("office").await;
    let v: Value = app.get(Some(&s), "/api/v1/audit?action=test").await.json().await.unwrap();
    assert!(v["total"].as_u64().unwrap() >= 2);
    assert!(v["items"].as_array().unwrap().iter().all(|e| e["action"].as_str().unwrap().starts_with("test.")));
    let v: Value = app.get(Some(&s), "/api/v1/audit?actor=nobody").await.json().await.unwrap();
    assert_eq!(v["total"], 0);
    let r = app.get(Some(&s), "/api/v1/audit?from=yesterday").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("from"));
}

/// Entries through the API: a reporter's token saves and submits, the workflow and
/// versions hold as in the form, errors are JSON with details.
async fn entries_api(app: TestApp) {
    crate::report::seed(&app).await;
    let token = cli_token(&app, "推送", "reporter", "u01").await;
    let send = |path: &str, json: serde_json::Value| {
        app.http.post(app.url(path)).header("authorization", format!("Bearer {token}")).json(&json).send()
    };
    let url = "/api/v1/units/u01/entries/A1/2027-03";
    let r = send(url, serde_json::json!({"values": {"actual": 20}})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["state"].as_str(), v["version"].as_i64()), (Some("draft"), Some(1)));
    // A stale version is a conflict, with the current version in the details.
    let r = send(url, serde_json::json!({"values": {"actual": 21}, "version": null})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "conflict");
    assert_eq!(v["error"]["details"][0]["current_version"], 1);
    // Bad values name the field; nothing changes.
    let r = send(url, serde_json::json!({"values": {"actual": -5}, "version": 1})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["details"][0]["field"], "actual");
    let r = send(url, serde_json::json!({"values": {"nope": 1}, "version": 1})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = send(url, serde_json::json!({"valuez": {}})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "unknown keys are refused");
    let r = send(url, serde_json::json!({"step": "submit", "version": 1})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "submitted");
    // The reporter's token cannot approve, nor touch another unit.
    let r = send(url, serde_json::json!({"step": "approve", "version": 2})).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = send("/api/v1/units/u02/entries/A1/2027-03", serde_json::json!({"values": {"actual": 1}})).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Reading: the month, what is due, the entry with its state and version.
    let r = app
        .http
        .get(app.url("/api/v1/units/u01/entries?month=2027-03"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["due"], serde_json::json!(["A1"]));
    assert_eq!(v["entries"][0]["state"], "submitted");
    assert_eq!(v["entries"][0]["values"]["actual"], 20.0);
    let r = app
        .http
        .get(app.url("/api/v1/units/u01/entries?month=March"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A browser session needs the CSRF header for the same call.
    let s = app.session("reporter").await;
    let r = app.http.post(app.url(url)).header("cookie", &s.cookie).json(&serde_json::json!({"step": "submit"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "csrf");
}

/// A token made from the command line (which may make one in any role).
async fn cli_token(app: &TestApp, name: &str, role: &str, unit: &str) -> String {
    let cli = jixiao_app::Actor::system("cli", jixiao_core::org::Role::Admin);
    let made = jixiao_app::accounts::create_token(&app.app, &cli, &jixiao_app::Tr::default(), name, role, unit).await.unwrap();
    made.unwrap().1
}
