//! `jixiao scheme import|export|validate`: the scheme file of spec §2 in and out
//! of the database. Each import is a new version of that year's scheme (the app's
//! `schemes::import_version`, acting as the assessment office). A file may also be
//! the scheme workbook (`jixiao_app::xlsx::scheme`), recognised by its first bytes;
//! `export --xlsx` writes one.

use std::path::PathBuf;

use anyhow::Context;
use jixiao_app::{Actor, AppConfig, schemes};
use jixiao_core::org::Role;
use jixiao_core::scheme::Scheme;

use super::db::DbArgs;

#[derive(clap::Subcommand)]
pub enum SchemeCommand {
    /// Check a scheme file and list every error; touches no database.
    Validate { file: PathBuf },
    /// Store a scheme file as a new version of its year (groups and units are added or renamed).
    Import {
        file: PathBuf,
        /// Why this version exists (required when amending a year that already has one).
        #[arg(long)]
        reason: Option<String>,
        /// Who makes the change, for the audit log.
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Write a year's scheme (latest version, or --version) as JSON to standard output or a file.
    Export {
        year: i32,
        #[arg(long)]
        version: Option<i32>,
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Write the scheme workbook (.xlsx) instead of JSON; needs --output.
        #[arg(long, requires = "output")]
        xlsx: bool,
    },
}

/// Reads and validates a scheme file (JSON, or the scheme workbook), naming the file
/// in every error.
pub async fn read(path: &PathBuf) -> anyhow::Result<Scheme> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read scheme file {}", path.display()))?;
    schemes::parse(bytes)
        .await?
        .map_err(|errors| anyhow::anyhow!("scheme file {} ({} errors):\n  {}", path.display(), errors.len(), errors.join("\n  ")))
}

pub async fn run(db: &DbArgs, command: SchemeCommand) -> anyhow::Result<()> {
    match command {
        SchemeCommand::Validate { file } => {
            let s = read(&file).await?;
            println!(
                "{}: valid — {} {}, {} groups, {} units, {} indicators",
                file.display(),
                s.year,
                s.name,
                s.groups.len(),
                s.units.len(),
                s.indicators.len()
            );
        }
        SchemeCommand::Import { file, reason, actor } => {
            let scheme = read(&file).await?;
            let app = db.app(AppConfig::default()).await?;
            let first = app.store.scheme_versions(scheme.year).await?.is_empty();
            let reason = match reason {
                Some(r) if !r.trim().is_empty() => r,
                _ if first => "初始版本 / first version".to_string(),
                _ => anyhow::bail!("{} already has a scheme: amending it needs --reason \"…\"", scheme.year),
            };
            let version =
                schemes::import_version(&app, &Actor::system(&actor, Role::Office), &jixiao_app::Tr::default(), &scheme, &reason).await?;
            println!("scheme {} imported as version {version}; scores recomputed", scheme.year);
        }
        SchemeCommand::Export { year, version, output, xlsx: true } => {
            let store = db.open().await?;
            let stored = store.scheme(year, version).await?;
            let bytes = jixiao_app::xlsx::scheme::write(&stored.compile()?)?;
            let path = output.context("--xlsx needs --output FILE.xlsx")?;
            std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        }
        SchemeCommand::Export { year, version, output, xlsx: false } => {
            let store = db.open().await?;
            let stored = store.scheme(year, version).await?;
            let text = serde_json::to_string_pretty(&stored.file)? + "\n";
            match output {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}
