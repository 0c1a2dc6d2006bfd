//! The node: felundd's core. It owns the identity, the store and the event bus, and
//! implements every operation a client can ask for. Transport edges (gRPC today,
//! gossip and relay sync next) call into it; it knows nothing about protobuf.
//!
//! Every change goes through [`ingest`] or a store write, then its events are
//! published after the commit, so a subscriber never sees something that is not
//! on disk.

mod channels;
mod circles;
pub mod import;
pub mod ingest;
mod messages;
pub mod receive;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use felund_wire::WireMessage;
use rand::RngCore;
use tokio::sync::broadcast;

use crate::counters::{CounterSnapshot, Counters};
use crate::error::{NodeError, NodeResult};
use crate::events::{EventBus, NodeEvent};
use crate::model::Circle;
use crate::store::{circles as circle_sql, meta, StateStore};

pub use messages::{MessagePage, PageRequest, QueuedSend, SendTarget};

/// Retention of chat messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Messages older than this many days are pruned (0 = keep forever).
    pub max_age_days: u64,
    /// At most this many chat messages per circle (0 = no cap).
    pub max_per_circle: u64,
}

impl Retention {
    /// Chat messages created before this time are not kept (`None`: no age limit).
    pub fn cutoff_ts(&self, now_ts: i64) -> Option<i64> {
        (self.max_age_days > 0).then(|| now_ts - (self.max_age_days as i64) * 86_400)
    }

    /// Whether a message of `channel_id` created at `created_ts` is kept, given the
    /// [`cutoff_ts`](Self::cutoff_ts) `cutoff`: control events always are (they carry circle
    /// state), chat only inside the age window. What is not kept is never stored: pruning
    /// would only remove it again, and every peer still holding it would hand it back as new.
    pub fn keeps(cutoff: Option<i64>, channel_id: &str, created_ts: i64) -> bool {
        channel_id == felund_wire::ids::CONTROL_CHANNEL || cutoff.is_none_or(|c| created_ts >= c)
    }
}

impl Default for Retention {
    /// A year, no count cap (the reference keeps 30 days / 1,000 messages).
    fn default() -> Self {
        Self {
            max_age_days: 365,
            max_per_circle: 0,
        }
    }
}

/// Settings the node needs at run time (resolved from flags, env and defaults).
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// Where the state lives.
    pub state_dir: PathBuf,
    /// The API socket path (reported in node info).
    pub socket_path: PathBuf,
    /// "host:port" the gossip listener binds.
    pub listen_addr: String,
    /// "host:port" written into invite codes.
    pub advertise_addr: String,
    /// Relay base URL, if any.
    pub relay_url: Option<String>,
    /// Whether this node serves as an anchor.
    pub anchor: bool,
    /// The IP the DataChannel transport uses for browsers; `None` when it is off.
    pub webrtc_ip: Option<std::net::IpAddr>,
    /// Message retention.
    pub retention: Retention,
    /// Every setting as `(key, value, source)`, for display.
    pub config: Vec<(String, String, String)>,
}

/// Cheap-to-clone handle to the running node.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    store: StateStore,
    node_id: String,
    display_name: RwLock<String>,
    relay_url: RwLock<Option<String>>,
    settings: NodeSettings,
    events: EventBus,
    wire: broadcast::Sender<Arc<NewWire>>,
    sync_outcomes: broadcast::Sender<SyncOutcome>,
    /// The send time (ms) of the last message authored here: each next one is later,
    /// so this node's messages keep the order they were written in everywhere.
    last_sent_ms: std::sync::atomic::AtomicI64,
    counters: Arc<Counters>,
    started: Instant,
}

/// How one attempt to sync a circle with a dialled peer ended (for join feedback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The circle.
    pub circle_id: String,
    /// The address dialled.
    pub addr: String,
    /// Why it failed; `None` when the session synced.
    pub error: Option<String>,
}

/// A message newly stored by this node, for the sync edges to forward (control
/// events included, unlike client events).
#[derive(Debug, Clone)]
pub struct NewWire {
    /// The message as it travels.
    pub wire: WireMessage,
    /// The peer it came from (`None` if authored here or unknown), so it is not
    /// echoed back to it.
    pub source: Option<String>,
}

/// Buffer of the internal new-message bus; a sync edge that falls further behind
/// drops its live link and relies on the next digest sync.
const WIRE_BUFFER: usize = 16_384;

/// A gossip address whose last attempt failed, with the peer known there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreachablePeer {
    /// The address dialled.
    pub addr: String,
    /// The peer known there (empty if none).
    pub node_id: String,
    /// Its display name (empty if none).
    pub display_name: String,
    /// Why, and since when.
    pub what: crate::counters::Unreachable,
}

