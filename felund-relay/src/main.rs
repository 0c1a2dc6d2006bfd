//! `felund-relay --listen ADDR (--db PATH | --database-url URL) [--require-signatures]`, or
//! `felund-relay migrate --from-db PATH --to-database-url URL`.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use felund_relay::config::{Cli, Command, MigrateArgs};
use felund_relay::store::{PgHub, PgStore, SqliteStore};
use felund_relay::{spawn, RelayDeps};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not for journald or a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    if let Some(Command::Migrate(args)) = &cli.command {
        return migrate(args).await;
    }
    let deps = match (&cli.database_url, &cli.db) {
        (Some(url), _) => {
            // The URL may hold a password: it is never printed.
            let store = PgStore::connect(url, cli.pg_options())
                .await
                .context("opening the PostgreSQL database (--database-url)")?;
            let hub = PgHub::start(&store)
                .await
                .context("listening for pushes on the PostgreSQL database")?;
            RelayDeps::new(Arc::new(store)).with_hub(Arc::new(hub))
        }
        (None, Some(path)) => {
            let store = SqliteStore::open(path)
                .with_context(|| format!("opening database {}", path.display()))?;
            RelayDeps::new(Arc::new(store))
        }
        (None, None) => anyhow::bail!("one of --db or --database-url is required"),
    };
    // Handlers first: a SIGTERM right after the "listening" line must stop the relay cleanly.
    let stop = stop_signal()?;
    let handle = spawn(cli.relay_config(), deps)
        .await
        .with_context(|| format!("starting relay on {}", cli.listen))?;
    // One machine-readable line, so callers that asked for port 0 learn the real port.
    println!("felund-relay listening on {}", handle.local_addr());

    stop.await?;
    tracing::info!("shutting down");
    handle.shutdown().await.context("shutting down")?;
    Ok(())
}

/// `felund-relay migrate`: one line of counts on stdout when done.
async fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    // The URL may hold a password: it is never printed.
    let report = felund_relay::migrate::sqlite_to_postgres(&args.from_db, &args.to_database_url)
        .await
        .with_context(|| format!("migrating {} to PostgreSQL", args.from_db.display()))?;
    println!(
        "migrated {} messages (seqs up to {}), {} presence records, {} circle positions, \
         {} nonces, {} signals",
        report.messages,
        report.seq_high,
        report.presence,
        report.circle_clocks,
        report.nonces,
        report.signals
    );
    Ok(())
}

/// Installs the SIGTERM/SIGINT handlers now; the future completes on the first signal.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = anyhow::Result<()>>> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).context("installing SIGTERM handler")?,
            signal(SignalKind::interrupt()).context("installing SIGINT handler")?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        Ok(())
    })
}
