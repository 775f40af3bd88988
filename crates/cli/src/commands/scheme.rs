//! `jixiao scheme import|export|validate`: the scheme file of spec §2 in and out
//! of the database. Each import is a new version of that year's scheme.

use std::path::PathBuf;

use anyhow::Context;
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
    },
}

/// Reads and validates a scheme file, naming the file in every error.
pub fn read(path: &PathBuf) -> anyhow::Result<Scheme> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read scheme file {}", path.display()))?;
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
                (_, false) => anyhow::bail!(
                    "{} already has a scheme (version {}): amending it needs --reason \"…\"",
                    scheme.year,
                    existing.len()
                ),
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
        SchemeCommand::Export { year, version, output } => {
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
