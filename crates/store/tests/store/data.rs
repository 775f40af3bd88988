//! Records, data files and the bulk import.

use jixiao_core::data::{DataFile, EntryRow, RecordRow};
use jixiao_store::{Backend, ImportSummary, Store, StoreError};
use serde_json::{Map, json};

use crate::common::{TestDb, backend_tests, store_with_scheme};

backend_tests!(
    records_add_list_delete,
    data_file_round_trip,
    bulk_import_of_many_rows,
    import_with_bad_rows_writes_nothing,
    import_failing_in_the_database_writes_nothing,
    reimport_replaces_entries_and_bumps_versions,
);

fn values(actual: f64) -> Map<String, serde_json::Value> {
    let mut m = Map::new();
    m.insert("actual".into(), json!(actual));
    m
}

fn record(unit: &str, date: &str, points: f64, note: Option<&str>) -> RecordRow {
    RecordRow { unit: unit.into(), indicator: "X1".into(), date: date.into(), points, note: note.map(Into::into) }
}

async fn import(store: &Store, file: &DataFile) -> Result<ImportSummary, StoreError> {
    import_into(store, 2027, file).await
}

async fn import_into(store: &Store, year: i32, file: &DataFile) -> Result<ImportSummary, StoreError> {
    let mut tx = store.begin("importer").await?;
    let summary = store.import_data(&mut tx, year, file).await?;
    tx.audit("data.import", "data", "2027", None, Some(json!({"entries": summary.entries, "records": summary.records}))).await?;
    tx.commit().await?;
    Ok(summary)
}

async fn records_add_list_delete(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut tx = store.begin("office").await.unwrap();
    let a = store.add_record(&mut tx, 2027, &record("u01", "2027-02-10", 2.0, Some("省级表彰"))).await.unwrap();
    let b = store.add_record(&mut tx, 2027, &record("s01", "2027-03-01", 0.5, None)).await.unwrap();
    let c = store.add_record(&mut tx, 2027, &record("u01", "2027-01-31", 1.25, None)).await.unwrap();
    for (bad, needle) in [
        (record("u01", "2026-12-31", 1.0, None), "outside the year 2027"),
        (record("u01", "2027-02-30", 1.0, None), "not a date"),
        (record("u01", "2027-02-01", f64::NAN, None), "points must be a number"),
        (record("u99", "2027-02-01", 1.0, None), "unknown unit `u99`"),
    ] {
        let err = store.add_record(&mut tx, 2027, &bad).await.unwrap_err();
        let StoreError::Invalid(message) = &err else { panic!("{err:?}") };
        assert!(message.contains(needle), "{message}");
    }
    tx.audit("record.add", "record", "*", None, None).await.unwrap();
    tx.commit().await.unwrap();

    let listed = store.records(2027).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a, b, c]);
    assert_eq!(listed[0].row, record("u01", "2027-02-10", 2.0, Some("省级表彰")));
    assert_eq!(listed[1].row.points, 0.5);
    assert_eq!((listed[0].created_by.as_str(), listed[0].state.as_str()), ("office", "accepted"));

    let mut tx = store.begin("office").await.unwrap();
    let deleted = store.delete_record(&mut tx, b).await.unwrap();
    assert_eq!(deleted.row, record("s01", "2027-03-01", 0.5, None));
    assert!(matches!(store.delete_record(&mut tx, b).await.unwrap_err(), StoreError::NotFound { .. }));
    tx.audit("record.delete", "record", &b.to_string(), Some(json!({"points": 0.5})), None).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.records(2027).await.unwrap().iter().map(|r| r.id).collect::<Vec<_>>(), vec![a, c]);
}

