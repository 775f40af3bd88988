//! Entries: versions and optimistic locking under concurrent writers.

use std::time::Duration;

use jixiao_core::data::EntryRow;
use jixiao_store::{Store, StoreError};
use serde_json::{Map, Value, json};

use crate::common::{TestDb, backend_tests, store_with_scheme};

backend_tests!(
    versions_count_changes,
    stale_version_is_a_conflict,
    blocked_writer_gets_conflict,
    racing_updaters_one_wins,
    racing_creators_one_wins,
    entries_come_in_code_point_order,
    bad_entries_are_refused,
    dropped_writer_releases_its_locks,
);

fn entry(unit: &str, indicator: &str, month: &str, values: Value) -> EntryRow {
    let Value::Object(values) = values else { panic!("values must be an object") };
    EntryRow { unit: unit.into(), indicator: indicator.into(), month: month.into(), values }
}

/// Writes one entry in its own audited transaction.
async fn write(store: &Store, actor: &str, row: &EntryRow, expected: Option<i64>) -> Result<i64, StoreError> {
    let mut tx = store.begin(actor).await?;
    let version = store.upsert_entry(&mut tx, 2027, row, expected).await?;
    tx.audit("entry.save", "entry", "2027/u01/A1/2027-03", None, Some(Value::Object(row.values.clone()))).await?;
    tx.commit().await?;
    Ok(version)
}

async fn versions_count_changes(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let row = entry("u01", "A1", "2027-03", json!({"actual": 3.5}));
    assert_eq!(write(&store, "reporter", &row, None).await.unwrap(), 1);
    let row2 = entry("u01", "A1", "2027-03", json!({"actual": 4.25}));
    assert_eq!(write(&store, "reporter", &row2, Some(1)).await.unwrap(), 2);
    let stored = store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.row, row2);
    assert_eq!(stored.state, "accepted");
    assert_eq!(stored.updated_by, "reporter");
    assert_eq!(store.entry(2027, "u01", "A1", "2027-04").await.unwrap(), None);
}

async fn stale_version_is_a_conflict(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let row = entry("u01", "A1", "2027-03", json!({"actual": 1}));
    write(&store, "a", &row, None).await.unwrap();
    write(&store, "a", &entry("u01", "A1", "2027-03", json!({"actual": 2})), Some(1)).await.unwrap();

    let err = write(&store, "b", &entry("u01", "A1", "2027-03", json!({"actual": 3})), Some(1)).await.unwrap_err();
    let StoreError::Conflict { expected, current, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*expected, *current), (Some(1), Some(2)));
    assert!(err.to_string().contains("entry 2027/u01/A1/2027-03 was changed by someone else"), "{err}");

    // Creating what already exists is a conflict too.
    let err = write(&store, "b", &entry("u01", "A1", "2027-03", json!({"actual": 3})), None).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: None, current: Some(2), .. }), "{err:?}");
    // Updating what does not exist.
    let err = write(&store, "b", &entry("u02", "A1", "2027-03", json!({"actual": 3})), Some(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: Some(1), current: None, .. }), "{err:?}");

    let stored = store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap();
    assert_eq!((stored.version, stored.row.values["actual"].as_f64()), (2, Some(2.0)));
    assert_eq!(store.entry(2027, "u02", "A1", "2027-03").await.unwrap(), None);
    // Only the three successful transactions left audit entries (scheme import + 2).
    assert_eq!(store.verify_audit().await.unwrap().entries, 3);
}

/// Writer B starts while writer A holds its change uncommitted; B must wait, then see
/// A's version and get a conflict, and A's value must stay.
async fn blocked_writer_gets_conflict(db: TestDb) {
    let store = store_with_scheme(&db).await;
    write(&store, "setup", &entry("u01", "A1", "2027-03", json!({"actual": 1})), None).await.unwrap();

    let mut a = store.begin("alice").await.unwrap();
    assert_eq!(store.upsert_entry(&mut a, 2027, &entry("u01", "A1", "2027-03", json!({"actual": 10})), Some(1)).await.unwrap(), 2);
    let b_store = store.clone();
    let b = tokio::spawn(async move { write(&b_store, "bob", &entry("u01", "A1", "2027-03", json!({"actual": 20})), Some(1)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!b.is_finished(), "B must wait for A");
    a.audit("entry.save", "entry", "2027/u01/A1/2027-03", None, None).await.unwrap();
    a.commit().await.unwrap();

    let err = b.await.unwrap().unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: Some(1), current: Some(2), .. }), "{err:?}");
    let stored = store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.updated_by, "alice");
    assert_eq!(stored.row.values["actual"], json!(10));
}

