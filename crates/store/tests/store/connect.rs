//! Opening databases, schema version checks, migrations.

use jixiao_store::{Backend, Store, StoreError, StoreOptions};

use crate::common::{TestDb, backend_tests};

backend_tests!(
    empty_database_needs_migration,
    migrate_from_empty,
    upgrade_from_version_1_in_place,
    newer_schema_is_refused,
    reports_backend
);

async fn empty_database_needs_migration(db: TestDb) {
    let err = Store::connect(&db.url).await.unwrap_err();
    assert!(matches!(err, StoreError::NeedsMigration { database: None, binary: jixiao_store::SCHEMA_VERSION }), "{err:?}");
    assert!(err.to_string().contains("run `jixiao migrate`"), "{err}");
    // connect did not migrate behind our back.
    let store = db.unchecked().await;
    assert_eq!(store.schema_version().await.unwrap(), None);
}

async fn migrate_from_empty(db: TestDb) {
    let store = db.unchecked().await;
    assert_eq!(store.migrate().await.unwrap(), jixiao_store::SCHEMA_VERSION);
    assert_eq!(store.schema_version().await.unwrap(), Some(jixiao_store::SCHEMA_VERSION));
    // Idempotent.
    assert_eq!(store.migrate().await.unwrap(), jixiao_store::SCHEMA_VERSION);
    store.close().await;

    let store = Store::connect(&db.url).await.unwrap();
    assert_eq!(store.groups().await.unwrap(), vec![]);
    assert_eq!(store.units().await.unwrap(), vec![]);
    assert_eq!(store.users().await.unwrap(), vec![]);
    let report = store.verify_audit().await.unwrap();
    assert_eq!(report.entries, 0);
    assert!(report.is_intact());
    for table in [
        "groups",
        "units",
        "users",
        "user_roles",
        "sessions",
        "api_tokens",
        "scheme_versions",
        "periods",
        "entries",
        "records",
        "attachments",
        "scores",
        "audit_log",
        "settings",
        "corrections",
    ] {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(store.pool())
            .await
            .unwrap_or_else(|e| panic!("table {table}: {e}"));
        assert_eq!(n, 0, "{table}");
    }
}

async fn newer_schema_is_refused(db: TestDb) {
    let store = db.store().await;
    let fake = match db.backend {
        Backend::Sqlite => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (999, 'from the future', 1, X'00', 0)"
        }
        Backend::Postgres => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (999, 'from the future', TRUE, '\\x00'::bytea, 0)"
        }
    };
    db.raw(&store, fake).await;
    store.close().await;
    let err = Store::connect(&db.url).await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { database: 999, binary: jixiao_store::SCHEMA_VERSION }), "{err:?}");
    assert!(err.to_string().contains("upgrade jixiao"), "{err}");
}

async fn reports_backend(db: TestDb) {
    let store = db.store().await;
    assert_eq!(store.backend(), db.backend);
}

#[tokio::test]
async fn unreachable_postgres_is_reported_without_password() {
    let url = "postgres://jx:hunter2@127.0.0.1:1/jx";
    let err = Store::connect(url).await.unwrap_err();
    let StoreError::Unreachable { url: shown, reason } = &err else { panic!("{err:?}") };
    assert_eq!(shown, "postgres://jx@127.0.0.1:1/jx");
    assert!(!reason.is_empty());
    let message = err.to_string();
    assert!(message.starts_with("cannot reach the database at postgres://jx@127.0.0.1:1/jx: "), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn sqlite_in_a_missing_directory_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/no/such/dir/jx.db", dir.path().display());
    let err = Store::connect(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn unknown_url_scheme_is_invalid() {
    let err = Store::connect("mysql://root:pw@localhost/jx").await.unwrap_err();
    let StoreError::Invalid(message) = &err else { panic!("{err:?}") };
    assert!(message.contains("mysql://root@localhost/jx"), "{message}");
    assert!(!message.contains("pw"), "{message}");
}

#[tokio::test]
async fn sqlite_file_is_created_with_wal_and_foreign_keys() {
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let path = db.dir.as_ref().unwrap().path().join("jixiao.db");
    assert!(!path.exists());
    let store = db.store().await;
    assert!(path.exists());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(store.pool()).await.unwrap();
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(store.pool()).await.unwrap();
    assert_eq!(busy, 30_000);
}

#[tokio::test]
async fn sqlite_in_memory_keeps_one_database() {
    let store = Store::connect_unchecked("sqlite::memory:", StoreOptions::default()).await.unwrap();
    store.migrate().await.unwrap();
    let mut tx = store.begin("admin").await.unwrap();
    store.upsert_group(&mut tx, "dept", "区直部门").await.unwrap();
    tx.audit("group.create", "group", "dept", None, None).await.unwrap();
    tx.commit().await.unwrap();
    // Several reads: every one must see the same (only) database.
    for _ in 0..3 {
        assert_eq!(store.groups().await.unwrap().len(), 1);
    }
}

/// A database made by the first release keeps its data through `jixiao migrate`.
async fn upgrade_from_version_1_in_place(db: TestDb) {
    let store = db.unchecked().await;
    store.migrate_to(1).await.unwrap();
    db.raw(&store, "INSERT INTO groups (id, name, disabled, created_at) VALUES ('dept', '区直部门', 0, '2027-01-01T00:00:00.000000Z')")
        .await;
    db.raw(
        &store,
        "INSERT INTO users (username, display_name, password_hash, disabled, failed_logins, language, created_at, \
         password_changed_at) VALUES ('old', '老用户', 'x', 0, 0, 'zh-CN', '2027-01-01T00:00:00.000000Z', \
         '2027-01-01T00:00:00.000000Z')",
    )
    .await;
    store.close().await;
    let err = Store::connect(&db.url).await.unwrap_err();
    assert!(matches!(err, StoreError::NeedsMigration { database: Some(1), .. }), "{err:?}");
    let store = db.unchecked().await;
    assert_eq!(store.migrate().await.unwrap(), jixiao_store::SCHEMA_VERSION);
    store.close().await;
    let store = Store::connect(&db.url).await.unwrap();
    let user = store.user_by_username("old").await.unwrap().expect("the user survived");
    assert_eq!(user.display_name, "老用户");
    assert!(!user.must_change_password, "the new column has its default");
    assert_eq!(store.groups().await.unwrap().len(), 1);
}
