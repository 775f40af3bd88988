//! Opening a database, checking its schema version, applying migrations.
//!
//! `Store::connect` never changes the schema: it reports `NeedsMigration` or
//! `SchemaTooNew` so that several `jixiao serve` processes never race to migrate and an
//! old binary never writes to a newer schema. `jixiao migrate` opens the database with
//! `Store::connect_unchecked` and calls `Store::migrate`.
//!
//! Migrations are embedded with `include_str!` (not `sqlx::migrate!`, which would need
//! sqlx's `macros` feature): one folder per backend, listed in `SQLITE_MIGRATIONS` and
//! `POSTGRES_MIGRATIONS`, the same versions and meaning in both.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyConnection, Connection, Row, SqlSafeStr};

use crate::audit::HashAlgorithm;
use crate::error::{Result, StoreError};
use crate::{Backend, Store};

/// (version, description, SQL) of every SQLite migration, in order.
pub(crate) const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/sqlite/0001_initial.sql")),
    (2, "web_shell", include_str!("../migrations/sqlite/0002_web_shell.sql")),
    (3, "corrections", include_str!("../migrations/sqlite/0003_corrections.sql")),
    (4, "scheme_drafts", include_str!("../migrations/sqlite/0004_scheme_drafts.sql")),
    (5, "outbox", include_str!("../migrations/sqlite/0005_outbox.sql")),
    (6, "service_requests", include_str!("../migrations/sqlite/0006_service_requests.sql")),
    (7, "bulletins", include_str!("../migrations/sqlite/0007_bulletins.sql")),
    (8, "outbox_claims", include_str!("../migrations/sqlite/0008_outbox_claims.sql")),
    (9, "score_stamps", include_str!("../migrations/sqlite/0009_score_stamps.sql")),
    (10, "record_keys", include_str!("../migrations/sqlite/0010_record_keys.sql")),
    (11, "job_runs", include_str!("../migrations/sqlite/0011_job_runs.sql")),
    (12, "public_limits", include_str!("../migrations/sqlite/0012_public_limits.sql")),
    (13, "identity", include_str!("../migrations/sqlite/0013_identity.sql")),
    (14, "supervision", include_str!("../migrations/sqlite/0014_supervision.sql")),
    (15, "plans_records", include_str!("../migrations/sqlite/0015_plans_records.sql")),
];

/// (version, description, SQL) of every PostgreSQL migration, in order.
pub(crate) const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/postgres/0001_initial.sql")),
    (2, "web_shell", include_str!("../migrations/postgres/0002_web_shell.sql")),
    (3, "corrections", include_str!("../migrations/postgres/0003_corrections.sql")),
    (4, "scheme_drafts", include_str!("../migrations/postgres/0004_scheme_drafts.sql")),
    (5, "outbox", include_str!("../migrations/postgres/0005_outbox.sql")),
    (6, "service_requests", include_str!("../migrations/postgres/0006_service_requests.sql")),
    (7, "bulletins", include_str!("../migrations/postgres/0007_bulletins.sql")),
    (8, "outbox_claims", include_str!("../migrations/postgres/0008_outbox_claims.sql")),
    (9, "score_stamps", include_str!("../migrations/postgres/0009_score_stamps.sql")),
    (10, "record_keys", include_str!("../migrations/postgres/0010_record_keys.sql")),
    (11, "job_runs", include_str!("../migrations/postgres/0011_job_runs.sql")),
    (12, "public_limits", include_str!("../migrations/postgres/0012_public_limits.sql")),
    (13, "identity", include_str!("../migrations/postgres/0013_identity.sql")),
    (14, "supervision", include_str!("../migrations/postgres/0014_supervision.sql")),
    (15, "plans_records", include_str!("../migrations/postgres/0015_plans_records.sql")),
];

/// The schema version this binary is built for.
pub const SCHEMA_VERSION: i64 = 15;

/// The migration that gives records their keys (finished in Rust: `fill_record_keys`).
const RECORD_KEYS: i64 = 10;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Hash function for new audit entries (their MAC's, with a key); old entries
    /// keep theirs.
    pub hash_algorithm: HashAlgorithm,
    /// The keys of the key file: the audit chain's MAC key, the personal data key.
    /// Without them new audit entries are plain hashes (tests of old databases only).
    pub keys: Option<crate::keys::Keys>,
    /// The audit chain's anchor file (`anchor`), outside the database.
    pub anchor: Option<std::path::PathBuf>,
    /// Pool size. SQLite serialises writers anyway; readers run in parallel (WAL).
    pub max_connections: u32,
    /// How long to wait for a pooled connection, and for the first connection.
    pub acquire_timeout: Duration,
    /// SQLite: how long a writer waits for another writer's lock before failing.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            hash_algorithm: HashAlgorithm::Sm3,
            keys: None,
            anchor: None,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(30),
        }
    }
}

