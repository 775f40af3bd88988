//! Stored scores survive a crash: they commit with the data they come from, a
//! transaction that does not commit leaves them as they were, and scores left behind by
//! a process that stopped between the two (or by rows written by hand) are found by the
//! data stamp and repaired.

use jixiao_core::data::{DataFile, EntryRow, RecordRow};
use jixiao_core::generate::demo_district;
use jixiao_store::{Backend, Store, StoreError};
use serde_json::json;

use crate::common::{TestDb, assert_current, backend_tests, load, stale_rows, stored};

backend_tests!(
    a_commit_stores_the_scores_of_its_data,
    a_transaction_that_does_not_commit_leaves_scores_as_they_were,
    a_commit_failing_after_the_rescore_changes_nothing,
    stale_scores_are_found_and_repaired,
    refreshing_current_scores_writes_nothing,
    concurrent_writers_leave_scores_current,
    a_change_undone_by_another_process_is_stored,
    data_the_new_scheme_cannot_score_is_refused_at_commit,
);

/// The first accepted entry of `unit` in `month` with a numeric value above 3, and that
/// entry with every number scaled by `factor` (rounded, so within bounds ≥ 0).
async fn scaled(store: &Store, unit: &str, month: &str, factor: f64) -> (EntryRow, i64) {
    let e = store
        .stored_entries(2027)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.row.unit == unit && e.row.month == month && e.row.values.values().any(|v| v.as_f64().is_some_and(|x| x > 3.0)))
        .unwrap_or_else(|| panic!("an entry of {unit} in {month}"));
    let mut row = e.row.clone();
    for v in row.values.values_mut() {
        if let Some(x) = v.as_f64() {
            *v = json!((x * factor).round());
        }
    }
    (row, e.version)
}

async fn commit_entry(store: &Store, row: &EntryRow, version: i64) -> Result<(), StoreError> {
    let mut tx = store.begin("office").await?;
    store.save_entry(&mut tx, 2027, row, Some(version), "accepted").await?;
    tx.audit("entry.accept", "entry", "x", None, None).await?;
    tx.commit().await.map(drop)
}

