//! A fake peer that listens in the background and serves every session the daemon opens.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use felund_wire::CircleSecret;
use serde_json::{json, Value};

use super::{now_ts, random_node_id, respond, str_list, sync, FakeListener, SyncPlan};

/// A fake node listening in the background: answers every connection the daemon makes
/// with a full handshake and an empty sync, and counts them.
pub struct BackgroundPeer {
    /// Its node id.
    pub node_id: String,
    /// Its `127.0.0.1:PORT`.
    pub addr: String,
    stop: Arc<AtomicBool>,
    syncs: Arc<AtomicUsize>,
    errors: Arc<Mutex<Vec<String>>>,
    stats: Arc<Mutex<PeerStats>>,
    handle: Option<JoinHandle<()>>,
}

/// What a [`BackgroundPeer`] saw of the daemon across sessions.
#[derive(Debug, Clone, Default)]
pub struct PeerStats {
    /// Number of ids in each MSGS_REQ the daemon sent.
    pub req_sizes: Vec<usize>,
    /// Longest line the daemon sent, per session, with whether the session was encrypted.
    pub max_lines: Vec<(bool, usize)>,
    /// Every HELLO the daemon sent.
    pub hellos: Vec<Value>,
}

impl BackgroundPeer {
    /// Starts listening on a free port for `secret`'s circle, holding no messages.
    pub fn spawn(secret: &CircleSecret) -> Self {
        Self::serving(secret, SyncPlan::default())
    }

    /// Like [`BackgroundPeer::spawn`], running every session with `plan`.
    pub fn serving(secret: &CircleSecret, plan: SyncPlan) -> Self {
        let listener = FakeListener::bind();
        let node_id = random_node_id();
        let addr = listener.addr();
        let stop = Arc::new(AtomicBool::new(false));
        let syncs = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let stats = Arc::new(Mutex::new(PeerStats::default()));
        let (secret, me) = (secret.clone(), node_id.clone());
        let (stop2, syncs2, errors2) = (stop.clone(), syncs.clone(), errors.clone());
        let stats2 = stats.clone();
        let handle = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Some(mut conn) = listener.accept(Duration::from_millis(200)) else {
                    continue;
                };
                conn.set_read_timeout(Duration::from_secs(5));
                let circle_id = secret.circle_id();
                let result = respond(&mut conn, &secret, &me).and_then(|hs| {
                    stats2.lock().expect("stats lock").hellos.push(hs.hello);
                    sync(&mut conn, &circle_id, &plan)
                });
                {
                    let mut st = stats2.lock().expect("stats lock");
                    st.max_lines.push((conn.encrypted(), conn.max_line_len));
                    if let Some(req) = conn.received.iter().find(|f| f["t"] == "MSGS_REQ") {
                        st.req_sizes.push(str_list(&req["msg_ids"]).len());
                    }
                }
                match result {
                    Ok(_) => {
                        syncs2.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => errors2.lock().expect("errors lock").push(e),
                }
            }
        });
        Self {
            node_id,
            addr,
            stop,
            syncs,
            errors,
            stats,
            handle: Some(handle),
        }
    }

    /// How many complete sessions the daemon has had with it.
    pub fn syncs(&self) -> usize {
        self.syncs.load(Ordering::SeqCst)
    }

    /// What it saw of the daemon so far.
    pub fn stats(&self) -> PeerStats {
        self.stats.lock().expect("stats lock").clone()
    }

    /// Why sessions failed, if any did.
    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().expect("errors lock").clone()
    }

    /// A PEERS entry describing it.
    pub fn peer_entry(&self) -> Value {
        json!({"node_id": self.node_id, "addr": self.addr, "last_seen": now_ts()})
    }
}

impl Drop for BackgroundPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
