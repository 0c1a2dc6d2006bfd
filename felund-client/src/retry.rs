//! The one retry policy of felund: how long to wait before trying again after
//! `failures` failures in a row. Used by everything that retries — clients
//! reconnecting to felundd (felund-tui, `felundctl watch --follow`, bots) and felundd
//! retrying gossip peers and relays — so they all back off the same way.

use std::time::Duration;

use rand::Rng;

/// A backoff: `first` after the first failure, doubling with each further one up to
/// `max`, each delay spread by ±20 % so that many clients (or many peers of one
/// node) do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub first: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Backoff {
    /// A backoff from `first` up to `max`.
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }

    /// The wait after `failures` failures in a row (0 is treated as 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(16);
        let base = self.first.saturating_mul(1u32 << doublings).min(self.max);
        base.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_first_to_a_capped_max_with_jitter() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        for _ in 0..100 {
            let d1 = b.delay(1);
            assert!(d1 >= Duration::from_millis(800) && d1 <= Duration::from_millis(1200));
            let d3 = b.delay(3);
            assert!(d3 >= Duration::from_millis(3200) && d3 <= Duration::from_millis(4800));
            assert!(b.delay(40) <= Duration::from_secs(36));
            assert!(b.delay(0) <= Duration::from_millis(1200));
        }
    }
}