/// Nobody calls `refresh_scores`: the commit of the data stored its scores, and the
/// year's stamp says so.
async fn a_commit_stores_the_scores_of_its_data(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 4, 5);
    load(&store, &scheme, &data).await;
    assert_eq!(stored(&store, 2027).await.len(), 17 * 76);
    assert_current(&store, 2027, "loading the demo").await;
    assert_eq!(store.stale_score_years().await.unwrap(), Vec::<i32>::new());

    let (row, version) = scaled(&store, "u03", "2027-02", 0.5).await;
    commit_entry(&store, &row, version).await.unwrap();
    assert_current(&store, 2027, "accepting a changed entry").await;
    // A record, added and deleted.
    let mut tx = store.begin("office").await.unwrap();
    let record =
        RecordRow { unit: "u03".into(), indicator: data.records[0].indicator.clone(), date: "2027-03-03".into(), points: 1.5, note: None };
    let id = store.add_record(&mut tx, 2027, &record).await.unwrap();
    tx.audit("record.add", "record", &id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_current(&store, 2027, "adding a record").await;
    let mut tx = store.begin("office").await.unwrap();
    store.delete_record(&mut tx, id).await.unwrap();
    tx.audit("record.delete", "record", &id.to_string(), None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_current(&store, 2027, "deleting it").await;
    // Returned: no longer counts.
    let version = store.entry(2027, "u03", &row.indicator, "2027-02").await.unwrap().unwrap().version;
    let mut tx = store.begin("office").await.unwrap();
    store.set_entry_state(&mut tx, 2027, "u03", &row.indicator, "2027-02", version, "returned").await.unwrap();
    tx.audit("entry.return", "entry", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();
    assert_current(&store, 2027, "returning it").await;
    assert_eq!(store.stale_score_years().await.unwrap(), Vec::<i32>::new());
}

/// Written, then dropped or rolled back: stored scores and stamp are as before.
async fn a_transaction_that_does_not_commit_leaves_scores_as_they_were(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 3, 9);
    load(&store, &scheme, &data).await;
    let before = stored(&store, 2027).await;
    for rollback in [false, true] {
        let (row, version) = scaled(&store, "u10", "2027-01", 0.25).await;
        let mut tx = store.begin("office").await.unwrap();
        store.save_entry(&mut tx, 2027, &row, Some(version), "accepted").await.unwrap();
        store.import_data(&mut tx, 2027, &DataFile { entries: vec![], records: vec![data.records[1].clone()] }).await.unwrap();
        tx.audit("entry.accept", "entry", "x", None, None).await.unwrap();
        if rollback {
            tx.rollback().await.unwrap();
        } else {
            drop(tx);
        }
        assert_eq!(stored(&store, 2027).await, before, "rollback {rollback}");
        assert_current(&store, 2027, "a transaction that did not commit").await;
        assert_eq!(store.stale_score_years().await.unwrap(), Vec::<i32>::new());
    }
    // The next change is scored from what was committed, not from what was dropped.
    let (row, version) = scaled(&store, "u10", "2027-01", 0.25).await;
    commit_entry(&store, &row, version).await.unwrap();
    assert_current(&store, 2027, "the next commit").await;
}

/// A failure after the rescore advanced the scores kept in memory and wrote rows (here
/// the audit append, standing in for a full disk): nothing of it stays, and the next
/// change — the very same one, so the kept results would already hold it — is scored
/// from the database, not from memory of the rolled-back transaction.
async fn a_commit_failing_after_the_rescore_changes_nothing(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 3, 17);
    load(&store, &scheme, &data).await;
    let before = stored(&store, 2027).await;
    let traps: &[&str] = match db.backend {
        Backend::Sqlite => &["CREATE TRIGGER trap BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'trap'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION trap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'trap'; END $$",
            "CREATE TRIGGER trap BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION trap()",
        ],
    };
    for sql in traps {
        db.raw(&store, sql).await;
    }
    let (row, version) = scaled(&store, "u05", "2027-02", 0.5).await;
    let err = commit_entry(&store, &row, version).await.unwrap_err();
    assert!(err.to_string().contains("trap"), "{err}");
    db.raw(
        &store,
        match db.backend {
            Backend::Sqlite => "DROP TRIGGER trap",
            Backend::Postgres => "DROP TRIGGER trap ON audit_log",
        },
    )
    .await;
    assert_eq!(stored(&store, 2027).await, before);
    assert_eq!(store.entry(2027, "u05", &row.indicator, "2027-02").await.unwrap().unwrap().version, version);
    assert_eq!(store.stale_score_years().await.unwrap(), Vec::<i32>::new());
    // Refreshing finds nothing to do; the same change, committed, is stored.
    store.refresh_scores(2027).await.unwrap();
    assert_eq!(stored(&store, 2027).await, before);
    commit_entry(&store, &row, version).await.unwrap();
    assert_current(&store, 2027, "committing the change that failed before").await;
    assert_ne!(stored(&store, 2027).await, before, "the change moves some result");
}

