//! Records registered in the browser and bonus applications: a registration is
//! scored under its own key, an edit replaces it in place, a cancellation unscores it
//! and keeps the registration; a stale version changes nothing; an application is
//! decided once.

use jixiao_core::data::derived_key;
use jixiao_store::{NewApplication, RecordFields, StoreError};

use crate::common::{TestDb, assert_current, backend_tests, store_with_scheme};

backend_tests!(a_registration_is_scored_edited_and_cancelled, an_application_is_decided_once);

fn fields(points: f64) -> RecordFields {
    RecordFields {
        unit_id: "u01".into(),
        indicator_id: "X1".into(),
        date: "2027-03-10".into(),
        points,
        topic: "commendation".into(),
        reason: "省级表彰".into(),
        responsible: "张三".into(),
    }
}

async fn a_registration_is_scored_edited_and_cancelled(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut tx = store.begin("office").await.unwrap();
    let r = store.register_record(&mut tx, 2027, &fields(2.0), None).await.unwrap();
    tx.audit("record.register", "record", &r.id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((r.key.as_str(), r.version, r.state.as_str()), (derived_key(&fields(2.0).row(), 1).as_str(), 1, "active"));
    assert_current(&store, 2027, "registering").await;
    let scored = store.records(2027).await.unwrap();
    assert_eq!(scored.len(), 1);
    assert_eq!((scored[0].key.as_str(), scored[0].row.points, scored[0].row.note.as_deref()), (r.key.as_str(), 2.0, Some("省级表彰")));

    // A stale version changes nothing.
    let mut tx = store.begin("office").await.unwrap();
    let stale = store.edit_registered_record(&mut tx, r.id, 7, &fields(3.0)).await.unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { current: Some(1), .. }), "{stale:?}");
    drop(tx);

    let mut tx = store.begin("office").await.unwrap();
    let edited = store.edit_registered_record(&mut tx, r.id, 1, &fields(3.0)).await.unwrap();
    tx.audit("record.edit", "record", &r.id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(edited.version, 2);
    let scored = store.records(2027).await.unwrap();
    assert_eq!((scored.len(), scored[0].row.points, scored[0].version), (1, 3.0, 2), "replaced in place");
    assert_current(&store, 2027, "editing").await;

    let mut tx = store.begin("office").await.unwrap();
    let cancelled = store.cancel_registered_record(&mut tx, r.id, 2, "重复登记").await.unwrap();
    tx.audit("record.cancel", "record", &r.id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((cancelled.state.as_str(), cancelled.cancel_reason.as_str(), cancelled.version), ("cancelled", "重复登记", 3));
    assert!(store.records(2027).await.unwrap().is_empty(), "no longer scored");
    assert_eq!(store.registered_records(2027).await.unwrap().len(), 1, "the registration stays");
    assert_current(&store, 2027, "cancelling").await;
}

async fn an_application_is_decided_once(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let new = NewApplication {
        unit_id: "u01".into(),
        category: "innovation".into(),
        indicator_id: "X1".into(),
        date: "2027-03-02".into(),
        title: "一网通办".into(),
        basis: "市级推广".into(),
        claimed_points: 2.0,
    };
    let mut tx = store.begin("reporter").await.unwrap();
    let a = store.add_application(&mut tx, 2027, &new).await.unwrap();
    tx.audit("application.submit", "application", &a.id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((a.state.as_str(), a.version), ("submitted", 1));

    let mut tx = store.begin("office").await.unwrap();
    let decided = store.decide_application(&mut tx, a.id, 1, "rejected", None, "材料不足", None).await.unwrap();
    tx.audit("application.reject", "application", &a.id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((decided.state.as_str(), decided.decision_note.as_str(), decided.version), ("rejected", "材料不足", 2));

    let mut tx = store.begin("office").await.unwrap();
    let again = store.decide_application(&mut tx, a.id, 2, "approved", Some(1.0), "", None).await.unwrap_err();
    assert!(matches!(again, StoreError::Conflict { .. }), "{again:?}");
}
