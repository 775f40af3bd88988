//! Settings, scores and backups.

use jixiao_store::{Backend, Store, StoreError};
use serde_json::json;

use crate::common::{TestDb, backend_tests, store_with_scheme};

backend_tests!(settings_get_and_set, scores_replace_a_period, backup);

async fn settings_get_and_set(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    assert_eq!(store.set_setting(&mut tx, "report.due_day", "15").await.unwrap(), None);
    assert_eq!(store.set_setting(&mut tx, "report.due_day", "20").await.unwrap().as_deref(), Some("15"));
    store.set_setting(&mut tx, "audit.anchor", "").await.unwrap();
    assert!(matches!(store.set_setting(&mut tx, "", "x").await.unwrap_err(), StoreError::Invalid(_)));
    tx.audit("setting.set", "setting", "report.due_day", Some(json!("15")), Some(json!("20"))).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.setting("report.due_day").await.unwrap().as_deref(), Some("20"));
    assert_eq!(store.setting("missing").await.unwrap(), None);
    assert_eq!(
        store.settings().await.unwrap(),
        vec![("audit.anchor".to_string(), String::new()), ("report.due_day".to_string(), "20".to_string())]
    );
}

async fn scores_replace_a_period(db: TestDb) {
    let store = store_with_scheme(&db).await;
    store
        .save_scores(2027, 1, "2027-03", vec![("u02".into(), json!({"total": 81.5})), ("u01".into(), json!({"total": 90.25, "rank": 1}))])
        .await
        .unwrap();
    store.save_scores(2027, 1, "2027-Q1", vec![("u01".into(), json!({"total": 1}))]).await.unwrap();
    let march = store.scores(2027, 1, "2027-03").await.unwrap();
    assert_eq!(
        march.iter().map(|s| (s.unit_id.as_str(), s.result.clone())).collect::<Vec<_>>(),
        vec![("u01", json!({"total": 90.25, "rank": 1})), ("u02", json!({"total": 81.5}))]
    );
    // Saving again replaces the period's rows, and only that period's.
    store.save_scores(2027, 1, "2027-03", vec![("s01".into(), json!({"total": 70}))]).await.unwrap();
    let march = store.scores(2027, 1, "2027-03").await.unwrap();
    assert_eq!(march.iter().map(|s| s.unit_id.as_str()).collect::<Vec<_>>(), vec!["s01"]);
    assert_eq!(store.scores(2027, 1, "2027-Q1").await.unwrap().len(), 1);
    assert!(matches!(store.save_scores(2027, 7, "2027-03", vec![]).await.unwrap_err(), StoreError::Invalid(_)));
    assert!(matches!(store.save_scores(2027, 1, "March", vec![]).await.unwrap_err(), StoreError::Invalid(_)));
    // Derived data: no audit entry beyond the scheme import.
    assert_eq!(store.verify_audit().await.unwrap().entries, 1);

    // Inside an audited transaction (publishing), rolled back with it.
    let mut tx = store.begin("office").await.unwrap();
    store.save_scores_in(&mut tx, 2027, 1, "2027", vec![("u01".into(), json!({"total": 95}))]).await.unwrap();
    drop(tx);
    assert_eq!(store.scores(2027, 1, "2027").await.unwrap(), vec![]);
    let mut tx = store.begin("office").await.unwrap();
    store.save_scores_in(&mut tx, 2027, 1, "2027", vec![("u01".into(), json!({"total": 95}))]).await.unwrap();
    tx.audit("scores.publish", "scores", "2027/1/2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.scores(2027, 1, "2027").await.unwrap()[0].result, json!({"total": 95}));
}

async fn backup(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backup.db");
    if db.backend == Backend::Postgres {
        let err = store.backup(&path).await.unwrap_err();
        let StoreError::Unsupported(message) = &err else { panic!("{err:?}") };
        assert!(message.contains("pg_dump"), "{message}");
        assert!(!path.exists());
        return;
    }
    let mut tx = store.begin("admin").await.unwrap();
    store.set_setting(&mut tx, "k", "v").await.unwrap();
    tx.audit("setting.set", "setting", "k", None, Some(json!("v"))).await.unwrap();
    tx.commit().await.unwrap();

    store.backup(&path).await.unwrap();
    assert!(path.exists());
    let err = store.backup(&path).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid(m) if m.contains("already exists")), "{err:?}");

    // Changes after the backup are not in it.
    let mut tx = store.begin("admin").await.unwrap();
    store.set_setting(&mut tx, "k", "after").await.unwrap();
    tx.audit("setting.set", "setting", "k", Some(json!("v")), Some(json!("after"))).await.unwrap();
    tx.commit().await.unwrap();

    // A copy keeps the key file's keys; the original's anchor has moved on past it.
    let options = jixiao_store::StoreOptions { keys: Some(jixiao_store::Keys::for_tests()), ..Default::default() };
    let copy = Store::connect_with(&format!("sqlite://{}", path.display()), options).await.unwrap();
    assert_eq!(copy.setting("k").await.unwrap().as_deref(), Some("v"));
    assert_eq!(copy.units().await.unwrap(), store.units().await.unwrap());
    assert_eq!(copy.scheme(2027, None).await.unwrap(), store.scheme(2027, None).await.unwrap());
    let report = copy.verify_audit().await.unwrap();
    assert_eq!((report.entries, report.first_broken), (2, None));
    assert_eq!(copy.audit_entries(0, 10).await.unwrap(), store.audit_entries(0, 2).await.unwrap());
}

