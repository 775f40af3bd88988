//! `jixiao data import|export|remind`: the data file of spec §3 (or a month
//! workbook) in and out of the database, and the deadline reminders of a month — the
//! app's use cases (`imports`, `reminders`), acting as the assessment office. An
//! import is checked whole first (rows, closed months); a file with any problem loads
//! nothing, with the same message the web page gives.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use jixiao_app::{Actor, AppConfig, Clock, Tr, collection, imports, reminders};
use jixiao_core::org::Role;
use jixiao_core::period::Month;

use super::db::DbArgs;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Load entries and records (spec §3 JSON, or a month workbook) into a year, all or nothing.
    Import {
        file: PathBuf,
        /// The scheme year the data belongs to.
        #[arg(long)]
        year: i32,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Queue the deadline reminders (催报短信) of a month in the outbox: to every
    /// reporter of a unit with indicators not yet reported, in the last days before
    /// the deadline and after it, once a day. Meant for a daily cron job.
    Remind {
        /// The reporting month, `YYYY-MM`; default the month before today's.
        #[arg(long)]
        month: Option<String>,
        /// The day to count from, `YYYY-MM-DD`; default today.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Write a year's entries and records as a data file.
    Export {
        year: i32,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// A spinner on standard error that shows only for work that takes a while.
pub fn progress(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message.to_string());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub async fn run(db: &DbArgs, command: DataCommand) -> anyhow::Result<()> {
    // Messages of the command line are in the default language, like the data they name.
    let tr = Tr::default();
    match command {
        DataCommand::Import { file, year, actor } => {
            let app = db.app(AppConfig::default()).await?;
            let bar = progress(&format!("checking {}", file.display()));
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read data file {}", file.display()))?;
            // The command line acts as the assessment office, under every rule the
            // office's upload follows (closed months, system-filled indicators…).
            let actor = Actor::system(&actor, Role::Office);
            let imported = imports::import_bytes(&app, &actor, &tr, year, bytes, &file.display().to_string())
                .await
                .with_context(|| format!("data file {}", file.display()))?;
            bar.finish_and_clear();
            println!(
                "imported {} entries and {} records into {year} ({} rows already stored as they are); scores recomputed",
                imported.entries, imported.records, imported.unchanged
            );
        }
        DataCommand::Remind { month, today, actor } => {
            // `--today` fixes the clock at 09:00 that day, as the daily job would run.
            let clock = match today {
                Some(day) => Clock::at_local(day.and_hms_opt(9, 0, 0).unwrap_or_default()),
                None => Clock::system(),
            };
            let app = db.app_on(AppConfig::default(), clock).await?;
            let month: Month = match month {
                Some(m) => m.parse().map_err(|e| anyhow::anyhow!("--month {m}: {e}"))?,
                None => collection::due_month(&app),
            };
            let queued = reminders::queue(&app, &Actor::system(&actor, Role::Office), month).await?;
            println!("{queued} reminder(s) for {month} queued in the outbox");
        }
        DataCommand::Export { year, output } => {
            let store = db.open().await?;
            let file = store.export_data(year).await?;
            let text = serde_json::to_string_pretty(&file)? + "\n";
            match output {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
        }
    }
    Ok(())
}
