//! The event bus: every committed change is published once, and every attached
//! client (`Subscribe`) gets its own receiver. A subscriber that falls more than
//! [`EVENT_BUFFER`] events behind is told how many it missed instead of blocking
//! the node.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::model::{CircleSummary, Peer, StoredMessage};

/// How many events a slow subscriber may fall behind before it gets `Lagged`.
pub const EVENT_BUFFER: usize = 8192;

/// What changed about a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelChange {
    /// The channel was created.
    Created,
    /// A node joined.
    MemberJoined,
    /// A node left.
    MemberLeft,
    /// A node asked to join an invite-only channel.
    Requested,
    /// A request was approved.
    Approved,
}

/// What changed about a circle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircleChange {
    /// This node joined or created it.
    Joined,
    /// This node left it.
    Left,
    /// It got a new name.
    Renamed,
}

/// A committed change, published to subscribers.
#[derive(Debug, Clone)]
pub enum NodeEvent {
    /// A new chat message (never a control event).
    Message(StoredMessage),
    /// A channel change.
    Channel {
        /// Kind of change.
        change: ChannelChange,
        /// Circle.
        circle_id: String,
        /// Channel.
        channel_id: String,
        /// The node concerned, if any.
        node_id: Option<String>,
    },
    /// A circle change, with the circle as it stands after it (for `Left`, as it
    /// stood before).
    Circle {
        /// Kind of change.
        change: CircleChange,
        /// The circle and its counts.
        circle: CircleSummary,
    },
    /// A peer was learned or updated.
    Peer(Peer),
    /// A node's display name changed.
    DisplayName {
        /// The node.
        node_id: String,
        /// Its new name.
        name: String,
    },
    /// A client of this node moved a channel's read marker.
    Read {
        /// Circle.
        circle_id: String,
        /// Channel.
        channel_id: String,
        /// The seq of the last message read.
        read_seq: i64,
    },
    /// A bulk change (an import) made more events than are worth publishing one by
    /// one; `count` of them were not. Subscribers are told they missed them, exactly
    /// as when they lag, and re-list.
    Missed {
        /// How many events were not published.
        count: u64,
    },
}

impl NodeEvent {
    /// The circle the event belongs to; `None` for node-wide events.
    pub fn circle_id(&self) -> Option<&str> {
        match self {
            NodeEvent::Message(m) => Some(&m.wire.circle_id),
            NodeEvent::Circle { circle, .. } => Some(&circle.circle.circle_id),
            NodeEvent::Channel { circle_id, .. } => Some(circle_id),
            NodeEvent::Peer(p) => Some(&p.circle_id),
            NodeEvent::Read { circle_id, .. } => Some(circle_id),
            NodeEvent::DisplayName { .. } | NodeEvent::Missed { .. } => None,
        }
    }
}

/// Fan-out of [`NodeEvent`]s to any number of subscribers. Events travel shared
/// (`Arc`): a receiver gets a pointer, not a copy, so a hundred subscribers cost a
/// hundred conversions of what each needs rather than a hundred deep copies.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<NodeEvent>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with the default buffer.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(EVENT_BUFFER);
        Self { tx }
    }

    /// Publishes events (in order). Having no subscriber is normal.
    pub fn publish(&self, events: impl IntoIterator<Item = NodeEvent>) {
        for e in events {
            let _ = self.tx.send(Arc::new(e));
        }
    }

    /// A new receiver that sees every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<NodeEvent>> {
        self.tx.subscribe()
    }

    /// Number of live receivers.
    pub fn receiver_count(&self) -> usize {
        self.tx.receiver_count()
    }
}
