//! The `jixiao` command. Everything it does lives in `commands`; this file only
//! turns the outcome into an exit status.

mod commands;

fn main() -> std::process::ExitCode {
    commands::run()
}
