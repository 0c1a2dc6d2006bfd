//! Who to sync with, and when. Every `sync_interval` each circle's peers and dial
//! candidates are synced (all of them over time, least recently tried first, at most
//! [`PEERS_PER_ROUND`] per circle per round), plus the bootstrap peer from the
//! invite code; a peer with a live link in the circle is skipped while the link
//! lasts (the link keeps both sides in sync). A peer that fails is retried after a backoff that doubles up to
//! [`MAX_BACKOFF`]; a candidate that keeps failing is given up (see
//! `store::candidates`); joining a circle triggers an immediate bootstrap round for it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use felund_client::retry::Backoff;
use felund_wire::frame::parse_host_port;
use felund_wire::handshake::HandshakeError;
use tokio::sync::{broadcast, Semaphore};
use tokio::time::Instant;

use super::{session, Gossip, GossipError, MAX_OUTBOUND};
use crate::events::{CircleChange, NodeEvent};
use crate::model::Circle;
use crate::node::SyncOutcome;
use crate::store::{candidates as candidate_sql, circles as circle_sql, peers as peer_sql};

/// Most peers dialled per circle per round.
const PEERS_PER_ROUND: usize = 8;
/// Longest wait before retrying an unreachable peer.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often an anchor re-announces itself. The reference announces every minute,
/// which fills every circle's history with announcements; every ten minutes keeps
/// records fresh for peers at a tenth of the cost.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(600);

/// Handle to the running rounds (kept by the daemon; dropping it changes nothing).
#[derive(Clone)]
pub struct GossipHandle {
    schedule: Arc<Mutex<Schedule>>,
}

impl GossipHandle {
    /// Addresses currently backing off (for status and tests).
    pub fn backing_off(&self) -> usize {
        self.schedule.lock().map(|s| s.failures.len()).unwrap_or(0)
    }
}

#[derive(Default)]
struct Schedule {
    /// addr → (consecutive failures, not before).
    failures: HashMap<String, (u32, Instant)>,
    /// addr → last attempt, for least-recently-tried ordering.
    last_attempt: HashMap<String, Instant>,
    /// (circle, addr) sessions under way.
    in_flight: HashSet<(String, String)>,
    /// Addresses that turned out to be ourselves.
    own: HashSet<String>,
}

