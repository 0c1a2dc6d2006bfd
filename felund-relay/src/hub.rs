//! Fan-out of newly stored messages to WebSocket subscribers.
//!
//! [`PushHub`] is the seam for cross-instance push: [`LocalHub`] is one tokio broadcast channel
//! per relay process; a hub fed by the store (e.g. PostgreSQL `LISTEN/NOTIFY`) can replace it
//! without touching the handlers or the socket loop.

use std::sync::Arc;

use serde_json::value::RawValue;
use tokio::sync::broadcast;

/// One message inside a [`PushEvent`].
#[derive(Debug)]
pub struct PushedMessage {
    /// Its sequence number.
    pub seq: i64,
    /// The message object exactly as received.
    pub payload: Box<RawValue>,
}

/// Messages newly stored by one `POST /v1/messages`.
#[derive(Debug)]
pub struct PushEvent {
    /// The circle they were posted to.
    pub circle_hint: String,
    /// The poster's `X-Felund-Node`, if it sent one; its own sockets are skipped.
    pub sender_node: Option<String>,
    /// Server time of storage.
    pub server_time: i64,
    /// The newly stored messages, in seq order.
    pub messages: Vec<PushedMessage>,
}

/// Publishes push events to every subscriber (of this process or, for a shared hub, of every
/// relay instance).
pub trait PushHub: Send + Sync + 'static {
    /// Delivers `event` to current subscribers; never blocks.
    fn publish(&self, event: PushEvent);
    /// A new subscription receiving every event published from now on.
    fn subscribe(&self) -> broadcast::Receiver<Arc<PushEvent>>;
}

/// A [`PushHub`] for one process: a tokio broadcast channel.
#[derive(Debug)]
pub struct LocalHub {
    tx: broadcast::Sender<Arc<PushEvent>>,
}

impl LocalHub {
    /// A hub buffering up to `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _rx) = broadcast::channel(capacity.max(1));
        Self { tx }
    }
}

impl Default for LocalHub {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl PushHub for LocalHub {
    fn publish(&self, event: PushEvent) {
        // An error only means nobody is subscribed.
        let _ = self.tx.send(Arc::new(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<PushEvent>> {
        self.tx.subscribe()
    }
}
