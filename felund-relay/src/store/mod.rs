//! Storage behind one trait, so handlers never know which backend they use.
//!
//! [`RelayStore`] is everything the relay persists: presence records with their signing keys,
//! signature nonces, relay messages, signals and signal rate-limit counters. Everything that
//! must hold across several relay instances sharing one database (nonce replay, rate limits,
//! message sequence numbers) is decided inside the store, atomically, never in process memory.
//! [`SqliteStore`] is the embedded SQLite implementation; [`PgStore`] the PostgreSQL one that
//! several relay instances can share (with [`PgHub`] carrying pushes between them).

pub mod postgres;
pub mod since_pos;
mod sqlite;

use async_trait::async_trait;

pub use postgres::{PgHub, PgOptions, PgStore};
pub use sqlite::SqliteStore;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot serve now (busy, locked, cannot open); maps to HTTP 503.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Any other backend failure; maps to HTTP 500.
    #[error("storage failure: {0}")]
    Backend(String),
    /// Filesystem failure while opening the store.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The store cannot be set up as configured (bad URL, schema newer than this binary).
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// One node's presence in one circle under one signing key (the whole record is replaced on
/// every register with that key). Records are partitioned by key: `(circle_hint, node_id,
/// signing_key)` is the identity, so a registration never touches the records of other keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceRecord {
    /// The circle hint.
    pub circle_hint: String,
    /// The node id.
    pub node_id: String,
    /// The validated endpoints array, as JSON text.
    pub endpoints: String,
    /// The normalised capabilities object, as JSON text.
    pub capabilities: String,
    /// Server time of the registration.
    pub observed_at: i64,
    /// Server time after which the record is dead.
    pub expires_at: i64,
    /// Lowercase hex API signing key, or empty when registered without one.
    pub signing_key: String,
    /// The client address that registered (refreshed) it; empty when unknown.
    pub client_addr: String,
}

/// The bounds a registration is checked against (see [`RelayStore::put_presence`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceLimits {
    /// Most distinct live signing keys in one circle hint. An honest circle has one (every
    /// member derives the same key), so further keys are outsiders'.
    pub max_keys_per_hint: u32,
    /// Most live records (nodes) under one key in one hint (unsigned records count as one key).
    pub max_nodes_per_key: u32,
    /// Most distinct live signing keys one client address may register under in one hint.
    pub max_keys_per_address: u32,
}

/// What became of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceOutcome {
    /// Stored or refreshed.
    Stored,
    /// Refused: the hint already has [`PresenceLimits::max_keys_per_hint`] other live keys.
    TooManyKeys,
    /// Refused: this client address already registered
    /// [`PresenceLimits::max_keys_per_address`] other keys in the hint.
    AddressUsesOtherKeys,
}

/// How much one pull page may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit {
    /// Most messages.
    pub rows: u32,
    /// Most payload bytes (the first message is always returned, whatever its size).
    pub bytes: usize,
}

impl PageLimit {
    /// At most `rows` messages, whatever their size.
    pub fn rows(rows: u32) -> Self {
        Self {
            rows,
            bytes: usize::MAX,
        }
    }
}

/// Cuts a page from rows in cursor order: at most `limit.rows` of them and `limit.bytes` of
/// `size` (but at least one row); `more` when a row was left over.
pub(crate) fn take_within<T>(
    rows: impl IntoIterator<Item = T>,
    limit: PageLimit,
    size: impl Fn(&T) -> usize,
) -> (Vec<T>, bool) {
    let mut page = Vec::new();
    let mut bytes = 0_usize;
    for row in rows {
        let len = size(&row);
        let full = page.len() >= limit.rows as usize
            || (!page.is_empty() && bytes.saturating_add(len) > limit.bytes);
        if full {
            return (page, true);
        }
        bytes = bytes.saturating_add(len);
        page.push(row);
    }
    (page, false)
}

/// [`take_within`] for messages, sized by payload.
pub(crate) fn take_page(
    rows: impl IntoIterator<Item = StoredMessage>,
    limit: PageLimit,
) -> (Vec<StoredMessage>, bool) {
    take_within(rows, limit, |m| m.payload.len())
}

/// A message to store: its id, the author's created_ts and the exact JSON object received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The msg_id (globally unique: the first stored copy wins).
    pub msg_id: String,
    /// The message's created_ts.
    pub created_ts: i64,
    /// The message object exactly as received (JSON text).
    pub payload: String,
}

