//! The `felundd` binary: parse flags, set up logging, run the daemon.

use std::io::IsTerminal;

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
    let resolved = match felundd::config_file::load() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("felundd: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    if resolved.args.print_config {
        print!("{}", resolved.describe());
        return std::process::ExitCode::SUCCESS;
    }
    match felundd::daemon::run(resolved.args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("felundd: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
