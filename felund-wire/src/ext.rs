//! felundd-to-felundd extensions of the gossip protocol.
//!
//! Negotiation: a felundd node puts `"felundd": {"v": 2}` ([`EXT_KEY`]) in its HELLO
//! and WELCOME. Reference nodes ignore unknown keys there (docs/protocol.md §6.8), so the
//! key is safe to send to anyone; the `X_*` frames of [`Frame`](crate::Frame) are sent
//! only when both sides carried the same version (other versions sync the reference way).
//! Version 2 starts every session with `X_PROOF` both ways ([`crate::handshake`]).
//!
//! Set reconciliation: each side summarises its msg_ids as a [`SetDigest`]: a count
//! and an XOR of per-id hashes, overall and per [`BUCKETS`] buckets (bucket = first
//! byte of the id's hash). Equal overall digests end the sync at once (constant
//! bytes per in-sync round); otherwise the bucket digests are exchanged and only the
//! ids of differing buckets travel, in chunks, as do the messages.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The HELLO/WELCOME key announcing felundd extensions.
pub const EXT_KEY: &str = "felundd";
/// The extension version this crate speaks.
pub const EXT_VERSION: i64 = 2;
/// Number of buckets in a [`SetDigest`].
pub const BUCKETS: usize = 256;
/// Most ids per `X_IDS` / `X_REQ` frame.
pub const MAX_IDS_PER_FRAME: usize = 20_000;
/// Target size of the messages JSON in one `X_SEND` frame.
pub const MAX_SEND_FRAME_BYTES: usize = 512 * 1024;
/// Most messages in one `X_PUSH` frame; a live link that receives more ends.
pub const MAX_PUSH_MESSAGES: usize = 256;
/// Most ids one sync keeps from the peer's `X_IDS` run as wanted. Ids beyond it are read
/// and dropped: the digests still differ afterwards, so the next session asks for them
/// (a circle of millions converges over sessions, and a peer cannot make us hold more).
pub const MAX_WANTED_IDS: usize = 1_000_000;
/// Longest line accepted from a peer that negotiated the extensions.
pub const MAX_EXT_LINE: usize = 4 * 1024 * 1024;

/// The value of [`EXT_KEY`] this node sends.
pub fn ext_announcement() -> (String, Value) {
    let mut m = Map::new();
    m.insert("v".into(), Value::from(EXT_VERSION));
    (EXT_KEY.to_string(), Value::Object(m))
}

/// The extension version a peer announced in its HELLO/WELCOME extensions, if any.
pub fn peer_ext_version(extensions: &Map<String, Value>) -> Option<i64> {
    extensions.get(EXT_KEY)?.get("v")?.as_i64()
}

/// Hash of one msg_id, the unit of every digest.
fn id_hash(msg_id: &str) -> [u8; 32] {
    Sha256::digest(msg_id.as_bytes()).into()
}

/// The bucket a msg_id falls in.
pub fn bucket_of(msg_id: &str) -> usize {
    id_hash(msg_id)[0] as usize
}

/// A summary of a set of msg_ids. Order-independent: the same set always gives the
/// same digest, and adding an id is O(1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetDigest {
    count: u64,
    xor: [u8; 16],
    bucket_counts: Vec<u64>,
    bucket_xors: Vec<[u8; 16]>,
}

impl Default for SetDigest {
    fn default() -> Self {
        Self {
            count: 0,
            xor: [0; 16],
            bucket_counts: vec![0; BUCKETS],
            bucket_xors: vec![[0; 16]; BUCKETS],
        }
    }
}

impl SetDigest {
    /// The digest of `ids` (which must be distinct).
    pub fn of<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        let mut d = Self::default();
        for id in ids {
            d.add(id);
        }
        d
    }

    /// Adds one (new, distinct) id.
    pub fn add(&mut self, msg_id: &str) {
        let h = id_hash(msg_id);
        let b = h[0] as usize;
        self.count += 1;
        self.bucket_counts[b] += 1;
        for (i, byte) in h.iter().take(16).enumerate() {
            self.xor[i] ^= byte;
            self.bucket_xors[b][i] ^= byte;
        }
    }

    /// Number of ids.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The overall digest as hex (sent in `X_DIGEST`).
    pub fn digest_hex(&self) -> String {
        hex::encode(self.xor)
    }

    /// Per-bucket summaries as `count:hex` strings (sent in `X_BUCKETS`).
    pub fn bucket_summaries(&self) -> Vec<String> {
        self.bucket_counts
            .iter()
            .zip(&self.bucket_xors)
            .map(|(c, x)| format!("{c}:{}", hex::encode(x)))
            .collect()
    }

    /// Whether another side's overall summary equals ours.
    pub fn matches(&self, count: u64, digest_hex: &str) -> bool {
        self.count == count && self.digest_hex() == digest_hex
    }

    /// Buckets whose summary differs from `theirs` (a malformed or short list makes
    /// every bucket differ, which is safe: it only costs bytes).
    pub fn differing_buckets(&self, theirs: &[String]) -> Vec<bool> {
        let ours = self.bucket_summaries();
        if theirs.len() != BUCKETS {
            return vec![true; BUCKETS];
        }
        ours.iter().zip(theirs).map(|(a, b)| a != b).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_order_independent_and_detects_a_difference() {
        let a = SetDigest::of(["x", "y", "z"]);
        let b = SetDigest::of(["z", "x", "y"]);
        assert_eq!(a, b);
        assert!(a.matches(b.count(), &b.digest_hex()));
        let c = SetDigest::of(["x", "y"]);
        assert!(!a.matches(c.count(), &c.digest_hex()));
        let diff = a.differing_buckets(&c.bucket_summaries());
        assert_eq!(diff.iter().filter(|d| **d).count(), 1);
        assert!(diff[bucket_of("z")]);
    }

    #[test]
    fn malformed_bucket_list_marks_every_bucket() {
        let a = SetDigest::of(["x"]);
        assert!(a.differing_buckets(&["0:00".into()]).iter().all(|d| *d));
    }

    #[test]
    fn announcement_round_trips() {
        let (k, v) = ext_announcement();
        let mut m = Map::new();
        m.insert(k, v);
        assert_eq!(peer_ext_version(&m), Some(EXT_VERSION));
        assert_eq!(peer_ext_version(&Map::new()), None);
    }
}
