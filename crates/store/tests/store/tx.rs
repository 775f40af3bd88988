//! The write transaction: audit required, rollback on drop.

use jixiao_store::StoreError;
use serde_json::json;

use crate::common::{TestDb, backend_tests};

backend_tests!(commit_without_audit_is_refused, drop_rolls_back, rollback_undoes_everything, actor_is_required, receipt_names_the_entries);

async fn commit_without_audit_is_refused(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    store.upsert_group(&mut tx, "dept", "区直部门").await.unwrap();
    let err = tx.commit().await.unwrap_err();
    assert!(matches!(err, StoreError::NotAudited), "{err:?}");
    assert_eq!(store.groups().await.unwrap(), vec![]);
    assert_eq!(store.verify_audit().await.unwrap().entries, 0);
    // The connection went back to the pool clean: the next write works.
    let mut tx = store.begin("admin").await.unwrap();
    store.upsert_group(&mut tx, "dept", "区直部门").await.unwrap();
    tx.audit("group.create", "group", "dept", None, Some(json!({"name": "区直部门"}))).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.groups().await.unwrap().len(), 1);
}

async fn drop_rolls_back(db: TestDb) {
    let store = db.store().await;
    {
        let mut tx = store.begin("admin").await.unwrap();
        store.upsert_group(&mut tx, "dept", "区直部门").await.unwrap();
        store.upsert_unit(&mut tx, "u01", "区发改局", "dept", 1).await.unwrap();
        store.set_setting(&mut tx, "due_day", "15").await.unwrap();
        tx.audit("org.create", "group", "dept", None, None).await.unwrap();
        // dropped here without commit
    }
    assert_eq!(store.groups().await.unwrap(), vec![]);
    assert_eq!(store.units().await.unwrap(), vec![]);
    assert_eq!(store.setting("due_day").await.unwrap(), None);
    assert_eq!(store.verify_audit().await.unwrap().entries, 0);
    // The write lock was released: another writer can go ahead.
    let mut tx = store.begin("admin").await.unwrap();
    store.set_setting(&mut tx, "due_day", "20").await.unwrap();
    tx.audit("setting.set", "setting", "due_day", None, Some(json!("20"))).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.setting("due_day").await.unwrap().as_deref(), Some("20"));
}

async fn rollback_undoes_everything(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    store.set_setting(&mut tx, "due_day", "15").await.unwrap();
    tx.audit("setting.set", "setting", "due_day", None, None).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(store.settings().await.unwrap(), vec![]);
    assert_eq!(store.audit_head().await.unwrap(), None);
}

async fn actor_is_required(db: TestDb) {
    let store = db.store().await;
    assert!(matches!(store.begin("  ").await.unwrap_err(), StoreError::Invalid(_)));
    let mut tx = store.begin("admin").await.unwrap();
    assert!(matches!(tx.audit("", "group", "g", None, None).await.unwrap_err(), StoreError::Invalid(_)));
    assert_eq!(tx.actor(), "admin");
}

async fn receipt_names_the_entries(db: TestDb) {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    tx.audit("a", "t", "1", None, None).await.unwrap();
    assert_eq!(tx.commit().await.unwrap().audit_seqs, 1..=1);
    let mut tx = store.begin("admin").await.unwrap();
    for i in 0..3 {
        tx.audit("a", "t", &i.to_string(), None, None).await.unwrap();
    }
    assert_eq!(tx.commit().await.unwrap().audit_seqs, 2..=4);
}
