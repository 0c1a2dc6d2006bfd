//! The state every handler shares.

use std::sync::Arc;

use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::RelayConfig;
use crate::hub::PushHub;
use crate::store::RelayStore;

/// Shared handler state: storage, clock, push hub, configuration and the shutdown signal.
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
}

impl AppState {
    /// The current server time.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
