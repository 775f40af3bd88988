//! Test databases for both backends, for this crate's tests and those of the crates
//! above it (feature `testing`).
//!
//! Every test runs twice, once on SQLite and once on PostgreSQL, each time with a fresh
//! database of its own so tests run in parallel:
//! - SQLite: a file in a new temporary directory;
//! - PostgreSQL: a database `jx_<pid>_<counter>_<nanos>` created through the admin URL
//!   (`JIXIAO_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`) and
//!   dropped when the `TestDb` is dropped, also when the test panics.
//!
//! `JIXIAO_TEST_POSTGRES=off` skips the PostgreSQL variants (they print that they were
//! skipped); otherwise an unreachable server fails them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Backend, Keys, Store, StoreOptions};
use sqlx::Connection;

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty database.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    /// Keeps the SQLite directory alive.
    pub dir: Option<tempfile::TempDir>,
    /// (admin URL, database name) of a PostgreSQL database to drop.
    pg: Option<(String, String)>,
    /// Outside the database, as in production: the audit chain's anchor file.
    pub outside: tempfile::TempDir,
}

fn admin_url() -> Option<String> {
    match std::env::var("JIXIAO_TEST_POSTGRES") {
        Ok(v) if v == "off" => None,
        Ok(v) if !v.is_empty() => Some(v),
        _ => Some(DEFAULT_POSTGRES.to_string()),
    }
}

/// `postgres://…/test` → `postgres://…/name`, keeping any query string.
fn with_database(admin: &str, name: &str) -> String {
    let (head, query) = match admin.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (admin, None),
    };
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL tests are switched off.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("jixiao.db").display());
                Some(TestDb { backend, url, dir: Some(dir), pg: None, outside: tempfile::tempdir().expect("temporary directory") })
            }
            Backend::Postgres => {
                let admin = admin_url()?;
                let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
                let name = format!("jx_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), nanos);
                let mut conn = sqlx::AnyConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL for tests at {admin}: {e} (JIXIAO_TEST_POSTGRES=off skips)"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let url = with_database(&admin, &name);
                Some(TestDb {
                    backend,
                    url,
                    dir: None,
                    pg: Some((admin, name)),
                    outside: tempfile::tempdir().expect("temporary directory"),
                })
            }
        }
    }

    /// Options of a test store: the fixed test keys (`Keys::for_tests`) and this
    /// database's anchor file.
    pub fn options(&self) -> StoreOptions {
        // Small pools: many tests run at once against one PostgreSQL server.
        StoreOptions {
            max_connections: 5,
            acquire_timeout: Duration::from_secs(60),
            keys: Some(Keys::for_tests()),
            anchor: Some(self.anchor_path()),
            ..StoreOptions::default()
        }
    }

    /// The test keys as a key file beside the anchor, for the binary run on this
    /// database (`--key-file`, with `--audit-anchor` = `anchor_path`).
    pub fn key_file(&self) -> std::path::PathBuf {
        let path = self.outside.path().join("jixiao.keys");
        std::fs::write(&path, crate::keys::test_key_file_text()).expect("the test key file");
        path
    }

    /// Where this database's audit anchor is kept.
    pub fn anchor_path(&self) -> std::path::PathBuf {
        self.outside.path().join("audit.anchor")
    }

    /// A store on the database, migrated.
    pub async fn store(&self) -> Store {
        let store = self.unchecked().await;
        store.migrate().await.expect("migrate");
        store.close().await;
        Store::connect_with(&self.url, self.options()).await.expect("connect after migrate")
    }

    /// A store on the database without any schema check.
    pub async fn unchecked(&self) -> Store {
        Store::connect_unchecked(&self.url, self.options()).await.expect("connect")
    }

    /// Runs raw SQL directly (for tampering), bypassing the store.
    pub async fn raw(&self, store: &Store, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Drops the triggers that keep `audit_log` append-only, as a tamperer would.
    pub async fn drop_audit_triggers(&self, store: &Store) {
        for t in ["audit_log_no_update", "audit_log_no_delete"] {
            let sql = match self.backend {
                Backend::Sqlite => format!("DROP TRIGGER {t}"),
                Backend::Postgres => format!("DROP TRIGGER {t} ON audit_log"),
            };
            self.raw(store, &sql).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else { return };
        // Drop may run while a test panics, inside the test's runtime: use a thread with
        // a runtime of its own. Best effort.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut conn = sqlx::AnyConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

/// Runs one test body on a fresh database of `backend`.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    match TestDb::new(backend).await {
        Some(db) => test(db).await,
        None => eprintln!("skipped: JIXIAO_TEST_POSTGRES=off"),
    }
}
