//! The `felundd` binary: parse flags, set up logging, run the daemon.

use std::io::IsTerminal;

use clap::Parser;
use felundd::config::Args;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let args = Args::parse();
    match felundd::daemon::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("felundd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
