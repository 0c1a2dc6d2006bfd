//! The `felundd` binary: take a socket-activated listener (before any thread
//! exists), read flags and the config file, set up logging, run the daemon.

use std::io::IsTerminal;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Before any thread exists.
    felundd::memory::configure();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // Still single-threaded here: safe to read and clear LISTEN_* variables.
    let activated = match felundd::systemd::take_activated_listener() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("felundd: socket activation failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let resolved = match felundd::config_file::load() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("felundd: {e:#}");
            return ExitCode::from(2);
        }
    };
    if resolved.args.print_config {
        print!("{}", resolved.describe());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(felundd::limits::BLOCKING_THREADS)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("felundd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(felundd::daemon::run(resolved, activated)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("felundd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
