//! The readiness check behind `GET /v1/ready`, for load balancers: `/v1/health` says the
//! process answers; this says whether to send it traffic — its database answers a query
//! within [`READY_TIMEOUT`] and, on PostgreSQL, its push feed is listening.
//!
//! Anyone may call it, so it is cheap whatever the rate: the outcome is kept for
//! [`READY_CACHE`], and requests that arrive while a check runs wait for that check instead of
//! starting their own, so the database sees at most one query per [`READY_CACHE`].

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::hub::PushHub;
use crate::limits::{READY_CACHE_MS, READY_TIMEOUT_MS};
use crate::store::RelayStore;

/// How long an outcome is reused.
pub const READY_CACHE: Duration = Duration::from_millis(READY_CACHE_MS);
/// How long the database may take to answer before the instance counts as not ready.
pub const READY_TIMEOUT: Duration = Duration::from_millis(READY_TIMEOUT_MS);

/// Whether the instance can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// Database and push feed are up.
    Ready,
    /// Not ready; the reason is the `detail` of the 503.
    NotReady(&'static str),
}

/// The last outcome, shared by the requests of one instance.
#[derive(Debug, Default)]
pub struct ReadyCheck {
    last: Mutex<Option<(Instant, Readiness)>>,
}

impl ReadyCheck {
    /// The current readiness: the kept outcome if it is recent, else what `probe` (normally
    /// [`probe`]) finds — one probe at a time; requests arriving meanwhile wait for it.
    pub async fn check<F, Fut>(&self, probe: F) -> Readiness
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Readiness>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, outcome)) = *last {
            if at.elapsed() < READY_CACHE {
                return outcome;
            }
        }
        let outcome = probe().await;
        *last = Some((Instant::now(), outcome));
        outcome
    }
}

/// Asks the database (within [`READY_TIMEOUT`]) and the push hub.
pub async fn probe(store: &dyn RelayStore, hub: &dyn PushHub) -> Readiness {
    match tokio::time::timeout(READY_TIMEOUT, store.ping()).await {
        Ok(Ok(())) if hub.is_live() => Readiness::Ready,
        Ok(Ok(())) => Readiness::NotReady("push feed unavailable"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: database check failed");
            Readiness::NotReady("database unavailable")
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = READY_TIMEOUT_MS,
                "readiness: database too slow"
            );
            Readiness::NotReady("database unavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_checks_costs_one_probe_per_interval() {
        let check = Arc::new(ReadyCheck::default());
        let probes = Arc::new(AtomicUsize::new(0));
        let round = |outcome: Readiness| {
            let (check, probes) = (Arc::clone(&check), Arc::clone(&probes));
            let tasks: Vec<_> = (0..200)
                .map(|_| {
                    let (check, probes) = (Arc::clone(&check), Arc::clone(&probes));
                    tokio::spawn(async move {
                        check
                            .check(|| async {
                                probes.fetch_add(1, Ordering::SeqCst);
                                // A slow database: the others wait for this probe.
                                tokio::time::sleep(Duration::from_millis(300)).await;
                                outcome
                            })
                            .await
                    })
                })
                .collect();
            async move {
                for task in tasks {
                    assert_eq!(task.await.expect("task"), outcome);
                }
                let _ = (check, probes);
            }
        };
        round(Readiness::Ready).await;
        assert_eq!(probes.load(Ordering::SeqCst), 1);
        // Within the interval the kept outcome answers, even if the database went away.
        round(Readiness::Ready).await;
        assert_eq!(probes.load(Ordering::SeqCst), 1);
        tokio::time::advance(READY_CACHE).await;
        round(Readiness::NotReady("database unavailable")).await;
        assert_eq!(probes.load(Ordering::SeqCst), 2);
    }
}
