//! Pages: role menus, the dashboard, language, the public front page, admin forms with
//! their errors, and that every change lands in the audit log.

use reqwest::StatusCode;

use crate::common::{TestApp, backend_tests};

backend_tests!(
    dashboard_counts_due_reports,
    menus_show_what_the_role_may_do,
    language_switch,
    public_home_lists_units,
    admin_creates_unit_and_audit_shows_it,
    times_are_shown_in_the_site_zone,
    form_errors_keep_input,
    lists_sort_filter_and_page
);

fn menu(html: &str) -> Vec<String> {
    let Some(start) = html.find("<ul id=\"menu\">") else { return Vec::new() };
    let end = html[start..].find("</ul>").map_or(html.len(), |e| start + e);
    html[start..end].split("href=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
}

async fn menus_show_what_the_role_may_do(app: TestApp) {
    let cases: [(&str, &[&str]); 6] = [
        (
            "admin",
            &[
                "/",
                "/units",
                "/scores",
                "/schemes",
                "/bulletins",
                "/records",
                "/admin/users",
                "/admin/units",
                "/admin/tokens",
                "/admin/settings",
                "/account",
            ],
        ),
        (
            "office",
            &[
                "/",
                "/units",
                "/scores",
                "/schemes",
                "/reports",
                "/bulletins",
                "/records",
                "/periods",
                "/supervision/dashboard",
                "/supervision",
                "/service/dispatch",
                "/service/categories",
                "/service/outbox",
                "/service/keys",
                "/audit",
                "/account",
            ],
        ),
        (
            "leader",
            &[
                "/",
                "/units",
                "/scores",
                "/schemes",
                "/bulletins",
                "/records",
                "/supervision/dashboard",
                "/supervision",
                "/audit",
                "/account",
            ],
        ),
        ("security", &["/", "/bulletins", "/admin/security", "/account"]),
        ("auditor", &["/", "/bulletins", "/audit", "/account"]),
        (
            "reporter",
            &["/", "/units", "/scores", "/schemes", "/reports", "/bulletins", "/records", "/supervision", "/service/queue", "/account"],
        ),
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
    assert!(body.contains("href=\"/service\"") && body.contains("href=\"/service/query\""), "the way to the service platform");
}

async fn admin_creates_unit_and_audit_shows_it(app: TestApp) {
    let s = app.session("admin").await;
    let r = app.post(Some(&s), "/admin/units", &[("id", "s02"), ("name", "汉水街道"), ("group", "street"), ("sort_order", "9")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/units?flash=unit_created");
    let unit = app.store.unit("s02").await.unwrap();
    assert_eq!((unit.name.as_str(), unit.group_id.as_str(), unit.sort_order), ("汉水街道", "street", 9));
    assert_eq!(app.get(Some(&s), "/audit").await.status(), StatusCode::FORBIDDEN, "not the administrator's to read");
    let auditor = app.session("auditor").await;
    let audit = app.get(Some(&auditor), "/audit?action=unit").await.text().await.unwrap();
    assert!(audit.contains("unit.add") && audit.contains("汉水街道"), "the audit log shows the change");
    // Disable, never delete.
    let r = app.post(Some(&s), "/admin/units/s02/disable", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.unit("s02").await.unwrap().disabled);
    assert!(!app.get(None, "/").await.text().await.unwrap().contains("汉水街道"), "a disabled unit leaves the public list");
    let report = app.store.verify_audit().await.unwrap();
    assert!(report.is_intact());
}

/// Every time shown is in the site's zone (default Asia/Shanghai), whatever the
/// server's own zone: an act at 02:00 UTC reads 10:00.
async fn times_are_shown_in_the_site_zone(app: TestApp) {
    app.app.clock.set("2027-03-10T02:00:00Z".parse().unwrap());
    // Passwords set on that day, so that none has expired on the moved clock.
    sqlx::query("UPDATE users SET password_changed_at = $1").bind("2027-03-10T02:00:00Z").execute(app.store.pool()).await.unwrap();
    let s = app.session("admin").await;
    let r = app.post(Some(&s), "/admin/units", &[("id", "s02"), ("name", "汉水街道"), ("group", "street"), ("sort_order", "9")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let auditor = app.session("auditor").await;
    let audit = app.get(Some(&auditor), "/audit?action=unit").await.text().await.unwrap();
    assert!(audit.contains("2027-03-10 10:00"), "shown in Beijing time: {audit}");
    assert!(!audit.contains("2027-03-10 02:00"), "never in UTC");
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
    let security = app.session("security").await;
    let r = app.post(Some(&security), "/admin/security", &[("security.lockout_threshold", "0")]).await;
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
    let auditor = app.session("auditor").await;
    let body = app.get(Some(&auditor), "/audit").await.text().await.unwrap();
    assert!(body.contains("共 ") && body.contains("条"), "a pager");
    let body = app.get(Some(&auditor), "/audit?from=2027-13-01").await.text().await.unwrap();
    assert!(body.contains("不是日期") && body.contains("2027-13-01"), "a bad filter is named");
}

/// The dashboard's due month is the previous calendar month; its counts follow the
/// scheme's assignments and the entries, and move when an entry arrives.
async fn dashboard_counts_due_reports(app: TestApp) {
    use chrono::Datelike;
    let today = app.app.clock.today();
    let (year, month) = if today.month() == 1 { (today.year() - 1, 12) } else { (today.year(), today.month() - 1) };
    let scheme: jixiao_core::scheme::SchemeFile = serde_json::from_value(serde_json::json!({
        "year": year, "name": "测试方案",
        "groups": [{"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"}],
        "units": [{"id": "u01", "name": "区发改局", "group": "dept"}, {"id": "u02", "name": "区财政局", "group": "dept"},
                  {"id": "s01", "name": "城关街道", "group": "street"}],
        "grades": [{"name": "合格"}],
        "tree": [{"id": "A", "name": "职能履行", "points": 10, "children": [
            {"id": "A1", "name": "月度指标", "points": 5, "fields": [{"key": "v", "name": "值"}], "formula": "min(v, points)",
             "assign": [{"group": "dept"}]},
            {"id": "A2", "name": "季度指标", "points": 5, "frequency": "quarterly", "fields": [{"key": "v", "name": "值"}],
             "formula": "min(v, points)", "assign": [{"group": "dept"}, {"group": "street"}]}]}]
    }))
    .unwrap();
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.import_scheme(&mut tx, &scheme, "test").await.unwrap();
    tx.audit("scheme.import", "scheme", &year.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    let quarterly_due = month % 3 == 0;
    let due_u01 = 1 + usize::from(quarterly_due);
    let office = app.session("office").await;
    let body = app.get(Some(&office), "/").await.text().await.unwrap();
    assert!(body.contains(&format!("id=\"due-month\">{year}-{month:02}<")), "the due month");
    assert!(
        body.contains("id=\"complete-units\">0 / 3<") || (!quarterly_due && body.contains("id=\"complete-units\">1 / 3<")),
        "s01 has nothing due outside quarter ends"
    );
    let row = |html: &str, unit: &str| -> (usize, usize) {
        let i = html.find(&format!("/units/{unit}\"")).unwrap_or_else(|| panic!("{unit} row"));
        let nums: Vec<usize> =
            html[i..].split("class=\"num\">").skip(1).take(2).map(|s| s[..s.find('<').unwrap()].parse().unwrap()).collect();
        (nums[0], nums[1])
    };
    assert_eq!(row(&body, "u01"), (due_u01, 0));
    let entry = jixiao_core::data::EntryRow {
        unit: "u01".into(),
        indicator: "A1".into(),
        month: format!("{year}-{month:02}"),
        values: serde_json::from_value(serde_json::json!({"v": 3})).unwrap(),
    };
    let mut tx = app.store.begin("test").await.unwrap();
    app.store.upsert_entry(&mut tx, year, &entry, None).await.unwrap();
    tx.audit("entry.update", "entry", "u01/A1", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let body = app.get(Some(&office), "/").await.text().await.unwrap();
    assert_eq!(row(&body, "u01"), (due_u01, 1), "the new entry counts at once");
    // A reporter sees only its unit, and a reminder in the last days before the
    // deadline (the 15th of this month) or after it while something is missing.
    let reporter = app.session("reporter").await;
    let body = app.get(Some(&reporter), "/").await.text().await.unwrap();
    assert!(body.contains("/units/u01\"") && !body.contains("/units/u02\""));
    let days_left = 15 - i64::from(today.day());
    let open = due_u01 - 1;
    let reminded = body.contains("id=\"reminder\"");
    assert_eq!(reminded, open > 0 && days_left <= 5, "days left {days_left}, open {open}");
}