/// A snapshot of the node for `GetNodeInfo`.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// This node's id.
    pub node_id: String,
    /// Its display name.
    pub display_name: String,
    /// Settings in force.
    pub settings: NodeSettings,
    /// Seconds since start.
    pub uptime_s: u64,
    /// Circles joined.
    pub circle_count: u64,
    /// Messages held.
    pub message_count: u64,
    /// Distinct peers known.
    pub peer_count: u64,
    /// Dial candidates still waiting for a first session.
    pub dial_candidate_count: u64,
    /// The seq of the newest message stored (0: none).
    pub last_seq: i64,
    /// Unreachable gossip addresses with the peer known there, if any:
    /// `(addr, node_id, display_name, why)`.
    pub unreachable: Vec<UnreachablePeer>,
    /// Attached event subscribers.
    pub subscriber_count: u64,
    /// Sync counters.
    pub counters: CounterSnapshot,
    /// The relay in force.
    pub relay_url: Option<String>,
}

impl Node {
    /// Opens the node on `store`: loads the identity, creating it on first start, and
    /// applies `initial_name` as display name when given.
    pub async fn start(
        store: StateStore,
        settings: NodeSettings,
        initial_name: Option<String>,
    ) -> NodeResult<Self> {
        let node_id = store
            .write(|conn| {
                if let Some(id) = meta::get(conn, meta::NODE_ID)? {
                    return Ok(id);
                }
                let mut seed = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut seed);
                let id = felund_wire::ids::node_id_from_seed(&seed);
                meta::set(conn, meta::NODE_ID, &id)?;
                tracing::info!(node_id = %id, "created node identity");
                Ok(id)
            })
            .await?;
        let name = store
            .read(|conn| meta::get(conn, meta::DISPLAY_NAME))
            .await?
            .unwrap_or_default();
        // A relay given by flag or env wins and is remembered; else the stored one.
        let relay = match settings.relay_url.clone() {
            Some(url) => {
                let u = url.clone();
                store
                    .write(move |conn| meta::set(conn, meta::RELAY_URL, &u))
                    .await?;
                Some(url)
            }
            None => store
                .read(|conn| meta::get(conn, meta::RELAY_URL))
                .await?
                .filter(|u| !u.is_empty()),
        };
        let counters = Arc::new(Counters::default());
        counters.reset_relay(relay.as_deref().unwrap_or_default());
        let node = Self {
            inner: Arc::new(Inner {
                store,
                node_id,
                display_name: RwLock::new(name),
                relay_url: RwLock::new(relay),
                settings,
                events: EventBus::new(),
                wire: broadcast::channel(WIRE_BUFFER).0,
                sync_outcomes: broadcast::channel(64).0,
                last_sent_ms: std::sync::atomic::AtomicI64::new(0),
                counters,
                started: Instant::now(),
            }),
        };
        if let Some(name) = initial_name.filter(|n| !n.trim().is_empty()) {
            if name.trim() != node.display_name() {
                node.set_display_name(&name).await?;
            }
        }
        Ok(node)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    /// This node's display name (empty if never set).
    pub fn display_name(&self) -> String {
        self.inner
            .display_name
            .read()
            .map(|n| n.clone())
            .unwrap_or_default()
    }

    /// The relay base URL in force, if any.
    pub fn relay_url(&self) -> Option<String> {
        self.inner.relay_url.read().ok().and_then(|r| r.clone())
    }

