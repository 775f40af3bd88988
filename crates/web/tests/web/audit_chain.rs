//! The audit chain on the audit page: checked on request (intact, or the first bad
//! entry after tampering done with plain SQL), the archive download that checks out
//! offline, and the retention setting that refuses less than 180 days.

use jixiao_core::org::Role;
use reqwest::StatusCode;

use crate::common::{TestApp, backend_tests};

backend_tests!(the_audit_page_checks_the_chain, archives_and_retention);

async fn the_audit_page_checks_the_chain(app: TestApp) {
    let office = app.session("office").await;
    let html = app.get(Some(&office), "/audit?verify=1").await.text().await.unwrap();
    assert!(html.contains("id=\"audit-check\"") && html.contains("审计链完好"), "{html}");
    let n = app.store.audit_head().await.unwrap().unwrap().0;

    // The last two entries removed: found through the anchor outside the database.
    app.db.drop_audit_triggers(&app.store).await;
    app.db.raw(&app.store, &format!("DELETE FROM audit_log WHERE seq > {}", n - 2)).await;
    let html = app.get(Some(&office), "/audit?verify=1").await.text().await.unwrap();
    assert!(html.contains(&format!("审计链已被破坏：第 {} 条起不可信", n - 1)), "{html}");

    // Every entry removed.
    app.db.raw(&app.store, "DELETE FROM audit_log").await;
    let html = app.get(Some(&office), "/audit?verify=1").await.text().await.unwrap();
    assert!(html.contains("审计链已被破坏：第 1 条起不可信"), "{html}");
}

async fn archives_and_retention(app: TestApp) {
    let office = app.session("office").await;
    let r = app.get(Some(&office), "/audit/archive").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("jixiao-audit-1-"));
    let text = r.text().await.unwrap();
    let keys = jixiao_store::Keys::for_tests();
    let n = jixiao_store::check_archive(&text, &keys).unwrap();
    assert!(n >= 2, "the seed and the session: {n}");
    // The export is audited.
    let (exports, _) = app
        .store
        .search_audit(&jixiao_store::AuditFilter { action: Some("audit.export".into()), ..Default::default() }, 0, 10)
        .await
        .unwrap();
    assert_eq!((exports.len(), exports[0].actor.as_str()), (1, "office"));
    // Days with no entries: an empty archive, still checkable.
    let r = app.get(Some(&office), "/audit/archive?from=2001-01-01&until=2001-01-02").await;
    assert_eq!(jixiao_store::check_archive(&r.text().await.unwrap(), &keys), Ok(0));
    // A day that is no date: refused, naming it.
    let r = app.get(Some(&office), "/audit/archive?from=2027-13-01").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Retention: 180 days by default, less refused, more kept; shown on the page.
    assert_eq!(jixiao_app::audit::retention_days(&app.app).await.unwrap(), 180);
    let admin = jixiao_app::Actor::system("admin", Role::Admin);
    let tr = jixiao_app::Tr::new(jixiao_app::Lang::default());
    let err = jixiao_app::audit::set_retention(&app.app, &admin, &tr, 179).await.unwrap_err();
    assert!(err.to_string().contains("179 天不符合要求"), "{err}");
    jixiao_app::audit::set_retention(&app.app, &admin, &tr, 365).await.unwrap();
    assert_eq!(jixiao_app::audit::retention_days(&app.app).await.unwrap(), 365);
    let office_actor = jixiao_app::Actor::system("office", Role::Office);
    assert!(matches!(jixiao_app::audit::set_retention(&app.app, &office_actor, &tr, 400).await, Err(jixiao_app::AppError::Forbidden)));
    let html = app.get(Some(&office), "/audit").await.text().await.unwrap();
    assert!(html.contains("审计记录保存 365 天"), "{html}");
}