async fn data_file_round_trip(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let file: DataFile = serde_json::from_str(
        r#"{
          "entries": [
            {"unit": "u02", "indicator": "A1", "month": "2027-02", "values": {"actual": 7}},
            {"unit": "u01", "indicator": "A2", "month": "2027-01", "values": {"rate": 0.85}},
            {"unit": "u01", "indicator": "A1", "month": "2027-02", "values": {"actual": 0.1}},
            {"unit": "u01", "indicator": "A1", "month": "2027-01", "values": {"actual": 3.2}}
          ],
          "records": [
            {"unit": "u01", "indicator": "X1", "date": "2027-02-10", "points": 2, "note": "省级表彰"},
            {"unit": "s01", "indicator": "X1", "date": "2027-01-05", "points": 1.5}
          ]
        }"#,
    )
    .unwrap();
    assert_eq!(import(&store, &file).await.unwrap(), ImportSummary { entries: 4, records: 2, records_added: 2, records_replaced: 0 });
    let expected: DataFile = serde_json::from_str(
        r#"{
          "entries": [
            {"unit": "u01", "indicator": "A1", "month": "2027-01", "values": {"actual": 3.2}},
            {"unit": "u01", "indicator": "A1", "month": "2027-02", "values": {"actual": 0.1}},
            {"unit": "u01", "indicator": "A2", "month": "2027-01", "values": {"rate": 0.85}},
            {"unit": "u02", "indicator": "A1", "month": "2027-02", "values": {"actual": 7}}
          ],
          "records": [
            {"unit": "u01", "indicator": "X1", "date": "2027-02-10", "points": 2, "note": "省级表彰"},
            {"unit": "s01", "indicator": "X1", "date": "2027-01-05", "points": 1.5}
          ]
        }"#,
    )
    .unwrap();
    let back = store.data_file(2027).await.unwrap();
    assert_eq!(back, expected);
    // What the store gives back loads into the scoring dataset.
    let scheme = store.scheme(2027, None).await.unwrap().compile().unwrap();
    let dataset = jixiao_core::data::Dataset::load(&scheme, &back).unwrap();
    assert_eq!(dataset.value_count(), 4);
    assert_eq!(store.data_file(2028).await.unwrap(), DataFile::default());
}

async fn bulk_import_of_many_rows(db: TestDb) {
    let store = store_with_scheme(&db).await;
    // 60 units × 10 indicators × 12 months = 7 200 entries (8 statements), 2 500 records.
    // Into 2026, which has no scheme: the store checks shape, not indicators, and a year
    // without a scheme has no scores to bring up to date at commit (2027's would refuse
    // data its scheme cannot score).
    let mut tx = store.begin("admin").await.unwrap();
    for u in 0..60 {
        store.upsert_unit(&mut tx, &format!("b{u:03}"), &format!("单位{u}"), "dept", 100 + u).await.unwrap();
    }
    tx.audit("unit.create", "unit", "*", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let mut file = DataFile::default();
    for u in 0..60 {
        for i in 0..10 {
            for m in 1..=12 {
                file.entries.push(EntryRow {
                    unit: format!("b{u:03}"),
                    indicator: format!("I{i}"),
                    month: format!("2026-{m:02}"),
                    values: values(f64::from(u * 1000 + i * 100 + m) / 8.0),
                });
            }
        }
    }
    for r in 0..2500 {
        file.records.push(record(
            &format!("b{:03}", r % 60),
            &format!("2026-{:02}-{:02}", r % 12 + 1, r % 28 + 1),
            f64::from(r) * 0.25,
            None,
        ));
    }
    assert_eq!(
        import_into(&store, 2026, &file).await.unwrap(),
        ImportSummary { entries: 7200, records: 2500, records_added: 2500, records_replaced: 0 }
    );
    let entries = store.entries(2026).await.unwrap();
    assert_eq!(entries.len(), 7200);
    // Sorted by unit, indicator, month, which is the order they were generated in.
    assert_eq!(entries, file.entries);
    let e = store.entry(2026, "b059", "I9", "2026-12").await.unwrap().unwrap();
    assert_eq!((e.version, e.row.values["actual"].as_f64()), (1, Some(7489.0)));
    let records = store.records(2026).await.unwrap();
    assert_eq!(records.len(), 2500);
    assert_eq!(records.iter().map(|r| r.row.clone()).collect::<Vec<_>>(), file.records);
    assert_eq!(records[2499].row.points, 624.75);
}

async fn import_with_bad_rows_writes_nothing(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut file = DataFile::default();
    for m in 1..=12 {
        file.entries.push(EntryRow { unit: "u01".into(), indicator: "A1".into(), month: format!("2027-{m:02}"), values: values(1.0) });
    }
    file.entries[3].unit = "u99".into();
    file.entries[5].month = "2028-01".into();
    file.entries.push(EntryRow { unit: "u01".into(), indicator: "A1".into(), month: "2027-01".into(), values: values(2.0) });
    file.records.push(record("u01", "2027-02-10", 1.0, None));
    file.records.push(record("u01", "2027-02-1", 1.0, None));
    let err = import(&store, &file).await.unwrap_err();
    let StoreError::InvalidData(data) = &err else { panic!("{err:?}") };
    let locations: Vec<&str> = data.rows.iter().map(|r| r.location.as_str()).collect();
    assert_eq!(locations, vec!["entries[3]", "entries[5]", "entries[12]", "records[1]"]);
    assert!(data.rows[0].message.contains("unknown unit `u99`"));
    assert!(data.rows[2].message.contains("duplicate entry: entries[0]"), "{}", data.rows[2].message);
    assert_eq!(store.data_file(2027).await.unwrap(), DataFile::default());
    assert_eq!(store.verify_audit().await.unwrap().entries, 1); // the scheme import only
}

/// The database refuses a row in the second batch, after the first batch was written:
/// nothing of the import remains and earlier data is untouched.
async fn import_failing_in_the_database_writes_nothing(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let mut tx = store.begin("r").await.unwrap();
    let before = EntryRow { unit: "u01".into(), indicator: "A1".into(), month: "2027-01".into(), values: values(5.0) };
    store.upsert_entry(&mut tx, 2027, &before, None).await.unwrap();
    tx.audit("entry.save", "entry", "2027/u01/A1/2027-01", None, None).await.unwrap();
    tx.commit().await.unwrap();

    // A trap for one indicator id, standing in for a failure (disk full, constraint).
    let traps: &[&str] = match db.backend {
        Backend::Sqlite => &["CREATE TRIGGER trap BEFORE INSERT ON entries WHEN NEW.indicator_id = 'TRAP' \
                              BEGIN SELECT RAISE(ABORT, 'trap'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION trap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.indicator_id = 'TRAP' THEN RAISE EXCEPTION 'trap'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER trap BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION trap()",
        ],
    };
    for sql in traps {
        db.raw(&store, sql).await;
    }
    let mut file = DataFile::default();
    for i in 0..1500 {
        let indicator = if i == 1400 { "TRAP".to_string() } else { format!("I{i}") };
        file.entries.push(EntryRow { unit: "u02".into(), indicator, month: "2027-03".into(), values: values(1.0) });
    }
    file.entries.push(EntryRow { unit: "u01".into(), indicator: "A1".into(), month: "2027-01".into(), values: values(9.0) });
    file.records.push(record("u01", "2027-02-10", 1.0, None));
    let err = import(&store, &file).await.unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    assert!(err.to_string().contains("trap"), "{err}");

    let entries = store.stored_entries(2027).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].row.clone(), entries[0].version), (before, 1));
    assert_eq!(store.records(2027).await.unwrap(), vec![]);
    assert_eq!(store.verify_audit().await.unwrap().entries, 2);
}

