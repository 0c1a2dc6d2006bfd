//! `felund-relay --listen ADDR --db PATH [--require-signatures]`.

use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use felund_relay::config::Cli;
use felund_relay::store::SqliteStore;
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
        .init();

    let store = SqliteStore::open(&cli.db)
        .with_context(|| format!("opening database {}", cli.db.display()))?;
    let handle = spawn(cli.relay_config(), RelayDeps::new(Arc::new(store)))
        .await
        .with_context(|| format!("starting relay on {}", cli.listen))?;
    // One machine-readable line, so callers that asked for port 0 learn the real port.
    println!("felund-relay listening on {}", handle.local_addr());

    wait_for_signal().await?;
    tracing::info!("shutting down");
    handle.shutdown().await.context("shutting down")?;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
        tokio::select! {
            _ = term.recv() => {}
            res = tokio::signal::ctrl_c() => res.context("waiting for SIGINT")?,
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