mod outbox {
    use jixiao_store::{NewMessage, SmsCap, StoreError};

    use crate::common::{TestDb, backend_tests};

    backend_tests!(messages_wait_until_delivered, two_senders_never_claim_the_same_message, migrate_removes_stored_query_passwords);

    /// SMS of new requests stored with their query password (before passwords were
    /// filled in at send time): `migrate` replaces the password of every message no
    /// longer pending, audited; a pending one keeps it until sent.
    async fn migrate_removes_stored_query_passwords(db: TestDb) {
        let store = db.store().await;
        for (id, status) in [(1, "sent"), (2, "recorded"), (3, "pending")] {
            db.raw(
                &store,
                &format!(
                    "INSERT INTO outbox (id, channel, recipient, body, purpose, dedupe_key, status, attempts, next_attempt_at, created_at) \
                     VALUES ({id}, 'sms', '13800000000', '【绩效办】您的诉求已受理，编号QK-2027-00000{id}，查询密码K7Q2M9X{id}。', \
                     'service.received', 'service:QK-2027-00000{id}:received', '{status}', 0, '2027-01-01T00:00:00Z', '2027-01-01T00:00:00Z')"
                ),
            )
            .await;
        }
        store.migrate().await.unwrap();
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM outbox ORDER BY id").fetch_all(store.pool()).await.unwrap();
        assert!(bodies[0].ends_with("查询密码********。") && bodies[1].ends_with("查询密码********。"), "{bodies:?}");
        assert!(bodies[2].contains("K7Q2M9X3"), "pending: kept until sent");
        let trail = store.audit_trail("outbox", "service.received").await.unwrap();
        assert_eq!(
            (trail.len(), trail[0].action.as_str(), trail[0].after_json.as_deref()),
            (1, "outbox.redact", Some(r#"{"messages":[1,2]}"#))
        );
        assert_eq!(store.redact_outbox_passwords().await.unwrap(), 0, "idempotent");
    }

    fn cap() -> SmsCap {
        SmsCap { day: "2027-04-12".into(), per_day: 10 }
    }

    fn reminder(key: &str) -> NewMessage {
        NewMessage {
            channel: "sms".into(),
            recipient: "user:reporter".into(),
            body: "请于15日前报送".into(),
            purpose: "reminder".into(),
            dedupe_key: Some(key.into()),
        }
    }

    async fn messages_wait_until_delivered(db: TestDb) {
        let store = db.store().await;
        let mut tx = store.begin("office").await.unwrap();
        let first = store.queue_message(&mut tx, &reminder("r:2027-03:u01:2027-04-12"), &cap()).await.unwrap();
        assert!(first.is_some());
        assert_eq!(store.queue_message(&mut tx, &reminder("r:2027-03:u01:2027-04-12"), &cap()).await.unwrap(), None, "queued once per key");
        let second = store.queue_message(&mut tx, &reminder("r:2027-03:u01:2027-04-13"), &cap()).await.unwrap().unwrap();
        let bad = store.queue_message(&mut tx, &NewMessage { channel: "fax".into(), ..reminder("x") }, &cap()).await.unwrap_err();
        assert!(matches!(bad, StoreError::Invalid(_)), "{bad:?}");
        tx.audit("outbox.queue", "outbox", "reminder", None, None).await.unwrap();
        tx.commit().await.unwrap();

        let far = jixiao_store::timestamp(chrono::Utc::now() + chrono::Duration::days(1));
        let due = store.due_messages(&far, 10).await.unwrap();
        assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), [first.unwrap(), second]);
        // The gateway fails: the message waits for its retry, then goes out.
        let later = jixiao_store::timestamp(chrono::Utc::now() + chrono::Duration::hours(2));
        let mut tx = store.begin("sender").await.unwrap();
        assert!(store.record_attempt(&mut tx, second, "pass-1", "sent", None, None).await.is_err(), "not claimed: refused");
        let claimed = store.claim_due_messages(&mut tx, "sms", &now(), &in_minutes(3 * 24 * 60), "pass-1", 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        store.record_attempt(&mut tx, second, "pass-1", "pending", Some("gateway 503"), Some(&later)).await.unwrap();
        tx.audit("outbox.attempt", "outbox", &second.to_string(), None, None).await.unwrap();
        tx.commit().await.unwrap();
        let now = jixiao_store::timestamp(chrono::Utc::now());
        assert_eq!(store.due_messages(&now, 10).await.unwrap().len(), 1, "the failed one waits");
        let mut tx = store.begin("sender").await.unwrap();
        let far_later = jixiao_store::timestamp(chrono::Utc::now() + chrono::Duration::days(2));
        let claimed = store.claim_due_messages(&mut tx, "sms", &far, &far_later, "pass-2", 10).await.unwrap();
        assert_eq!(claimed.iter().map(|m| m.id).collect::<Vec<_>>(), [second], "the first is still held by pass-1");
        store.record_attempt(&mut tx, second, "pass-2", "sent", None, None).await.unwrap();
        assert!(store.record_attempt(&mut tx, second, "pass-2", "sent", None, None).await.is_err(), "a sent message is not sent again");
        tx.audit("outbox.attempt", "outbox", &second.to_string(), None, None).await.unwrap();
        tx.commit().await.unwrap();
        let (all, total) = store.outbox(Some("reminder"), None, 10, 0).await.unwrap();
        assert_eq!(total, 2);
        let sent = all.iter().find(|m| m.id == second).unwrap();
        assert_eq!((sent.status.as_str(), sent.attempts, sent.last_error.as_deref()), ("sent", 2, None));
        assert!(sent.sent_at.is_some());
        assert_eq!(store.outbox(None, Some("pending"), 10, 0).await.unwrap().1, 1);
    }

    fn now() -> String {
        jixiao_store::timestamp(chrono::Utc::now())
    }

    fn in_minutes(m: i64) -> String {
        jixiao_store::timestamp(chrono::Utc::now() + chrono::Duration::minutes(m))
    }

    /// One sender pass as `deliver_due` does it: claim in an audited transaction.
    async fn claim(store: &jixiao_store::Store, at: String, until: String, token: &str, limit: i64) -> Vec<i64> {
        let mut tx = store.begin("system:sms").await.unwrap();
        let claimed = store.claim_due_messages(&mut tx, "sms", &at, &until, token, limit).await.unwrap();
        let ids: Vec<i64> = claimed.iter().map(|m| m.id).collect();
        assert!(claimed.iter().all(|m| m.claimed_by.as_deref() == Some(token) && m.claimed_until.as_deref() == Some(until.as_str())));
        tx.audit("outbox.claim", "outbox", token, None, Some(serde_json::json!({"messages": ids}))).await.unwrap();
        tx.commit().await.unwrap();
        ids
    }

    async fn two_senders_never_claim_the_same_message(db: TestDb) {
        let store = db.store().await;
        let mut tx = store.begin("office").await.unwrap();
        let mut queued = Vec::new();
        for i in 0..40 {
            queued.push(store.queue_message(&mut tx, &reminder(&format!("r:{i}")), &cap()).await.unwrap().unwrap());
        }
        let mail = NewMessage { channel: "email".into(), recipient: "a@example.org".into(), ..reminder("mail") };
        store.queue_message(&mut tx, &mail, &cap()).await.unwrap().unwrap();
        tx.audit("outbox.queue", "outbox", "reminder", None, None).await.unwrap();
        tx.commit().await.unwrap();
        // Bad claims change nothing.
        let mut tx = store.begin("system:sms").await.unwrap();
        let at = now();
        assert!(
            matches!(store.claim_due_messages(&mut tx, "sms", &at, &at, "t", 10).await, Err(StoreError::Invalid(_))),
            "a lease ending now"
        );
        assert!(
            matches!(store.claim_due_messages(&mut tx, "sms", &now(), &in_minutes(1), "", 10).await, Err(StoreError::Invalid(_))),
            "no token"
        );
        tx.rollback().await.unwrap();

        // Eight passes at once, in two processes' worth of connections, 8 messages each.
        let second = db.store().await;
        let passes = (0..8).map(|p| {
            let store = if p % 2 == 0 { store.clone() } else { second.clone() };
            tokio::spawn(async move { claim(&store, now(), in_minutes(10), &format!("pass-{p}"), 8).await })
        });
        let mut claimed: Vec<i64> = Vec::new();
        for p in passes {
            claimed.extend(p.await.unwrap());
        }
        let mut unique = claimed.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), claimed.len(), "no message claimed twice: {claimed:?}");
        // Whatever the concurrent passes left, one more pass takes; nothing is lost and
        // the e-mail is not the SMS sender's.
        claimed.extend(claim(&store, now(), in_minutes(10), "pass-last", 100).await);
        claimed.sort_unstable();
        assert_eq!(claimed, queued, "every SMS claimed exactly once");
        assert!(claim(&store, now(), in_minutes(10), "pass-again", 100).await.is_empty(), "held while the leases run");

