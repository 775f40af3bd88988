//! Records are idempotent by key: importing an export adds nothing, a record with a
//! stored key replaces it, identical key-less records stay apart by occurrence, adding
//! the same record twice keeps one, and records stored before keys existed get the keys
//! their content derives.

use jixiao_core::data::{DataFile, KeyedDataFile, KeyedRecord, RecordRow, derived_key};
use jixiao_core::generate::demo_district;
use jixiao_store::{AuditFilter, ImportSummary, RecordWrite, Store, StoreError};
use serde_json::json;

use crate::common::{TestDb, assert_current, backend_tests, load, store_with_scheme};

backend_tests!(
    export_then_import_changes_nothing,
    a_record_with_a_stored_key_replaces_it,
    identical_records_without_keys_are_occurrences,
    adding_the_same_record_twice_keeps_one,
    keys_that_repeat_in_a_file_are_bad_rows,
    migration_gives_stored_records_their_derived_keys,
);

fn record(unit: &str, date: &str, points: f64, note: Option<&str>) -> RecordRow {
    RecordRow { unit: unit.into(), indicator: "X1".into(), date: date.into(), points, note: note.map(Into::into) }
}

async fn import_keyed(store: &Store, file: &KeyedDataFile) -> Result<ImportSummary, StoreError> {
    let mut tx = store.begin("importer").await?;
    let summary = store.import_keyed_data(&mut tx, 2027, file).await?;
    tx.audit("data.import", "data", "2027", None, None).await?;
    tx.commit().await?;
    Ok(summary)
}

/// The issue's case: a year exported and imported again (417 records became 831).
/// Export → import → export gives the same file, with as many records as before, and
/// so does importing the data without keys (keys derived again).
async fn export_then_import_changes_nothing(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 11, 3);
    load(&store, &scheme, &data).await;
    let first = store.export_data(2027).await.unwrap();
    assert_eq!(first.records.len(), data.records.len());
    assert!(first.records.iter().all(|r| r.key.as_deref() == Some(derived_key(&r.row, 1).as_str())), "derived keys, occurrence 1");
    // Through the file's text, as `jixiao data export` writes it and `import` reads it.
    let text = serde_json::to_string_pretty(&first).unwrap();
    let read: KeyedDataFile = serde_json::from_str(&text).unwrap();
    let summary = import_keyed(&store, &read).await.unwrap();
    assert_eq!(summary, ImportSummary { entries: data.entries.len(), records: data.records.len(), records_added: 0, records_replaced: 0 });
    let second = store.export_data(2027).await.unwrap();
    assert_eq!(serde_json::to_string_pretty(&second).unwrap(), text);
    // The data file without keys (spec §3 as every other program writes it).
    let mut tx = store.begin("importer").await.unwrap();
    let summary = store.import_data(&mut tx, 2027, &data).await.unwrap();
    tx.audit("data.import", "data", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((summary.records_added, summary.records_replaced), (0, 0));
    assert_eq!(store.records(2027).await.unwrap().len(), data.records.len());
    assert_eq!(store.export_data(2027).await.unwrap(), first);
    assert_current(&store, 2027, "importing the export again").await;
}

/// A changed record under a stored key replaces it: same id and place, next version,
/// the audit trail keeps both, the scores follow.
async fn a_record_with_a_stored_key_replaces_it(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let keyed = |key: &str, row: RecordRow| KeyedRecord { key: Some(key.into()), row };
    let file = KeyedDataFile {
        entries: vec![],
        records: vec![
            keyed("award-1", record("u01", "2027-02-10", 2.0, Some("省级表彰"))),
            keyed("award-2", record("u02", "2027-03-01", 1.0, None)),
        ],
    };
    assert_eq!(import_keyed(&store, &file).await.unwrap(), ImportSummary { entries: 0, records: 2, records_added: 2, records_replaced: 0 });
    let before = store.records(2027).await.unwrap();
    let q1 = |store: &Store| {
        let store = store.clone();
        async move {
            let rows = store.scores(2027, 1, "2027-Q1").await.unwrap();
            rows.iter().find(|r| r.unit_id == "u01").unwrap().result["scores"]["X1"].as_f64()
        }
    };
    assert_eq!(q1(&store).await, Some(2.0));

    // The office corrects award-1: 4 points (capped at X's 5), another date and note.
    let corrected = KeyedDataFile {
        entries: vec![],
        records: vec![keyed("award-1", record("u01", "2027-02-12", 4.0, Some("省级表彰（更正）")))],
    };
    assert_eq!(
        import_keyed(&store, &corrected).await.unwrap(),
        ImportSummary { entries: 0, records: 1, records_added: 0, records_replaced: 1 }
    );
    let after = store.records(2027).await.unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!((after[0].id, after[0].key.as_str(), after[0].version), (before[0].id, "award-1", 2));
    assert_eq!(after[0].row, record("u01", "2027-02-12", 4.0, Some("省级表彰（更正）")));
    assert_eq!((after[0].created_at.as_str(), after[0].updated_by.as_str()), (before[0].created_at.as_str(), "importer"));
    assert_eq!(after[1], before[1], "the other record is untouched");
    assert_eq!(q1(&store).await, Some(4.0), "the scores follow");
    let trail = store.recent_audit(&AuditFilter { action: Some("record.replace".into()), ..Default::default() }, 10).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!((trail[0].object_id.as_str(), trail[0].actor.as_str()), ("2027/award-1", "importer"));
    let json = |text: &Option<String>| serde_json::from_str::<serde_json::Value>(text.as_deref().unwrap()).unwrap();
    assert_eq!(
        json(&trail[0].before_json),
        json!({"key": "award-1", "unit": "u01", "indicator": "X1", "date": "2027-02-10", "points": 2.0, "note": "省级表彰"})
    );
    assert_eq!(json(&trail[0].after_json)["points"], json!(4.0));
    // The same correction again changes nothing (not even the version).
    import_keyed(&store, &corrected).await.unwrap();
    assert_eq!(store.records(2027).await.unwrap(), after);
}

