//! Security events (等保 安全审计): each kind is performed through the router and its
//! audit entry checked — who, when, from where, what and the result — and identical
//! refusals are written once a minute, not once each.

use jixiao_store::{AuditEntry, AuditFilter};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{PASSWORD, TestApp, backend_tests};

backend_tests!(every_security_event_is_recorded, identical_refusals_are_coalesced);

/// The entries of `action`, oldest first.
async fn entries(app: &TestApp, action: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter { action: Some(action.into()), ..Default::default() };
    let (mut found, _) = app.store.search_audit(&filter, 0, 1000).await.unwrap();
    found.reverse();
    found
}

fn after(e: &AuditEntry) -> Value {
    serde_json::from_str(e.after_json.as_deref().unwrap()).unwrap()
}

async fn every_security_event_is_recorded(app: TestApp) {
    // Login failure of an unknown name: the name is cut (it may be a password typed in
    // the wrong field), the address and the result kept.
    let (r, session) = app.login("Secret-typed-here", "whatever-1A").await;
    assert!(session.is_none());
    assert_eq!(r.status(), StatusCode::OK);
    let failed = entries(&app, "auth.login_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0].actor.as_str(), failed[0].object_type.as_str(), failed[0].object_id.as_str()),
        ("anonymous", "security", "Secr…(17)")
    );
    assert_eq!(after(&failed[0])["ip"], "127.0.0.1");
    assert_eq!(after(&failed[0])["result"], "refused");
    let all = app.store.audit_entries(0, 10_000).await.unwrap();
    assert!(all.iter().all(|e| !format!("{e:?}").contains("Secret-typed-here")), "the typed name is not stored whole");

    // Wrong passwords of a known account, up to the lockout (5 by default), then success
    // elsewhere.
    for _ in 0..5 {
        app.login("reporter", "wrong-password").await;
    }
    let failed = entries(&app, "auth.login_failed").await;
    assert_eq!(failed.len(), 6);
    assert!(failed[1..].iter().all(|e| e.actor == "reporter" && e.object_id == "reporter" && after(e)["ip"] == "127.0.0.1"));
    assert!(after(&failed[5])["locked_until"].is_string(), "the fifth failure locks: {:?}", failed[5].after_json);
    app.login("reporter", PASSWORD).await;
    let refused = entries(&app, "auth.login_refused").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(after(&refused[0])["reason"], "locked");
    let (_, session) = app.login("office", PASSWORD).await;
    assert!(session.is_some());
    let ok = entries(&app, "auth.login").await;
    assert_eq!((ok.len(), ok[0].actor.as_str()), (1, "office"));
    assert_eq!(after(&ok[0])["ip"], "127.0.0.1");

    // Permission denied by the access rule.
    let reporter = app.session("reporter").await;
    assert_eq!(app.get(Some(&reporter), "/admin/users").await.status(), StatusCode::FORBIDDEN);
    let denied = entries(&app, "security.forbidden").await;
    assert_eq!(denied.len(), 1);
    assert_eq!((denied[0].actor.as_str(), denied[0].object_id.as_str()), ("reporter", "/admin/users"));
    assert_eq!(after(&denied[0])["result"], "refused");
    assert_eq!(after(&denied[0])["ip"], "127.0.0.1");
    assert_eq!(after(&denied[0])["detail"]["method"], "GET");

    // A CSRF refusal.
    let admin = app.session("admin").await;
    let r =
        app.http.post(app.url("/admin/groups")).header("cookie", &admin.cookie).form(&[("id", "g9"), ("name", "x")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = entries(&app, "security.csrf").await;
    assert_eq!((csrf.len(), csrf[0].actor.as_str(), csrf[0].object_id.as_str()), (1, "admin", "/admin/groups"));

    // A failed service query (the case number kept, never the password typed).
    let r = app.post(None, "/service/query", &[("case", "QK-2027-00999"), ("password", "guess-1234")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "the form again, with the one answer for both wrong");
    let query = entries(&app, "service.query_failed").await;
    assert_eq!((query.len(), query[0].object_id.as_str()), (1, "QK-2027-00999"));
    assert!(!query[0].after_json.as_deref().unwrap().contains("guess-1234"));

    // A role change and a setting change are audited by the change itself.
    let id = app.user_id("victim").await;
    let form = [("username", "victim"), ("display_name", "victim 用户"), ("unit", "u02"), ("language", "zh-CN"), ("role_leader", "on")];
    assert_eq!(app.post(Some(&admin), &format!("/admin/users/{id}"), &form).await.status(), StatusCode::SEE_OTHER);
    let update = entries(&app, "user.update").await;
    assert_eq!((update.len(), update[0].actor.as_str(), update[0].object_id.as_str()), (1, "admin", "victim"));
    assert!(update[0].before_json.as_deref().unwrap().contains("reporter") && after(&update[0])["roles"][0]["role"] == "leader");
    // The security policy is the security administrator's (三权分立).
    let policy = [
        ("security.lockout_threshold", "4"),
        ("security.lockout_minutes", "15"),
        ("security.session_idle_minutes", "30"),
        ("security.session_absolute_hours", "12"),
        ("identity.password_max_age_days", "90"),
    ];
    let security = app.session("security").await;
    assert_eq!(app.post(Some(&security), "/admin/security", &policy).await.status(), StatusCode::SEE_OTHER);
    let set = entries(&app, "setting.set").await;
    let lockout = set.iter().find(|e| e.object_id == "security.lockout_threshold").expect("the setting's entry");
    assert_eq!((lockout.actor.as_str(), lockout.after_json.as_deref()), ("security", Some("\"4\"")));

    // Rate limits: the login's (answered with the form) and any 429.
    let Some(small) = TestApp::start(
        app.db.backend,
        jixiao_web::WebConfig { login_attempts_per_minute: 1, query_attempts_per_minute: 1, ..Default::default() },
    )
    .await
    else {
        return;
    };
    small.login("nobody", "x-1").await;
    small.login("nobody", "x-2").await;
    let limited = entries(&small, "security.rate_limited").await;
    assert_eq!((limited.len(), limited[0].object_id.as_str()), (1, "/login"));
    small.post(None, "/service/query", &[("case", "QK-1"), ("password", "x")]).await;
    let r = small.post(None, "/service/query", &[("case", "QK-1"), ("password", "x")]).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let limited = entries(&small, "security.rate_limited").await;
    assert_eq!((limited.len(), limited[1].object_id.as_str()), (2, "/service/query"));
    assert_eq!(after(&limited[1])["result"], "refused");
    assert!(small.store.verify_audit().await.unwrap().is_intact());
}

/// A flood of identical refusals is one entry a minute; the next entry written says
/// how many were not.
async fn identical_refusals_are_coalesced(app: TestApp) {
    // The minute stands still until moved.
    app.app.clock.set(app.app.clock.now());
    let reporter = app.session("reporter").await;
    let before = app.store.audit_entries(0, 10_000).await.unwrap().len();
    for _ in 0..30 {
        assert_eq!(app.get(Some(&reporter), "/admin/users").await.status(), StatusCode::FORBIDDEN);
    }
    let denied = entries(&app, "security.forbidden").await;
    assert_eq!(denied.len(), 1, "30 identical refusals in a minute: one entry");
    assert_eq!(app.get(Some(&reporter), "/admin/units").await.status(), StatusCode::FORBIDDEN);
    let denied = entries(&app, "security.forbidden").await;
    assert_eq!(denied.len(), 2);
    assert_eq!(after(&denied[1])["not_written_before"], 29);
    assert_eq!(app.store.audit_entries(0, 10_000).await.unwrap().len(), before + 2);
    // The next minute, the same refusal is written again.
    app.app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(app.get(Some(&reporter), "/admin/users").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(entries(&app, "security.forbidden").await.len(), 3);
}
