//! The daemon's own domain types. Wire types (`felund_wire`) are converted into these
//! on receipt and protobuf types only exist at the gRPC edge.

use felund_wire::control::AccessMode;
use felund_wire::{CircleSecret, Envelope, WireMessage};

/// A circle this node belongs to.
#[derive(Debug, Clone)]
pub struct Circle {
    /// Public id (derived from the secret).
    pub circle_id: String,
    /// The shared secret; whoever holds it is a member.
    pub secret: CircleSecret,
    /// Friendly name (may be empty).
    pub name: String,
    /// When this node joined or created it.
    pub joined_ts: i64,
    /// The invite code's peer, kept for retrying bootstrap.
    pub bootstrap_peer: String,
}

/// A circle with counts, for listings.
#[derive(Debug, Clone)]
pub struct CircleSummary {
    /// The circle.
    pub circle: Circle,
    /// Chat messages held (control events excluded).
    pub message_count: u64,
    /// Known members.
    pub member_count: u64,
    /// Known peers with an address.
    pub peer_count: u64,
    /// `created_ts` of the newest chat message, 0 if none.
    pub last_message_ts: i64,
    /// When the circle last synced with anyone (Unix s; 0 = never).
    pub last_sync_ts: i64,
}

/// A stored message: the wire fields plus local bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMessage {
    /// Local insertion order (unique, increasing).
    pub seq: i64,
    /// When this node stored it.
    pub received_ts: i64,
    /// The message as it travels.
    pub wire: WireMessage,
}

impl StoredMessage {
    /// The envelope, if the message carries one.
    pub fn envelope(&self) -> Option<&Envelope> {
        self.wire.enc.as_ref()
    }
}

/// A channel of a circle, as this node sees it.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Circle it belongs to.
    pub circle_id: String,
    /// Normalised id.
    pub channel_id: String,
    /// Who may join.
    pub access_mode: AccessMode,
    /// Creator's node id.
    pub created_by: String,
    /// Creation time.
    pub created_ts: i64,
    /// SHA-256 of `circle|channel|key` for key channels, else empty.
    pub key_hash: String,
    /// Member node ids (sorted).
    pub members: Vec<String>,
    /// Node ids waiting for approval (sorted).
    pub requests: Vec<String>,
    /// How far this node's user has read it.
    pub reading: crate::store::read_markers::Reading,
}

/// A known peer of a circle.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    /// The peer's node id.
    pub node_id: String,
    /// Circle through which we know it.
    pub circle_id: String,
    /// "host:port" to dial.
    pub addr: String,
    /// Last time it was seen (Unix seconds).
    pub last_seen: i64,
    /// Its display name, if known.
    pub display_name: String,
}

/// A member of a circle or channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Node id.
    pub node_id: String,
    /// Known display name (`anon` if none).
    pub display_name: String,
}

/// The default name of a node that has not set one (reference behaviour).
pub const ANON: &str = "anon";
