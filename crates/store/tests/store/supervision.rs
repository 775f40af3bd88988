//! Supervision tasks: codes per year, units with their signatures and evaluations,
//! history, versions, the unit filter — on both databases.

use jixiao_store::{NewSupervisionTask, NewTaskEvent, Store, StoreError, TaskUnitRow};
use serde_json::json;

use crate::common::{TestDb, backend_tests};

backend_tests!(tasks_get_codes_units_and_history, updates_check_the_version, units_filter_and_bad_units);

async fn seeded(db: &TestDb) -> Store {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    store.upsert_group(&mut tx, "dept", "区直部门").await.unwrap();
    for (i, (id, name)) in [("u01", "区发改局"), ("u02", "区财政局"), ("u03", "区商务局")].into_iter().enumerate() {
        store.upsert_unit(&mut tx, id, name, "dept", i as i64).await.unwrap();
    }
    tx.audit("test.seed", "test", "seed", None, None).await.unwrap();
    tx.commit().await.unwrap();
    store
}

fn new_task(year: i32, lead: &str, co: &[&str]) -> NewSupervisionTask {
    let unit = |id: &str, lead: bool| TaskUnitRow {
        unit_id: id.into(),
        lead,
        leader_name: "孙志刚".into(),
        person_name: if lead { "刘洋".into() } else { String::new() },
        ..Default::default()
    };
    NewSupervisionTask {
        year,
        title: "推进重点项目开工 <b>".into(),
        source_kind: "red_light".into(),
        source_ref: format!("{lead}/2027-03/A1"),
        requirement: "4月底前全部开工".into(),
        outputs: "开工报告".into(),
        priority: "high".into(),
        deadline: "2027-04-30".into(),
        units: std::iter::once(unit(lead, true)).chain(co.iter().map(|c| unit(c, false))).collect(),
        created_at: None,
    }
}

async fn tasks_get_codes_units_and_history(db: TestDb) {
    let store = seeded(&db).await;
    let mut tx = store.begin("office").await.unwrap();
    let a = store.create_supervision_task(&mut tx, &new_task(2027, "u01", &["u02"])).await.unwrap();
    let b = store.create_supervision_task(&mut tx, &new_task(2027, "u02", &[])).await.unwrap();
    let c = store.create_supervision_task(&mut tx, &new_task(2028, "u03", &[])).await.unwrap();
    tx.audit("supervision.assign", "supervision_task", &a.code, None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!([a.code.as_str(), b.code.as_str(), c.code.as_str()], ["DB-2027-0001", "DB-2027-0002", "DB-2028-0001"]);
    assert_eq!((a.state.as_str(), a.deadline.as_str(), a.original_deadline.as_str()), ("assigned", "2027-04-30", "2027-04-30"));
    assert_eq!((a.title.as_str(), a.created_by.as_str(), a.version), ("推进重点项目开工 <b>", "office", 1));
    assert_eq!(a.lead_unit(), Some("u01"));
    assert_eq!(a.units.iter().map(|u| (u.unit_id.as_str(), u.lead)).collect::<Vec<_>>(), [("u01", true), ("u02", false)]);
    let read = store.supervision_task(a.id).await.unwrap().unwrap();
    assert_eq!(read, a);
    assert!(store.supervision_task(999_999).await.unwrap().is_none());
    let history = store.supervision_events(a.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].step.as_str(), history[0].actor.as_str(), history[0].to_state.as_str()), ("assign", "office", "assigned"));
    assert_eq!(history[0].data, json!({"deadline": "2027-04-30"}));
}

