//! Keeping stored scores current: a change to month m recomputes the periods ending
//! in m or later, writes only the units whose result changed, and leaves the stored
//! scores equal to a recompute of every period from scratch.

use std::collections::BTreeMap;

use jixiao_core::data::Dataset;
use jixiao_core::period::Period;
use jixiao_core::scheme::Scheme;
use jixiao_core::score::{PeriodReport, score_periods};
use jixiao_store::Store;
use serde_json::Value;

use crate::common::{self, TestDb, backend_tests, load};

backend_tests!(refresh_from_a_month_rewrites_only_what_it_reaches, joined_reads_equal_row_by_row, kept_scores_follow_every_kind_of_change);

async fn stored(store: &Store) -> BTreeMap<(String, String), (Value, String)> {
    common::stored(store, 2027).await
}

async fn from_scratch(store: &Store) -> BTreeMap<(String, String), Value> {
    common::from_scratch(store, 2027).await
}

async fn refresh_from_a_month_rewrites_only_what_it_reaches(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = jixiao_core::generate::demo_district(2027, 11, 7);
    load(&store, &scheme, &data).await;
    store.refresh_scores(2027).await.unwrap();
    let before = stored(&store).await;
    assert_eq!(before.len(), 17 * 76);

    // Refreshing without a change writes nothing.
    std::thread::sleep(std::time::Duration::from_millis(5));
    store.refresh_scores(2027).await.unwrap();
    assert_eq!(stored(&store).await, before);

    // u01 corrects a September figure to one that changes its September total
    // (the first of its entries for which the engine says so).
    let compiled = Scheme::from_file(scheme.clone()).unwrap();
    // None when the figure breaks a field's bounds.
    let total = |file: &jixiao_core::data::DataFile| {
        let data = Dataset::load(&compiled, file).ok()?;
        let result = score_periods(&compiled, &data, &[Period::Month("2027-09".parse().unwrap())]).remove(0);
        PeriodReport::new(&compiled, &result).units.iter().find(|u| u.unit == "u01").map(|u| u.total)
    };
    let row = data
        .entries
        .iter()
        .filter(|e| e.unit == "u01" && e.month == "2027-09")
        .flat_map(|entry| {
            let (key, value) = entry.values.iter().find(|(_, v)| v.is_number()).map(|(k, v)| (k.clone(), v.as_f64().unwrap())).unzip();
            [0.0, 0.5, 2.0].into_iter().filter_map(move |factor| {
                let mut row = entry.clone();
                row.values.insert(key.clone()?, serde_json::json!(value? * factor));
                Some((entry, row))
            })
        })
        .find_map(|(entry, row)| {
            let mut changed = data.clone();
            *changed.entries.iter_mut().find(|e| *e == entry).unwrap() = row.clone();
            let new = total(&changed)?;
            (new != total(&data)?).then_some(row)
        })
        .expect("some September figure of u01 moves its total");
    let mut tx = store.begin("test").await.unwrap();
    let version = store.entry(2027, "u01", &row.indicator, "2027-09").await.unwrap().unwrap().version;
    store.save_entry(&mut tx, 2027, &row, Some(version), "accepted").await.unwrap();
    tx.audit("entry.accept", "entry", "2027/u01", None, None).await.unwrap();
    tx.commit().await.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    store.refresh_scores_from(2027, 9).await.unwrap();

    let after = stored(&store).await;
    let expected = from_scratch(&store).await;
    assert_eq!(after.len(), expected.len());
    let mut rewritten = Vec::new();
    for (key, (result, at)) in &after {
        assert_eq!(result, &expected[key], "{key:?} equals a recompute from scratch");
        let (old, old_at) = &before[key];
        let period: Period = key.0.parse().unwrap();
        if period.end_month() < 9 {
            assert_eq!((result, at), (old, old_at), "{key:?} ends before September: untouched");
        } else if result == old {
            assert_eq!(at, old_at, "{key:?} unchanged: not rewritten");
        } else {
            rewritten.push(key.clone());
        }
    }
    // September and its quarter see u01's new figure (later periods take the
    // latest month's value of a `last` field, so they need not change).
    for p in ["2027-09", "2027-Q3"] {
        assert!(rewritten.contains(&(p.to_string(), "u01".to_string())), "{p} u01 rewritten: {rewritten:?}");
    }
    assert!(rewritten.len() < 76 * 6, "only what changed is written ({} rows)", rewritten.len());
}

