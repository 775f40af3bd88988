//! Opening the database from the command line, and the small database commands:
//! `migrate`, `audit verify`, `audit export`, `audit check-archive`, `backup`.
//!
//! Every command opens the database with the key file (`--key-file`) and the audit
//! anchor (`--audit-anchor`), both outside the database: by default beside the SQLite
//! file (`data/jixiao.keys`, `data/jixiao.audit-anchor`), or in `data/` for
//! PostgreSQL (one anchor per database name). A missing key file is created only while the audit log has no keyed
//! entry (a new database, or one from before keys); otherwise its absence is an error,
//! since a new key could neither check the log nor read the phone numbers.

use std::path::PathBuf;

use anyhow::Context;
use jixiao_store::{HashAlgorithm, Keys, Store, StoreError, StoreOptions};

/// Where the database is: `--database`, else `JIXIAO_DATABASE_URL`, else the
/// embedded SQLite file `data/jixiao.db`.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// Database URL: `sqlite://data/jixiao.db` (default) or `postgres://user@host/db`.
    #[arg(long, global = true, env = "JIXIAO_DATABASE_URL", default_value = "sqlite://data/jixiao.db")]
    pub database: String,
    /// Hash function of new audit entries' MACs: sm3 (国密, HMAC-SM3), or sha256.
    #[arg(long, global = true, env = "JIXIAO_AUDIT_HASH", default_value = "sm3", value_parser = ["sha256", "sm3"])]
    pub audit_hash: String,
    /// The key file (audit MACs, personal data): never inside the database. Default:
    /// beside the SQLite file, or `data/jixiao.keys`.
    #[arg(long, global = true, env = "JIXIAO_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// The audit chain's anchor file, outside the database, writable by jixiao only.
    /// Default: beside the SQLite file (`<name>.audit-anchor`), or in `data/`
    /// (`jixiao-<database>.audit-anchor`).
    #[arg(long, global = true, env = "JIXIAO_AUDIT_ANCHOR")]
    pub audit_anchor: Option<PathBuf>,
    /// Start the clock at this time (RFC 3339, e.g. 2027-12-06T09:00:00+08:00) and let
    /// it run from there — for demonstrations and tests of a given day. Default: now.
    #[arg(long, global = true, env = "JIXIAO_CLOCK")]
    pub clock: Option<chrono::DateTime<chrono::FixedOffset>>,
}

impl DbArgs {
    fn options(&self) -> StoreOptions {
        let hash_algorithm = if self.audit_hash == "sha256" { HashAlgorithm::Sha256 } else { HashAlgorithm::Sm3 };
        StoreOptions { hash_algorithm, anchor: Some(self.anchor_path()), ..StoreOptions::default() }
    }

