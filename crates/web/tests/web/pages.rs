//! Pages: role menus, the dashboard, language, the public front page, admin forms with
//! their errors, and that every change lands in the audit log.

use reqwest::StatusCode;

use crate::common::{TestApp, backend_tests};

backend_tests!(menus_show_what_the_role_may_do, language_switch, public_home_lists_units, admin_creates_unit_and_audit_shows_it, form_errors_keep_input, lists_sort_filter_and_page);

fn menu(html: &str) -> Vec<String> {
    let Some(start) = html.find("<ul id=\"menu\">") else { return Vec::new() };
    let end = html[start..].find("</ul>").map_or(html.len(), |e| start + e);
    html[start..end].split("href=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
}

async fn menus_show_what_the_role_may_do(app: TestApp) {
    let cases: [(&str, &[&str]); 4] = [
        ("admin", &["/", "/units", "/audit", "/admin/users", "/admin/units", "/admin/tokens", "/admin/settings", "/account"]),
        ("office", &["/", "/units", "/audit", "/account"]),
        ("leader", &["/", "/units", "/audit", "/account"]),
        ("reporter", &["/", "/units", "/account"]),
    ];
    for (role, expected) in cases {
        let s = app.session(role).await;
        let body = app.get(Some(&s), "/").await.text().await.unwrap();
        assert_eq!(menu(&body), *expected, "{role}");
        // Every menu entry opens for that role.
        for href in expected {
            assert_eq!(app.get(Some(&s), href).await.status(), StatusCode::OK, "{role} {href}");
        }
    }
    let s = app.session("reporter").await;
    let body = app.get(Some(&s), "/").await.text().await.unwrap();
    assert!(body.contains("区发改局"), "the header names the user's unit");
    assert!(body.contains("单位填报员"), "and the role");
}

async fn language_switch(app: TestApp) {
    let s = app.session("office").await;
    assert!(app.get(Some(&s), "/units").await.text().await.unwrap().contains("被考核单位"));
    let r = app.post(Some(&s), "/language", &[("lang", "en"), ("back", "/units")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/units");
    let body = app.get(Some(&s), "/units").await.text().await.unwrap();
    assert!(body.contains("Units under assessment") && body.contains("<html lang=\"en\">"), "English after the switch");
    let user = app.store.user_by_username("office").await.unwrap().unwrap();
    assert_eq!(user.language, "en", "kept on the account");
    let r = app.post(Some(&s), "/language", &[("lang", "klingon")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Before login: a cookie, and the browser's preference.
    let r = app.http.get(app.url("/login")).header("accept-language", "en-US,en;q=0.9").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("Log in"));
    let r = app.http.get(app.url("/login")).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("用户登录"), "Chinese by default");
}

async fn public_home_lists_units(app: TestApp) {
    let body = app.get(None, "/").await.text().await.unwrap();
    assert_eq!(body.matches("class=\"unit\"").count(), 3);
    assert!(body.contains("<strong id=\"unit-count\">3</strong>"));
    assert!(body.contains("城关街道"));
}

async fn admin_creates_unit_and_audit_shows_it(app: TestApp) {
    let s = app.session("admin").await;
    let r = app.post(Some(&s), "/admin/units", &[("id", "s02"), ("name", "汉水街道"), ("group", "street"), ("sort_order", "9")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/units?flash=unit_created");
    let unit = app.store.unit("s02").await.unwrap();
    assert_eq!((unit.name.as_str(), unit.group_id.as_str(), unit.sort_order), ("汉水街道", "street", 9));
    let audit = app.get(Some(&s), "/audit?action=unit").await.text().await.unwrap();
    assert!(audit.contains("unit.add") && audit.contains("汉水街道"), "the audit log shows the change");
    // Disable, never delete.
    let r = app.post(Some(&s), "/admin/units/s02/disable", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.unit("s02").await.unwrap().disabled);
    assert!(!app.get(None, "/").await.text().await.unwrap().contains("汉水街道"), "a disabled unit leaves the public list");
    let report = app.store.verify_audit().await.unwrap();
    assert!(report.is_intact());
}

async fn form_errors_keep_input(app: TestApp) {
    let s = app.session("admin").await;
    let r = app.post(Some(&s), "/admin/units", &[("id", "u01"), ("name", "重复单位"), ("group", "nogroup"), ("sort_order", "x")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    for message in ["该编码已被使用", "请选择一个启用中的考核类别", "请输入整数"] {
        assert!(body.contains(message), "{message}");
    }
    assert!(body.contains("value=\"重复单位\""), "what was typed stays");
    assert_eq!(app.store.unit("u01").await.unwrap().name, "区发改局", "nothing changed");
    let r = app.post(Some(&s), "/admin/users", &[("username", "new one"), ("display_name", ""), ("password", "weak")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    for message in ["不能包含空格", "此项必填", "至少需要 8 个字符", "请至少选择一个角色"] {
        assert!(body.contains(message), "{message}");
    }
    let r = app.post(Some(&s), "/admin/settings", &[("security.lockout_threshold", "0")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(app.store.setting("security.lockout_threshold").await.unwrap().is_none(), "nothing saved");
}

async fn lists_sort_filter_and_page(app: TestApp) {
    let s = app.session("admin").await;
    let body = app.get(Some(&s), "/units?sort=name&dir=desc").await.text().await.unwrap();
    let pos = |name: &str| body.find(name).unwrap();
    assert!(pos("城关街道") < pos("区财政局") && pos("区财政局") < pos("区发改局"), "descending by name (code-point order)");
    let body = app.get(Some(&s), "/units?q=街道").await.text().await.unwrap();
    assert!(body.contains("城关街道") && !body.contains("区发改局"));
    let body = app.get(Some(&s), "/units?q=nothing-matches").await.text().await.unwrap();
    assert!(body.contains("暂无数据"), "an empty state");
    let body = app.get(Some(&s), "/audit").await.text().await.unwrap();
    assert!(body.contains("共 ") && body.contains("条"), "a pager");
    let body = app.get(Some(&s), "/audit?from=2027-13-01").await.text().await.unwrap();
    assert!(body.contains("is not a date"), "a bad filter is named");
}
