//! Accounts, passwords, roles.

use jixiao_store::{NewUser, RoleGrant, StoreError};
use serde_json::json;

use crate::common::{TestDb, backend_tests, store_with_scheme};

backend_tests!(accounts_and_passwords, roles_replace, parallel_login_claims_lock_atomically, password_history_keeps_the_last_five);

fn new_user(username: &str, password: &str, unit: Option<&str>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("{username} 的名字"),
        password: password.into(),
        unit_id: unit.map(Into::into),
        language: "zh-CN".into(),
    }
}

async fn accounts_and_passwords(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut tx = store.begin("admin").await.unwrap();
    let zhang = store.add_user(&mut tx, &new_user("zhangsan", "Jx#2027-secret", Some("u01"))).await.unwrap();
    let err = store.add_user(&mut tx, &new_user("zhangsan", "other", None)).await.unwrap_err();
    assert!(matches!(&err, StoreError::AlreadyExists { what } if what == "user `zhangsan`"), "{err:?}");
    let err = store.add_user(&mut tx, &new_user("li si", "pw", None)).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let err = store.add_user(&mut tx, &new_user("lisi", "pw", Some("u99"))).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(m) if m.contains("unknown unit `u99`")), "{err:?}");
    tx.audit("user.create", "user", &zhang.to_string(), None, Some(json!({"username": "zhangsan"}))).await.unwrap();
    tx.commit().await.unwrap();

    let users = store.users().await.unwrap();
    assert_eq!(users.len(), 1);
    let u = &users[0];
    assert_eq!((u.id, u.username.as_str(), u.unit_id.as_deref(), u.disabled), (zhang, "zhangsan", Some("u01"), false));
    assert_eq!((u.failed_logins, u.locked_until.as_deref(), u.language.as_str()), (0, None, "zh-CN"));
    assert_eq!(store.user(zhang).await.unwrap(), *u);
    assert_eq!(store.user_by_username("zhangsan").await.unwrap().as_ref(), Some(u));
    assert_eq!(store.user_by_username("nobody").await.unwrap(), None);

    // Stored as an argon2id PHC string, never the password.
    let phc: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'zhangsan'").fetch_one(store.pool()).await.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
    assert!(!phc.contains("Jx#2027-secret"));

    assert_eq!(store.verify_password("zhangsan", "Jx#2027-secret").await.unwrap().map(|u| u.id), Some(zhang));
    assert_eq!(store.verify_password("zhangsan", "jx#2027-secret").await.unwrap(), None);
    assert_eq!(store.verify_password("nobody", "Jx#2027-secret").await.unwrap(), None);

    let mut tx = store.begin("admin").await.unwrap();
    store.set_password(&mut tx, zhang, "新密码-2027", false).await.unwrap();
    assert!(matches!(store.set_password(&mut tx, 999, "x", false).await.unwrap_err(), StoreError::NotFound { .. }));
    store.set_user_disabled(&mut tx, zhang, true).await.unwrap();
    tx.audit("user.password", "user", &zhang.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.verify_password("zhangsan", "Jx#2027-secret").await.unwrap(), None);
    let user = store.verify_password("zhangsan", "新密码-2027").await.unwrap().unwrap();
    assert!(user.disabled);
    assert!(user.password_changed_at >= user.created_at);
}

async fn roles_replace(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    let id = store.add_user(&mut tx, &new_user("wang", "pw", None)).await.unwrap();
    store
        .set_roles(
            &mut tx,
            id,
            &[
                RoleGrant { role: "reporter".into(), scope: json!({"units": ["u01"]}) },
                RoleGrant { role: "leader".into(), scope: json!({"all": true}) },
                RoleGrant { role: "reporter".into(), scope: json!({"units": ["u01"]}) },
            ],
        )
        .await
        .unwrap();
    let err = store.set_roles(&mut tx, id, &[RoleGrant { role: "bad role".into(), scope: json!({}) }]).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(matches!(store.set_roles(&mut tx, 999, &[]).await.unwrap_err(), StoreError::NotFound { .. }));
    tx.audit("user.roles", "user", &id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.roles(id).await.unwrap(),
        vec![
            RoleGrant { role: "leader".into(), scope: json!({"all": true}) },
            RoleGrant { role: "reporter".into(), scope: json!({"units": ["u01"]}) },
        ]
    );
    let mut tx = store.begin("admin").await.unwrap();
    store.set_roles(&mut tx, id, &[RoleGrant { role: "staff".into(), scope: json!({}) }]).await.unwrap();
    tx.audit("user.roles", "user", &id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.roles(id).await.unwrap(), vec![RoleGrant { role: "staff".into(), scope: json!({}) }]);
}