async fn updates_check_the_version(db: TestDb) {
    let store = seeded(&db).await;
    let mut tx = store.begin("office").await.unwrap();
    let t = store.create_supervision_task(&mut tx, &new_task(2027, "u01", &["u02"])).await.unwrap();
    tx.audit("supervision.assign", "supervision_task", &t.code, None, None).await.unwrap();
    tx.commit().await.unwrap();

    let mut signed = t.clone();
    signed.units[0].signed_at = Some("2027-04-01T02:00:00Z".into());
    signed.units[1].grade = Some("good".into());
    signed.units[1].score = Some(85.5);
    signed.state = "in_progress".into();
    signed.deadline = "2027-05-31".into();
    let mut tx = store.begin("reporter").await.unwrap();
    signed.version = store.update_supervision_task(&mut tx, &signed).await.unwrap();
    let e = NewTaskEvent {
        step: "sign".into(),
        from_state: Some("assigned".into()),
        to_state: "in_progress".into(),
        unit_id: Some("u01".into()),
        text: String::new(),
        data: json!({"file": "报告.pdf"}),
        at: None,
    };
    store.add_supervision_event(&mut tx, t.id, &e).await.unwrap();
    tx.audit("supervision.sign", "supervision_task", &t.code, None, None).await.unwrap();
    tx.commit().await.unwrap();
    let read = store.supervision_task(t.id).await.unwrap().unwrap();
    assert_eq!(read.version, 2);
    assert_eq!((read.state.as_str(), read.deadline.as_str(), read.original_deadline.as_str()), ("in_progress", "2027-05-31", "2027-04-30"));
    assert_eq!(read.units[0].signed_at.as_deref(), Some("2027-04-01T02:00:00Z"));
    assert_eq!((read.units[1].grade.as_deref(), read.units[1].score), (Some("good"), Some(85.5)));
    let history = store.supervision_events(t.id).await.unwrap();
    assert_eq!((history[1].step.as_str(), history[1].actor.as_str(), history[1].unit_id.as_deref()), ("sign", "reporter", Some("u01")));
    assert_eq!(history[1].data, json!({"file": "报告.pdf"}));

    // A write based on version 1 is refused and changes nothing.
    let mut stale = t.clone();
    stale.state = "claimed".into();
    let mut tx = store.begin("head").await.unwrap();
    let err = store.update_supervision_task(&mut tx, &stale).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    tx.rollback().await.unwrap();
    assert_eq!(store.supervision_task(t.id).await.unwrap().unwrap().state, "in_progress");
}

async fn units_filter_and_bad_units(db: TestDb) {
    let store = seeded(&db).await;
    let mut tx = store.begin("office").await.unwrap();
    let a = store.create_supervision_task(&mut tx, &new_task(2027, "u01", &["u02"])).await.unwrap();
    let b = store.create_supervision_task(&mut tx, &new_task(2027, "u03", &[])).await.unwrap();
    tx.audit("supervision.assign", "supervision_task", &a.code, None, None).await.unwrap();
    tx.commit().await.unwrap();
    let ids = |tasks: Vec<jixiao_store::SupervisionTask>| tasks.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(store.supervision_tasks(None).await.unwrap()), [b.id, a.id], "newest first");
    assert_eq!(ids(store.supervision_tasks(Some(&["u02".to_string()])).await.unwrap()), [a.id], "a co-unit sees the shared task");
    assert_eq!(ids(store.supervision_tasks(Some(&["u03".to_string(), "u01".to_string()])).await.unwrap()), [b.id, a.id]);
    assert!(store.supervision_tasks(Some(&[])).await.unwrap().is_empty());
    let all = store.supervision_tasks(None).await.unwrap();
    assert_eq!(all[1].units.len(), 2, "units come with the list");

    let mut tx = store.begin("office").await.unwrap();
    let err = store.create_supervision_task(&mut tx, &new_task(2027, "nope", &[])).await.unwrap_err();
    assert!(err.to_string().contains("unknown unit `nope`"), "{err}");
    tx.rollback().await.unwrap();
    let mut tx = store.begin("office").await.unwrap();
    let mut two_leads = new_task(2027, "u01", &["u02"]);
    two_leads.units[1].lead = true;
    let err = store.create_supervision_task(&mut tx, &two_leads).await.unwrap_err();
    assert!(err.to_string().contains("exactly one lead unit"), "{err}");
    tx.rollback().await.unwrap();
    assert_eq!(store.supervision_tasks(None).await.unwrap().len(), 2, "nothing was added");
}
