//! Service requests: categories and attributes, case numbers, history, versions,
//! filters, Open311 keys — on both databases.

use jixiao_store::{NewServiceEvent, NewServiceRequest, RequestFilter, ServiceAttribute, ServiceCategory, Store, StoreError};
use serde_json::json;

use crate::common::{TestDb, backend_tests};

backend_tests!(
    requests_get_case_numbers_and_history,
    versions_and_filters,
    categories_attributes_and_keys,
    phone_numbers_are_encrypted_at_rest
);

/// The table holds no phone number in plain text: SM4 under the key file's personal
/// key; the store hands the number back. Numbers stored before (by a store without
/// keys) are encrypted by `migrate`, audited.
async fn phone_numbers_are_encrypted_at_rest(db: TestDb) {
    let store = seeded(&db).await;
    let keyless = Store::connect_with(&db.url, jixiao_store::StoreOptions { keys: None, anchor: None, ..db.options() }).await.unwrap();
    let mut tx = keyless.begin("citizen").await.unwrap();
    let old = keyless.create_service_request(&mut tx, &new_request("road", "t1")).await.unwrap();
    tx.audit("service.create", "service_request", &old.case_no, None, None).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin("citizen").await.unwrap();
    let new = store.create_service_request(&mut tx, &new_request("water", "t2")).await.unwrap();
    tx.audit("service.create", "service_request", &new.case_no, None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(new.phone, "13800000000", "handed back as typed");
    let raw = || async {
        sqlx::query_scalar::<_, String>("SELECT phone FROM service_requests ORDER BY id").fetch_all(store.pool()).await.unwrap()
    };
    let stored = raw().await;
    assert_eq!(stored[0], "13800000000", "written by a store without keys");
    assert!(jixiao_store::is_sealed(&stored[1]) && !stored[1].contains("13800000000"), "{}", stored[1]);

    store.migrate().await.unwrap();
    let stored = raw().await;
    assert!(stored.iter().all(|p| jixiao_store::is_sealed(p) && !p.contains("138")), "{stored:?}");
    assert_eq!(store.service_request_by_case(&old.case_no).await.unwrap().unwrap().phone, "13800000000");
    assert_eq!(store.service_request_by_case(&new.case_no).await.unwrap().unwrap().phone, "13800000000");
    let trail = store.audit_trail("service_request", "*").await.unwrap();
    assert_eq!((trail.len(), trail[0].action.as_str()), (1, "service.encrypt_phones"));
    assert_eq!(store.encrypt_phones().await.unwrap(), 0, "idempotent");
    // Another key file opens nothing.
    let other = Store::connect_with(
        &db.url,
        jixiao_store::StoreOptions { keys: Some(jixiao_store::Keys::from_master(&[5; 32])), anchor: None, ..db.options() },
    )
    .await
    .unwrap();
    assert!(other.service_request_by_case(&new.case_no).await.is_err());
}

async fn seeded(db: &TestDb) -> Store {
    let store = db.store().await;
    let mut tx = store.begin("office").await.unwrap();
    store.upsert_group(&mut tx, "dept", "区直部门").await.unwrap();
    store.upsert_unit(&mut tx, "u01", "区城管局", "dept", 0).await.unwrap();
    store.upsert_unit(&mut tx, "u02", "区水务局", "dept", 1).await.unwrap();
    for (code, name, unit) in [("road", "道路破损", "u01"), ("water", "停水漏水", "u02")] {
        let c = ServiceCategory {
            code: code.into(),
            name: name.into(),
            description: format!("{name}的诉求"),
            group_name: "城市管理".into(),
            keywords: "城管".into(),
            unit_id: Some(unit.into()),
            sla_days: 5,
            sort_order: 0,
            disabled: false,
        };
        store.upsert_service_category(&mut tx, &c).await.unwrap();
    }
    tx.audit("test.seed", "test", "seed", None, None).await.unwrap();
    tx.commit().await.unwrap();
    store
}

fn new_request(code: &str, token: &str) -> NewServiceRequest {
    NewServiceRequest {
        year: 2027,
        service_code: code.into(),
        channel: "web".into(),
        description: "人民路路面塌陷 <script>".into(),
        address: "人民路12号".into(),
        lat: Some(30.59),
        lon: Some(114.3),
        phone: "13800000000".into(),
        password_hash: jixiao_store::hash_password("ABCD2345").unwrap(),
        token: token.into(),
        ..Default::default()
    }
}

async fn requests_get_case_numbers_and_history(db: TestDb) {
    let store = seeded(&db).await;
    let mut tx = store.begin("citizen").await.unwrap();
    let a = store.create_service_request(&mut tx, &new_request("road", "t1")).await.unwrap();
    let b = store.create_service_request(&mut tx, &new_request("water", "t2")).await.unwrap();
    tx.audit("service.create", "service_request", &a.case_no, None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((a.case_no.as_str(), b.case_no.as_str()), ("QK-2027-000001", "QK-2027-000002"));
    assert_eq!((a.state.as_str(), a.lat, a.description.as_str()), ("received", Some(30.59), "人民路路面塌陷 <script>"));

    // An unknown category changes nothing, not even the counter.
    let mut tx = store.begin("citizen").await.unwrap();
    let err = store.create_service_request(&mut tx, &new_request("nope", "t3")).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_) | StoreError::Database(_)), "{err:?}");
    drop(tx);
    let mut tx = store.begin("citizen").await.unwrap();
    let c = store.create_service_request(&mut tx, &new_request("road", "t3")).await.unwrap();
    tx.audit("service.create", "service_request", &c.case_no, None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(c.case_no, "QK-2027-000003");

    let found = store.service_request_by_case("qk-2027-000001").await.unwrap().unwrap();
    assert_eq!(found.id, a.id);
    assert_eq!(store.service_request_by_token("t2").await.unwrap().unwrap().id, b.id);
    assert!(store.service_request_by_case("QK-2027-000099").await.unwrap().is_none());
    assert!(jixiao_store::check_secret("ABCD2345", Some(&found.password_hash)).await.unwrap());
    assert!(!jixiao_store::check_secret("ABCD2346", Some(&found.password_hash)).await.unwrap());
    assert!(!jixiao_store::check_secret("ABCD2345", None).await.unwrap(), "no hash never matches");

    let mut tx = store.begin("office").await.unwrap();
    let mut r = found.clone();
    r.state = "dispatched".into();
    r.unit_id = Some("u01".into());
    r.deadline = Some("2027-03-08T15:59:59.000000Z".into());
    store.update_service_request(&mut tx, &r).await.unwrap();
    let e = NewServiceEvent {
        step: "dispatch".into(),
        from_state: Some("received".into()),
        to_state: "dispatched".into(),
        unit_id: Some("u01".into()),
        ..Default::default()
    };
    store.add_service_event(&mut tx, r.id, &e).await.unwrap();
    tx.audit("service.dispatch", "service_request", &r.case_no, None, None).await.unwrap();
    tx.commit().await.unwrap();
    let history = store.service_events(a.id).await.unwrap();
    assert_eq!(
        history.iter().map(|e| (e.step.as_str(), e.actor.as_str(), e.public)).collect::<Vec<_>>(),
        [("receive", "citizen", true), ("dispatch", "office", false)]
    );
}