/// The attack of issue 15: many wrong passwords at once. Every attempt is claimed
/// in one statement, so the count reflects each of them and only the first
/// `threshold` may have their password checked.
async fn parallel_login_claims_lock_atomically(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    let id = store.add_user(&mut tx, &new_user("target", "Jx#2027-secret", None)).await.unwrap();
    let other = store.add_user(&mut tx, &new_user("bystander", "Jx#2027-secret", None)).await.unwrap();
    tx.audit("user.add", "user", "target", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let (now, until) = ("2027-03-01T08:00:00.000000Z", "2027-03-01T08:15:00.000000Z");
    for round in [20usize, 100] {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..round {
            let store = store.clone();
            set.spawn(async move { store.claim_login_attempt(id, 5, now, until).await.unwrap() });
        }
        let claims = set.join_all().await;
        let mut attempts: Vec<i64> = claims.iter().map(|c| c.attempt).collect();
        attempts.sort();
        if round == 20 {
            assert_eq!(attempts, (1..=20).collect::<Vec<i64>>(), "each attempt counted once, none lost");
            assert_eq!(claims.iter().filter(|c| c.may_check).count(), 5, "only the first 5 are checked");
        } else {
            // Still locked from the first round: every attempt counts, none is checked.
            assert_eq!(attempts, (21..=120).collect::<Vec<i64>>());
            assert_eq!(claims.iter().filter(|c| c.may_check).count(), 0);
        }
        let user = store.user(id).await.unwrap();
        assert_eq!(user.locked_until.as_deref(), Some(until), "locked until the 5th attempt's end of lock");
    }
    assert_eq!(store.user(id).await.unwrap().failed_logins, 120);
    assert_eq!(store.user(other).await.unwrap().failed_logins, 0, "another account is untouched");

    // After the lock: a new count, a new lock at the fifth failure.
    let later = "2027-03-01T08:15:00.000001Z";
    let c = store.claim_login_attempt(id, 5, later, "2027-03-01T08:30:00.000001Z").await.unwrap();
    assert_eq!((c.attempt, c.may_check, c.locked_until), (1, true, None));
    // A success clears the count; a threshold lowered under the count locks at once.
    let mut tx = store.begin("target").await.unwrap();
    store.clear_login_failures(&mut tx, id).await.unwrap();
    tx.audit("auth.login", "user", "target", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.user(id).await.unwrap().failed_logins, 0);
    for n in 1..=3 {
        let c = store.claim_login_attempt(id, 3, later, "2027-03-01T08:30:00.000001Z").await.unwrap();
        assert_eq!((c.attempt, c.may_check, c.locked_until.is_some()), (n, true, n == 3), "attempt {n}");
    }
    // Under the lock, a threshold raised later does not reopen the account.
    let c = store.claim_login_attempt(id, 10, later, "2027-03-01T08:45:00.000001Z").await.unwrap();
    assert_eq!((c.attempt, c.may_check), (11, false));
    assert_eq!(c.locked_until.as_deref(), Some("2027-03-01T08:30:00.000001Z"), "the lock in force stays as it was");
    assert!(matches!(store.claim_login_attempt(999, 5, now, until).await.unwrap_err(), StoreError::NotFound { .. }));
}

async fn password_history_keeps_the_last_five(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    let id = store.add_user(&mut tx, &new_user("zhao", "First-2027-pw", None)).await.unwrap();
    tx.audit("user.add", "user", "zhao", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.password_in_history(id, "First-2027-pw").await.unwrap(), "the first password is in the history");
    for n in 2..=6 {
        let mut tx = store.begin("zhao").await.unwrap();
        store.set_password(&mut tx, id, &format!("Number-{n}-2027"), false).await.unwrap();
        tx.audit("user.password_change", "user", "zhao", None, None).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Passwords 2…6 are the last five; the first is forgotten.
    assert!(!store.password_in_history(id, "First-2027-pw").await.unwrap());
    for n in 2..=6 {
        assert!(store.password_in_history(id, &format!("Number-{n}-2027")).await.unwrap(), "password {n}");
    }
    assert!(!store.password_in_history(id, "Never-used-2027").await.unwrap());
    let kept: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM password_history WHERE user_id = $1").bind(id).fetch_one(store.pool()).await.unwrap();
    assert_eq!(kept, 5, "older hashes are pruned");
}