impl Store {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…` and checks that the
    /// schema matches this binary. Never migrates.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, StoreOptions::default()).await
    }

    /// `connect` with options.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Store> {
        let store = Store::connect_unchecked(url, options).await?;
        store.check_schema().await?;
        Ok(store)
    }

    /// Opens the database without checking the schema version: for `jixiao migrate`,
    /// which then calls `migrate`. Everything else uses `connect`.
    pub async fn connect_unchecked(url: &str, options: StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let redacted = redact_url(url);
        let backend = backend_of(url)
            .ok_or_else(|| StoreError::invalid(format!("unsupported database URL `{redacted}`: use sqlite://PATH or postgres://…")))?;
        let unreachable = |e: sqlx::Error| StoreError::Unreachable { url: redacted.clone(), reason: reason_text(&e) };

        let (url, memory) = match backend {
            Backend::Sqlite => sqlite_url(url),
            Backend::Postgres => (url.to_string(), false),
        };
        let connect_options: AnyConnectOptions = url.parse().map_err(unreachable)?;

        // Open one connection by hand first: the pool would retry an unreachable server
        // until `acquire_timeout`, and we want to say quickly and clearly what is wrong.
        let first = tokio::time::timeout(options.acquire_timeout, AnyConnection::connect_with(&connect_options))
            .await
            .map_err(|_| StoreError::Unreachable {
                url: redacted.clone(),
                reason: format!("no answer within {} s", options.acquire_timeout.as_secs()),
            })?
            .map_err(unreachable)?;
        if backend == Backend::Sqlite && !memory {
            // WAL lets readers run while one writer writes. It is a property of the file,
            // so setting it once here is enough; it needs a moment of exclusive access,
            // which a fresh connection before the pool exists has.
            let mut first = first;
            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut first).await.map_err(unreachable)?;
            first.close().await.ok();
        } else {
            first.close().await.ok();
        }

        let busy_ms = options.busy_timeout.as_millis();
        let mut pool_options = AnyPoolOptions::new()
            .max_connections(if memory { 1 } else { options.max_connections.max(1) })
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // sqlx turns foreign keys on by default; say so anyway, since the
                        // schema relies on them. NORMAL is durable enough under WAL (a power
                        // cut can lose the last commits, never corrupt) and much faster.
                        for pragma in [
                            format!("PRAGMA busy_timeout = {busy_ms}"),
                            "PRAGMA foreign_keys = ON".to_string(),
                            "PRAGMA synchronous = NORMAL".to_string(),
                        ] {
                            sqlx::query(sqlx::AssertSqlSafe(pragma)).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            });
        if memory {
            // `sqlite::memory:` is one database per connection: keep exactly one, forever.
            pool_options = pool_options.min_connections(1).idle_timeout(None).max_lifetime(None);
        }
        let pool = pool_options.connect_with(connect_options).await.map_err(unreachable)?;
        Ok(Store::from_parts(pool, backend, &options, redacted))
    }

    /// Applies the embedded migrations up to `version` only: for tests of upgrading a
    /// database made by an older jixiao.
    #[doc(hidden)]
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        migrator_upto(self.backend(), version).run(self.pool()).await?;
        if version >= RECORD_KEYS {
            self.fill_record_keys().await?;
        }
        Ok(())
    }

    /// Applies every embedded migration the database lacks, then finishes what SQL
    /// cannot do (the derived keys of records stored before version 10, see
    /// `fill_record_keys`). Idempotent; safe to run while no server is writing. Returns
    /// the schema version afterwards.
    pub async fn migrate(&self) -> Result<i64> {
        migrator(self.backend()).run(self.pool()).await?;
        self.fill_record_keys().await?;
        self.redact_outbox_passwords().await?;
        self.encrypt_phones().await?;
        Ok(SCHEMA_VERSION)
    }

    /// The schema version recorded in the database (`None` for an empty database).
    pub async fn schema_version(&self) -> Result<Option<i64>> {
        Ok(self.applied_migrations().await?.and_then(|applied| applied.iter().map(|(v, _)| *v).max()))
    }

    /// Versions and checksums of the migrations applied, or `None` if the migrations
    /// table does not exist.
    async fn applied_migrations(&self) -> Result<Option<Vec<(i64, Vec<u8>)>>> {
        let exists_sql = match self.backend() {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query_scalar(exists_sql).fetch_one(self.pool()).await?;
        if exists == 0 {
            return Ok(None);
        }
        // `success` is BOOLEAN in sqlx's table, which the Any driver cannot read from
        // SQLite; compare it as an integer instead.
        let failed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE CAST(success AS INTEGER) = 0").fetch_one(self.pool()).await?;
        if failed > 0 {
            return Err(StoreError::invalid(
                "a previous migration failed partway; restore the backup taken before it, then run `jixiao migrate` again",
            ));
        }
        let rows = sqlx::query("SELECT version, checksum FROM _sqlx_migrations ORDER BY version").fetch_all(self.pool()).await?;
        let mut applied = Vec::with_capacity(rows.len());
        for row in rows {
            applied.push((row.try_get::<i64, _>("version")?, row.try_get::<Vec<u8>, _>("checksum")?));
        }
        Ok(Some(applied))
    }

    /// Compares the applied migrations with the embedded ones (and refuses a database
    /// whose records still wait for their keys: `migrate` stopped part-way).
    async fn check_schema(&self) -> Result<()> {
        let migrator = migrator(self.backend());
        let binary = migrator.migrations.iter().map(|m| m.version).max().unwrap_or(0);
        let Some(applied) = self.applied_migrations().await? else {
            return Err(StoreError::NeedsMigration { database: None, binary });
        };
        let database = applied.iter().map(|(v, _)| *v).max();
        if let Some(newest) = database.filter(|&v| v > binary) {
            return Err(StoreError::SchemaTooNew { database: newest, binary });
        }
        for (version, checksum) in &applied {
            match migrator.migrations.iter().find(|m| m.version == *version) {
                None => return Err(StoreError::SchemaTooNew { database: *version, binary }),
                Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                    return Err(StoreError::invalid(format!(
                        "migration {version} in the database differs from the one built into this jixiao; \
                         the database was migrated by a different build"
                    )));
                }
                Some(_) => {}
            }
        }
        if migrator.migrations.iter().any(|m| !applied.iter().any(|(v, _)| *v == m.version)) {
            return Err(StoreError::NeedsMigration { database, binary });
        }
        if self.records_waiting_for_keys().await? > 0 {
            return Err(StoreError::NeedsMigration { database, binary });
        }
        Ok(())
    }
}

/// The migrator for a backend, built from the embedded SQL.
fn migrator(backend: Backend) -> Migrator {
    migrator_upto(backend, i64::MAX)
}

fn migrator_upto(backend: Backend, version: i64) -> Migrator {
    let list = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    Migrator::with_migrations(
        list.iter()
            .filter(|m| m.0 <= version)
            .map(|&(version, description, sql)| {
                Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect(),
    )
}

fn backend_of(url: &str) -> Option<Backend> {
    if url.starts_with("sqlite:") {
        Some(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Backend::Postgres)
    } else {
        None
    }
}

/// Adds `mode=rwc` (create the file if missing) unless the URL chooses a mode; tells
/// whether it is an in-memory database.
fn sqlite_url(url: &str) -> (String, bool) {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    if memory || url.contains("mode=") {
        return (url.to_string(), memory);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    (format!("{url}{separator}mode=rwc"), false)
}

/// The URL with any password removed, fit for messages and logs:
/// `postgres://app:secret@db/jx?password=x` → `postgres://app@db/jx?password=***`.
pub fn redact_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                    format!("{user}@{host}")
                }
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => head.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// The driver's reason, without anything that could echo the URL back.
fn reason_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_string(),
        sqlx::Error::Configuration(_) => "the URL is not valid".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/jx"), "postgres://app@db:5432/jx");
        assert_eq!(redact_url("postgres://app@db/jx"), "postgres://app@db/jx");
        assert_eq!(
            redact_url("postgres://db/jx?user=a&password=x&sslmode=require"),
            "postgres://db/jx?user=a&password=***&sslmode=require"
        );
        assert_eq!(redact_url("postgres://a:p@ss@db/jx"), "postgres://a@db/jx");
        assert_eq!(redact_url("sqlite:///var/lib/jixiao/jx.db"), "sqlite:///var/lib/jixiao/jx.db");
    }

    #[test]
    fn sqlite_urls_create_files_unless_told_otherwise() {
        assert_eq!(sqlite_url("sqlite:///tmp/a.db"), ("sqlite:///tmp/a.db?mode=rwc".to_string(), false));
        assert_eq!(sqlite_url("sqlite:///tmp/a.db?mode=ro"), ("sqlite:///tmp/a.db?mode=ro".to_string(), false));
        assert!(sqlite_url("sqlite::memory:").1);
    }

    /// Every file in a migrations folder is embedded, and both backends have the same
    /// versions.
    #[test]
    fn migration_lists_match_the_folders() {
        for (folder, list) in [("sqlite", SQLITE_MIGRATIONS), ("postgres", POSTGRES_MIGRATIONS)] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
            let mut files: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            files.sort();
            let listed: Vec<String> = list.iter().map(|(v, d, _)| format!("{v:04}_{d}.sql")).collect();
            assert_eq!(files, listed, "migrations/{folder}");
        }
        let versions = |l: &[(i64, &str, &str)]| l.iter().map(|m| m.0).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE_MIGRATIONS), versions(POSTGRES_MIGRATIONS));
        assert_eq!(SQLITE_MIGRATIONS.last().unwrap().0, SCHEMA_VERSION);
    }
}