async fn reimport_replaces_entries_and_bumps_versions(db: TestDb) {
    let store = store_with_scheme(&db).await;
    let row =
        |unit: &str, actual: f64| EntryRow { unit: unit.into(), indicator: "A1".into(), month: "2027-04".into(), values: values(actual) };
    let first = DataFile { entries: vec![row("u01", 1.0), row("u02", 2.0)], records: vec![record("u01", "2027-04-01", 1.0, None)] };
    import(&store, &first).await.unwrap();
    // u02's entry goes back to a draft in the form; an import makes it accepted again.
    let mut tx = store.begin("reporter").await.unwrap();
    store.set_entry_state(&mut tx, 2027, "u02", "A1", "2027-04", 1, "draft").await.unwrap();
    tx.audit("entry.return", "entry", "u02", None, None).await.unwrap();
    tx.commit().await.unwrap();
    let second = DataFile { entries: vec![row("u02", 20.0), row("s01", 30.0)], records: vec![record("u01", "2027-04-02", 2.0, None)] };
    import(&store, &second).await.unwrap();
    let entries = store.stored_entries(2027).await.unwrap();
    let got: Vec<(String, i64, f64, String)> =
        entries.iter().map(|e| (e.row.unit.clone(), e.version, e.row.values["actual"].as_f64().unwrap(), e.updated_by.clone())).collect();
    assert_eq!(
        got,
        vec![
            ("s01".into(), 1, 30.0, "importer".into()),
            ("u01".into(), 1, 1.0, "importer".into()),
            ("u02".into(), 3, 20.0, "importer".into()),
        ]
    );
    assert!(entries.iter().all(|e| e.state == "accepted"), "imported data is accepted");
    // Records accumulate.
    assert_eq!(store.records(2027).await.unwrap().len(), 2);
}
