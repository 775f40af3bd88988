//! Opening the database from the command line, and the small database commands:
//! `migrate`, `audit verify`, `backup`.

use std::path::PathBuf;

use anyhow::Context;
use jixiao_store::{HashAlgorithm, Store, StoreError, StoreOptions};

/// Where the database is: `--database`, else `JIXIAO_DATABASE_URL`, else the
/// embedded SQLite file `data/jixiao.db`.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Database URL: `sqlite://data/jixiao.db` (default) or `postgres://user@host/db`.
    #[arg(long, global = true, env = "JIXIAO_DATABASE_URL", default_value = "sqlite://data/jixiao.db")]
    pub database: String,
    /// Hash function for new audit entries: sha256, or sm3 (国密) where required.
    #[arg(long, global = true, env = "JIXIAO_AUDIT_HASH", default_value = "sha256", value_parser = ["sha256", "sm3"])]
    pub audit_hash: String,
    /// Start the clock at this time (RFC 3339, e.g. 2027-12-06T09:00:00+08:00) and let
    /// it run from there — for demonstrations and tests of a given day. Default: now.
    #[arg(long, global = true, env = "JIXIAO_CLOCK")]
    pub clock: Option<chrono::DateTime<chrono::FixedOffset>>,
}

impl DbArgs {
    fn options(&self) -> StoreOptions {
        let hash_algorithm = if self.audit_hash == "sm3" { HashAlgorithm::Sm3 } else { HashAlgorithm::Sha256 };
        StoreOptions { hash_algorithm, ..StoreOptions::default() }
    }

    /// Creates the SQLite file's folder if needed.
    fn prepare(&self) -> anyhow::Result<()> {
        if let Some(path) = sqlite_path(&self.database)
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(())
    }

    /// Opens a database whose schema matches this binary.
    pub async fn open(&self) -> anyhow::Result<Store> {
        self.prepare()?;
        Ok(Store::connect_with(&self.database, self.options()).await?)
    }

    /// The application over the database (schema checked), on the system clock or
    /// the one `--clock` starts.
    pub async fn app(&self, config: jixiao_app::AppConfig) -> anyhow::Result<jixiao_app::App> {
        let clock = match self.clock {
            Some(at) => jixiao_app::Clock::starting_at(at.with_timezone(&chrono::Utc)),
            None => jixiao_app::Clock::system(),
        };
        self.app_on(config, clock).await
    }

    /// The application over the database (schema checked), on `clock`.
    pub async fn app_on(&self, config: jixiao_app::AppConfig, clock: jixiao_app::Clock) -> anyhow::Result<jixiao_app::App> {
        Ok(jixiao_app::App::new(self.open().await?, config, clock).await?)
    }

    /// Opens a database and brings its schema up to date.
    pub async fn open_migrated(&self) -> anyhow::Result<Store> {
        self.prepare()?;
        let store = Store::connect_unchecked(&self.database, self.options()).await?;
        store.migrate().await?;
        Ok(store)
    }
}

/// The file of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

pub async fn migrate(db: &DbArgs) -> anyhow::Result<()> {
    db.prepare()?;
    let store = Store::connect_unchecked(&db.database, db.options()).await?;
    let before = store.schema_version().await?;
    let after = store.migrate().await?;
    match before {
        Some(v) if v == after => println!("database {} is up to date (schema version {after})", store.url()),
        Some(v) => println!("database {} upgraded from schema version {v} to {after}", store.url()),
        None => println!("database {} created at schema version {after}", store.url()),
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain of the audit log (处处留迹) and report the first broken link.
    Verify,
}

pub async fn audit(db: &DbArgs, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => {
            let store = db.open().await?;
            let report = store.verify_audit().await?;
            match report.first_broken {
                None => {
                    println!("audit chain intact: {} entries", report.entries);
                    Ok(())
                }
                Some(broken) => anyhow::bail!("audit chain broken after checking {} entries: {broken}", report.entries),
            }
        }
    }
}

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The file to write (SQLite only; for PostgreSQL use pg_dump).
    output: PathBuf,
}

pub async fn backup(db: &DbArgs, args: BackupArgs) -> anyhow::Result<()> {
    let store = db.open().await?;
    match store.backup(&args.output).await {
        Ok(()) => {
            println!("backup written to {}", args.output.display());
            Ok(())
        }
        Err(e @ StoreError::Unsupported(_)) => Err(e.into()),
        Err(e) => Err(anyhow::Error::from(e).context(format!("backup to {} failed", args.output.display()))),
    }
}
