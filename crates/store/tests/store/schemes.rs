//! Scheme versions, the organisation they bring, periods.

use jixiao_core::period::Period;
use jixiao_store::{PeriodState, StoreError};

use crate::common::{TestDb, backend_tests, scheme_2027, store_with_scheme};

backend_tests!(
    versions_keep_every_file,
    import_creates_groups_and_units,
    invalid_scheme_is_refused,
    publish_and_periods,
    org_rows_are_disabled_not_deleted,
    drafts_are_locked_by_revision,
);

async fn drafts_are_locked_by_revision(db: TestDb) {
    let store = store_with_scheme(&db).await;
    assert_eq!(store.scheme_draft(2027).await.unwrap(), None);
    let mut file = scheme_2027();
    let mut tx = store.begin("office").await.unwrap();
    store.start_scheme_draft(&mut tx, 1, &file).await.unwrap();
    tx.audit("scheme.draft", "scheme_draft", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin("office2").await.unwrap();
    let again = store.start_scheme_draft(&mut tx, 1, &file).await.unwrap_err();
    assert!(matches!(again, StoreError::AlreadyExists { .. }), "{again:?}");
    drop(tx);

    file.name = "改".into();
    let mut tx = store.begin("office").await.unwrap();
    assert_eq!(store.save_scheme_draft(&mut tx, &file, 0).await.unwrap(), 1);
    tx.audit("scheme.draft", "scheme_draft", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    // A step made on revision 0 by someone who had not seen revision 1 is refused.
    let mut stale = scheme_2027();
    stale.name = "旧".into();
    let mut tx = store.begin("office2").await.unwrap();
    let err = store.save_scheme_draft(&mut tx, &stale, 0).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { expected: Some(0), current: Some(1), .. }), "{err:?}");
    drop(tx);
    let draft = store.scheme_draft(2027).await.unwrap().unwrap();
    assert_eq!((draft.base_version, draft.revision, draft.file.name.as_str(), draft.updated_by.as_str()), (1, 1, "改", "office"));

    let mut tx = store.begin("office").await.unwrap();
    assert!(matches!(store.delete_scheme_draft(&mut tx, 2027, 0).await.unwrap_err(), StoreError::Conflict { .. }));
    store.delete_scheme_draft(&mut tx, 2027, 1).await.unwrap();
    tx.audit("scheme.draft", "scheme_draft", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.scheme_draft(2027).await.unwrap(), None);
}

async fn versions_keep_every_file(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let v1 = scheme_2027();
    let mut v2 = scheme_2027();
    v2.name = "2027年度方案（修订）".into();
    v2.tree[0].children.as_mut().unwrap()[0].formula = Some("actual / target * points * 1".into());

    let mut tx = store.begin("office").await.unwrap();
    let err = store.import_scheme(&mut tx, &v2, " ").await.unwrap_err();
    let StoreError::Invalid(message) = &err else { panic!("{err:?}") };
    assert!(message.contains("needs a reason"), "{message}");
    assert_eq!(store.import_scheme(&mut tx, &v2, "调整A1计分公式").await.unwrap(), 2);
    tx.audit("scheme.import", "scheme", "2027/2", None, None).await.unwrap();
    tx.commit().await.unwrap();

    let latest = store.scheme(2027, None).await.unwrap();
    assert_eq!((latest.info.version, latest.info.reason.as_str()), (2, "调整A1计分公式"));
    assert_eq!(latest.info.created_by, "office");
    assert_eq!(latest.file, v2);
    let first = store.scheme(2027, Some(1)).await.unwrap();
    assert_eq!(first.file, v1);
    assert_eq!((first.info.name.as_str(), first.info.created_by.as_str()), ("2027年度区直部门及街道绩效考核方案", "admin"));
    assert_eq!(first.compile().unwrap().units.len(), 3);

    let versions: Vec<(i32, i32, bool)> =
        store.scheme_versions(2027).await.unwrap().iter().map(|v| (v.year, v.version, v.published)).collect();
    assert_eq!(versions, vec![(2027, 1, false), (2027, 2, false)]);
    assert_eq!(store.scheme_years().await.unwrap(), vec![2027]);
    assert!(matches!(store.scheme(2027, Some(3)).await.unwrap_err(), StoreError::NotFound { .. }));
    assert!(matches!(store.scheme(2026, None).await.unwrap_err(), StoreError::NotFound { .. }));
    assert_eq!(store.scheme_versions(2026).await.unwrap(), vec![]);

    // A second year starts again at version 1.
    let mut y2028 = scheme_2027();
    y2028.year = 2028;
    let mut tx = store.begin("office").await.unwrap();
    assert_eq!(store.import_scheme(&mut tx, &y2028, "").await.unwrap(), 1);
    tx.audit("scheme.import", "scheme", "2028/1", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.scheme_years().await.unwrap(), vec![2027, 2028]);
}

