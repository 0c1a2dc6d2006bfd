//! Per-client-address rate and byte limits on every write endpoint (register, unregister,
//! message push, signal post), kept in this process's memory (each instance counts its own
//! clients) and driven by the relay's [`Clock`], so tests move time instead of sleeping.
//!
//! The limits are GCRA buckets (`governor`): a minute's worth may come at once, then it
//! refills evenly. A refused request gets 429 with `Retry-After` (whole seconds until it
//! would be allowed) and is not counted.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::client::limit_key;
use crate::clock::{Clock, Steady};
use crate::config::RelayConfig;
use crate::error::ApiError;

/// The relay clock as a `governor` clock: whole seconds of [`Steady`] time, so a wall clock
/// stepping back does not make every bucket look overdrawn until it catches up.
#[derive(Clone)]
struct RelayClock(Arc<Steady>);

impl GovernorClock for RelayClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_secs(u64::try_from(self.0.now()).unwrap_or(0))
    }
}

type Keyed =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, RelayClock, NoOpMiddleware<Duration>>;

/// One keyed bucket: `per_period` cells per `period`, all of them available at once.
struct Bucket {
    limiter: Keyed,
    what: &'static str,
}

impl Bucket {
    fn new(
        per_period: u32,
        period: Duration,
        clock: &RelayClock,
        what: &'static str,
    ) -> Option<Self> {
        let cells = NonZeroU32::new(per_period)?;
        let quota = Quota::with_period(period / cells.get())?.allow_burst(cells);
        Some(Self {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            what,
        })
    }

    /// Takes `n` cells for `key`, or says how long to wait.
    fn take(&self, key: &IpAddr, n: u32, clock: &RelayClock) -> Result<(), ApiError> {
        let cells = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        let wait = match self.limiter.check_key_n(key, cells) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(not_until)) => not_until.wait_time_from(clock.now()),
            // More than a whole period's worth: it can never pass.
            Err(_) => return Err(ApiError::PayloadTooLarge),
        };
        let retry_after_s = i64::try_from(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            .unwrap_or(i64::MAX)
            .max(1);
        Err(ApiError::RateLimited {
            detail: format!(
                "Too many {} from your address — retry after {retry_after_s}s",
                self.what
            ),
            retry_after_s,
        })
    }
}

/// The per-address limits of one relay instance.
pub struct AddressLimits {
    clock: RelayClock,
    requests: Option<Bucket>,
    bytes: Option<Bucket>,
    signals: Option<Bucket>,
}

impl AddressLimits {
    /// The limits `config` asks for (a zero rate is no limit).
    pub fn new(config: &RelayConfig, clock: Arc<dyn Clock>) -> Self {
        let clock = RelayClock(Arc::new(Steady::new(clock)));
        let minute = Duration::from_secs(60);
        let signal_window = Duration::from_secs(
            u64::try_from(config.signal_rate_window_s)
                .unwrap_or(1)
                .max(1),
        );
        Self {
            requests: Bucket::new(
                config.write_requests_per_minute,
                minute,
                &clock,
                "write requests",
            ),
            bytes: Bucket::new(
                config.write_bytes_per_minute,
                minute,
                &clock,
                "bytes written",
            ),
            signals: Bucket::new(
                config.signal_posts_per_address,
                signal_window,
                &clock,
                "signals",
            ),
            clock,
        }
    }

    /// Counts one write request of `body_len` bytes from `client`; unknown clients are not
    /// limited (in-process calls).
    pub fn write(&self, client: Option<IpAddr>, body_len: usize) -> Result<(), ApiError> {
        let Some(key) = client.map(limit_key) else {
            return Ok(());
        };
        if let Some(bucket) = &self.requests {
            bucket.take(&key, 1, &self.clock)?;
        }
        if let Some(bucket) = &self.bytes {
            bucket.take(
                &key,
                u32::try_from(body_len).unwrap_or(u32::MAX),
                &self.clock,
            )?;
        }
        Ok(())
    }

    /// Counts one signal POST from `client`.
    pub fn signal(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        match (client.map(limit_key), &self.signals) {
            (Some(key), Some(bucket)) => bucket.take(&key, 1, &self.clock),
            _ => Ok(()),
        }
    }

    /// Forgets addresses whose buckets are full again (bounds memory; run periodically).
    pub fn forget_idle(&self) {
        for bucket in [&self.requests, &self.bytes, &self.signals]
            .into_iter()
            .flatten()
        {
            bucket.limiter.retain_recent();
            bucket.limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn limits(clock: &Arc<ManualClock>, requests: u32, bytes: u32) -> AddressLimits {
        let config = RelayConfig {
            write_requests_per_minute: requests,
            write_bytes_per_minute: bytes,
            ..RelayConfig::default()
        };
        AddressLimits::new(&config, clock.clone())
    }

    #[test]
    fn a_minute_of_requests_then_429_until_it_refills() {
        let clock = Arc::new(ManualClock::new(1_000));
        let l = limits(&clock, 60, 0);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..60 {
            l.write(Some(a), 10).expect("within the burst");
        }
        match l.write(Some(a), 10) {
            Err(ApiError::RateLimited { retry_after_s, .. }) => assert_eq!(retry_after_s, 1),
            other => panic!("{other:?}"),
        }
        l.write(Some(b), 10)
            .expect("another address is not affected");
        l.write(None, 10).expect("unknown clients are not limited");
        clock.advance(1);
        l.write(Some(a), 10).expect("refilled one per second");
    }

    #[test]
    fn a_clock_stepping_back_neither_locks_writers_out_nor_lifts_the_limit() {
        let clock = Arc::new(ManualClock::new(100_000));
        let l = limits(&clock, 60, 0);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        l.write(Some(a), 10).expect("first");
        // A day forward and back again (an operator fixing the date).
        clock.advance(86_400);
        l.write(Some(a), 10).expect("after the jump");
        clock.advance(-86_400);
        l.write(Some(a), 10)
            .expect("after the step back: not locked out for a day");
        // The limit still holds: a minute's burst, then 429.
        let refused = (0..100).filter(|_| l.write(Some(a), 10).is_err()).count();
        assert_eq!(refused, 100 - 58);
        clock.advance(1);
        l.write(Some(a), 10).expect("refills as the clock moves on");
    }

    #[test]
    fn bytes_are_counted_and_an_impossible_body_is_413() {
        let clock = Arc::new(ManualClock::new(1_000));
        let l = limits(&clock, 0, 1000);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        l.write(Some(a), 900).expect("fits");
        assert!(matches!(
            l.write(Some(a), 200),
            Err(ApiError::RateLimited { .. })
        ));
        assert!(matches!(
            l.write(Some(a), 5000),
            Err(ApiError::PayloadTooLarge)
        ));
        clock.advance(12);
        l.write(Some(a), 200).expect("refilled");
    }
}
