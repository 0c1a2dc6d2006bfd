//! Running the daemon: open the store, start the node, bind the socket, serve until
//! SIGTERM/SIGINT, then shut down cleanly (socket file removed).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::config_file::Resolved;
use crate::node::{now_ts, Node};
use crate::store::{messages as message_sql, StateStore};
use crate::{gossip, grpc, relay, socket, webrtc};

/// How often retention pruning runs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Lock file inside the state directory.
const LOCK_FILE: &str = "felundd.lock";

/// Runs felundd with the resolved settings until a termination signal. `activated` is the API
/// socket systemd handed over (socket activation), if any; it is used instead of
/// binding `--socket`, and left in place at exit (systemd owns it).
pub async fn run(
    resolved: Resolved,
    activated: Option<std::os::unix::net::UnixListener>,
) -> anyhow::Result<()> {
    let stop = StopSignals::install()?;
    let args = resolved.args.clone();
    let socket_path = args.settings(args.port).socket_path;
    let owns_socket = activated.is_none();
    // Bind first: a second felundd on the same socket must not touch the state.
    let listener = match activated {
        Some(l) => {
            tracing::info!("using the API socket passed by systemd");
            tokio::net::UnixListener::from_std(l)
                .context("cannot use the socket passed by systemd")?
        }
        None => socket::bind_api_socket(&socket_path).await?,
    };
    // Removes the socket file however run() ends (unless systemd owns it).
    let _socket_file = SocketFile {
        path: socket_path.clone(),
        owned: owns_socket,
    };
    let tcp = match TcpListener::bind((args.bind, args.port)).await {
        Ok(l) => l,
        Err(e) => {
            anyhow::bail!(
                "cannot listen for peers on {}:{}: {e} (pass a free --port)",
                args.bind,
                args.port
            );
        }
    };
    let port = tcp.local_addr().map(|a| a.port()).unwrap_or(args.port);
    let mut settings = args.settings(port);
    settings.config = resolved
        .sources
        .into_iter()
        .map(|(k, v, s)| (k, v, s.to_string()))
        .collect();
    let store = open_state(&settings.state_dir)?;
    if let Some(path) = &args.import_state {
        import_at_start(&store, path, args.settings(port).retention).await?;
    }
    let node = Node::start(store, settings.clone(), args.name.clone()).await?;
    tracing::info!(
        node_id = node.node_id(),
        socket = %settings.socket_path.display(),
        state_dir = %settings.state_dir.display(),
        "felundd ready"
    );
    let _gossip = gossip::start(node.clone(), args.gossip(&settings), tcp);
    let relays = relay::start(
        node.clone(),
        settings.advertise_addr.clone(),
        settings.anchor,
    );
    tracing::info!(listen = %settings.listen_addr, advertise = %settings.advertise_addr, "gossip listening");
    let datachannels = settings.webrtc_ip.map(|ip| {
        tracing::info!(ice_ip = %ip, "DataChannel transport on (browsers connect directly)");
        webrtc::start(node.clone(), ip)
    });
    let pruner = tokio::spawn(prune_loop(node.clone()));
    let trimmer = tokio::spawn(crate::memory::trim_after_bursts(node.store().clone()));
    crate::systemd::notify(crate::systemd::ServiceState::Ready);
    let served = grpc::serve(node, listener, stop.received()).await;
    crate::systemd::notify(crate::systemd::ServiceState::Stopping);
    pruner.abort();
    trimmer.abort();
    if let Some(dc) = datachannels {
        dc.shutdown().await;
    }
    relays.shutdown().await;
    served.context("the API server failed")?;
    tracing::info!("felundd stopped");
    Ok(())
}

/// The API socket file, removed when dropped if we created it.
struct SocketFile {
    path: std::path::PathBuf,
    owned: bool,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Takes the state directory's lock (one felundd per state, whatever its socket)
/// and opens the store. The lock is held until the process exits.
fn open_state(dir: &Path) -> anyhow::Result<StateStore> {
    crate::store::create_private_dir(dir)?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        anyhow::bail!(
            "another felundd is already using the state in {}; stop it first or pass a different --state-dir",
            dir.display()
        );
    }
    // Leak the handle on purpose: the lock must live as long as the process.
    std::mem::forget(lock);
    StateStore::open(dir).with_context(|| format!("cannot open the state in {}", dir.display()))
}

/// `--import-state`: imports a reference state file before the node starts, so an
/// adopted identity is in force at once.
async fn import_at_start(
    store: &StateStore,
    path: &Path,
    retention: crate::node::Retention,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (report, _) = crate::node::import::import_into(store, bytes, None, retention)
        .await
        .with_context(|| format!("cannot import {}", path.display()))?;
    tracing::info!(
        circles = report.circles,
        messages = report.messages,
        beyond_retention = report.beyond_retention,
        peers = report.peers,
        channels = report.channels,
        adopted_node_id = report.adopted_node_id.as_deref().unwrap_or(""),
        "imported reference state"
    );
    for w in &report.warnings {
        tracing::warn!("import: {w}");
    }
    Ok(())
}

/// Completes on SIGTERM or SIGINT.
/// SIGTERM and SIGINT, caught from before felundd says it is ready: a service manager may
/// stop it the moment it reports `READY=1`, and a signal that came before the handlers
/// existed would kill it instead of stopping it cleanly.
struct StopSignals {
    term: Signal,
    int: Signal,
}

impl StopSignals {
    fn install() -> anyhow::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate()).context("cannot catch SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot catch SIGINT")?,
        })
    }

    /// Completes at the first of them.
    async fn received(mut self) {
        tokio::select! {
            _ = self.term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = self.int.recv() => tracing::info!("SIGINT: shutting down"),
        }
    }
}

/// Applies retention at start and then every [`PRUNE_EVERY`].
async fn prune_loop(node: Node) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    loop {
        tick.tick().await;
        let day_ago = now_ts() - 86_400;
        if let Err(e) = node
            .store()
            .write(move |conn| message_sql::prune_announcements(conn, day_ago))
            .await
        {
            tracing::warn!("pruning old anchor announcements failed: {e}");
        }
        // Pruning scans the whole table: SQLite's cache grew for it.
        crate::memory::after_burst();
        let r = node.settings().retention;
        if r.max_age_days == 0 && r.max_per_circle == 0 {
            continue;
        }
        let cutoff = r.cutoff_ts(now_ts()).unwrap_or(i64::MIN);
        match node
            .store()
            .write(move |conn| message_sql::prune(conn, cutoff, r.max_per_circle))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "retention pruned old messages"),
            Err(e) => tracing::warn!("retention pruning failed: {e}"),
        }
    }
}
