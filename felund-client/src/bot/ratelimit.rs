//! How often a bot answers: a token bucket per author and one for everyone. Pure:
//! the caller passes the time in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::limits::{
    BOT_BURST_PER_AUTHOR, BOT_BURST_TOTAL, BOT_REFILL_PER_AUTHOR, BOT_REFILL_TOTAL,
    BOT_TRACKED_AUTHORS,
};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: u32, now: Instant) -> Self {
        Bucket {
            tokens: f64::from(burst),
            at: now,
        }
    }

    /// Refills for the time since the last call, then takes a token if there is one.
    fn take(&mut self, now: Instant, burst: u32, refill: Duration) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed / refill.as_secs_f64()).min(f64::from(burst));
        self.at = now;
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// Whether a command may be answered now; the limits are in [`crate::limits`].
#[derive(Debug)]
pub(crate) struct RateLimit {
    total: Bucket,
    authors: HashMap<String, Bucket>,
}

impl RateLimit {
    pub(crate) fn new(now: Instant) -> Self {
        RateLimit {
            total: Bucket::full(BOT_BURST_TOTAL, now),
            authors: HashMap::new(),
        }
    }

    /// Takes a token for `author` (and one from everyone's bucket) if both have one.
    pub(crate) fn allow(&mut self, author: &str, now: Instant) -> bool {
        if !self.authors.contains_key(author) && self.authors.len() >= BOT_TRACKED_AUTHORS {
            self.forget_least_recent();
        }
        let bucket = self
            .authors
            .entry(author.to_string())
            .or_insert_with(|| Bucket::full(BOT_BURST_PER_AUTHOR, now));
        // The author's bucket first: a flooding author spends their own tokens only,
        // never everyone's.
        if !bucket.take(now, BOT_BURST_PER_AUTHOR, BOT_REFILL_PER_AUTHOR) {
            return false;
        }
        if !self.total.take(now, BOT_BURST_TOTAL, BOT_REFILL_TOTAL) {
            bucket.tokens += 1.0; // not answered: give the author's token back
            return false;
        }
        true
    }

    /// Drops the bucket used longest ago (a linear scan, only when the map is full).
    fn forget_least_recent(&mut self) {
        let oldest = self
            .authors
            .iter()
            .min_by_key(|(_, b)| b.at)
            .map(|(k, _)| k.clone());
        if let Some(key) = oldest {
            self.authors.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_author_gets_a_burst_then_one_command_per_refill() {
        let start = Instant::now();
        let mut limit = RateLimit::new(start);
        let answered = (0..50).filter(|_| limit.allow("mallory", start)).count();
        assert_eq!(answered, BOT_BURST_PER_AUTHOR as usize);
        assert!(limit.allow("alice", start), "another member is not held up");
        let later = start + BOT_REFILL_PER_AUTHOR;
        assert!(limit.allow("mallory", later));
        assert!(!limit.allow("mallory", later));
    }

    #[test]
    fn many_author_ids_share_one_total_bucket_and_bounded_memory() {
        let start = Instant::now();
        let mut limit = RateLimit::new(start);
        let answered = (0..BOT_TRACKED_AUTHORS + 500)
            .filter(|i| limit.allow(&format!("sock{i}"), start))
            .count();
        assert_eq!(answered, BOT_BURST_TOTAL as usize);
        assert_eq!(limit.authors.len(), BOT_TRACKED_AUTHORS);
        assert!(limit.allow("alice", start + BOT_REFILL_TOTAL));
    }
}