        // A sender that died: its lease runs out and another pass takes its messages;
        // the dead pass can no longer record an attempt on them.
        let (_, pending) = store.outbox(None, Some("pending"), 100, 0).await.unwrap();
        assert_eq!(pending, 41, "claimed messages stay pending until tried");
        let first = queued[0];
        let owner = store.outbox(None, None, 100, 0).await.unwrap().0.into_iter().find(|m| m.id == first).unwrap().claimed_by.unwrap();
        let retaken = claim(&store, in_minutes(11), in_minutes(20), "pass-rescue", 100).await;
        assert_eq!(retaken, queued, "every expired claim is due again");
        let mut tx = store.begin("system:sms").await.unwrap();
        assert!(matches!(store.record_attempt(&mut tx, first, &owner, "sent", None, None).await, Err(StoreError::NotFound { .. })));
        store.record_attempt(&mut tx, first, "pass-rescue", "sent", None, None).await.unwrap();
        tx.audit("outbox.attempt", "outbox", &first.to_string(), None, None).await.unwrap();
        tx.commit().await.unwrap();
        let sent = store.outbox(None, Some("sent"), 10, 0).await.unwrap().0;
        assert_eq!((sent.len(), sent[0].claimed_by.as_deref(), sent[0].attempts), (1, None, 1), "recording releases the claim");
    }
}