/// Data written without rescoring — as jixiao before this change left it when killed
/// between committing an import and storing its scores, here by raw SQL — is found from
/// a fresh process by its stamp and repaired.
async fn stale_scores_are_found_and_repaired(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 5, 21);
    load(&store, &scheme, &data).await;
    let x = &data.records[0];
    // Ten entries of u01 halved, a record added, another deleted — each as an import by
    // old code would write them (versions and times move).
    let at = "2099-01-01T00:00:00.000000Z";
    let picks: Vec<_> = store
        .stored_entries(2027)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.row.unit == "u01" && e.row.values.values().any(|v| v.as_f64().is_some_and(|x| x > 3.0)))
        .take(10)
        .collect();
    assert_eq!(picks.len(), 10);
    for e in &picks {
        let mut values = e.row.values.clone();
        for v in values.values_mut().filter(|v| v.as_f64().is_some_and(|x| x > 3.0)) {
            *v = json!((v.as_f64().unwrap() / 2.0).round());
        }
        let sql = format!(
            "UPDATE entries SET values_json = '{}', version = version + 1, updated_at = '{at}' \
             WHERE year = 2027 AND unit_id = 'u01' AND indicator_id = '{}' AND month = '{}'",
            serde_json::Value::Object(values),
            e.row.indicator,
            e.row.month
        );
        db.raw(&store, &sql).await;
    }
    db.raw(
        &store,
        &format!(
            "INSERT INTO records (year, record_key, unit_id, indicator_id, date, points, note, state, version, created_by, created_at, \
             updated_by, updated_at) VALUES (2027, 'raw-1', 'u02', '{}', '2027-02-02', 3, 'raw', 'accepted', 1, 'raw', '{at}', 'raw', '{at}')",
            x.indicator
        ),
    )
    .await;
    db.raw(&store, "DELETE FROM records WHERE id = (SELECT MIN(id) FROM records)").await;
    let stale = stale_rows(&store, 2027).await;
    assert!(stale.len() > 17, "the raw changes move many results: {}", stale.len());

    // A fresh process (what `jixiao serve` is after a crash) sees it from the stamps.
    let fresh = db.store().await;
    assert_eq!(fresh.stale_score_years().await.unwrap(), vec![2027]);
    assert_eq!(fresh.repair_stale_scores().await.unwrap(), vec![(2027, stale.len())]);
    assert_current(&fresh, 2027, "repairing").await;
    assert_eq!(fresh.stale_score_years().await.unwrap(), Vec::<i32>::new());
    assert_eq!(fresh.repair_stale_scores().await.unwrap(), vec![], "nothing left to repair");
    // The first store's kept results are behind the database: its next change is scored
    // from the database (the stamps differ), not from memory.
    let (row, version) = scaled(&store, "u04", "2027-03", 0.5).await;
    commit_entry(&store, &row, version).await.unwrap();
    assert_current(&store, 2027, "the next change in the process that kept old results").await;

    // A database from before stamps has none: every year is compared (nothing differs).
    db.raw(&store, "DELETE FROM score_stamps").await;
    assert_eq!(store.stale_score_years().await.unwrap(), vec![2027]);
    assert_eq!(store.repair_stale_scores().await.unwrap(), vec![(2027, 0)]);
    assert_eq!(store.stale_score_years().await.unwrap(), Vec::<i32>::new());
}

/// The callers that rescored after committing still call `refresh_scores`: with the
/// scores current it rewrites nothing.
async fn refreshing_current_scores_writes_nothing(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 3, 2);
    load(&store, &scheme, &data).await;
    let before = stored(&store, 2027).await;
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(store.refresh_scores(2027).await.unwrap(), 1);
    assert_eq!(store.refresh_scores_from(2027, 2).await.unwrap(), 1);
    assert_eq!(db.store().await.refresh_scores(2027).await.unwrap(), 1, "also from another process");
    assert_eq!(stored(&store, 2027).await, before, "not a row rewritten (computed_at unchanged)");
    assert!(matches!(store.refresh_scores(2031).await.unwrap_err(), StoreError::NotFound { .. }));
}

