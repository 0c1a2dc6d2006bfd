//! `RelaySync`: keeps one circle in sync through one relay.
//!
//! Each cycle: register presence (heartbeat, ttl 120 s) and feed the peers the
//! relay knows to gossip; push every message stored since the last successful push
//! (control events included, as envelopes, 50 per request; the high-water mark
//! advances only after the relay accepted a batch, so nothing queued is lost); pull
//! with the persisted cursor (felund-relay's lossless `after_seq`, or the reference's
//! server-time `since` minus one second with dedup), verify and store. A cycle runs
//! every [`POLL`] (or [`POLL_WITH_PUSH`] while the WebSocket push is up), at once
//! when a message is stored locally, and backs off with jitter after failures.
//!
//! Under a flood (anyone can post objects under a circle's hint to the reference
//! relays): objects larger than any real message are skipped unread with one log line
//! per page or pushed frame, and the cursor moves past them as past any page. A page
//! too large to read makes the puller ask for fewer objects per page until one fits,
//! and grow back once pages are small again, so a page of junk never wedges the sync.
//! On a reference relay (`since` cursor) a page smaller than what was stored since the
//! last pull loses the rest, exactly as it does for the reference's own clients.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use felund_wire::limits::{MAX_MSG_ID_BYTES, MAX_RELAY_OBJECT_BYTES};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::answer::Objects;
use super::client::{PullCursor, RelayClient, RelayClientError};
use crate::counters::RelayHealth;
use crate::limits::{
    MAX_RELAY_ANSWER_BYTES, RELAY_PULL_LIMIT, RELAY_PUSHED_QUEUE, RELAY_PUSH_BATCH,
};
use crate::model::Circle;
use crate::node::{now_ts, random_nonce12, receive, Node};
use crate::store::candidates::Source;
use crate::store::{cursors, messages as message_sql};
use felund_client::retry::Backoff;

/// Poll interval without WebSocket push (the reference TUI polls every 8 s).
const POLL: Duration = Duration::from_secs(5);
/// Poll interval while the push connection is up (a safety net).
const POLL_WITH_PUSH: Duration = Duration::from_secs(30);
/// Presence heartbeat.
const REGISTER_EVERY: Duration = Duration::from_secs(60);
/// Presence lifetime we ask for.
const TTL_S: u32 = 120;
/// Waits after failures in a row: 2 s, doubling up to a minute.
const RETRY: Backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(60));
/// Most pull pages per cycle.
const MAX_PAGES: usize = 50;
/// How many pulled msg_ids we remember so they are not pushed back.
const PULLED_MEMORY: usize = 20_000;

/// Persisted cursor keys.
fn push_key(url: &str) -> String {
    format!("relay-push:{url}")
}
fn pull_key(url: &str) -> String {
    format!("relay-pull:{url}")
}

/// Sync of one circle through one relay.
pub struct RelaySync {
    node: Node,
    client: RelayClient,
    url: String,
    circle: Circle,
    pulled: VecDeque<String>,
    pulled_set: HashSet<String>,
    /// Objects asked for per pull page: [`RELAY_PULL_LIMIT`], less while pages are too large.
    pull_limit: u32,
}

impl RelaySync {
    /// A sync for `circle` through the relay at `url`.
    pub fn new(node: Node, http: reqwest::Client, url: &str, circle: Circle) -> Self {
        let client = RelayClient::new(http, url, circle.clone(), node.node_id());
        Self {
            node,
            client,
            url: url.to_string(),
            circle,
            pulled: VecDeque::new(),
            pulled_set: HashSet::new(),
            pull_limit: RELAY_PULL_LIMIT,
        }
    }

    /// The client (for unregistering at shutdown).
    pub fn client(&self) -> &RelayClient {
        &self.client
    }