/// One `POST /v1/messages` worth of messages to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBatch {
    /// The circle they are posted to.
    pub circle_hint: String,
    /// The messages, in the order received.
    pub messages: Vec<NewMessage>,
    /// Server time of the request; the messages' `stored_at` is at least this (see
    /// [`RelayStore::insert_messages`]).
    pub now: i64,
    /// Server time after which they are no longer served.
    pub expires_at: i64,
    /// The poster's `X-Felund-Node`, if any: a backend that notifies other relay instances
    /// passes it on so their WebSocket push skips the poster's own sockets too.
    pub sender_node: Option<String>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Sequence number: increases with every stored message, never reused.
    pub seq: i64,
    /// The msg_id.
    pub msg_id: String,
    /// Server time at which it was stored (the WebSocket replay's window compares with this).
    pub stored_at: i64,
    /// Its position on the reference `since` cursor (see [`since_pos`]): at least
    /// `stored_at`, and at least [`since_pos::SINCE_POS_STEP`] above the previous message of
    /// its circle.
    pub pos: i64,
    /// The message object exactly as received (JSON text).
    pub payload: String,
}

/// Where a pull starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageCursor {
    /// The reference cursor: messages with `pos > since`, by pos (= by seq). Raises the time
    /// floor (see [`RelayStore::pull_messages`]).
    Since(i64),
    /// The lossless cursor: messages with `seq > after_seq`, by seq.
    AfterSeq(i64),
    /// Messages stored (server time, `stored_at`) after the given time, by seq: the WebSocket
    /// replay's window. Leaves the time floor alone.
    StoredAfter(i64),
}

/// One page of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePage {
    /// The messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// More messages match the same cursor beyond this page.
    pub more: bool,
    /// The highest seq ever stored in the circle (0 if none is stored).
    pub max_seq: i64,
    /// The lowest `pos` any message of the circle stored after this pull can get: every
    /// message this pull could not see gets at least this (see [`since_pos`]).
    pub next_pos: i64,
}

impl MessagePage {
    /// The `server_time` a `since` pull answers: the reference clients' next cursor, chosen so
    /// that both of their rules — `since = server_time` (the Python client) and
    /// `since = max(since, server_time - 1)` (the web client) — resume exactly after this page,
    /// without losing or repeating a message (see [`since_pos`]).
    pub fn since_server_time(&self) -> i64 {
        match self.messages.last() {
            // A cut page: resume right after its last message. The next one is at least
            // SINCE_POS_STEP (2) further, so `pos + 1` and `pos` both fall in the gap.
            Some(last) if self.more => last.pos + 1,
            // Everything was returned: every later message gets `pos >= next_pos`.
            _ => self.next_pos - 1,
        }
    }
}

/// A signal to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignal {
    /// Call session id.
    pub session_id: String,
    /// Sender node id.
    pub from_node: String,
    /// Recipient node id.
    pub to_node: String,
    /// Circle hint given by the sender.
    pub circle_hint: String,
    /// Signal type (`offer`, `answer`, `candidate`, `media-*`).
    pub kind: String,
    /// Opaque payload.
    pub payload: String,
    /// Server time of storage.
    pub created_at: i64,
    /// Server time after which it is no longer delivered.
    pub expires_at: i64,
}

/// A stored signal as delivered by `GET /v1/signal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalRecord {
    /// Increasing id (the `since_id` cursor).
    pub id: i64,
    /// Call session id.
    pub session_id: String,
    /// Sender node id.
    pub from_node: String,
    /// Recipient node id.
    pub to_node: String,
    /// Signal type.
    pub kind: String,
    /// Opaque payload.
    pub payload: String,
    /// Server time of storage.
    pub created_at: i64,
}

/// A fixed-window rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u32,
    /// Window length, seconds.
    pub window_s: i64,
}

/// What a retention pass removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Nonces with `ts` older than `now - nonce_window_s` are forgotten.
    pub nonce_window_s: i64,
    /// Rate-limit buckets whose window started before `now - 2 * rate_window_s` are dropped.
    pub rate_window_s: i64,
}

/// What a retention pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Expired presence records.
    pub presence: usize,
    /// Expired messages.
    pub messages: usize,
    /// Old nonces.
    pub nonces: usize,
    /// Expired signals.
    pub signals: usize,
    /// Stale rate-limit buckets.
    pub rate_buckets: usize,
    /// Circles' `next_pos` rows that the time floor has caught up with (they no longer raise
    /// any position; see [`since_pos`]).
    pub circle_clocks: usize,
}

impl PruneReport {
    /// Total rows removed.
    pub fn total(&self) -> usize {
        self.presence
            + self.messages
            + self.nonces
            + self.signals
            + self.rate_buckets
            + self.circle_clocks
    }
}