/// `data_file` and `month_states` read one joined text (`group_concat` / `string_agg`);
/// they give what reading the rows one by one gives.
async fn joined_reads_equal_row_by_row(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = jixiao_core::generate::demo_district(2027, 4, 3);
    load(&store, &scheme, &data).await;
    // One entry back in the workflow: not accepted, so not in the data file.
    let first = &data.entries[0];
    let version = store.entry(2027, &first.unit, &first.indicator, &first.month).await.unwrap().unwrap().version;
    let mut tx = store.begin("test").await.unwrap();
    store.set_entry_state(&mut tx, 2027, &first.unit, &first.indicator, &first.month, version, "returned").await.unwrap();
    tx.audit("entry.return", "entry", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();

    let stored = store.stored_entries(2027).await.unwrap();
    let accepted: Vec<_> = stored.iter().filter(|e| e.state == "accepted").map(|e| e.row.clone()).collect();
    assert_eq!(accepted.len(), data.entries.len() - 1);
    assert_eq!(store.data_file(2027).await.unwrap().entries, accepted);
    let mut states = store.month_states(2027, &first.month).await.unwrap();
    states.sort();
    let mut want: Vec<_> = stored
        .iter()
        .filter(|e| e.row.month == first.month)
        .map(|e| (e.row.unit.clone(), e.row.indicator.clone(), e.state.clone(), e.updated_at.clone()))
        .collect();
    want.sort();
    assert_eq!(states, want);
    assert!(states.iter().any(|s| s.2 == "returned"));
    assert!(store.month_states(2027, "2027-12").await.unwrap().is_empty(), "a month without entries");
}

async fn assert_current(store: &Store, step: &str) {
    common::assert_current(store, 2027, step).await
}

/// A change to one entry's values (scaled down by `factor`, within every field's
/// bounds), put in `state`, through `store`.
async fn change(store: &Store, unit: &str, indicator: &str, month: &str, state: &str, factor: f64) {
    let e = store.entry(2027, unit, indicator, month).await.unwrap().unwrap();
    let mut row = e.row.clone();
    for v in row.values.values_mut() {
        if let Some(x) = v.as_f64() {
            *v = serde_json::json!((x * factor).round());
        }
    }
    let mut tx = store.begin("test").await.unwrap();
    store.save_entry(&mut tx, 2027, &row, Some(e.version), state).await.unwrap();
    tx.audit("entry.save", "entry", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();
}

/// The scores kept in memory between refreshes follow changed, returned and
/// re-accepted entries, new records, and changes another process made (a second
/// store on the same database), always equal to a recompute from scratch.
async fn kept_scores_follow_every_kind_of_change(db: TestDb) {
    let store = db.store().await;
    let (scheme, data) = jixiao_core::generate::demo_district(2027, 6, 11);
    load(&store, &scheme, &data).await;
    store.refresh_scores(2027).await.unwrap();
    assert_current(&store, "the first refresh").await;
    let picks: Vec<_> = data
        .entries
        .iter()
        .filter(|e| e.values.values().any(|v| v.as_f64().is_some_and(|x| x > 3.0)))
        .step_by(97)
        .take(6)
        .cloned()
        .collect();
    assert!(picks.len() >= 4);

    // Changed values in several months, one refresh each.
    for (i, e) in picks.iter().take(3).enumerate() {
        change(&store, &e.unit, &e.indicator, &e.month, "accepted", 0.4 + 0.2 * i as f64).await;
        store.refresh_scores_from(2027, e.month[5..].parse().unwrap()).await.unwrap();
        assert_current(&store, &format!("changing {} {} {}", e.unit, e.indicator, e.month)).await;
    }
    // Returned (no longer counts), then accepted again with another value.
    let e = &picks[3];
    change(&store, &e.unit, &e.indicator, &e.month, "returned", 1.0).await;
    store.refresh_scores_from(2027, 1).await.unwrap();
    assert_current(&store, "returning an entry").await;
    change(&store, &e.unit, &e.indicator, &e.month, "accepted", 0.3).await;
    store.refresh_scores_from(2027, 1).await.unwrap();
    assert_current(&store, "accepting it again").await;
    // A record added.
    let mut tx = store.begin("test").await.unwrap();
    let record = data.records[0].clone();
    store.add_record(&mut tx, 2027, &jixiao_core::data::RecordRow { date: "2027-05-20".into(), ..record }).await.unwrap();
    tx.audit("record.add", "record", "x", None, None).await.unwrap();
    tx.commit().await.unwrap();
    store.refresh_scores_from(2027, 5).await.unwrap();
    assert_current(&store, "adding a record").await;
    // Another process changes an entry and rescores; this one then rescores too.
    let other = db.store().await;
    let e = &picks[4];
    change(&other, &e.unit, &e.indicator, &e.month, "accepted", 0.6).await;
    other.refresh_scores(2027).await.unwrap();
    let e = &picks[5];
    change(&other, &e.unit, &e.indicator, &e.month, "returned", 1.0).await;
    store.refresh_scores_from(2027, 1).await.unwrap();
    assert_current(&store, "changes made by another process").await;
}
