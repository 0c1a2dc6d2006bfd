//! Starting, running and stopping a relay: the HTTP server and the retention task.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::config::RelayConfig;
use crate::error::RelayError;
use crate::hub::{LocalHub, PushHub};
use crate::limits::SIGNATURE_WINDOW_S;
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
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    pruner: JoinHandle<()>,
}

impl RelayHandle {
    /// The address the relay listens on (with the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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
    let mut tick = tokio::time::interval(state.config.prune_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = wait_for_shutdown(state.shutdown.clone());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => match prune_once(&state).await {
                Ok(report) if report.total() > 0 => tracing::debug!(?report, "pruned"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "retention pass failed"),
            },
        }
    }
}

/// Binds `config.listen` and starts serving; returns once the socket is bound.
pub async fn spawn(config: RelayConfig, deps: RelayDeps) -> Result<RelayHandle, RelayError> {
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let state = AppState {
        store: deps.store,
        clock: deps.clock,
        hub: deps.hub,
        config: Arc::new(config),
        shutdown: shutdown_rx.clone(),
    };
    let app = crate::routes::app(state.clone());
    // Small frames (pushes, JSON answers) go out at once instead of waiting for an ACK.
    let listener =
        axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(error = %err, "could not set TCP_NODELAY");
            }
        });
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(wait_for_shutdown(shutdown_rx))
        .await
    });
    let pruner = tokio::spawn(prune_loop(state));
    tracing::info!(addr = %local_addr, "felund-relay listening");
    Ok(RelayHandle {
        local_addr,
        shutdown: shutdown_tx,
        server,
        pruner,
    })
}
