//! The relay's only source of time, injectable so tests can move time without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in whole Unix seconds.
///
/// Every timestamp the relay writes or compares (`server_time`, `stored_at`, registration and
/// signal expiry, signature freshness, nonce windows, rate-limit windows) comes from here.
pub trait Clock: Send + Sync + 'static {
    /// The current Unix time in seconds.
    fn now(&self) -> i64;
}

/// The system wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        system_now()
    }
}

/// The current system time in Unix seconds (0 if the clock is before 1970).
pub fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A clock that moves only when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: i64) -> Self {
        Self {
            now: AtomicI64::new(start),
        }
    }

    /// A clock stopped at the current system time.
    pub fn starting_now() -> Self {
        Self::new(system_now())
    }

    /// Sets the time.
    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward (or back, with a negative value) by `secs`.
    pub fn advance(&self, secs: i64) {
        self.now.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// Elapsed time that never goes back, read from a wall clock: it follows the clock's forward
/// movement (jumps included) and counts a backward step (an NTP correction, an operator's
/// `date -s`) as no time passing. For anything that measures intervals — rate-limit buckets
/// on a clock that stepped back a day would otherwise look overdrawn for a day.
pub struct Steady {
    clock: Arc<dyn Clock>,
    /// The last wall reading and how far behind the steady time it is.
    state: Mutex<(i64, i64)>,
}

impl Steady {
    /// Starts at `clock`'s current time.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        Self {
            clock,
            state: Mutex::new((now, 0)),
        }
    }

    /// The steady time in seconds: the wall time plus every backward step seen so far.
    pub fn now(&self) -> i64 {
        let wall = self.clock.now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (last, behind) = &mut *state;
        if wall < *last {
            *behind = behind.saturating_add(*last - wall);
        }
        *last = wall;
        wall.saturating_add(*behind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_time_follows_the_clock_forward_and_never_goes_back() {
        let clock = Arc::new(ManualClock::new(1_000));
        let steady = Steady::new(clock.clone());
        assert_eq!(steady.now(), 1_000);
        clock.advance(10);
        assert_eq!(steady.now(), 1_010);
        // A day back: no time passes, then it moves on from there.
        clock.advance(-86_400);
        assert_eq!(steady.now(), 1_010);
        clock.advance(5);
        assert_eq!(steady.now(), 1_015);
        // Forward jumps are followed.
        clock.advance(3_600);
        assert_eq!(steady.now(), 4_615);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(5);
        assert_eq!(clock.now(), 1_005);
        clock.set(7);
        assert_eq!(clock.now(), 7);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > 1_577_836_800);
    }
}