/// Everything the relay persists. Implementations must be safe to share between tasks and,
/// for backends that several relay instances share, must make the check-and-set operations
/// ([`claim_nonce`](Self::claim_nonce), [`hit_signal_rate`](Self::hit_signal_rate),
/// [`insert_messages`](Self::insert_messages)) atomic across instances.
#[async_trait]
pub trait RelayStore: Send + Sync + 'static {
    /// Inserts or wholly replaces the record `(circle_hint, node_id, signing_key)`, atomically
    /// with its checks (`record.observed_at` is now): expired records of the hint are dropped;
    /// a new key is refused when the hint already has `max_keys_per_hint` live keys or the
    /// client address already registered `max_keys_per_address` other keys there; a new node
    /// in a full key group evicts the least recently refreshed record **of the same key**, so
    /// only holders of a key can displace its records.
    async fn put_presence(
        &self,
        record: PresenceRecord,
        limits: PresenceLimits,
    ) -> StoreResult<PresenceOutcome>;

    /// The non-empty signing keys of the live registrations of `(circle_hint, node_id)`,
    /// most recently refreshed first, at most `limit`.
    async fn signing_keys(
        &self,
        circle_hint: &str,
        node_id: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<String>>;

    /// Live records of a circle registered with `signing_key`, newest `observed_at` first,
    /// without `exclude_node`.
    async fn live_peers(
        &self,
        circle_hint: &str,
        signing_key: &str,
        exclude_node: Option<&str>,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<PresenceRecord>>;

    /// Deletes the record `(circle_hint, node_id, signing_key)`; true if one existed.
    async fn remove_presence(
        &self,
        circle_hint: &str,
        node_id: &str,
        signing_key: &str,
    ) -> StoreResult<bool>;

    /// True if `nonce` was claimed with a `ts >= not_before`.
    async fn nonce_seen(&self, nonce: &str, not_before: i64) -> StoreResult<bool>;

    /// Atomically claims `nonce` (remembering `ts`); false if it is already claimed with a
    /// `ts >= not_before` (a concurrent replay).
    async fn claim_nonce(&self, nonce: &str, ts: i64, not_before: i64) -> StoreResult<bool>;

    /// Stores the messages whose msg_id is not stored yet, in order, each with the next seq;
    /// returns the newly stored ones. Returns only after they are durably committed.
    ///
    /// Seqs must become visible in increasing order: a pull must never see seq `n + 1` while
    /// seq `n` can still appear later (otherwise an `after_seq` cursor could step over a late
    /// commit). SQLite serialises writers; PostgreSQL assigns seqs under a row lock held until
    /// commit.
    ///
    /// `stored_at` is `max(batch.now, time floor)`, where the time floor is the largest `now`
    /// of any earlier batch or `Since` pull (see [`pull_messages`](Self::pull_messages)), so
    /// stored_at never decreases along seq. Positions (`pos`) start at the circle's next free
    /// position and are [`since_pos::SINCE_POS_STEP`] apart; only newly stored messages take
    /// one (see [`since_pos`]).
    async fn insert_messages(&self, batch: MessageBatch) -> StoreResult<Vec<StoredMessage>>;

    /// Unexpired messages of a circle after `cursor`, oldest first, within `limit` (rows and
    /// payload bytes; the first message always fits); never reads much more than the page.
    ///
    /// A `Since` pull first raises the store's time floor to `now` (waiting for a batch that
    /// is being committed), then reads the page and [`MessagePage::next_pos`] in one snapshot,
    /// so every message this pull does not see gets `pos >= next_pos`: a client resuming from
    /// [`MessagePage::since_server_time`] misses nothing, even when it alternates between relay
    /// instances whose clocks differ (see [`since_pos`]).
    async fn pull_messages(
        &self,
        circle_hint: &str,
        cursor: MessageCursor,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<MessagePage>;

    /// Counts one signal POST of `node` in its fixed window; false (and not counted) when the
    /// window already holds `limit.limit` requests.
    async fn hit_signal_rate(&self, node: &str, now: i64, limit: RateLimit) -> StoreResult<bool>;

    /// Stores a signal; returns its id (ids become visible in increasing order, like seqs).
    async fn insert_signal(&self, signal: NewSignal) -> StoreResult<i64>;

    /// Unexpired signals for `to_node` with `id > since_id` (and the given session, if any),
    /// by id, within `limit` (rows, and payload bytes: the first signal always fits); never
    /// reads much more than that from the backend.
    async fn pending_signals(
        &self,
        to_node: &str,
        since_id: i64,
        session_id: Option<&str>,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<Vec<SignalRecord>>;

    /// Removes expired registrations, messages and signals, old nonces and rate buckets.
    async fn prune(&self, now: i64, policy: PrunePolicy) -> StoreResult<PruneReport>;

    /// One round trip to the database (the readiness check); fails as any other call would
    /// while it is unreachable.
    async fn ping(&self) -> StoreResult<()>;

    /// How the backend's connection pool is used, if it has one (for the metrics).
    fn pool_usage(&self) -> Option<PoolUsage> {
        None
    }
}

/// Connections of a backend's pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// Open and lent to a request.
    pub in_use: u32,
    /// Open and waiting.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}
