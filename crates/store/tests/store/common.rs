//! Test databases for both backends: `TestDb` and `run` come from
//! `jixiao_store::testing`; `backend_tests!(a, b, c)` in a test module generates
//! `sqlite::a`, `postgres::a`, … from `async fn a(db: TestDb)`.

use std::collections::BTreeMap;

use jixiao_core::data::{DataFile, Dataset};
use jixiao_core::period::Period;
use jixiao_core::scheme::{Scheme, SchemeFile};
use jixiao_core::score::{PeriodReport, score_periods};
use jixiao_store::Store;
pub use jixiao_store::testing::{TestDb, run};
use serde_json::Value;

/// Generates a SQLite and a PostgreSQL variant of each `async fn name(db: TestDb)`.
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::run(jixiao_store::Backend::Sqlite, super::$name).await
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::common::run(jixiao_store::Backend::Postgres, super::$name).await
                }
            )+
        }
    };
}
pub(crate) use backend_tests;

/// The scheme of spec §2, with three units in two groups.
pub const SCHEME_2027: &str = r#"{
  "year": 2027,
  "name": "2027年度区直部门及街道绩效考核方案",
  "normalize_to": null,
  "groups": [ {"id": "dept", "name": "区直部门"}, {"id": "street", "name": "街道"} ],
  "units": [
    {"id": "u01", "name": "区发改局", "group": "dept"},
    {"id": "u02", "name": "区财政局", "group": "dept"},
    {"id": "s01", "name": "城关街道", "group": "street"}
  ],
  "grades": [ {"name": "优秀", "min_score": 90, "quota": 0.3}, {"name": "良好"} ],
  "tree": [
    {"id": "A", "name": "职能履行", "points": 60, "children": [
      {"id": "A1", "name": "招商引资到位资金", "points": 40,
       "fields": [ {"key": "actual", "name": "累计到位资金(亿元)", "type": "number", "min": 0} ],
       "params": {"target": 100},
       "formula": "actual / target * points",
       "assign": [ {"group": "dept"}, {"unit": "u01", "params": {"target": 50}} ] },
      {"id": "A2", "name": "项目开工率", "points": 20,
       "fields": [ {"key": "rate", "name": "开工率", "type": "percent"} ],
       "formula": "rate * points",
       "assign": [ {"group": "dept"}, {"group": "street"} ] }
    ]},
    {"id": "X", "name": "创新创优加分", "kind": "bonus", "cap": 5, "children": [
      {"id": "X1", "name": "上级表彰", "source": "records", "formula": "record_points",
       "assign": [ {"group": "dept"}, {"group": "street"} ] }
    ]}
  ]
}"#;

pub fn scheme_2027() -> SchemeFile {
    serde_json::from_str(SCHEME_2027).expect("the test scheme parses")
}

/// A store with the 2027 scheme imported as version 1.
pub async fn store_with_scheme(db: &TestDb) -> Store {
    let store = db.store().await;
    let mut tx = store.begin("admin").await.unwrap();
    let version = store.import_scheme(&mut tx, &scheme_2027(), "").await.unwrap();
    assert_eq!(version, 1);
    tx.audit("scheme.import", "scheme", "2027/1", None, None).await.unwrap();
    tx.commit().await.unwrap();
    store
}

/// Loads a generated scheme and its data into `store` in one transaction; its commit
/// scores them.
pub async fn load(store: &Store, scheme: &SchemeFile, data: &DataFile) {
    let mut tx = store.begin("test").await.unwrap();
    store.import_scheme(&mut tx, scheme, "demo").await.unwrap();
    store.import_data(&mut tx, scheme.year, data).await.unwrap();
    tx.audit("test.demo", "test", "demo", None, None).await.unwrap();
    tx.commit().await.unwrap();
}

/// Every stored row of `year` with its latest scheme version: (period, unit) → (result,
/// computed_at).
pub async fn stored(store: &Store, year: i32) -> BTreeMap<(String, String), (Value, String)> {
    let version = store.scheme(year, None).await.unwrap().info.version;
    let mut out = BTreeMap::new();
    for p in Period::all_in_year(year) {
        for r in store.scores(year, version, &p.to_string()).await.unwrap() {
            out.insert((p.to_string(), r.unit_id), (r.result, r.computed_at));
        }
    }
    out
}

/// The engine's results from scratch over what the store holds now (committed).
pub async fn from_scratch(store: &Store, year: i32) -> BTreeMap<(String, String), Value> {
    let file = store.scheme(year, None).await.unwrap().file;
    let scheme = Scheme::from_file(file).unwrap();
    let data = Dataset::load(&scheme, &store.data_file(year).await.unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for result in score_periods(&scheme, &data, &Period::all_in_year(year)) {
        for u in PeriodReport::new(&scheme, &result).units {
            out.insert((result.period.to_string(), u.unit.clone()), serde_json::to_value(&u).unwrap());
        }
    }
    out
}

/// The (period, unit) results whose stored row differs from a recompute (or is missing
/// or extra).
pub async fn stale_rows(store: &Store, year: i32) -> Vec<(String, String)> {
    let got: BTreeMap<_, _> = stored(store, year).await.into_iter().map(|(k, (v, _))| (k, v)).collect();
    let want = from_scratch(store, year).await;
    let mut keys: Vec<_> = got.keys().chain(want.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| got.get(k) != want.get(k)).collect()
}

/// Stored results equal a recompute from scratch (naming the first few that differ).
pub async fn assert_current(store: &Store, year: i32, step: &str) {
    assert!(!stored(store, year).await.is_empty(), "after {step}: no stored scores");
    let stale = stale_rows(store, year).await;
    assert!(
        stale.is_empty(),
        "after {step}: {} stored results differ from a recompute, e.g. {:?}",
        stale.len(),
        &stale[..stale.len().min(5)]
    );
}
