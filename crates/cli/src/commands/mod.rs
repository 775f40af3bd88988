//! The command line: one clap definition, one module per subcommand.
//!
//! Error policy: a subcommand returns `anyhow::Result`; on error the message
//! (with its causes) goes to standard error, nothing more goes to standard output,
//! and the exit status is 1. Usage errors exit with 2 (clap's convention).

mod score;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jixiao (绩效): performance management for government bodies.
#[derive(Parser)]
#[command(name = "jixiao", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score a scheme file against a data file (spec §8), without a database.
    Score(score::Args),
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Score(args) => score::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
