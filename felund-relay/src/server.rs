//! Starting, running and stopping a relay: the HTTP server, the metrics listener (if
//! configured) and the retention task.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::config::RelayConfig;
use crate::error::RelayError;
use crate::hub::{LocalHub, PushHub};
use crate::limits::{MAX_WS_SHARE_PERCENT, METRICS_MAX_CONNECTIONS, SIGNATURE_WINDOW_S};
use crate::metrics::{MeteredStore, Metrics, MetricsState};
use crate::state::AppState;
use crate::store::{PrunePolicy, PruneReport, RelayStore, StoreResult};

/// What a relay runs on: the store, the clock and the push hub.
#[derive(Clone)]
pub struct RelayDeps {
    /// The storage backend.
    pub store: Arc<dyn RelayStore>,
    /// The clock ([`SystemClock`] by default).
    pub clock: Arc<dyn Clock>,
    /// The push hub ([`LocalHub`] by default).
    pub hub: Arc<dyn PushHub>,
}

impl RelayDeps {
    /// `store` with the system clock and a process-local push hub.
    pub fn new(store: Arc<dyn RelayStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            hub: Arc::new(LocalHub::default()),
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the push hub.
    pub fn with_hub(mut self, hub: Arc<dyn PushHub>) -> Self {
        self.hub = hub;
        self
    }
}

/// A running relay.
pub struct RelayHandle {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    metrics_server: Option<JoinHandle<std::io::Result<()>>>,
    pruner: JoinHandle<()>,
}

impl RelayHandle {
    /// The address the relay listens on (with the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the metrics listener, if one was configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Stops accepting connections, closes WebSockets, waits for in-flight requests and the
    /// retention task.
    pub async fn shutdown(self) -> Result<(), RelayError> {
        let _ = self.shutdown.send(true);
        let served = self
            .server
            .await
            .map_err(|err| RelayError::Task(err.to_string()))?;
        self.pruner
            .await
            .map_err(|err| RelayError::Task(err.to_string()))?;
        if let Some(metrics) = self.metrics_server {
            metrics
                .await
                .map_err(|err| RelayError::Task(err.to_string()))??;
        }
        served.map_err(RelayError::from)
    }
}

/// The retention rule of the relay (nonces for the signature window, rate buckets for two
/// windows).
pub fn prune_policy(config: &RelayConfig) -> PrunePolicy {
    PrunePolicy {
        nonce_window_s: SIGNATURE_WINDOW_S,
        rate_window_s: config.signal_rate_window_s,
    }
}

/// One retention pass at the state's current time.
pub async fn prune_once(state: &AppState) -> StoreResult<PruneReport> {
    state
        .store
        .prune(state.now(), prune_policy(&state.config))
        .await
}

async fn wait_for_shutdown(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn prune_loop(state: AppState) {
    // The first pass one interval after start, not at once: a pass racing a caller's own
    // `prune` (tests, tools) would take its rows, and nothing has expired a moment after start.
    let period = state.config.prune_interval;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = wait_for_shutdown(state.shutdown.clone());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                state.limits.forget_idle();
                match prune_once(&state).await {
                    Ok(report) if report.total() > 0 => tracing::debug!(?report, "pruned"),
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "retention pass failed"),
                }
            }
        }
    }
}

/// The open-file limit, raised to its hard limit first (a relay wants every descriptor it may
/// have); `None` when it cannot be read.
fn open_file_limit() -> Option<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    // "Infinite" still means the kernel's per-process maximum; a million is plenty.
    let ceiling = if hard == RLIM_INFINITY { 1 << 20 } else { hard };
    if soft < ceiling && setrlimit(Resource::RLIMIT_NOFILE, ceiling, hard).is_ok() {
        return Some(ceiling);
    }
    Some(soft)
}

/// How many connections (HTTP, WebSocket) this relay serves at once: the open-file limit
/// minus `config.reserved_fds`, or `config.max_connections` if that is lower, split
/// `config.ws_share_percent` (at most [`MAX_WS_SHARE_PERCENT`]) to WebSockets and the rest to
/// HTTP. Staying below the file limit is what keeps `accept` from failing with "Too many open
/// files".
pub fn connection_budget(config: &RelayConfig) -> (usize, usize) {
    let files = open_file_limit().unwrap_or(1024);
    let mut budget = files.saturating_sub(config.reserved_fds);
    if let Some(max) = config.max_connections {
        budget = budget.min(max);
    }
    let budget = budget.max(2);
    let ws_percent = u64::from(config.ws_share_percent.min(MAX_WS_SHARE_PERCENT));
    let ws = (budget * ws_percent / 100).max(1);
    let http = budget.saturating_sub(ws).max(1);
    (
        usize::try_from(http).unwrap_or(usize::MAX),
        usize::try_from(ws).unwrap_or(usize::MAX),
    )
}

/// Binds `config.listen` (and `config.metrics_listen`, if set) and starts serving; returns
/// once the sockets are bound.
pub async fn spawn(config: RelayConfig, deps: RelayDeps) -> Result<RelayHandle, RelayError> {
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (http_cap, ws_cap) = connection_budget(&config);
    let timeouts = config.timeouts;
    let metrics = Metrics::new();
    let store = Arc::new(MeteredStore::new(deps.store, Arc::clone(&metrics)));
    let state = AppState::new(
        store,
        deps.clock,
        deps.hub,
        config,
        shutdown_rx.clone(),
        ws_cap,
        metrics,
    );
    let app = crate::routes::app(state.clone());
    let server = tokio::spawn(crate::serve::serve(
        listener,
        app,
        http_cap,
        timeouts,
        shutdown_rx.clone(),
    ));
    let mut metrics_addr = None;
    let metrics_server = match metrics_listener {
        Some(listener) => {
            let addr = listener.local_addr()?;
            metrics_addr = Some(addr);
            tracing::info!(%addr, "metrics listening");
            let app = crate::metrics::app(MetricsState {
                metrics: Arc::clone(&state.metrics),
                subscribers: Arc::clone(&state.subscribers),
                store: Arc::clone(&state.store),
            });
            Some(tokio::spawn(crate::serve::serve(
                listener,
                app,
                METRICS_MAX_CONNECTIONS,
                timeouts,
                shutdown_rx,
            )))
        }
        None => None,
    };
    let pruner = tokio::spawn(prune_loop(state));
    tracing::info!(addr = %local_addr, http_cap, ws_cap, "felund-relay listening");
    Ok(RelayHandle {
        local_addr,
        metrics_addr,
        shutdown: shutdown_tx,
        server,
        metrics_server,
        pruner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_split_by_the_websocket_share() {
        let config = |max, share| RelayConfig {
            max_connections: Some(max),
            ws_share_percent: share,
            ..RelayConfig::default()
        };
        assert_eq!(connection_budget(&config(8, 25)), (6, 2));
        assert_eq!(connection_budget(&config(100, 60)), (40, 60));
        // HTTP keeps its part whatever the configuration says.
        assert_eq!(connection_budget(&config(100, 100)), (10, 90));
    }
}