async fn versions_and_filters(db: TestDb) {
    let store = seeded(&db).await;
    let mut tx = store.begin("citizen").await.unwrap();
    let mut made = Vec::new();
    for (i, code) in ["road", "water", "road", "road"].into_iter().enumerate() {
        let mut n = new_request(code, &format!("tok{i}"));
        n.created_at = Some(format!("2027-03-0{}T02:00:00.000000Z", i + 1));
        made.push(store.create_service_request(&mut tx, &n).await.unwrap());
    }
    tx.audit("service.create", "service_request", "many", None, None).await.unwrap();
    tx.commit().await.unwrap();

    // Two handlers read version 1; the second write is refused and changes nothing.
    let mut first = made[0].clone();
    first.state = "dispatched".into();
    first.unit_id = Some("u01".into());
    let mut second = made[0].clone();
    second.state = "closed".into();
    let mut tx = store.begin("office").await.unwrap();
    assert_eq!(store.update_service_request(&mut tx, &first).await.unwrap(), 2);
    let err = store.update_service_request(&mut tx, &second).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    tx.audit("service.dispatch", "service_request", &first.case_no, None, None).await.unwrap();
    tx.commit().await.unwrap();
    let now = store.service_request(made[0].id).await.unwrap().unwrap();
    assert_eq!((now.state.as_str(), now.version), ("dispatched", 2));

    let page = |f: RequestFilter| {
        let store = store.clone();
        async move { store.service_requests(&RequestFilter { limit: 100, ..f }).await.unwrap() }
    };
    let (rows, total) = page(RequestFilter { service_codes: vec!["road".into()], ..Default::default() }).await;
    assert_eq!((rows.len(), total), (3, 3));
    let (rows, _) = page(RequestFilter { states: vec!["dispatched".into()], ..Default::default() }).await;
    assert_eq!(rows.iter().map(|r| r.case_no.as_str()).collect::<Vec<_>>(), ["QK-2027-000001"]);
    let (rows, _) = page(RequestFilter { units: Some(vec!["u02".into()]), ..Default::default() }).await;
    assert!(rows.is_empty(), "a department sees only requests dispatched to it");
    let (rows, _) = page(RequestFilter { units: Some(vec![]), ..Default::default() }).await;
    assert!(rows.is_empty(), "no units in scope: nothing");
    let (rows, total) = page(RequestFilter {
        created_from: Some("2027-03-02T00:00:00.000000Z".into()),
        created_to: Some("2027-03-04T00:00:00.000000Z".into()),
        newest_first: true,
        ..Default::default()
    })
    .await;
    assert_eq!((rows.iter().map(|r| r.seq).collect::<Vec<_>>(), total), (vec![3, 2], 2));
    let (rows, total) =
        page(RequestFilter { case_numbers: vec!["QK-2027-000004".into(), "QK-2027-000002".into()], ..Default::default() }).await;
    assert_eq!((rows.len(), total), (2, 2));
    let (rows, total) = store.service_requests(&RequestFilter { limit: 1, offset: 1, ..Default::default() }).await.unwrap();
    assert_eq!((rows[0].seq, total), (2, 4));
}