    /// Runs until the task is aborted.
    pub async fn run(mut self, advertise: String, can_anchor: bool) {
        let mut bus = self.node.subscribe_wire();
        let (pushed_tx, mut pushed_rx) = mpsc::channel::<Objects>(RELAY_PUSHED_QUEUE);
        let push = Arc::new(super::ws::PushSignals::default());
        let ws = tokio::spawn(super::ws::listen(
            self.client.clone(),
            self.url.clone(),
            Arc::clone(self.node.counters()),
            pushed_tx,
            Arc::clone(&push),
        ));
        let mut last_register: Option<tokio::time::Instant> = None;
        let mut failures = 0u32;
        let mut was_failing = false;
        let mut noted_sync = false;
        loop {
            if last_register.is_none_or(|t| t.elapsed() >= REGISTER_EVERY) {
                match self.register_and_peers(&advertise, can_anchor).await {
                    Ok(()) => {
                        last_register = Some(tokio::time::Instant::now());
                        push.registered.notify_one();
                    }
                    Err(e) => tracing::debug!(relay = %self.url, "register failed: {e}"),
                }
            }
            let result = match self.push().await {
                Ok(()) => self.pull().await,
                Err(e) => Err(e),
            };
            let wait = match result {
                Ok(()) => {
                    // Once per outage is enough to show that the circle syncs; a write
                    // every poll would cost an fsync per circle while idle.
                    if was_failing || !noted_sync {
                        noted_sync = true;
                        if let Err(e) = self.node.mark_synced(&self.circle.circle_id).await {
                            tracing::warn!("cannot note the relay sync: {e}");
                        }
                    }
                    if was_failing {
                        tracing::info!(relay = %self.url, circle = %self.circle.circle_id, "relay reachable again");
                    }
                    was_failing = false;
                    failures = 0;
                    self.health(|h| {
                        h.ok = true;
                        h.last_success = now_ts();
                        h.last_error.clear();
                    });
                    if self.push_connected() {
                        POLL_WITH_PUSH
                    } else {
                        POLL
                    }
                }
                Err(e) => {
                    if !was_failing {
                        tracing::warn!(relay = %self.url, circle = %self.circle.circle_id, "relay sync failed (retrying with backoff): {e}");
                    }
                    was_failing = true;
                    failures += 1;
                    let msg = e.to_string();
                    self.health(|h| {
                        h.ok = false;
                        h.last_error = msg;
                    });
                    backoff(failures)
                }
            };
            // Wait for the next cycle, a locally stored message, or a pushed batch.
            let deadline = tokio::time::sleep(wait);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    _ = &mut deadline => break,
                    m = bus.recv() => match m {
                        Ok(nw) if nw.wire.circle_id == self.circle.circle_id && nw.source.is_none() && failures == 0 => break,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => { ws.abort(); return; }
                    },
                    Some(batch) = pushed_rx.recv() => self.store_pulled(batch).await,
                    // The push connection dropped: find out now whether the relay is
                    // still there, instead of trusting the last poll for half a minute.
                    _ = push.lost.notified() => break,
                }
            }
        }
    }

    fn health(&self, f: impl FnOnce(&mut RelayHealth)) {
        self.node.counters().relay_health(&self.url, |h| {
            h.last_attempt = now_ts();
            f(h);
        });
    }

    fn push_connected(&self) -> bool {
        self.node
            .counters()
            .relay
            .lock()
            .map(|h| h.push_connected)
            .unwrap_or(false)
    }

    async fn register_and_peers(
        &self,
        advertise: &str,
        can_anchor: bool,
    ) -> Result<(), RelayClientError> {
        self.client.register(advertise, can_anchor, TTL_S).await?;
        // A relay's list is hearsay: its entries are only dial candidates.
        let named = self
            .client
            .peers()
            .await?
            .into_iter()
            .map(|p| (p.node_id, p.addr))
            .collect();
        if let Err(e) = self
            .node
            .add_candidates(&self.circle.circle_id, Source::Relay, named)
            .await
        {
            tracing::warn!("cannot record the relay's peers as dial candidates: {e}");
        }
        Ok(())
    }

    async fn cursor(&self, key: String) -> Result<Option<String>, RelayClientError> {
        let cid = self.circle.circle_id.clone();
        self.node
            .store()
            .read(move |conn| cursors::get(conn, &cid, &key))
            .await
            .map_err(|e| RelayClientError::BadAnswer(format!("store: {e}")))
    }

    async fn save_cursor(&self, key: String, value: String) -> Result<(), RelayClientError> {
        let cid = self.circle.circle_id.clone();
        self.node
            .store()
            .write(move |conn| cursors::set(conn, &cid, &key, &value))
            .await
            .map_err(|e| RelayClientError::BadAnswer(format!("store: {e}")))
    }

    /// Pushes everything stored since the last successful push.
    async fn push(&mut self) -> Result<(), RelayClientError> {
        let mut mark: i64 = self
            .cursor(push_key(&self.url))
            .await?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        loop {
            let cid = self.circle.circle_id.clone();
            let batch = self
                .node
                .store()
                .read(move |conn| message_sql::after_seq(conn, &cid, mark, RELAY_PUSH_BATCH))
                .await
                .map_err(|e| RelayClientError::BadAnswer(format!("store: {e}")))?;
            let Some(last) = batch.last().map(|m| m.seq) else {
                return Ok(());
            };
            let envelopes: Vec<_> = batch
                .iter()
                .filter(|m| !self.pulled_set.contains(&m.wire.msg_id))
                .filter(|m| m.wire.text.len() <= felund_wire::limits::MAX_TEXT_BYTES)
                .map(|m| {
                    m.wire
                        .seal_relay_envelope(&self.circle.secret, random_nonce12())
                        .to_value()
                })
                .collect();
            if !envelopes.is_empty() {
                self.client.push(envelopes).await?;
            }
            mark = last;
            self.save_cursor(push_key(&self.url), mark.to_string())
                .await?;
        }
    }

    /// Pulls everything new, page by page.
    async fn pull(&mut self) -> Result<(), RelayClientError> {
        let saved = self.cursor(pull_key(&self.url)).await?;
        let mut cursor = parse_cursor(saved.as_deref());
        for _ in 0..MAX_PAGES {
            let page = match self.client.pull(cursor, self.pull_limit).await {
                Ok(page) => page,
                Err(RelayClientError::TooLarge { declared, .. }) if self.pull_limit > 1 => {
                    let smaller = smaller_page(self.pull_limit, declared);
                    tracing::warn!(relay = %self.url, circle = %self.circle.circle_id,
                        from = self.pull_limit, to = smaller,
                        "relay answer over {MAX_RELAY_ANSWER_BYTES} bytes; asking for smaller pages");
                    self.pull_limit = smaller;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if page.bytes < MAX_RELAY_ANSWER_BYTES / 4 {
                self.pull_limit = (self.pull_limit * 2).min(RELAY_PULL_LIMIT);
            }
            let more = page.more;
            let next = match page.cursor {
                Some(seq) => PullCursor::AfterSeq(seq),
                // Same-second storage can be missed with `since = server_time`; step
                // back one second and let dedup absorb the overlap.
                None => PullCursor::Since((page.server_time - 1).max(0)),
            };
            self.store_pulled(page.objects).await;
            if next != cursor {
                cursor = next;
                self.save_cursor(pull_key(&self.url), format_cursor(cursor))
                    .await?;
            }
            if !more {
                break;
            }
        }
        Ok(())
    }

    /// Verifies and stores pulled or pushed relay objects, one log line for the oversized
    /// ones a relay sent.
    async fn store_pulled(&mut self, objects: Objects) {
        if objects.skipped > 0 {
            tracing::warn!(relay = %self.url, circle = %self.circle.circle_id,
                skipped = objects.skipped, skipped_bytes = objects.skipped_bytes,
                "relay sent objects over {MAX_RELAY_OBJECT_BYTES} bytes, larger than any real message; skipped them");
        }
        if objects.kept.is_empty() {
            return;
        }
        let source = format!("relay:{}", self.url);
        let (pulled, pulled_set) = (&mut self.pulled, &mut self.pulled_set);
        // Parsed one at a time, each dropped once verified: a small object can still take
        // many times its size as a `Value`.
        let values = objects.kept.iter().map(|raw| {
            let v: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
            if let Some(id) = v.get("msg_id").and_then(Value::as_str) {
                remember(pulled, pulled_set, id);
            }
            v
        });
        match receive::relay_envelopes(&self.node, &self.circle, values, &source).await {
            Ok(r) if r.rejected > 0 => {
                tracing::warn!(relay = %self.url, rejected = r.rejected, "relay sent messages that fail verification")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot store relay messages: {e}"),
        }
    }
}

/// Remembers a pulled msg_id (so it is not pushed back), forgetting the oldest beyond
/// [`PULLED_MEMORY`]. Ids longer than any real one are not remembered: they cannot match a
/// stored message, and would let a relay fill this memory.
fn remember(pulled: &mut VecDeque<String>, pulled_set: &mut HashSet<String>, id: &str) {
    if id.len() > MAX_MSG_ID_BYTES || !pulled_set.insert(id.to_string()) {
        return;
    }
    pulled.push_back(id.to_string());
    if pulled.len() > PULLED_MEMORY {
        if let Some(old) = pulled.pop_front() {
            pulled_set.remove(&old);
        }
    }
}

/// The page size to ask for after a page of `limit` was too large: what would have fitted
/// in three quarters of the cap, judging by the size the relay announced, else an eighth;
/// always at most half and at least one.
fn smaller_page(limit: u32, declared: Option<u64>) -> u32 {
    let guess = match declared {
        Some(len) if len > 0 => {
            (u64::from(limit) * (MAX_RELAY_ANSWER_BYTES as u64 * 3 / 4) / len) as u32
        }
        _ => limit / 8,
    };
    guess.min(limit / 2).max(1)
}

fn parse_cursor(saved: Option<&str>) -> PullCursor {
    let v: serde_json::Value = saved
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    if let Some(seq) = v.get("after_seq").and_then(|x| x.as_i64()) {
        PullCursor::AfterSeq(seq)
    } else {
        PullCursor::Since(v.get("since").and_then(|x| x.as_i64()).unwrap_or(0))
    }
}

fn format_cursor(c: PullCursor) -> String {
    match c {
        PullCursor::AfterSeq(n) => json!({ "after_seq": n }).to_string(),
        PullCursor::Since(s) => json!({ "since": s }).to_string(),
    }
}

/// 2 s × 2^(failures-1), capped, ±25 % jitter.
fn backoff(failures: u32) -> Duration {
    RETRY.delay(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_default_to_since_zero() {
        for c in [PullCursor::AfterSeq(42), PullCursor::Since(1_700_000_000)] {
            assert_eq!(parse_cursor(Some(&format_cursor(c))), c);
        }
        assert_eq!(parse_cursor(None), PullCursor::Since(0));
        assert_eq!(parse_cursor(Some("garbage")), PullCursor::Since(0));
    }

    #[test]
    fn a_too_large_page_shrinks_to_what_fits_and_never_below_one() {
        let cap = MAX_RELAY_ANSWER_BYTES as u64;
        // 500 objects of 1 MB announced: ask for what fits three quarters of the cap.
        let n = smaller_page(500, Some(500 * 1_000_000));
        assert!(n > 1 && u64::from(n) * 1_000_000 <= cap * 3 / 4, "{n}");
        // Barely over: still at least halve. Unknown size: an eighth.
        assert_eq!(smaller_page(500, Some(cap + 1)), 250);
        assert_eq!(smaller_page(500, None), 62);
        assert_eq!(smaller_page(2, None), 1);
        assert_eq!(smaller_page(2, Some(u64::MAX)), 1);
    }

    #[test]
    fn pulled_memory_ignores_ids_longer_than_any_real_one() {
        let (mut q, mut set) = (VecDeque::new(), HashSet::new());
        remember(&mut q, &mut set, "a-real-id");
        remember(&mut q, &mut set, &"x".repeat(MAX_MSG_ID_BYTES + 1));
        remember(&mut q, &mut set, "a-real-id");
        assert_eq!(q.len(), 1);
        assert!(set.contains("a-real-id"));
    }
}
