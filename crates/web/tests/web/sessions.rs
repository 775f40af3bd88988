//! Sessions: rotation at login, idle and absolute expiry, logout, logout everywhere,
//! password change and the administrator's reset.

use reqwest::StatusCode;

use crate::common::{PASSWORD, Session, TestApp, backend_tests};

backend_tests!(
    login_rotates_and_logout_ends,
    idle_and_absolute_expiry,
    logout_everywhere_ends_all_sessions,
    password_change_policy_and_reset,
    disabled_account_cannot_sign_in,
    common_reused_and_expired_passwords,
    security_settings_stay_in_compliant_ranges
);

fn cookie(secret: &str) -> Session {
    Session { cookie: format!("jx_session={secret}"), csrf: String::new() }
}

async fn signed_in(app: &TestApp, session: &Session) -> bool {
    app.get(Some(session), "/account").await.status() == StatusCode::OK
}

async fn login_rotates_and_logout_ends(app: TestApp) {
    let (_, first) = app.login("office", PASSWORD).await;
    let first = first.expect("signed in");
    let (_, second) = app.login("office", PASSWORD).await;
    let second = second.expect("signed in");
    assert_ne!(first, second, "each login gets a new session id");
    let db_ids: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions").fetch_all(app.store.pool()).await.unwrap();
    assert!(!db_ids.contains(&first) && !db_ids.contains(&second), "only hashes are stored");
    let s = cookie(&second);
    assert!(signed_in(&app, &s).await);
    // Logout needs the session's CSRF token from a page.
    let page = app.get(Some(&s), "/account").await.text().await.unwrap();
    let csrf = crate::common::hidden_csrf(&page).unwrap();
    let s = Session { csrf, ..s };
    let r = app.post(Some(&s), "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in(&app, &s).await, "the session is over after logout");
    assert!(signed_in(&app, &cookie(&first)).await, "another session of the same user stays");
}

async fn idle_and_absolute_expiry(app: TestApp) {
    let idle = app.session("leader").await;
    let absolute = app.session("leader").await;
    let fresh = app.session("leader").await;
    assert!(signed_in(&app, &idle).await && signed_in(&app, &absolute).await);
    let long_ago = jixiao_store::timestamp(chrono::Utc::now() - chrono::Duration::minutes(31));
    let hash = |s: &Session| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(s.cookie.trim_start_matches("jx_session=").as_bytes()))
    };
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(&long_ago)
        .bind(hash(&idle))
        .execute(app.store.pool())
        .await
        .unwrap();
    let past = jixiao_store::timestamp(chrono::Utc::now() - chrono::Duration::seconds(1));
    sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id = $2")
        .bind(&past)
        .bind(hash(&absolute))
        .execute(app.store.pool())
        .await
        .unwrap();
    let r = app.get(Some(&idle), "/account").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "idle for 31 minutes (policy 30): back to login");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
    assert!(!signed_in(&app, &absolute).await, "past the absolute expiry");
    assert!(signed_in(&app, &fresh).await);
    // The policy is the security administrator's: a shorter idle time ends a session idle
    // for 20 minutes, which the default 30 keeps.
    let quiet = app.session("leader").await;
    let twenty_ago = jixiao_store::timestamp(chrono::Utc::now() - chrono::Duration::minutes(20));
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(&twenty_ago)
        .bind(hash(&quiet))
        .execute(app.store.pool())
        .await
        .unwrap();
    let security = app.session("security").await;
    let r = app
        .post(
            Some(&security),
            "/admin/security",
            &[
                ("security.lockout_threshold", "5"),
                ("security.lockout_minutes", "15"),
                ("security.session_idle_minutes", "15"),
                ("security.session_absolute_hours", "12"),
                ("identity.password_max_age_days", "90"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await; // the policy cache lives 5 s
    assert!(!signed_in(&app, &quiet).await, "idle 20 minutes is over a 15-minute policy");
    assert!(!signed_in(&app, &absolute).await);
}

async fn logout_everywhere_ends_all_sessions(app: TestApp) {
    let a = app.session("head").await;
    let b = app.session("head").await;
    let other_user = app.session("reporter").await;
    let r = app.post(Some(&a), "/logout-all", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in(&app, &a).await && !signed_in(&app, &b).await);
    assert!(signed_in(&app, &other_user).await);
}

async fn password_change_policy_and_reset(app: TestApp) {
    let s = app.session("staff").await;
    let other = app.session("staff").await;
    let cases = [
        (PASSWORD, "short1A", "short1A", "至少需要 8 个字符"),
        (PASSWORD, "alllowercase1", "alllowercase1", "至少三类"),
        (PASSWORD, "Staff-2027-x", "Staff-2027-x", "不得包含用户名"),
        (PASSWORD, "Good-2027-pass", "Good-2027-other", "不一致"),
        ("wrong-current", "Good-2027-pass", "Good-2027-pass", "当前密码不正确"),
    ];
    for (current, new, repeat, message) in cases {
        let r = app.post(Some(&s), "/account/password", &[("current", current), ("new", new), ("repeat", repeat)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{new}");
        assert!(r.text().await.unwrap().contains(message), "{new}: {message}");
    }
    let r =
        app.post(Some(&s), "/account/password", &[("current", PASSWORD), ("new", "Good-2027-pass"), ("repeat", "Good-2027-pass")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let renewed = crate::common::set_cookie(&r, "jx_session").expect("a new session for this browser");
    assert!(signed_in(&app, &cookie(&renewed)).await);
    assert!(!signed_in(&app, &other).await, "other sessions end with a password change");
    assert!(app.login("staff", PASSWORD).await.1.is_none());
    assert!(app.login("staff", "Good-2027-pass").await.1.is_some());

    // The administrator's reset: sessions end, the user must choose a new password.
    let admin = app.session("admin").await;
    let id = app.user_id("staff").await;
    let r = app.post(Some(&admin), &format!("/admin/users/{id}/password"), &[("password", "Reset-2027-pass")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (r, session) = app.login("staff", "Reset-2027-pass").await;
    assert_eq!(r.headers()["location"], "/account?flash=must_change_password");
    let s = cookie(&session.unwrap());
    let r = app.get(Some(&s), "/units").await;
    assert_eq!(r.headers()["location"], "/account?flash=must_change_password", "nothing else opens until changed");
}

async fn disabled_account_cannot_sign_in(app: TestApp) {
    let before = app.session("victim").await;
    let admin = app.session("admin").await;
    let id = app.user_id("victim").await;
    let r = app.post(Some(&admin), &format!("/admin/users/{id}/disable"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in(&app, &before).await, "disabling ends the sessions");
    let (r, session) = app.login("victim", PASSWORD).await;
    assert!(session.is_none());
    assert!(r.text().await.unwrap().contains("已停用"));
    // An administrator cannot disable themselves.
    let me = app.user_id("admin").await;
    let r = app.post(Some(&admin), &format!("/admin/users/{me}/disable"), &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// 身份鉴别: a common password is refused whatever its complexity, the last five are
/// not used again, and a password past its lifetime (90 days) must change first.
async fn common_reused_and_expired_passwords(app: TestApp) {
    let mut s = app.session("staff").await;
    for common in ["Password1", "Aa123456"] {
        let r = app.post(Some(&s), "/account/password", &[("current", PASSWORD), ("new", common), ("repeat", common)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{common}");
        assert!(r.text().await.unwrap().contains("最常见的密码之一"), "{common}");
    }
    // Through five passwords; then each of the last five is refused, the first
    // (now sixth) is accepted again.
    let mut current = PASSWORD.to_string();
    for n in 1..=4 {
        let new = format!("Round-{n}-2027-pw");
        let r = app.post(Some(&s), "/account/password", &[("current", &current), ("new", &new), ("repeat", &new)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "change {n}");
        s = Session { cookie: format!("jx_session={}", crate::common::set_cookie(&r, "jx_session").unwrap()), csrf: String::new() };
        let page = app.get(Some(&s), "/account").await.text().await.unwrap();
        s.csrf = crate::common::hidden_csrf(&page).unwrap();
        current = new;
    }
    for old in [PASSWORD, "Round-1-2027-pw", "Round-3-2027-pw"] {
        let r = app.post(Some(&s), "/account/password", &[("current", &current), ("new", old), ("repeat", old)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{old}");
        assert!(r.text().await.unwrap().contains("最近 5 次"), "{old}");
    }
    assert!(app.login("staff", &current).await.1.is_some(), "nothing changed");

    // Expiry: a password set 91 days ago.
    let old = jixiao_store::timestamp(chrono::Utc::now() - chrono::Duration::days(91));
    sqlx::query("UPDATE users SET password_changed_at = $1 WHERE username = 'reporter'")
        .bind(&old)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (r, session) = app.login("reporter", PASSWORD).await;
    assert_eq!(r.headers()["location"], "/account?flash=must_change_password");
    let s = cookie(&session.unwrap());
    assert_eq!(app.get(Some(&s), "/units").await.headers()["location"], "/account?flash=must_change_password");
    assert_eq!(app.get(Some(&s), "/api/v1/units").await.status(), StatusCode::FORBIDDEN, "the API too");
    let page = app.get(Some(&s), "/account").await.text().await.unwrap();
    assert!(page.contains("已超过有效期"), "the page says why");
    let s = Session { csrf: crate::common::hidden_csrf(&page).unwrap(), ..s };
    let r = app.post(Some(&s), "/account/password", &[("current", PASSWORD), ("new", "Fresh-2027-pw"), ("repeat", "Fresh-2027-pw")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let fresh = cookie(&crate::common::set_cookie(&r, "jx_session").unwrap());
    assert_eq!(app.get(Some(&fresh), "/units").await.status(), StatusCode::OK, "a new password opens everything again");
}

/// 身份鉴别: the policy cannot be set out of compliant ranges (100 tries, a day
/// idle); the refusal names the field and saves nothing.
async fn security_settings_stay_in_compliant_ranges(app: TestApp) {
    let admin = app.session("security").await;
    let good = [
        ("security.lockout_threshold", "5"),
        ("security.lockout_minutes", "15"),
        ("security.session_idle_minutes", "30"),
        ("security.session_absolute_hours", "12"),
        ("identity.password_max_age_days", "90"),
    ];
    let cases = [
        ("security.lockout_threshold", "100", "连续登录失败锁定次数：请输入 3 到 10 之间的整数"),
        ("security.lockout_threshold", "1", "连续登录失败锁定次数：请输入 3 到 10 之间的整数"),
        ("security.lockout_minutes", "1", "锁定时长（分钟）：请输入 10 到 1440 之间的整数"),
        ("security.session_idle_minutes", "1440", "会话空闲超时（分钟）：请输入 5 到 30 之间的整数"),
        ("security.session_absolute_hours", "720", "会话最长有效期（小时）：请输入 1 到 24 之间的整数"),
        ("identity.password_max_age_days", "365", "密码有效期（天）：请输入 7 到 90 之间的整数"),
        ("identity.password_max_age_days", "ninety", "密码有效期（天）：请输入 7 到 90 之间的整数"),
    ];
    for (key, value, message) in cases {
        let form: Vec<(&str, &str)> = good.iter().map(|&(k, v)| if k == key { (k, value) } else { (k, v) }).collect();
        let r = app.post(Some(&admin), "/admin/security", &form).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{key}={value}");
        assert!(r.text().await.unwrap().contains(message), "{key}={value}: {message}");
        assert!(app.store.setting(key).await.unwrap().is_none(), "nothing saved");
    }
    assert_eq!(app.post(Some(&admin), "/admin/security", &good).await.status(), StatusCode::SEE_OTHER);
    // 三权分立: the system administrator cannot change the policy.
    let system = app.session("admin").await;
    assert_eq!(app.post(Some(&system), "/admin/security", &good).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.store.setting("identity.password_max_age_days").await.unwrap().as_deref(), Some("90"));
}
