//! Giving memory back after bursts.
//!
//! A burst (an import, a newcomer's catch-up in either role, a relay flood) makes the
//! allocator grow, and glibc's malloc keeps what it grew: freed chunks stay in the
//! heaps of up to eight arenas per core, and its adaptive mmap threshold moves large
//! buffers from `mmap` (returned on free) into those heaps. So felundd
//!
//! - fixes the mmap threshold and caps the arenas at start ([`configure`]), and
//! - counts work as it happens ([`note_work`]); once a burst's worth has been done,
//!   a task waits until things are quiet for a moment, has SQLite drop the cached
//!   pages it is not using (its cache is sized for bursts), and calls `malloc_trim`,
//!   which returns every free page of every arena to the system
//!   ([`trim_after_bursts`]).
//!
//! The task sleeps on a notification between bursts: an idle daemon never wakes
//! for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use crate::limits::{MALLOC_ARENAS, MALLOC_MMAP_THRESHOLD, TRIM_AFTER_WORK};
use crate::store::StateStore;

/// The trim runs once no work has been noted for this long, so a long burst is
/// trimmed once, at its end.
const QUIET: Duration = Duration::from_secs(2);

/// Work noted since the last trim.
static WORK: AtomicU64 = AtomicU64::new(0);
/// Wakes the trim task.
static WAKE: Notify = Notify::const_new();

/// Sets the allocator up for a long-running daemon. Call once, before any thread
/// is started (mallopt is not meant to race with allocations on other threads).
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before other threads
    // exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD);
    }
}

/// Notes `units` of work (messages stored or sent; a burst is [`TRIM_AFTER_WORK`]).
pub fn note_work(units: u64) {
    let before = WORK.fetch_add(units, Ordering::Relaxed);
    if before < TRIM_AFTER_WORK && before + units >= TRIM_AFTER_WORK {
        WAKE.notify_one();
    }
}

/// Notes that a burst has just ended (an import), whatever its size.
pub fn after_burst() {
    WORK.fetch_add(TRIM_AFTER_WORK, Ordering::Relaxed);
    WAKE.notify_one();
}

/// Runs forever: after each burst, once no work has been noted for [`QUIET`],
/// returns free memory of `store`'s connections and of the allocator to the system.
pub async fn trim_after_bursts(store: StateStore) {
    loop {
        WAKE.notified().await;
        loop {
            let before = WORK.load(Ordering::Relaxed);
            tokio::time::sleep(QUIET).await;
            if WORK.load(Ordering::Relaxed) == before {
                break;
            }
        }
        WORK.store(0, Ordering::Relaxed);
        if let Err(e) = store.release_memory().await {
            tracing::debug!("cannot release SQLite's cache: {e}");
        }
        let _ = tokio::task::spawn_blocking(trim).await;
    }
}

/// Returns free heap memory to the system now.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe and only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}
