//! What each reference peer was seen to hold, so that later sessions advertise what it
//! still lacks first (see [`super::ref_sync`]). A hint only: forgetting an entry costs one
//! session that advertises newest-first again, never a message.
//!
//! Bounded, because the key is a node id the peer names itself: at most
//! [`HOLDINGS_PEERS`] entries (the least recently updated goes first) of at most
//! [`HOLDINGS_IDS_PER_PEER`] ids each (a full entry starts over from the latest session).

use std::collections::{HashMap, HashSet};

use crate::limits::{HOLDINGS_IDS_PER_PEER, HOLDINGS_PEERS};

/// The table, by (circle_id, peer node_id).
#[derive(Debug, Default)]
pub struct Holdings {
    entries: HashMap<(String, String), Entry>,
    /// Bumped on every update: the entry with the smallest `touched` is the stalest.
    clock: u64,
}

#[derive(Debug)]
struct Entry {
    ids: HashSet<String>,
    touched: u64,
}

impl Holdings {
    /// The ids `peer` was seen to hold in `circle_id` (empty when unknown).
    pub fn of(&self, circle_id: &str, peer: &str) -> HashSet<String> {
        self.entries
            .get(&(circle_id.to_string(), peer.to_string()))
            .map(|e| e.ids.clone())
            .unwrap_or_default()
    }

    /// Adds `ids` to what `peer` holds in `circle_id`.
    pub fn remember(&mut self, circle_id: &str, peer: &str, ids: impl IntoIterator<Item = String>) {
        let key = (circle_id.to_string(), peer.to_string());
        if !self.entries.contains_key(&key) && self.entries.len() >= HOLDINGS_PEERS {
            self.forget_stalest();
        }
        self.clock += 1;
        let entry = self.entries.entry(key).or_insert_with(|| Entry {
            ids: HashSet::new(),
            touched: 0,
        });
        entry.touched = self.clock;
        let ids: Vec<String> = ids.into_iter().take(HOLDINGS_IDS_PER_PEER).collect();
        if entry.ids.len() + ids.len() > HOLDINGS_IDS_PER_PEER {
            entry.ids.clear();
        }
        entry.ids.extend(ids);
    }

    /// Number of peers remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn forget_stalest(&mut self) {
        let stalest = self
            .entries
            .iter()
            .min_by_key(|(_, e)| e.touched)
            .map(|(k, _)| k.clone());
        if let Some(key) = stalest {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("msg-{i:08}")).collect()
    }

    #[test]
    fn a_peer_s_holdings_are_remembered_across_sessions() {
        let mut h = Holdings::default();
        h.remember("circle", "peer", ids(0..3));
        h.remember("circle", "peer", ids(3..5));
        assert_eq!(h.of("circle", "peer").len(), 5);
        assert!(h.of("circle", "other").is_empty());
        assert!(h.of("other circle", "peer").is_empty());
    }

    #[test]
    fn a_member_claiming_endless_node_ids_keeps_the_table_bounded() {
        let mut h = Holdings::default();
        h.remember("circle", "honest", ids(0..10));
        for i in 0..10_000 {
            h.remember("circle", &format!("claimed-{i}"), ids(0..5));
        }
        assert_eq!(h.len(), HOLDINGS_PEERS);
        // The stalest went first; the latest claims are kept.
        assert!(h.of("circle", "honest").is_empty());
        assert_eq!(h.of("circle", "claimed-9999").len(), 5);
    }

    #[test]
    fn a_recently_updated_peer_outlives_stale_ones() {
        let mut h = Holdings::default();
        h.remember("circle", "honest", ids(0..10));
        for i in 0..HOLDINGS_PEERS * 3 {
            h.remember("circle", &format!("claimed-{i}"), ids(0..1));
            h.remember("circle", "honest", ids(10..11));
        }
        assert!(h.of("circle", "honest").len() > 10);
    }

    #[test]
    fn an_entry_never_grows_past_its_cap() {
        let mut h = Holdings::default();
        for session in 0..10 {
            let start = session * 1_000;
            h.remember("circle", "peer", ids(start..start + 1_000));
            assert!(h.of("circle", "peer").len() <= HOLDINGS_IDS_PER_PEER);
        }
        // What the latest session said is always kept.
        let now = h.of("circle", "peer");
        assert!(ids(9_000..10_000).iter().all(|id| now.contains(id)));
        h.remember("circle", "peer", ids(0..HOLDINGS_IDS_PER_PEER * 4));
        assert_eq!(h.of("circle", "peer").len(), HOLDINGS_IDS_PER_PEER);
    }
}
