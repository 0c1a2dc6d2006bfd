//! The state every handler shares.

use std::sync::Arc;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::RelayConfig;
use crate::hub::PushHub;
use crate::metrics::Metrics;
use crate::ratelimit::AddressLimits;
use crate::readiness::ReadyCheck;
use crate::store::RelayStore;
use crate::subscribers::Subscribers;

/// Shared handler state: storage, clock, push hub, configuration, the shutdown signal and the
/// per-client limits.
#[derive(Clone)]
pub struct AppState {
    /// The storage backend.
    pub store: Arc<dyn RelayStore>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Fan-out of new messages to WebSocket subscribers.
    pub hub: Arc<dyn PushHub>,
    /// Runtime configuration.
    pub config: Arc<RelayConfig>,
    /// Becomes `true` when the relay shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Per-client-address write limits.
    pub limits: Arc<AddressLimits>,
    /// WebSocket subscriber caps.
    pub subscribers: Arc<Subscribers>,
    /// Operator metrics (served by the metrics listener, if configured).
    pub metrics: Arc<Metrics>,
    /// The readiness check's kept outcome.
    pub ready: Arc<ReadyCheck>,
}

impl AppState {
    /// The state of a relay with `config`, allowing `max_websockets` subscribers in total;
    /// `store` should already count into `metrics` (see [`crate::metrics::MeteredStore`]).
    pub fn new(
        store: Arc<dyn RelayStore>,
        clock: Arc<dyn Clock>,
        hub: Arc<dyn PushHub>,
        config: RelayConfig,
        shutdown: watch::Receiver<bool>,
        max_websockets: usize,
        metrics: Arc<Metrics>,
    ) -> Self {
        let limits = Arc::new(AddressLimits::new(&config, Arc::clone(&clock)));
        let subscribers = Subscribers::new(
            config.ws_max_per_hint,
            config.ws_max_per_address,
            max_websockets,
        );
        Self {
            store,
            clock,
            hub,
            config: Arc::new(config),
            shutdown,
            limits,
            subscribers,
            metrics,
            ready: Arc::new(ReadyCheck::default()),
        }
    }

    /// The current server time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