/// Starts the periodic rounds and the bootstrap-on-join watcher.
pub fn start(g: Gossip) -> GossipHandle {
    let schedule = Arc::new(Mutex::new(Schedule::default()));
    if let Ok(mut s) = schedule.lock() {
        s.own.insert(g.config().advertise_addr.clone());
        s.own.insert(g.config().listen_addr.clone());
    }
    let handle = GossipHandle {
        schedule: Arc::clone(&schedule),
    };
    let slots = Arc::new(Semaphore::new(MAX_OUTBOUND));
    tokio::spawn(async move {
        let mut events = g.node().events().subscribe();
        let mut tick = tokio::time::interval(g.config().sync_interval);
        let mut announce = tokio::time::interval(ANNOUNCE_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => round(&g, &schedule, &slots, None).await,
                _ = announce.tick(), if g.config().anchor => {
                    if let Err(e) = g.node().announce_anchor().await {
                        tracing::warn!("cannot announce the anchor role: {e}");
                    }
                }
                ev = events.recv() => match ev {
                    Ok(ev) => {
                        if let NodeEvent::Circle { change: CircleChange::Joined, circle } = &*ev {
                            round(&g, &schedule, &slots, Some(&circle.circle.circle_id)).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    handle
}

/// One round over every circle (or just `only`, ignoring backoff: a fresh join).
async fn round(
    g: &Gossip,
    schedule: &Arc<Mutex<Schedule>>,
    slots: &Arc<Semaphore>,
    only: Option<&str>,
) {
    let circles = match g.node().store().read(circle_sql::list).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot list circles for a sync round: {e}");
            return;
        }
    };
    for circle in circles {
        if only.is_some_and(|o| o != circle.circle_id) {
            continue;
        }
        let targets = match targets(g, schedule, &circle, only.is_some()).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("cannot choose peers: {e}");
                continue;
            }
        };
        for addr in targets {
            spawn_session(g, schedule, slots, circle.clone(), addr);
        }
    }
}

/// The addresses to dial for `circle` this round.
async fn targets(
    g: &Gossip,
    schedule: &Arc<Mutex<Schedule>>,
    circle: &Circle,
    ignore_backoff: bool,
) -> Result<Vec<String>, crate::store::StoreError> {
    let cid = circle.circle_id.clone();
    let (peers, candidates) = g
        .node()
        .store()
        .read(move |conn| {
            Ok((
                peer_sql::list(conn, Some(&cid))?,
                candidate_sql::dialable(conn, &cid)?,
            ))
        })
        .await?;
    let me = g.node().node_id();
    let refused = &g.config().refused;
    // A peer with a live link in this circle is in sync: the link pushes every new
    // message at once and closes on any gap, and then the next round syncs. Syncing
    // it every round anyway was most of an idle node's work.
    let linked: HashSet<String> = peers
        .iter()
        .filter(|p| g.has_link(&circle.circle_id, &p.node_id))
        .map(|p| p.addr.clone())
        .collect();
    let mut addrs: Vec<String> = peers
        .into_iter()
        .filter(|p| p.node_id != me && !refused.contains(&p.node_id))
        .map(|p| p.addr)
        .chain(
            candidates
                .into_iter()
                .filter(|c| !refused.contains(&c.node_id))
                .map(|c| c.addr),
        )
        .collect();
    if parse_host_port(&circle.bootstrap_peer).is_some()
        && !felund_wire::invite::is_relay_url(&circle.bootstrap_peer)
    {
        addrs.push(circle.bootstrap_peer.clone());
    }
    let now = Instant::now();
    let Ok(s) = schedule.lock() else {
        return Ok(Vec::new());
    };
    if ignore_backoff && s.own.contains(&circle.bootstrap_peer) {
        // A fresh join waits for word on its bootstrap peer; this one is never dialled.
        g.node().report_sync(SyncOutcome {
            circle_id: circle.circle_id.clone(),
            addr: circle.bootstrap_peer.clone(),
            error: Some("that address is this node's own".into()),
        });
    }
    let mut seen = HashSet::new();
    let mut chosen: Vec<String> = addrs
        .into_iter()
        .filter(|a| seen.insert(a.clone()))
        .filter(|a| !s.own.contains(a) && !linked.contains(a))
        .filter(|a| !s.in_flight.contains(&(circle.circle_id.clone(), a.clone())))
        .filter(|a| ignore_backoff || s.failures.get(a).is_none_or(|(_, until)| *until <= now))
        .collect();
    chosen.sort_by_key(|a| s.last_attempt.get(a).copied());
    chosen.truncate(PEERS_PER_ROUND);
    Ok(chosen)
}

fn spawn_session(
    g: &Gossip,
    schedule: &Arc<Mutex<Schedule>>,
    slots: &Arc<Semaphore>,
    circle: Circle,
    addr: String,
) {
    let key = (circle.circle_id.clone(), addr.clone());
    let circle_id = circle.circle_id.clone();
    if let Ok(mut s) = schedule.lock() {
        s.in_flight.insert(key.clone());
        s.last_attempt.insert(addr.clone(), Instant::now());
    }
    let (g, schedule, slots) = (g.clone(), Arc::clone(schedule), Arc::clone(slots));
    let interval = g.config().sync_interval;
    tokio::spawn(async move {
        let result = match slots.acquire().await {
            Ok(_permit) => session::initiate(&g, &addr, circle).await,
            Err(_) => return,
        };
        let Ok(mut s) = schedule.lock() else { return };
        s.in_flight.remove(&key);
        match result {
            Ok(_) => {
                if s.failures.remove(&addr).is_some() {
                    tracing::info!(%addr, "peer reachable again");
                }
            }
            Err(GossipError::Handshake(HandshakeError::SelfConnection)) => {
                s.own.insert(addr);
            }
            Err(e) => {
                let (node, cid, a) = (g.node().clone(), circle_id, addr.clone());
                tokio::spawn(async move {
                    if let Err(e) = node.candidate_failed(&cid, &a).await {
                        tracing::warn!("cannot count a failed dial candidate: {e}");
                    }
                });
                let fails = s.failures.get(&addr).map_or(1, |(f, _)| f + 1);
                if fails == 1 {
                    tracing::info!(%addr, "sync with peer failed (will retry with backoff): {e}");
                } else {
                    tracing::debug!(%addr, fails, "sync with peer failed again: {e}");
                }
                let wait = backoff(interval, fails);
                s.failures.insert(addr, (fails, Instant::now() + wait));
            }
        }
    });
}

/// interval × 2^(fails-1), capped at [`MAX_BACKOFF`] (felund's one retry policy).
fn backoff(interval: Duration, fails: u32) -> Duration {
    Backoff::new(interval, MAX_BACKOFF).delay(fails)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let i = Duration::from_secs(1);
        assert!(backoff(i, 1) <= Duration::from_millis(1200));
        assert!(backoff(i, 3) >= Duration::from_millis(3200));
        assert!(backoff(i, 30) <= MAX_BACKOFF.mul_f64(1.2));
    }
}