async fn import_creates_groups_and_units(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let groups: Vec<(String, String)> = store.groups().await.unwrap().into_iter().map(|g| (g.id, g.name)).collect();
    assert_eq!(groups, vec![("dept".into(), "区直部门".into()), ("street".into(), "街道".into())]);
    let units: Vec<(String, String, i64)> = store.units().await.unwrap().into_iter().map(|u| (u.id, u.group_id, u.sort_order)).collect();
    assert_eq!(units, vec![("u01".into(), "dept".into(), 0), ("u02".into(), "dept".into(), 1), ("s01".into(), "street".into(), 2)]);
    // A later version renames a unit; the row is updated, not duplicated.
    let mut v2 = scheme_2027();
    v2.units[1].name = "区财政局（更名）".into();
    let mut tx = store.begin("office").await.unwrap();
    store.import_scheme(&mut tx, &v2, "单位更名").await.unwrap();
    tx.audit("scheme.import", "scheme", "2027/2", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.unit("u02").await.unwrap().name, "区财政局（更名）");
    assert_eq!(store.units().await.unwrap().len(), 3);
}

async fn invalid_scheme_is_refused(db: TestDb) {
    let store = db.store().await;
    let mut bad = scheme_2027();
    bad.tree[0].points = Some(70.0); // children add up to 60
    bad.units[0].group = "nowhere".into();
    let mut tx = store.begin("office").await.unwrap();
    let err = store.import_scheme(&mut tx, &bad, "").await.unwrap_err();
    let StoreError::Invalid(message) = &err else { panic!("{err:?}") };
    assert!(message.contains("node A: children's points add up to 60 but the category has 70"), "{message}");
    assert!(message.contains("unit u01: unknown group `nowhere`"), "{message}");
    drop(tx);
    assert_eq!(store.scheme_versions(2027).await.unwrap(), vec![]);
    assert_eq!(store.groups().await.unwrap(), vec![]);
}

async fn publish_and_periods(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let march: Period = "2027-03".parse().unwrap();
    let q1: Period = "2027-Q1".parse().unwrap();
    let mut tx = store.begin("office").await.unwrap();
    store.set_scheme_published(&mut tx, 2027, 1, true).await.unwrap();
    store.set_period(&mut tx, march, PeriodState::Closed, Some(1)).await.unwrap();
    store.set_period(&mut tx, q1, PeriodState::Open, None).await.unwrap();
    assert!(matches!(store.set_period(&mut tx, march, PeriodState::Locked, Some(9)).await.unwrap_err(), StoreError::Invalid(_)));
    assert!(matches!(store.set_scheme_published(&mut tx, 2027, 5, true).await.unwrap_err(), StoreError::NotFound { .. }));
    tx.audit("period.close", "period", "2027-03", None, None).await.unwrap();
    tx.commit().await.unwrap();

    assert!(store.scheme(2027, None).await.unwrap().info.published);
    let periods = store.periods(2027).await.unwrap();
    assert_eq!(periods.len(), 2);
    assert_eq!((periods[0].period.as_str(), periods[0].state, periods[0].scheme_version), ("2027-03", PeriodState::Closed, Some(1)));
    assert!(periods[0].closed_at.is_some());
    assert_eq!((periods[1].period.as_str(), periods[1].state, periods[1].scheme_version), ("2027-Q1", PeriodState::Open, None));
    assert_eq!(periods[1].closed_at, None);

    // Locking keeps the scheme version when none is given.
    let mut tx = store.begin("office").await.unwrap();
    store.set_period(&mut tx, march, PeriodState::Locked, None).await.unwrap();
    tx.audit("period.lock", "period", "2027-03", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let periods = store.periods(2027).await.unwrap();
    assert_eq!((periods[0].state, periods[0].scheme_version), (PeriodState::Locked, Some(1)));
}

async fn org_rows_are_disabled_not_deleted(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut tx = store.begin("admin").await.unwrap();
    store.set_unit_disabled(&mut tx, "u02", true).await.unwrap();
    store.set_group_disabled(&mut tx, "street", true).await.unwrap();
    assert!(matches!(store.set_unit_disabled(&mut tx, "zz", true).await.unwrap_err(), StoreError::NotFound { .. }));
    let err = store.upsert_unit(&mut tx, "u09", "新单位", "nogroup", 9).await.unwrap_err();
    let StoreError::Invalid(message) = &err else { panic!("{err:?}") };
    assert!(message.contains("unknown group `nogroup`"), "{message}");
    tx.audit("unit.disable", "unit", "u02", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let units = store.units().await.unwrap();
    assert_eq!(units.iter().map(|u| (u.id.as_str(), u.disabled)).collect::<Vec<_>>(), vec![("u01", false), ("u02", true), ("s01", false)]);
    assert!(store.groups().await.unwrap().iter().any(|g| g.id == "street" && g.disabled));
    // Re-importing the scheme does not silently re-enable it.
    let mut tx = store.begin("office").await.unwrap();
    store.import_scheme(&mut tx, &scheme_2027(), "重新导入").await.unwrap();
    tx.audit("scheme.import", "scheme", "2027/2", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.unit("u02").await.unwrap().disabled);
}