/// Two identical records without keys in one file are two events (occurrences 1 and
/// 2); importing the file again finds both, and a third copy in a later file is a
/// third event only if that file says so.
async fn identical_records_without_keys_are_occurrences(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let twice = DataFile { entries: vec![], records: vec![record("u01", "2027-05-05", 0.5, None), record("u01", "2027-05-05", 0.5, None)] };
    for _ in 0..2 {
        let mut tx = store.begin("importer").await.unwrap();
        store.import_data(&mut tx, 2027, &twice).await.unwrap();
        tx.audit("data.import", "data", "2027", None, None).await.unwrap();
        tx.commit().await.unwrap();
        let keys: Vec<String> = store.records(2027).await.unwrap().into_iter().map(|r| r.key).collect();
        assert_eq!(keys, vec![derived_key(&twice.records[0], 1), derived_key(&twice.records[0], 2)]);
    }
    assert_current(&store, 2027, "importing two identical records twice").await;
}

/// `add_record` (the lateness rule's way in) under the derived key: the same record
/// added again is found, not copied.
async fn adding_the_same_record_twice_keeps_one(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let late = record("u02", "2027-03-31", 0.5, Some("2027-03 逾期报送"));
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut tx = store.begin("office").await.unwrap();
        ids.push(store.add_record(&mut tx, 2027, &late).await.unwrap());
        tx.audit("record.add", "record", "x", None, None).await.unwrap();
        tx.commit().await.unwrap();
    }
    assert_eq!(ids[0], ids[1]);
    let mut tx = store.begin("office").await.unwrap();
    assert_eq!(store.put_record(&mut tx, 2027, None, &late).await.unwrap(), (ids[0], RecordWrite::Unchanged));
    // A key given by the caller is another record; the same key with other points
    // replaces it.
    let (id, how) = store.put_record(&mut tx, 2027, Some("late/2027-03/u02"), &late).await.unwrap();
    assert_eq!(how, RecordWrite::Added);
    let missing = RecordRow { points: 1.0, note: Some("2027-03 逾期未报".into()), ..late.clone() };
    assert_eq!(store.put_record(&mut tx, 2027, Some("late/2027-03/u02"), &missing).await.unwrap(), (id, RecordWrite::Replaced));
    let err = store.put_record(&mut tx, 2027, Some("legacy:1"), &late).await.unwrap_err();
    assert!(err.to_string().contains("reserved"), "{err}");
    tx.audit("record.add", "record", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let records = store.records(2027).await.unwrap();
    assert_eq!(
        records.iter().map(|r| (r.key.clone(), r.row.points)).collect::<Vec<_>>(),
        vec![(derived_key(&late, 1), 0.5), ("late/2027-03/u02".to_string(), 1.0)]
    );
    // The derived key is the SHA-256 of the record's canonical text, the same in every
    // process and on every platform (computed independently:
    // printf '%s' '["jixiao record","u02","X1","2027-03-31","0.5","2027-03 逾期报送",1]' | sha256sum).
    assert_eq!(records[0].key, "7f0f197f90b22fe578c3580abcc89875");
}