async fn racing_updaters_one_wins(db: TestDb) {
    let store = store_with_scheme(&db).await;
    write(&store, "setup", &entry("u01", "A1", "2027-03", json!({"actual": 0})), None).await.unwrap();
    let mut tasks = Vec::new();
    for w in 1..=8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let row = entry("u01", "A1", "2027-03", json!({"actual": w}));
            (w, write(&store, &format!("w{w}"), &row, Some(1)).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (w, Ok(version)) => winners.push((w, version)),
            (_, Err(StoreError::Conflict { expected: Some(1), current: Some(2), .. })) => {}
            (w, Err(e)) => panic!("writer {w}: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let (w, version) = winners[0];
    assert_eq!(version, 2);
    let stored = store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.row.values["actual"], json!(w));
    assert_eq!(stored.updated_by, format!("w{w}"));
    let report = store.verify_audit().await.unwrap();
    assert_eq!((report.entries, report.first_broken), (3, None));
}

async fn racing_creators_one_wins(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut tasks = Vec::new();
    for w in 1..=8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let row = entry("u02", "A2", "2027-05", json!({"rate": w}));
            (w, write(&store, &format!("w{w}"), &row, None).await)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (w, Ok(version)) => winners.push((w, version)),
            (_, Err(StoreError::Conflict { expected: None, current: Some(1), .. })) => {}
            (w, Err(e)) => panic!("writer {w}: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = store.entry(2027, "u02", "A2", "2027-05").await.unwrap().unwrap();
    assert_eq!((stored.version, stored.row.values["rate"].clone()), (1, json!(winners[0].0)));
}

async fn entries_come_in_code_point_order(db: TestDb) {
    let store = store_with_scheme(&db).await;
    // Ids whose order differs between code-point and natural-language collations. In
    // 2026, which has no scheme: 2027's would refuse to score units and indicators it
    // does not know (the commit brings the stored scores up to date).
    let mut tx = store.begin("admin").await.unwrap();
    store.upsert_unit(&mut tx, "Zeta", "Z", "dept", 10).await.unwrap();
    store.upsert_unit(&mut tx, "alpha", "a", "dept", 11).await.unwrap();
    store.upsert_unit(&mut tx, "区b", "区", "street", 12).await.unwrap();
    tx.audit("unit.create", "unit", "*", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let rows = [
        ("u02", "A1", "2027-01"),
        ("alpha", "A1", "2027-02"),
        ("u01", "A2", "2027-12"),
        ("Zeta", "a1", "2027-01"),
        ("u01", "A1", "2027-10"),
        ("区b", "A1", "2027-01"),
        ("u01", "A1", "2027-02"),
        ("Zeta", "B1", "2027-01"),
    ];
    for (unit, indicator, month) in rows {
        let mut tx = store.begin("r").await.unwrap();
        store.upsert_entry(&mut tx, 2026, &entry(unit, indicator, &month.replace("2027", "2026"), json!({"x": 1})), None).await.unwrap();
        tx.audit("entry.save", "entry", "x", None, None).await.unwrap();
        tx.commit().await.unwrap();
    }
    let keys: Vec<(String, String, String)> =
        store.entries(2026).await.unwrap().into_iter().map(|e| (e.unit, e.indicator, e.month.replace("2026", "2027"))).collect();
    let expected = [
        ("Zeta", "B1", "2027-01"),
        ("Zeta", "a1", "2027-01"),
        ("alpha", "A1", "2027-02"),
        ("u01", "A1", "2027-02"),
        ("u01", "A1", "2027-10"),
        ("u01", "A2", "2027-12"),
        ("u02", "A1", "2027-01"),
        ("区b", "A1", "2027-01"),
    ];
    let expected: Vec<(String, String, String)> = expected.iter().map(|(u, i, m)| (u.to_string(), i.to_string(), m.to_string())).collect();
    assert_eq!(keys, expected);
    assert_eq!(store.entries(2027).await.unwrap(), vec![]);
}

async fn bad_entries_are_refused(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut tx = store.begin("r").await.unwrap();
    for (row, needle) in [
        (entry("nope", "A1", "2027-03", json!({})), "unknown unit `nope`"),
        (entry("u01", "A1", "2026-03", json!({})), "outside the year 2027"),
        (entry("u01", "A1", "2027-3", json!({})), "month"),
        (entry("u01", "A1", "2027-13", json!({})), "month"),
    ] {
        let err = store.upsert_entry(&mut tx, 2027, &row, None).await.unwrap_err();
        let StoreError::Invalid(message) = &err else { panic!("{err:?}") };
        assert!(message.contains(needle), "{message}");
    }
    // The transaction is still usable after refused rows, on both backends.
    let mut values = Map::new();
    values.insert("actual".into(), json!(1));
    let row = EntryRow { unit: "u01".into(), indicator: "A1".into(), month: "2027-03".into(), values };
    assert_eq!(store.upsert_entry(&mut tx, 2027, &row, None).await.unwrap(), 1);
    tx.audit("entry.save", "entry", "2027/u01/A1/2027-03", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.entries(2027).await.unwrap(), vec![row]);
}

/// A writer that gives up (drops its transaction) while holding the entry must not keep
/// others waiting: its locks go with it.
async fn dropped_writer_releases_its_locks(db: TestDb) {
    let store = store_with_scheme(&db).await;
    write(&store, "setup", &entry("u01", "A1", "2027-03", json!({"actual": 1})), None).await.unwrap();
    let mut a = store.begin("alice").await.unwrap();
    store.upsert_entry(&mut a, 2027, &entry("u01", "A1", "2027-03", json!({"actual": 10})), Some(1)).await.unwrap();
    drop(a);
    let b =
        tokio::time::timeout(Duration::from_secs(10), write(&store, "bob", &entry("u01", "A1", "2027-03", json!({"actual": 20})), Some(1)))
            .await
            .expect("bob must not wait for alice's abandoned transaction");
    assert_eq!(b.unwrap(), 2);
    let stored = store.entry(2027, "u01", "A1", "2027-03").await.unwrap().unwrap();
    assert_eq!((stored.row.values["actual"].clone(), stored.updated_by.as_str()), (json!(20), "bob"));
}