    /// Sets (or with `None`/empty clears) the relay base URL; remembered across restarts.
    pub async fn set_relay_url(&self, url: Option<&str>) -> NodeResult<()> {
        let url = url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string);
        if let Some(u) = &url {
            let ok = u.starts_with("http://") || u.starts_with("https://") || u.starts_with("//");
            if !ok {
                return Err(NodeError::InvalidArgument(format!(
                    "'{u}' is not a relay URL (it must start with http:// or https://)"
                )));
            }
        }
        let stored = url.clone().unwrap_or_default();
        self.store()
            .write(move |conn| meta::set(conn, meta::RELAY_URL, &stored))
            .await?;
        self.inner
            .counters
            .reset_relay(url.as_deref().unwrap_or_default());
        if let Ok(mut r) = self.inner.relay_url.write() {
            *r = url;
        }
        Ok(())
    }

    /// The store.
    pub fn store(&self) -> &StateStore {
        &self.inner.store
    }

    /// Settings in force.
    pub fn settings(&self) -> &NodeSettings {
        &self.inner.settings
    }

    /// The event bus (subscribe to it for live events).
    pub fn events(&self) -> &EventBus {
        &self.inner.events
    }

    pub(crate) fn publish(&self, events: Vec<NodeEvent>) {
        self.inner.events.publish(events);
    }

    pub(crate) fn publish_wire(&self, msgs: Vec<WireMessage>, source: Option<String>) {
        for wire in msgs {
            let _ = self.inner.wire.send(Arc::new(NewWire {
                wire,
                source: source.clone(),
            }));
        }
    }

    /// Sync counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.inner.counters
    }

    /// The send time of a message authored now, in Unix milliseconds: the clock, or 1 ms
    /// after the previous one when the clock has not moved on (many sends in one
    /// millisecond, or a clock stepped back), so it is strictly increasing.
    pub(crate) fn next_send_ms(&self) -> i64 {
        use std::sync::atomic::Ordering;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut last = self.inner.last_sent_ms.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self.inner.last_sent_ms.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Outcomes of sync attempts with dialled peers from now on.
    pub fn subscribe_sync_outcomes(&self) -> broadcast::Receiver<SyncOutcome> {
        self.inner.sync_outcomes.subscribe()
    }

    /// Reports how an attempt to sync with a dialled peer ended.
    pub fn report_sync(&self, outcome: SyncOutcome) {
        // Nobody listening is fine: outcomes matter only to a join in progress.
        let _ = self.inner.sync_outcomes.send(outcome);
    }

    /// Every message newly stored from now on (authored or received).
    pub fn subscribe_wire(&self) -> broadcast::Receiver<Arc<NewWire>> {
        self.inner.wire.subscribe()
    }

    /// Node info with counts.
    pub async fn info(&self) -> NodeResult<NodeInfo> {
        let mut counters = self.inner.counters.snapshot();
        counters.datachannel = self.datachannel_peers(None).await?;
        let failing = counters.unreachable.clone();
        let (circle_count, message_count, peer_count, dial_candidate_count, last_seq, unreachable) =
            self.store()
                .read(move |conn| {
                    let unreachable = failing
                        .into_iter()
                        .map(|(addr, what)| {
                            let (node_id, display_name) =
                                crate::store::peers::at_addr(conn, &addr)?.unwrap_or_default();
                            Ok(UnreachablePeer {
                                addr,
                                node_id,
                                display_name,
                                what,
                            })
                        })
                        .collect::<crate::store::StoreResult<Vec<_>>>()?;
                    Ok((
                        circle_sql::count(conn)?,
                        crate::store::messages::count_chat(conn)?,
                        crate::store::peers::count(conn)?,
                        crate::store::candidates::count_dialable(conn)?,
                        crate::store::messages::last_seq(conn)?,
                        unreachable,
                    ))
                })
                .await?;
        Ok(NodeInfo {
            node_id: self.node_id().to_string(),
            display_name: self.display_name(),
            settings: self.settings().clone(),
            uptime_s: self.inner.started.elapsed().as_secs(),
            circle_count,
            message_count,
            peer_count,
            dial_candidate_count,
            last_seq,
            unreachable,
            subscriber_count: self
                .inner
                .counters
                .api_subscribers
                .load(std::sync::atomic::Ordering::Relaxed),
            counters,
            relay_url: self.relay_url(),
        })
    }

    /// Resolves a circle selector: a full circle_id, a unique prefix of one, or a
    /// circle's name (case-insensitive).
    pub async fn resolve_circle(&self, selector: &str) -> NodeResult<Circle> {
        let sel = selector.trim().to_string();
        if sel.is_empty() {
            return Err(NodeError::InvalidArgument(
                "no circle given: pass a circle id, a unique prefix of one, or a circle name"
                    .into(),
            ));
        }
        let circles = self.store().read(circle_sql::list).await?;
        if let Some(c) = circles.iter().find(|c| c.circle_id == sel) {
            return Ok(c.clone());
        }
        let lower = sel.to_lowercase();
        let typed = name_key(&sel);
        let matches: Vec<&Circle> = circles
            .iter()
            .filter(|c| {
                c.circle_id.starts_with(&lower)
                    || (!c.name.is_empty() && name_key(&c.name) == typed)
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(NodeError::NotFound(format!(
                "no circle matches '{sel}' (see `felundctl circles`)"
            ))),
            many => Err(NodeError::InvalidArgument(format!(
                "'{sel}' matches {} circles ({}); give more of the circle id",
                many.len(),
                many.iter()
                    .map(|c| c.circle_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// A name as people type it: trimmed, Unicode-normalised (NFC, so `é` typed as one
/// character or as `e` + accent is the same) and case-folded. Emoji pass unchanged.
pub(crate) fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.trim().nfc().collect::<String>().to_lowercase()
}

/// The one node among `candidates` that `typed` names: its full id, a unique prefix
/// of it, or its display name (`names` gives them). For commands that take a node id.
pub(crate) fn resolve_node<'a>(
    candidates: &'a [String],
    typed: &str,
    names: impl Fn(&str) -> String,
) -> NodeResult<&'a str> {
    let typed = typed.trim();
    if let Some(exact) = candidates.iter().find(|c| c.as_str() == typed) {
        return Ok(exact);
    }
    let key = name_key(typed);
    let hits: Vec<&String> = candidates
        .iter()
        .filter(|c| (!typed.is_empty() && c.starts_with(typed)) || name_key(&names(c)) == key)
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.as_str()),
        [] => Err(NodeError::NotFound(format!(
            "no node matches '{typed}' here"
        ))),
        many => Err(NodeError::InvalidArgument(format!(
            "'{typed}' matches {} nodes ({}); give more of the node id",
            many.len(),
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Current Unix time in seconds.
pub fn now_ts() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `n` random bytes as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A fresh 12-byte AES-GCM nonce.
pub(crate) fn random_nonce12() -> [u8; 12] {
    let mut n = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut n);
    n
}

#[cfg(test)]
mod tests;
