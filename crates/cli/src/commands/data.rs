//! `jixiao data import|export|remind`: the data file of spec §3 in and out of the
//! database, and the deadline reminders of a month. An import is checked row by row
//! against the year's scheme first; a file with any bad row loads nothing.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use jixiao_core::data::{Dataset, KeyedDataFile};

use super::db::DbArgs;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Load entries and records into a year (all or nothing).
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
    match command {
        DataCommand::Import { file, year, actor } => {
            let store = db.open().await?;
            let scheme = store.scheme(year, None).await?.compile()?;
            let bar = progress(&format!("checking {}", file.display()));
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read data file {}", file.display()))?;
            let data: KeyedDataFile = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("data file {}: line {}, column {}: {e}", file.display(), e.line(), e.column()))?;
            Dataset::load(&scheme, &data.unkeyed()).with_context(|| format!("data file {}", file.display()))?;
            bar.set_message(format!("writing {} entries and {} records", data.entries.len(), data.records.len()));
            let mut tx = store.begin(&actor).await?;
            let summary = store.import_keyed_data(&mut tx, year, &data).await?;
            tx.audit(
                "data.import",
                "data",
                &year.to_string(),
                None,
                Some(serde_json::json!({"file": file.display().to_string(), "entries": summary.entries, "records": summary.records})),
            )
            .await?;
            tx.commit().await?;
            bar.set_message("scoring");
            // Stored scores follow the data at once (pages read them).
            store.refresh_scores(year).await?;
            bar.finish_and_clear();
            println!("imported {} entries and {} records into {year}; scores recomputed", summary.entries, summary.records);
        }
        DataCommand::Remind { month, today, actor } => {
            let today = today.unwrap_or_else(|| chrono::Local::now().date_naive());
            let month: jixiao_core::period::Month = match month {
                Some(m) => m.parse().map_err(|e| anyhow::anyhow!("--month {m}: {e}"))?,
                None => {
                    let this = jixiao_core::period::Month::of_date(today);
                    if this.month == 1 {
                        jixiao_core::period::Month { year: this.year - 1, month: 12 }
                    } else {
                        jixiao_core::period::Month { year: this.year, month: this.month - 1 }
                    }
                }
            };
            let store = db.open().await?;
            let scheme = store.scheme(month.year, None).await?.compile()?;
            let queued = jixiao_web::reminders::queue(&store, &scheme, month, today, &actor).await?;
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
