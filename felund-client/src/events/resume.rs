//! The bookkeeping behind an event stream that resumes after felundd restarts: when
//! to wait, which messages a reconnect must look up again, which were delivered
//! already. Pure: the caller passes the time in.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use crate::limits::{GAP_SLACK_S, RECONNECT_INITIAL, RECONNECT_MAX, SEEN_IDS};

/// State of one resumable subscription. Times are Unix seconds.
#[derive(Debug, Default)]
pub(crate) struct Resume {
    first_subscribed: Option<f64>,
    broken_at: Option<f64>,
    failures: u32,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Resume {
    /// Records a subscription felundd accepted at `now`; returns the `created_ts`
    /// cutoff of the gap to fill, or `None` when nothing was missed (the first one).
    pub(crate) fn subscribed(&mut self, now: f64) -> Option<i64> {
        self.failures = 0;
        let Some(first) = self.first_subscribed else {
            self.first_subscribed = Some(now);
            return None;
        };
        let broken_at = self.broken_at?;
        Some(first.max(broken_at - GAP_SLACK_S as f64).floor() as i64)
    }

    /// The gap was filled: the next break starts a new one.
    pub(crate) fn filled(&mut self) {
        self.broken_at = None;
    }

    /// Records that the stream ended or failed at `now`; how long to wait before
    /// resubscribing.
    pub(crate) fn broke(&mut self, now: f64) -> Duration {
        if self.broken_at.is_none() && self.first_subscribed.is_some() {
            self.broken_at = Some(now);
        }
        let delay = RECONNECT_INITIAL
            .saturating_mul(1 << self.failures.min(16))
            .min(RECONNECT_MAX);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// True the first time `msg_id` is offered; remembers the last [`SEEN_IDS`] ids.
    pub(crate) fn first_delivery(&mut self, msg_id: &str) -> bool {
        if self.seen.contains(msg_id) {
            return false;
        }
        self.seen.insert(msg_id.to_string());
        self.order.push_back(msg_id.to_string());
        if self.order.len() > SEEN_IDS {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_subscription_fills_nothing() {
        let mut r = Resume::default();
        assert_eq!(r.subscribed(1000.0), None);
        // Resubscribing without a break (e.g. a retry of the first attempt) neither.
        assert_eq!(r.subscribed(1001.0), None);
    }

    #[test]
    fn a_reconnect_fills_from_the_break_minus_slack_but_never_before_the_start() {
        let mut r = Resume::default();
        r.subscribed(1000.5);
        r.broke(2000.0);
        r.broke(2003.0); // a failed retry does not move the start of the gap
        assert_eq!(r.subscribed(2010.0), Some(2000 - GAP_SLACK_S));
        r.filled();
        // A break soon after the start: the gap starts at the first subscription.
        let mut early = Resume::default();
        early.subscribed(1000.5);
        early.broke(1002.0);
        assert_eq!(early.subscribed(1003.0), Some(1000));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets_on_success() {
        let mut r = Resume::default();
        r.subscribed(0.0);
        let delays: Vec<Duration> = (0..10).map(|_| r.broke(1.0)).collect();
        assert_eq!(delays[0], RECONNECT_INITIAL);
        assert_eq!(delays[1], RECONNECT_INITIAL * 2);
        assert_eq!(*delays.last().unwrap(), RECONNECT_MAX);
        r.subscribed(2.0);
        assert_eq!(r.broke(3.0), RECONNECT_INITIAL);
    }

    #[test]
    fn each_message_is_delivered_once_within_the_remembered_window() {
        let mut r = Resume::default();
        assert!(r.first_delivery("a"));
        assert!(!r.first_delivery("a"));
        for i in 0..SEEN_IDS {
            r.first_delivery(&i.to_string());
        }
        // Memory is bounded: the oldest id was forgotten.
        assert_eq!(r.seen.len(), SEEN_IDS);
        assert!(r.first_delivery("a"));
    }
}