/// Two processes (stores) accepting changes to the same year at once: each commit's
/// rescore waits for the other's (the year's lock on PostgreSQL, the write lock on
/// SQLite), so the stored scores end equal to a recompute.
async fn concurrent_writers_leave_scores_current(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 4, 13);
    load(&store, &scheme, &data).await;
    let other = db.store().await;
    let units: Vec<String> = (1..=8).map(|i| format!("u{i:02}")).collect();
    let mut tasks = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let s = if i % 2 == 0 { store.clone() } else { other.clone() };
        let unit = unit.clone();
        tasks.push(tokio::spawn(async move {
            for (m, factor) in [("2027-01", 0.5), ("2027-03", 0.75)] {
                let (row, version) = scaled(&s, &unit, m, factor).await;
                commit_entry(&s, &row, version).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_current(&store, 2027, "concurrent commits").await;
    assert_eq!(store.stale_score_years().await.unwrap(), Vec::<i32>::new());
}

/// Process A changes a figure and stores the scores; process B, whose kept results
/// never saw that change, sets the figure back: to B's memory nothing moved, but the
/// rows hold A's results. B notices A's stamp on the rows and compares them with the
/// database instead of trusting what it last wrote.
async fn a_change_undone_by_another_process_is_stored(db: TestDb) {
    let a = db.store().await;
    let (scheme, data) = demo_district(2027, 3, 23);
    load(&a, &scheme, &data).await;
    let b = db.store().await;
    // B keeps results of its own: its first commit starts over and keeps them.
    let (row, version) = scaled(&b, "u40", "2027-02", 0.5).await;
    commit_entry(&b, &row, version).await.unwrap();
    let before = stored(&a, 2027).await;
    let (changed, version) = scaled(&a, "u01", "2027-01", 0.3).await;
    let original = a.entry(2027, "u01", &changed.indicator, "2027-01").await.unwrap().unwrap().row;
    commit_entry(&a, &changed, version).await.unwrap();
    assert_current(&a, 2027, "A's change").await;
    assert_ne!(stored(&a, 2027).await, before, "A's change moves some result");
    commit_entry(&b, &original, version + 1).await.unwrap();
    assert_current(&b, 2027, "B setting it back").await;
}

/// A new scheme version is scored when it commits; one that cannot score the year's
/// data (an indicator with entries dropped) is refused, naming the data, and nothing of
/// it is stored.
async fn data_the_new_scheme_cannot_score_is_refused_at_commit(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = demo_district(2027, 2, 4);
    load(&store, &scheme, &data).await;
    let before = stored(&store, 2027).await;
    // Version 2 without the first indicator that has entries: drop it from its parent
    // and give the parent's points back to a sibling so the tree still adds up.
    let mut v2 = serde_json::to_value(&scheme).unwrap();
    let dropped = data.entries[0].indicator.clone();
    fn walk(nodes: &mut Vec<serde_json::Value>, id: &str, done: &mut bool) {
        if let Some(i) = nodes.iter().position(|n| n["id"] == id) {
            let points = nodes[i]["points"].as_f64().unwrap_or(0.0);
            nodes.remove(i);
            if let Some(sibling) = nodes.first_mut() {
                sibling["points"] = json!(sibling["points"].as_f64().unwrap_or(0.0) + points);
            }
            *done = true;
            return;
        }
        for n in nodes.iter_mut() {
            if let Some(children) = n.get_mut("children").and_then(|c| c.as_array_mut()) {
                walk(children, id, done);
            }
        }
    }
    let mut done = false;
    walk(v2["tree"].as_array_mut().unwrap(), &dropped, &mut done);
    assert!(done);
    let v2: jixiao_core::scheme::SchemeFile = serde_json::from_value(v2).unwrap();
    let mut tx = store.begin("office").await.unwrap();
    let imported = store.import_scheme(&mut tx, &v2, "drop an indicator").await;
    let err = match imported {
        // The scheme may be invalid on its own (a formula reading the sibling); then
        // the import refuses it already, which is not what this test is about.
        Err(e) => panic!("the amended scheme should be valid: {e}"),
        Ok(_) => {
            tx.audit("scheme.import", "scheme", "2027/2", None, None).await.unwrap();
            tx.commit().await.unwrap_err()
        }
    };
    let StoreError::Invalid(message) = &err else { panic!("{err:?}") };
    assert!(message.contains("does not fit scheme version 2"), "{message}");
    let e = &data.entries[0];
    assert!(message.contains(&format!("entry {}/{}/{}: unknown indicator `{dropped}`", e.unit, e.indicator, e.month)), "{message}");
    assert_eq!(store.scheme_versions(2027).await.unwrap().len(), 1, "the version was not stored");
    assert_eq!(stored(&store, 2027).await, before);
}