    /// The folder of the secrets: the SQLite file's, or `data`.
    fn secrets_dir(&self) -> PathBuf {
        sqlite_path(&self.database)
            .and_then(|p| p.parent().map(PathBuf::from))
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("data"))
    }

    pub fn key_path(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| self.secrets_dir().join("jixiao.keys"))
    }

    /// The anchor belongs to one database: `jixiao.audit-anchor` beside the SQLite
    /// file, `jixiao-<database name>.audit-anchor` for PostgreSQL.
    pub fn anchor_path(&self) -> PathBuf {
        self.audit_anchor.clone().unwrap_or_else(|| {
            let name = match sqlite_path(&self.database) {
                Some(p) => p.file_stem().map_or_else(|| "jixiao".to_string(), |s| s.to_string_lossy().into_owned()),
                None => {
                    let path = self.database.split('?').next().unwrap_or_default();
                    let db: String =
                        path.rsplit('/').next().unwrap_or_default().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    format!("jixiao-{db}")
                }
            };
            self.secrets_dir().join(format!("{name}.audit-anchor"))
        })
    }

    /// The keys of the key file, created if missing while the log has no keyed entry
    /// (or no log yet: `fresh`).
    async fn keys_for(&self, store: &Store, fresh: bool) -> anyhow::Result<Keys> {
        let path = self.key_path();
        if path.exists() {
            return Ok(Keys::load(&path)?);
        }
        if !fresh && store.keyed_audit_entries().await? > 0 {
            anyhow::bail!(
                "the key file {} is missing and the audit log has entries made with a key: restore the key file (a new \
                 key could neither check the log nor read the phone numbers)",
                path.display()
            );
        }
        let keys = Keys::create(&path)?;
        eprintln!("created the key file {} — keep it apart from the database, and back it up", path.display());
        Ok(keys)
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
        let store = Store::connect_with(&self.database, self.options()).await?;
        let keys = self.keys_for(&store, false).await?;
        Ok(store.with_keys(keys))
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
        let created = store.schema_version().await?.is_none();
        let keys = self.keys_for(&store, created).await?;
        let store = store.with_keys(keys);
        if created {
            restart_anchor(&store)?;
        }
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
    let keys = db.keys_for(&store, before.is_none()).await?;
    let store = store.with_keys(keys);
    if before.is_none() {
        restart_anchor(&store)?;
    }
    let after = store.migrate().await?;
    match before {
        Some(v) if v == after => println!("database {} is up to date (schema version {after})", store.url()),
        Some(v) => println!("database {} upgraded from schema version {v} to {after}", store.url()),
        None => println!("database {} created at schema version {after}", store.url()),
    }
    Ok(())
}

/// A new database starts a new chain: an anchor left from an earlier database at the
/// same place is kept aside, not trusted.
fn restart_anchor(store: &Store) -> anyhow::Result<()> {
    if let Some(anchor) = store.anchor()
        && let Some(kept) = anchor.restart()?
    {
        eprintln!("a new database: the audit anchor of the previous one is kept as {}", kept.display());
    }
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check the audit log (处处留迹): every entry's MAC and link, and the anchor outside
    /// the database; report the first broken entry.
    Verify,
    /// Write the entries of a range of days, with their MACs, to an archive file
    /// that `audit check-archive` verifies offline (nothing is deleted).
    Export(ExportArgs),
    /// Verify an archive file written by `audit export`, with the key file only.
    CheckArchive {
        /// The archive file.
        file: PathBuf,
    },
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// First day (YYYY-MM-DD, the site's calendar), included.
    #[arg(long)]
    from: Option<String>,
    /// Last day, included.
    #[arg(long)]
    until: Option<String>,
    /// The file to write.
    #[arg(long)]
    output: PathBuf,
}

pub async fn audit(db: &DbArgs, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => {
            let store = db.open().await?;
            let report = store.verify_audit().await?;
            let anchor = match &report.anchor {
                Some((seq, _)) => format!("anchor at entry {seq} ({})", db.anchor_path().display()),
                None => format!("no anchor yet at {}", db.anchor_path().display()),
            };
            match report.first_broken {
                None => {
                    println!("audit chain intact: {} entries, {anchor}", report.entries);
                    Ok(())
                }
                Some(broken) => anyhow::bail!("audit chain broken after checking {} entries, {anchor}: {broken}", report.entries),
            }
        }
        AuditCommand::Export(args) => {
            let app = db.app(jixiao_app::AppConfig::default()).await?;
            let query = jixiao_app::audit::AuditQuery { from: args.from, until: args.until, ..Default::default() };
            let archive =
                jixiao_app::audit::export_archive(&app, &jixiao_app::Actor::system("cli", jixiao_core::org::Role::Auditor), &query).await?;
            std::fs::write(&args.output, &archive.text).with_context(|| format!("cannot write {}", args.output.display()))?;
            println!("{} entries ({}–{}) written to {}", archive.entries, archive.first_seq, archive.last_seq, args.output.display());
            Ok(())
        }
        AuditCommand::CheckArchive { file } => {
            let keys = Keys::load(&db.key_path())?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match jixiao_store::check_archive(&text, &keys) {
                Ok(n) => {
                    println!("archive intact: {n} entries");
                    Ok(())
                }
                Err(e) => anyhow::bail!("archive {} is not intact: {e}", file.display()),
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