async fn categories_attributes_and_keys(db: TestDb) {
    let store = seeded(&db).await;
    let mut tx = store.begin("office").await.unwrap();
    let attrs = vec![
        ServiceAttribute {
            code: "depth".into(),
            datatype: "singlevaluelist".into(),
            required: true,
            description: "塌陷深度".into(),
            datatype_description: String::new(),
            sort_order: 1,
            values: vec![("shallow".into(), "小于10厘米".into()), ("deep".into(), "10厘米以上".into())],
        },
        ServiceAttribute {
            code: "note".into(),
            datatype: "text".into(),
            required: false,
            description: "补充说明".into(),
            datatype_description: String::new(),
            sort_order: 2,
            values: vec![],
        },
    ];
    store.set_service_attributes(&mut tx, "road", &attrs).await.unwrap();
    let bad = ServiceAttribute { datatype: "blob".into(), ..attrs[1].clone() };
    assert!(store.set_service_attributes(&mut tx, "water", &[bad]).await.is_err());
    tx.audit("service.category", "service_category", "road", None, Some(json!({}))).await.unwrap();
    drop(tx);
    let mut tx = store.begin("office").await.unwrap();
    store.set_service_attributes(&mut tx, "road", &attrs).await.unwrap();
    let mut water = store.service_category("water").await.unwrap().unwrap();
    water.disabled = true;
    store.upsert_service_category(&mut tx, &water).await.unwrap();
    assert!(store.upsert_service_category(&mut tx, &ServiceCategory { sla_days: 0, ..water.clone() }).await.is_err());
    let key = store.add_open311_key(&mut tx, "市民热线", "hash-1").await.unwrap();
    tx.audit("service.category", "service_category", "road", None, Some(json!({}))).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.service_attributes("road").await.unwrap(), attrs);
    assert!(store.service_attributes("water").await.unwrap().is_empty());
    assert_eq!(store.service_categories(false).await.unwrap().iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["road"]);
    assert_eq!(store.service_categories(true).await.unwrap().len(), 2);
    assert_eq!(store.open311_key_by_hash("hash-1").await.unwrap(), Some((key, "市民热线".to_string())));
    let mut tx = store.begin("office").await.unwrap();
    store.revoke_open311_key(&mut tx, key).await.unwrap();
    assert!(store.revoke_open311_key(&mut tx, key).await.is_err(), "revoked once");
    tx.audit("open311.key.revoke", "open311_key", &key.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.open311_key_by_hash("hash-1").await.unwrap(), None);
    assert!(store.open311_keys().await.unwrap()[0].revoked_at.is_some());
}