/// A key given twice, or a key given that another row derives, is a bad row naming
/// both; nothing of the file is written.
async fn keys_that_repeat_in_a_file_are_bad_rows(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let a = record("u01", "2027-02-10", 1.0, None);
    let file = KeyedDataFile {
        entries: vec![],
        records: vec![
            KeyedRecord { key: Some("k".into()), row: a.clone() },
            KeyedRecord { key: None, row: a.clone() },
            KeyedRecord { key: Some("k".into()), row: record("u02", "2027-02-10", 1.0, None) },
            KeyedRecord { key: Some(derived_key(&a, 1)), row: record("s01", "2027-02-10", 1.0, None) },
        ],
    };
    let err = import_keyed(&store, &file).await.unwrap_err();
    let StoreError::InvalidData(data) = &err else { panic!("{err:?}") };
    let rows: Vec<String> = data.rows.iter().map(ToString::to_string).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].starts_with("records[2]: key `k` repeats records[0]'s"), "{rows:?}");
    assert!(rows[1].starts_with(&format!("records[3]: key `{}` repeats records[1]'s", derived_key(&a, 1))), "{rows:?}");
    assert_eq!(store.records(2027).await.unwrap(), vec![]);
}

/// A database from before keys: its records (exact duplicates among them) get their
/// derived keys when migrated — the duplicate as occurrence 2, both kept — so a data
/// file written before keys existed, imported again, adds nothing.
async fn migration_gives_stored_records_their_derived_keys(db: TestDb) {
    let store = db.unchecked().await;
    store.migrate_to(8).await.unwrap();
    let at = "2027-04-01T00:00:00.000000Z";
    for sql in [
        format!("INSERT INTO groups (id, name, created_at) VALUES ('dept', '区直部门', '{at}')"),
        format!("INSERT INTO units (id, name, group_id, created_at) VALUES ('u01', '区发改局', 'dept', '{at}')"),
    ] {
        db.raw(&store, &sql).await;
    }
    let old = [
        record("u01", "2027-02-10", 2.0, Some("省级表彰")),
        record("u01", "2027-03-01", 0.5, None),
        record("u01", "2027-03-01", 0.5, None),
    ];
    for r in &old {
        let note = r.note.as_ref().map_or("NULL".to_string(), |n| format!("'{n}'"));
        db.raw(
            &store,
            &format!(
                "INSERT INTO records (year, unit_id, indicator_id, date, points, note, state, created_by, created_at) \
                 VALUES (2027, '{}', '{}', '{}', {}, {note}, 'accepted', 'old', '{at}')",
                r.unit, r.indicator, r.date, r.points
            ),
        )
        .await;
    }
    // A migration stopped after the SQL of version 10, before the keys were derived,
    // leaves placeholders: such a database is refused until `migrate` finishes.
    store.migrate_to(10).await.unwrap();
    db.raw(&store, "UPDATE records SET record_key = 'legacy:' || CAST(id AS TEXT)").await;
    let err = Store::connect_with(&db.url, db.options()).await.unwrap_err();
    assert!(matches!(err, StoreError::NeedsMigration { .. }), "{err:?}");
    assert_eq!(store.migrate().await.unwrap(), jixiao_store::SCHEMA_VERSION);
    let store = Store::connect_with(&db.url, db.options()).await.unwrap();
    let records = store.records(2027).await.unwrap();
    assert_eq!(records.iter().map(|r| r.row.clone()).collect::<Vec<_>>(), old.to_vec(), "all kept, in order");
    assert_eq!(
        records.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
        vec![derived_key(&old[0], 1), derived_key(&old[1], 1), derived_key(&old[2], 2)]
    );
    assert!(records.iter().all(|r| (r.version, r.updated_by.as_str(), r.updated_at.as_str()) == (1, "old", at)));
    let trail = store.recent_audit(&AuditFilter { action: Some("record.keys".into()), ..Default::default() }, 10).await.unwrap();
    // Once by `migrate_to(10)`, once more after the placeholders were put back.
    assert_eq!(trail.len(), 2);
    assert!(trail.iter().all(|e| (e.actor.as_str(), e.after_json.as_deref()) == ("system:migrate", Some(r#"{"filled":3}"#))));
    assert_eq!(store.verify_audit().await.unwrap().first_broken, None);
    // The file the old jixiao exported, imported again: nothing added.
    let mut tx = store.begin("importer").await.unwrap();
    let summary = store.import_data(&mut tx, 2027, &DataFile { entries: vec![], records: old.to_vec() }).await.unwrap();
    tx.audit("data.import", "data", "2027", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!((summary.records_added, summary.records_replaced), (0, 0));
    assert_eq!(store.records(2027).await.unwrap().len(), 3);
}
