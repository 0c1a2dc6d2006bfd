//! Relay and rendezvous sync: felundd as a client of a felund relay (the reference
//! PHP or aiohttp relays, or `felund-relay`).
//!
//! - [`client`]: `RelayClient`, the signed HTTP API.
//! - [`answer`]: reading relay answers bounded in size and count (see [`crate::limits`]).
//! - [`sync`]: `RelaySync`, one circle through one relay (presence, push, pull).
//! - [`ws`]: the WebSocket push subscription.
//!
//! [`start`] runs a `RelaySync` for every (circle, relay) pair: the node's relay
//! (`--relay`, `FELUND_API_BASE` or `SetRelay`) for every circle, plus the relay
//! named by a circle's invite code (codes made by web clients). The set is
//! reconciled every few seconds, so joins, leaves and relay changes take effect
//! without a restart. A relay that is down or lying never blocks local chat or
//! gossip: each pair runs in its own task.

pub mod answer;
pub mod client;
pub mod sync;
pub mod ws;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::model::Circle;
use crate::node::Node;
use crate::store::circles as circle_sql;

/// How often the set of (circle, relay) pairs is reconciled.
const RECONCILE_EVERY: Duration = Duration::from_secs(2);

type Pair = (String, String);
/// Running syncs by (circle, relay): the task and its client (for unregistering).
type Running = Arc<Mutex<HashMap<Pair, (JoinHandle<()>, client::RelayClient)>>>;

/// Handle to the relay tasks, for a clean shutdown.
#[derive(Clone)]
pub struct RelayTasks {
    tasks: Running,
    manager: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl RelayTasks {
    /// Stops every relay task and removes our presence records (best effort, a few
    /// seconds at most).
    pub async fn shutdown(&self) {
        if let Some(m) = self.manager.lock().ok().and_then(|mut m| m.take()) {
            m.abort();
        }
        let clients: Vec<client::RelayClient> = match self.tasks.lock() {
            Ok(mut t) => t
                .drain()
                .map(|(_, (h, c))| {
                    h.abort();
                    c
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let unregister = futures_util::future::join_all(clients.iter().map(|c| c.unregister()));
        let _ = tokio::time::timeout(Duration::from_secs(3), unregister).await;
    }
}

/// The relay URLs `circle` should sync through.
fn relays_for(circle: &Circle, node_relay: Option<&str>) -> Vec<String> {
    let mut urls: Vec<String> = node_relay.map(str::to_string).into_iter().collect();
    if felund_wire::invite::is_relay_url(&circle.bootstrap_peer)
        && !urls.contains(&circle.bootstrap_peer)
    {
        urls.push(circle.bootstrap_peer.clone());
    }
    urls
}

/// Every (relay URL, circle) pair `node` syncs now: each circle at the node's relay and at
/// the relay its invite named. `None` (logged, naming `purpose`) when the circles cannot be
/// read; the caller tries again at its next reconciliation.
pub(crate) async fn relay_circle_pairs(
    node: &Node,
    purpose: &str,
) -> Option<Vec<(String, Circle)>> {
    let circles = match node.store().read(circle_sql::list).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot list circles for {purpose}: {e}");
            return None;
        }
    };
    let relay = node.relay_url();
    let mut pairs = Vec::new();
    for c in circles {
        for url in relays_for(&c, relay.as_deref()) {
            pairs.push((url, c.clone()));
        }
    }
    Some(pairs)
}

/// Starts relay sync for `node`, advertising `advertise` in presence records.
pub fn start(node: Node, advertise: String, can_anchor: bool) -> RelayTasks {
    let handle = RelayTasks {
        tasks: Arc::new(Mutex::new(HashMap::new())),
        manager: Arc::new(Mutex::new(None)),
    };
    let tasks = Arc::clone(&handle.tasks);
    let http = client::RelayClient::http();
    let manager = tokio::spawn(async move {
        let mut tick = tokio::time::interval(RECONCILE_EVERY);
        loop {
            tick.tick().await;
            let Some(pairs) = relay_circle_pairs(&node, "relay sync").await else {
                continue;
            };
            let wanted: HashMap<Pair, Circle> = pairs
                .into_iter()
                .map(|(url, c)| ((c.circle_id.clone(), url), c))
                .collect();
            let Ok(mut running) = tasks.lock() else {
                continue;
            };
            running.retain(|pair, (h, _)| {
                let keep = wanted.contains_key(pair) && !h.is_finished();
                if !keep {
                    h.abort();
                }
                keep
            });
            for (pair, circle) in wanted {
                if running.contains_key(&pair) {
                    continue;
                }
                tracing::info!(relay = %pair.1, circle = %pair.0, "relay sync started");
                let sync = sync::RelaySync::new(node.clone(), http.clone(), &pair.1, circle);
                let client = sync.client().clone();
                let task = tokio::spawn(sync.run(advertise.clone(), can_anchor));
                running.insert(pair, (task, client));
            }
        }
    });
    if let Ok(mut m) = handle.manager.lock() {
        *m = Some(manager);
    }
    handle
}

#[cfg(test)]
mod tests {
    use super::*;
    use felund_wire::CircleSecret;

    fn circle(bootstrap: &str) -> Circle {
        let secret = CircleSecret::from_bytes(vec![1; 32]);
        Circle {
            circle_id: secret.circle_id(),
            secret,
            name: String::new(),
            joined_ts: 0,
            bootstrap_peer: bootstrap.into(),
        }
    }

    #[test]
    fn a_circle_syncs_through_the_node_relay_and_its_codes_relay() {
        assert_eq!(
            relays_for(&circle("127.0.0.1:9"), None),
            Vec::<String>::new()
        );
        assert_eq!(
            relays_for(&circle("127.0.0.1:9"), Some("http://r")),
            ["http://r"]
        );
        assert_eq!(
            relays_for(&circle("https://web"), Some("http://r")),
            ["http://r", "https://web"]
        );
        assert_eq!(
            relays_for(&circle("http://r"), Some("http://r")),
            ["http://r"]
        );
    }
}
