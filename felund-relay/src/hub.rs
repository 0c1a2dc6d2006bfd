//! Fan-out of newly stored messages to WebSocket subscribers.
//!
//! [`PushHub`] is the seam for cross-instance push: [`LocalHub`] is one tokio broadcast channel
//! per relay process; [`PgHub`](crate::store::PgHub) feeds the same kind of channel from
//! PostgreSQL `LISTEN/NOTIFY`, so a message posted to any instance reaches the subscribers of
//! every instance, without the handlers or the socket loop knowing which hub they use.

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

/// What a subscription receives.
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// Newly stored messages.
    Messages(Arc<PushEvent>),
    /// The hub lost its feed (e.g. the database went away): pushes may have been missed, so a
    /// subscriber should close its socket with this reason and let the client reconnect (its
    /// replay and lossless pull cursor cover the gap).
    Interrupted(&'static str),
}

/// Publishes push events to every subscriber (of this process or, for a shared hub, of every
/// relay instance).
pub trait PushHub: Send + Sync + 'static {
    /// Hands `event` (just committed by this process) to the hub; never blocks. A local hub
    /// delivers it at once; a shared hub may ignore it because its feed (the database) will
    /// deliver the same messages to every instance, in commit order.
    fn publish(&self, event: PushEvent);

    /// A new subscription receiving every event delivered from now on.
    fn subscribe(&self) -> broadcast::Receiver<HubEvent>;

    /// False while the hub's feed is down: new subscriptions would miss pushes, so they are
    /// refused (503) and sessions that subscribed meanwhile close themselves.
    fn is_live(&self) -> bool {
        true
    }
}

/// A [`PushHub`] for one process: a tokio broadcast channel.
#[derive(Debug, Clone)]
pub struct LocalHub {
    tx: broadcast::Sender<HubEvent>,
}

impl LocalHub {
    /// A hub buffering up to `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _rx) = broadcast::channel(capacity.max(1));
        Self { tx }
    }

    /// Delivers `event` to current subscribers.
    pub fn send(&self, event: HubEvent) {
        // An error only means nobody is subscribed.
        let _ = self.tx.send(event);
    }

    /// True if anyone is subscribed.
    pub fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }
}

impl Default for LocalHub {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl PushHub for LocalHub {
    fn publish(&self, event: PushEvent) {
        self.send(HubEvent::Messages(Arc::new(event)));
    }

    fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.tx.subscribe()
    }
}
