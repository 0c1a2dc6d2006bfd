//! Browsers reach felundd directly: felundd as a WebRTC DataChannel peer of the reference
//! web client, signalled through the relay's `/v1/signal` (docs/protocol.md §13).
//!
//! - [`signal`]: the relay's signal mailbox as a client (unsigned, bounded answers); `page`
//!   reads a poll answer signal by signal, so one cut at the byte cap still moves the cursor.
//! - [`link`]: one relay — finds browsers registered in our circles there, offers to those
//!   with a larger node id, answers offers from smaller ones, and holds the sessions.
//! - [`peer`]: one PeerConnection (`str0m`, sans-I/O, over its own UDP socket).
//! - [`channel`]: the felund protocol on the channel: HELLO/AUTH (felund-wire's machine),
//!   then the history and every new message of the circle out, verified messages in.
//!
//! Registration needs nothing of its own: the relay sync registers this node in every
//! circle at every relay it uses, and the web client offers to every registered node.
//! Messages received over a channel enter the store like any others (verify, then ingest),
//! so gossip and relay sync pass them on in full form; every message stored here, by any
//! path, goes to every verified browser of its circle as MSG_NEW.
//!
//! `--webrtc off` turns the transport off; browsers then reach the node through the relay.

mod channel;
mod held;
pub mod link;
mod page;
mod peer;
pub mod signal;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::limits::DC_MAX_SESSIONS;
use crate::model::Circle;
use crate::node::Node;
use crate::relay::client::RelayClient;
use crate::relay::relay_circle_pairs;

/// How often the set of relays and their circles is reconciled.
const RECONCILE_EVERY: Duration = Duration::from_secs(2);

/// Running links by relay URL: the task and the circles it serves.
type Links = HashMap<String, (JoinHandle<()>, watch::Sender<Vec<Circle>>)>;

/// Handle to the DataChannel transport, for a clean shutdown.
pub struct WebRtcHandle {
    manager: JoinHandle<()>,
    links: Arc<Mutex<Links>>,
    shutdown: watch::Sender<bool>,
}

impl WebRtcHandle {
    /// Closes every PeerConnection (so browsers notice at once) and stops the links; a few
    /// seconds at most.
    pub async fn shutdown(self) {
        self.manager.abort();
        let _ = self.shutdown.send(true);
        let tasks: Vec<JoinHandle<()>> = match self.links.lock() {
            Ok(mut l) => l.drain().map(|(_, (t, _))| t).collect(),
            Err(_) => Vec::new(),
        };
        let all = futures_util::future::join_all(tasks);
        let _ = tokio::time::timeout(Duration::from_secs(4), all).await;
    }
}

/// Starts the transport on `ice_ip` (the address of our host candidates).
pub fn start(node: Node, ice_ip: IpAddr) -> WebRtcHandle {
    let links: Arc<Mutex<Links>> = Arc::new(Mutex::new(HashMap::new()));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(DC_MAX_SESSIONS));
    let http = RelayClient::http();
    let running = Arc::clone(&links);
    let manager = tokio::spawn(async move {
        let mut tick = tokio::time::interval(RECONCILE_EVERY);
        loop {
            tick.tick().await;
            let Some(pairs) = relay_circle_pairs(&node, "the DataChannel transport").await else {
                continue;
            };
            let mut wanted: HashMap<String, Vec<Circle>> = HashMap::new();
            for (url, c) in pairs {
                wanted.entry(url).or_default().push(c);
            }
            let Ok(mut links) = running.lock() else {
                continue;
            };
            links.retain(|url, (task, circles)| {
                let keep = wanted.contains_key(url) && !task.is_finished();
                if !keep {
                    // Dropping the sender ends the link, which closes its sessions.
                    tracing::info!(relay = %url, "DataChannel signalling stopped");
                } else if let Some(now) = wanted.get(url) {
                    circles.send_if_modified(|c| {
                        let changed = ids(c) != ids(now);
                        if changed {
                            *c = now.clone();
                        }
                        changed
                    });
                }
                keep
            });
            for (url, circles) in wanted {
                if links.contains_key(&url) {
                    continue;
                }
                tracing::info!(relay = %url, "DataChannel signalling started");
                let (tx, rx) = watch::channel(circles);
                let link = link::Link::new(link::LinkConfig {
                    node: node.clone(),
                    url: url.clone(),
                    ice_ip,
                    http: http.clone(),
                    circles: rx,
                    permits: Arc::clone(&permits),
                    shutdown: shutdown_rx.clone(),
                });
                links.insert(url, (tokio::spawn(link.run()), tx));
            }
        }
    });
    WebRtcHandle {
        manager,
        links,
        shutdown,
    }
}

fn ids(circles: &[Circle]) -> Vec<&str> {
    circles.iter().map(|c| c.circle_id.as_str()).collect()
}
