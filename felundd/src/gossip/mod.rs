//! Direct TCP gossip: the listener, the handshake, the sync sessions
//! (reference-compatible, and the felundd extensions when both sides speak them), live
//! push links and the periodic rounds.
//!
//! The protocol itself — every step of the handshake and of the sync, with its budgets and
//! bounds — is the sans-I/O state machines of [`felund_wire::handshake`] and
//! [`felund_wire::sync`]; the modules here drive them over TCP and answer their questions
//! from the store.
//!
//! - [`conn`]: line framing with limits; [`handshake`]: both roles.
//! - [`exchange`]: writing a step's frames while feeding the peer's to the machine.
//! - [`peers`]: what the PEERS frame is made from, and what a received one adds.
//! - [`ref_sync`]: the reference sequence, budgeted to the reference's frame limits;
//!   [`holdings`]: what each reference peer was seen to hold (a bounded hint).
//! - [`ext_sync`]: digest + bucket reconciliation with chunked frames.
//! - [`link`]: a synced felundd connection kept open to push new messages at once.
//! - [`anchor`]: ANCHOR_PUSH/PULL in both roles.
//! - [`rounds`]: who to sync with and when (backoff, bootstrap after join).
//! - [`server`]: accepting connections.

mod anchor;
pub mod conn;
mod exchange;
mod ext_sync;
pub mod handshake;
mod holdings;
mod link;
mod peers;
mod ref_sync;
mod rounds;
mod server;
mod session;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use felund_wire::sync::SyncError;

use crate::error::NodeError;
use crate::node::Node;

pub use rounds::GossipHandle;

/// Starts the gossip edge: serves `listener` and runs the sync rounds.
pub fn start(node: Node, config: GossipConfig, listener: tokio::net::TcpListener) -> GossipHandle {
    let g = Gossip::new(node, config);
    tokio::spawn(server::serve(g.clone(), listener));
    rounds::start(g)
}

/// Time allowed for each frame of the handshake (proofs included).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for each frame during sync (the reference's read timeout).
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Most inbound connections served at once; more are closed at accept.
pub const MAX_INBOUND: usize = 256;
/// Most outbound sync sessions at once.
pub const MAX_OUTBOUND: usize = 16;

/// Gossip settings.
#[derive(Debug, Clone)]
pub struct GossipConfig {
    /// "host:port" to listen on.
    pub listen_addr: String,
    /// "host:port" we tell peers.
    pub advertise_addr: String,
    /// Time between sync rounds.
    pub sync_interval: Duration,
    /// Whether we serve as an anchor.
    pub anchor: bool,
    /// Node ids we refuse to gossip with.
    pub refused: HashSet<String>,
}

/// Why a gossip session ended early.
#[derive(Debug, thiserror::Error)]
pub enum GossipError {
    /// The connection failed.
    #[error(transparent)]
    Conn(#[from] conn::ConnError),
    /// The peer sent an ERROR frame.
    #[error("peer refused: {0}")]
    Refused(String),
    /// The peer broke the protocol (the text is what we answer in an ERROR frame).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The handshake failed (includes reaching ourselves).
    #[error("handshake: {0}")]
    Handshake(#[from] felund_wire::handshake::HandshakeError),
    /// The peer broke the sync protocol (an ERROR frame from it is [`GossipError::Refused`]).
    #[error("sync: {0}")]
    Sync(SyncError),
    /// The node failed (store).
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl GossipError {
    /// The `ERROR` frame text to answer this error with, if any.
    pub fn reply(&self) -> Option<String> {
        match self {
            GossipError::Protocol(msg) => Some(msg.clone()),
            GossipError::Handshake(e) => e.reply().map(str::to_string),
            GossipError::Sync(e) => e.reply().map(str::to_string),
            _ => None,
        }
    }
}

impl From<SyncError> for GossipError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Refused(err) => GossipError::Refused(err),
            e => GossipError::Sync(e),
        }
    }
}

/// Shared state of the gossip edge. Cheap to clone.
#[derive(Clone)]
pub struct Gossip {
    inner: Arc<Inner>,
}

struct Inner {
    node: Node,
    config: GossipConfig,
    /// Live links, by (circle_id, peer node_id).
    links: Mutex<HashSet<(String, String)>>,
    /// What each reference peer was seen to hold (see `ref_sync`).
    holdings: Mutex<holdings::Holdings>,
}

impl Gossip {
    /// Gossip state for `node`.
    pub fn new(node: Node, config: GossipConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                node,
                config,
                links: Mutex::new(HashSet::new()),
                holdings: Mutex::new(holdings::Holdings::default()),
            }),
        }
    }

    /// The node.
    pub fn node(&self) -> &Node {
        &self.inner.node
    }

    /// Settings.
    pub fn config(&self) -> &GossipConfig {
        &self.inner.config
    }

    /// Claims the live link slot for (circle, peer); false if one exists.
    fn claim_link(&self, circle_id: &str, peer: &str) -> bool {
        self.inner
            .links
            .lock()
            .map(|mut l| l.insert((circle_id.to_string(), peer.to_string())))
            .unwrap_or(false)
    }

    fn release_link(&self, circle_id: &str, peer: &str) {
        if let Ok(mut l) = self.inner.links.lock() {
            l.remove(&(circle_id.to_string(), peer.to_string()));
        }
    }

    /// Whether a live link to `peer` in `circle_id` is up.
    fn has_link(&self, circle_id: &str, peer: &str) -> bool {
        self.inner
            .links
            .lock()
            .map(|l| l.contains(&(circle_id.to_string(), peer.to_string())))
            .unwrap_or(false)
    }

    /// Number of live links (for status).
    pub fn link_count(&self) -> usize {
        self.inner.links.lock().map(|l| l.len()).unwrap_or(0)
    }

    fn holdings_of(&self, circle_id: &str, peer: &str) -> HashSet<String> {
        self.inner
            .holdings
            .lock()
            .map(|h| h.of(circle_id, peer))
            .unwrap_or_default()
    }

    fn remember_holdings(
        &self,
        circle_id: &str,
        peer: &str,
        ids: impl IntoIterator<Item = String>,
    ) {
        if let Ok(mut h) = self.inner.holdings.lock() {
            h.remember(circle_id, peer, ids);
        }
    }
}
