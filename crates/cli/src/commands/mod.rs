//! The command line: one clap definition, one module per subcommand.
//!
//! Error policy: a subcommand returns `anyhow::Result`; on error the message
//! (with its causes) goes to standard error, nothing more goes to standard output,
//! and the exit status is 1. Usage errors exit with 2 (clap's convention).

mod bench;
mod data;
mod db;
mod demo;
mod demo_records;
mod demo_service;
mod demo_supervision;
mod open311;
mod scheme;
mod score;
mod serve;
mod table;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jixiao (绩效): performance management for government bodies.
#[derive(Parser)]
#[command(name = "jixiao", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    db: db::DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database or upgrade its schema in place.
    Migrate,
    /// Load the demo district (江汉新区) and print its demo accounts.
    Demo(demo::DemoArgs),
    /// Start the web server (with the background jobs, unless --no-jobs).
    Serve(serve::ServeArgs),
    /// Run the background jobs: SMS, deadline reminders, auto-close, session purge, score checks, supervision overdue reminders.
    Worker(serve::WorkerArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Validate, import and export schemes (考核方案, spec §2).
    #[command(subcommand)]
    Scheme(scheme::SchemeCommand),
    /// Import and export reported data (spec §3).
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Check the audit log (处处留迹).
    #[command(subcommand)]
    Audit(db::AuditCommand),
    /// Open311 GeoReport v2: API keys.
    #[command(subcommand)]
    Open311(open311::Open311Command),
    /// Copy the SQLite database to a file while it is in use.
    Backup(db::BackupArgs),
    /// Score a scheme file against a data file (spec §8), without a database.
    Score(score::Args),
    /// Benchmarks (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("JIXIAO_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Score(args) => score::run(args),
        Command::Bench(command) => bench::run(command),
        command => runtime().and_then(|rt| rt.block_on(run_async(&cli.db, command))),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

async fn run_async(db: &db::DbArgs, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Migrate => db::migrate(db).await,
        Command::Demo(args) => demo::run(db, args).await,
        Command::Serve(args) => serve::run(db, args).await,
        Command::Worker(args) => serve::worker(db, args).await,
        Command::User(c) => user::run(db, c).await,
        Command::Scheme(c) => scheme::run(db, c).await,
        Command::Data(c) => data::run(db, c).await,
        Command::Audit(c) => db::audit(db, c).await,
        Command::Backup(args) => db::backup(db, args).await,
        Command::Open311(c) => open311::run(db, c).await,
        Command::Score(_) | Command::Bench(_) => unreachable!("handled without a runtime"),
    }
}
