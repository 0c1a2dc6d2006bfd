//! Counters of the sync edges, shown in `GetNodeInfo` (felundctl status, the TUI's
//! debug view) and used by the benchmarks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Monotonic counters, shared by every gossip session.
#[derive(Debug, Default)]
pub struct Counters {
    /// Gossip sessions that completed.
    pub sessions_ok: AtomicU64,
    /// Gossip sessions that failed (unreachable peer, refused, protocol error).
    pub sessions_failed: AtomicU64,
    /// Bytes read from gossip connections.
    pub bytes_in: AtomicU64,
    /// Bytes written to gossip connections.
    pub bytes_out: AtomicU64,
    /// Live links currently up.
    pub live_links: AtomicU64,
    /// Unix time of the last gossip session that completed (0: none yet).
    pub last_session_ok: AtomicI64,
    /// Addresses whose last gossip attempt failed, with why (at most
    /// [`MAX_UNREACHABLE`]; a success removes an entry).
    pub unreachable: Mutex<BTreeMap<String, Unreachable>>,
    /// Relay health.
    pub relay: Mutex<RelayHealth>,
    /// API clients attached to `Subscribe` (internal listeners not counted).
    pub api_subscribers: AtomicU64,
    /// Browser peers whose DataChannel is open and verified, by session key.
    pub datachannel: Mutex<BTreeMap<String, DataChannelPeer>>,
    /// DataChannel sessions that ended before the peer proved the secret (timeouts, AUTH
    /// failures, unreachable browsers).
    pub datachannel_failed: AtomicU64,
}

/// A browser peer connected over a WebRTC DataChannel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataChannelPeer {
    /// Its node id.
    pub node_id: String,
    /// The circle the channel belongs to.
    pub circle_id: String,
    /// The relay that carried the signalling.
    pub relay_url: String,
    /// The browser's address on the selected ICE pair (`ip:port`).
    pub remote_addr: String,
    /// Unix time the handshake completed.
    pub since: i64,
    /// Messages received from it that were new here.
    pub messages_in: u64,
    /// Messages sent to it (history and live).
    pub messages_out: u64,
    /// Its display name as this node knows it (filled in by `Node::info`).
    pub display_name: String,
}

/// How the node's relay is doing, as shown by `felundctl status`: always about the
/// relay in force now (a change of relay starts it afresh) and its latest attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayHealth {
    /// The relay described (empty: none).
    pub url: String,
    /// Whether the last relay request succeeded (false also when none was made).
    pub ok: bool,
    /// Unix time of the last attempt to sync with it (0: not yet).
    pub last_attempt: i64,
    /// Unix time of the last successful relay request (0: never).
    pub last_success: i64,
    /// The last error, empty when the last request succeeded.
    pub last_error: String,
    /// Whether a WebSocket push connection is up.
    pub push_connected: bool,
}

/// Most unreachable addresses remembered for status.
pub const MAX_UNREACHABLE: usize = 16;

/// A gossip address whose last attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    /// Why, in a few words.
    pub error: String,
    /// Unix time of the first failure in a row.
    pub since: i64,
}

/// A point-in-time copy of [`Counters`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// See [`Counters::sessions_ok`].
    pub sessions_ok: u64,
    /// See [`Counters::sessions_failed`].
    pub sessions_failed: u64,
    /// See [`Counters::bytes_in`].
    pub bytes_in: u64,
    /// See [`Counters::bytes_out`].
    pub bytes_out: u64,
    /// See [`Counters::live_links`].
    pub live_links: u64,
    /// See [`Counters::relay`].
    pub relay: RelayHealth,
    /// See [`Counters::last_session_ok`].
    pub last_session_ok: i64,
    /// See [`Counters::unreachable`].
    pub unreachable: Vec<(String, Unreachable)>,
    /// See [`Counters::datachannel`], ordered by session key.
    pub datachannel: Vec<DataChannelPeer>,
    /// See [`Counters::datachannel_failed`].
    pub datachannel_failed: u64,
}

impl Counters {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts one from a gauge.
    pub fn dec(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    /// Notes a gossip attempt at `addr`: a failure with `error`, or (`None`) a success.
    pub fn gossip_attempt(&self, addr: &str, error: Option<&str>, now: i64) {
        let Ok(mut map) = self.unreachable.lock() else {
            return;
        };
        match error {
            None => {
                map.remove(addr);
                self.last_session_ok.store(now, Ordering::Relaxed);
            }
            Some(e) => {
                if let Some(u) = map.get_mut(addr) {
                    u.error = e.to_string();
                } else if map.len() < MAX_UNREACHABLE {
                    map.insert(
                        addr.to_string(),
                        Unreachable {
                            error: e.to_string(),
                            since: now,
                        },
                    );
                }
            }
        }
    }

    /// Starts describing the relay `url` afresh (the node's relay changed): nothing is
    /// known about it yet.
    pub fn reset_relay(&self, url: &str) {
        if let Ok(mut h) = self.relay.lock() {
            *h = RelayHealth {
                url: url.to_string(),
                ..RelayHealth::default()
            };
        }
    }

    /// Updates the relay health with `f` if it describes `url` (syncs through other
    /// relays, such as those named by web-client invite codes, do not count).
    pub fn relay_health(&self, url: &str, f: impl FnOnce(&mut RelayHealth)) {
        if let Ok(mut h) = self.relay.lock() {
            if h.url == url {
                f(&mut h);
            }
        }
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            sessions_ok: self.sessions_ok.load(Ordering::Relaxed),
            sessions_failed: self.sessions_failed.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            live_links: self.live_links.load(Ordering::Relaxed),
            relay: self.relay.lock().map(|r| r.clone()).unwrap_or_default(),
            last_session_ok: self.last_session_ok.load(Ordering::Relaxed),
            unreachable: self
                .unreachable
                .lock()
                .map(|m| m.iter().map(|(a, u)| (a.clone(), u.clone())).collect())
                .unwrap_or_default(),
            datachannel: self
                .datachannel
                .lock()
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default(),
            datachannel_failed: self.datachannel_failed.load(Ordering::Relaxed),
        }
    }

    /// When the DataChannel peer of session `key` was first recorded (`now` if it is new).
    pub fn datachannel_since(&self, key: &str, now: i64) -> i64 {
        self.datachannel
            .lock()
            .ok()
            .and_then(|m| m.get(key).map(|p| p.since))
            .unwrap_or(now)
    }

    /// Updates (or with `None`, removes) the DataChannel peer of session `key`.
    pub fn datachannel_peer(&self, key: &str, peer: Option<DataChannelPeer>) {
        if let Ok(mut m) = self.datachannel.lock() {
            match peer {
                Some(p) => {
                    m.insert(key.to_string(), p);
                }
                None => {
                    m.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_health_follows_the_relay_in_force_only() {
        let c = Counters::default();
        c.reset_relay("http://a");
        c.relay_health("http://a", |h| {
            h.ok = true;
            h.last_success = 5;
        });
        c.relay_health("http://other", |h| h.ok = false);
        assert!(c.snapshot().relay.ok, "another relay's sync does not count");
        c.reset_relay("http://b");
        let h = c.snapshot().relay;
        assert_eq!(
            (h.url.as_str(), h.ok, h.last_success),
            ("http://b", false, 0)
        );
        c.relay_health("http://a", |h| h.ok = true);
        assert!(
            !c.snapshot().relay.ok,
            "the old relay's late answer is ignored"
        );
    }
}
