//! `jixiao scheme import|export|validate`: the scheme file of spec §2 in and out
//! of the database. Each import is a new version of that year's scheme. A file may
//! also be the scheme workbook (`jixiao_web::scheme_workbook`), recognised by its
//! first bytes; `export --xlsx` writes one.

use std::path::PathBuf;

use anyhow::Context;
use jixiao_core::scheme::Scheme;
use jixiao_web::scheme_workbook;

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
pub fn read(path: &PathBuf) -> anyhow::Result<Scheme> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read scheme file {}", path.display()))?;
    if scheme_workbook::is_xlsx(&bytes) {
        return scheme_workbook::parse(&bytes)
            .map_err(|errors| anyhow::anyhow!("scheme workbook {} ({} errors):\n  {}", path.display(), errors.len(), errors.join("\n  ")));
    }
    let text = String::from_utf8(bytes).with_context(|| format!("scheme file {} is neither UTF-8 JSON nor .xlsx", path.display()))?;
    Scheme::from_json(&text).with_context(|| format!("scheme file {}", path.display()))
}

pub async fn run(db: &DbArgs, command: SchemeCommand) -> anyhow::Result<()> {
    match command {
        SchemeCommand::Validate { file } => {
            let s = read(&file)?;
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
            let scheme = read(&file)?;
            let store = db.open().await?;
            let existing = store.scheme_versions(scheme.year).await?;
            let reason = match (reason, existing.is_empty()) {
                (Some(r), _) if !r.trim().is_empty() => r,
                (_, true) => "初始版本 / first version".to_string(),
                (_, false) => {
                    anyhow::bail!("{} already has a scheme (version {}): amending it needs --reason \"…\"", scheme.year, existing.len())
                }
            };
            let mut tx = store.begin(&actor).await?;
            let version = store.import_scheme(&mut tx, &scheme.file, &reason).await?;
            tx.audit(
                "scheme.import",
                "scheme",
                &format!("{}/v{version}", scheme.year),
                None,
                Some(serde_json::json!({"name": scheme.name, "reason": reason})),
            )
            .await?;
            tx.commit().await?;
            // Scores of the new version, beside the old version's.
            store.refresh_scores(scheme.year).await?;
            println!("scheme {} imported as version {version}; scores recomputed", scheme.year);
        }
        SchemeCommand::Export { year, version, output, xlsx: true } => {
            let store = db.open().await?;
            let stored = store.scheme(year, version).await?;
            let bytes = scheme_workbook::write(&stored.compile()?)?;
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
