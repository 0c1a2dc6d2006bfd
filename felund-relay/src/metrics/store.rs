//! [`MeteredStore`]: any [`RelayStore`] with its failures and newly stored messages counted.

use std::sync::Arc;

use async_trait::async_trait;

use super::Metrics;
use crate::store::{
    MessageBatch, MessageCursor, MessagePage, NewSignal, PageLimit, PoolUsage, PresenceLimits,
    PresenceOutcome, PresenceRecord, PrunePolicy, PruneReport, RateLimit, RelayStore, SignalRecord,
    StoreError, StoreResult, StoredMessage,
};

/// Wraps a store; every call goes through unchanged, and the metrics see its outcome.
pub struct MeteredStore {
    inner: Arc<dyn RelayStore>,
    metrics: Arc<Metrics>,
}

impl MeteredStore {
    /// `inner`, counted in `metrics`.
    pub fn new(inner: Arc<dyn RelayStore>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    /// Counts a failure (by kind) and passes the result on.
    fn seen<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(err) = &result {
            let kind = match err {
                StoreError::Unavailable(_) => "unavailable",
                _ => "backend",
            };
            self.metrics.store_errors.with_label_values(&[kind]).inc();
        }
        result
    }
}

#[async_trait]
impl RelayStore for MeteredStore {
    async fn put_presence(
        &self,
        record: PresenceRecord,
        limits: PresenceLimits,
    ) -> StoreResult<PresenceOutcome> {
        self.seen(self.inner.put_presence(record, limits).await)
    }

    async fn signing_keys(
        &self,
        circle_hint: &str,
        node_id: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        self.seen(
            self.inner
                .signing_keys(circle_hint, node_id, now, limit)
                .await,
        )
    }

    async fn live_peers(
        &self,
        circle_hint: &str,
        signing_key: &str,
        exclude_node: Option<&str>,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<PresenceRecord>> {
        let peers = self
            .inner
            .live_peers(circle_hint, signing_key, exclude_node, now, limit)
            .await;
        self.seen(peers)
    }

    async fn remove_presence(
        &self,
        circle_hint: &str,
        node_id: &str,
        signing_key: &str,
    ) -> StoreResult<bool> {
        let removed = self
            .inner
            .remove_presence(circle_hint, node_id, signing_key)
            .await;
        self.seen(removed)
    }

    async fn nonce_seen(&self, nonce: &str, not_before: i64) -> StoreResult<bool> {
        self.seen(self.inner.nonce_seen(nonce, not_before).await)
    }

    async fn claim_nonce(&self, nonce: &str, ts: i64, not_before: i64) -> StoreResult<bool> {
        self.seen(self.inner.claim_nonce(nonce, ts, not_before).await)
    }

    async fn insert_messages(&self, batch: MessageBatch) -> StoreResult<Vec<StoredMessage>> {
        let stored = self.seen(self.inner.insert_messages(batch).await)?;
        self.metrics
            .messages_stored
            .inc_by(u64::try_from(stored.len()).unwrap_or(u64::MAX));
        Ok(stored)
    }

    async fn pull_messages(
        &self,
        circle_hint: &str,
        cursor: MessageCursor,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<MessagePage> {
        let page = self
            .inner
            .pull_messages(circle_hint, cursor, now, limit)
            .await;
        self.seen(page)
    }

    async fn hit_signal_rate(&self, node: &str, now: i64, limit: RateLimit) -> StoreResult<bool> {
        self.seen(self.inner.hit_signal_rate(node, now, limit).await)
    }

    async fn insert_signal(&self, signal: NewSignal) -> StoreResult<i64> {
        self.seen(self.inner.insert_signal(signal).await)
    }

    async fn pending_signals(
        &self,
        to_node: &str,
        since_id: i64,
        session_id: Option<&str>,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<Vec<SignalRecord>> {
        let signals = self
            .inner
            .pending_signals(to_node, since_id, session_id, now, limit)
            .await;
        self.seen(signals)
    }

    async fn prune(&self, now: i64, policy: PrunePolicy) -> StoreResult<PruneReport> {
        self.seen(self.inner.prune(now, policy).await)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.seen(self.inner.ping().await)
    }

    fn pool_usage(&self) -> Option<PoolUsage> {
        self.inner.pool_usage()
    }
}
