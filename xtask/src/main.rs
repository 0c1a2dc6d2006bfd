//! felund's install tool, run as `cargo xtask install [--prefix DIR] [--systemd]` and
//! `cargo xtask uninstall [--prefix DIR]` (an alias in `.cargo/config.toml`).
//!
//! It builds felundd, felundctl, felund-tui and felund-relay (`cargo build --release
//! --locked`, or takes them from `--bin-dir`), renders their shell completions and man
//! pages from the clap definitions in their libraries (`felund_clidoc`), optionally the
//! systemd user units with `ExecStart` on the installed felundd, and records every file
//! it writes in a manifest, so that `uninstall` removes exactly those.

mod build;
mod cli;
mod files;
mod install;
mod layout;
mod limits;
mod manifest;
mod notes;
mod plan;
mod programs;
mod uninstall;
mod units;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Install(args) => install::run(&args),
        cli::Command::Uninstall(args) => uninstall::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes, joined.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
