//! [`PgStore`]: the [`RelayStore`] on PostgreSQL, shared by any number of relay instances, and
//! [`PgHub`], the push hub fed by PostgreSQL `LISTEN/NOTIFY`.
//!
//! Everything several instances must agree on is decided in the database:
//!
//! - message seqs are drawn while the single `relay_clock` row is locked (`UPDATE ... RETURNING`
//!   at the start of the insert transaction, held until commit), so seqs commit — and become
//!   visible — in increasing order: an `after_seq` reader never sees seq `n + 1` before `n`;
//! - the same row carries the time floor that keeps the `since` cursor lossless across
//!   instances (see [`RelayStore::pull_messages`]), and while it is locked an insert reads and
//!   advances its circle's next position (`circle_clock`, see [`super::since_pos`]);
//! - nonces and signal rate limits are single atomic upserts;
//! - signal ids are drawn under a transaction-level advisory lock (ids visible in order);
//! - a retention pass runs only if it gets a transaction-level advisory lock, so two instances
//!   never prune at once;
//! - the insert transaction also sends `NOTIFY felund_relay_push` with the circle, the seq
//!   range and the poster; PostgreSQL delivers it, to every instance, only if it commits.
//!
//! The driver is `sqlx` (pure Rust) with TLS by rustls: `sslmode=require` encrypts,
//! `sslmode=verify-full` also checks the server's certificate and name against the system's
//! CA store and `sslrootcert=PATH`; the push feed's connection uses the same settings.
//! Connection failures map to [`StoreError::Unavailable`] (HTTP 503); the pool reconnects by
//! itself when the database is back. Statements are only acknowledged after commit, so
//! nothing answered with 200 is lost.

mod hub;
pub mod migrate;
mod queries;
mod signal_queries;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{
    MessageBatch, MessageCursor, MessagePage, NewSignal, PageLimit, PoolUsage, PresenceLimits,
    PresenceOutcome, PresenceRecord, PrunePolicy, PruneReport, RateLimit, RelayStore, SignalRecord,
    StoreError, StoreResult, StoredMessage,
};

pub use hub::PgHub;

/// The `NOTIFY` channel of new messages.
pub const PUSH_CHANNEL: &str = "felund_relay_push";

/// Advisory lock keys (one namespace: "felund-relay" in ASCII, then a small number).
const LOCK_BASE: i64 = 0x6665_6c75_6e64_0000;
/// Held while migrations run.
const MIGRATION_LOCK: i64 = LOCK_BASE + 1;
/// Held while a signal id is drawn and committed.
const SIGNAL_LOCK: i64 = LOCK_BASE + 2;
/// Held by the instance running a retention pass.
const PRUNE_LOCK: i64 = LOCK_BASE + 3;
/// First key of the two-key advisory locks that serialise registrations per circle hint (the
/// second is `hashtext(circle_hint)`); two-key locks never collide with the one-key ones above.
const PRESENCE_LOCK_SPACE: i32 = 0x6665_6c75;

/// Connection settings of a [`PgStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgOptions {
    /// Most connections the instance opens for requests (the push feed uses one more).
    pub max_connections: u32,
    /// How long a request waits for a connection (for example while the database restarts)
    /// before it is answered 503.
    pub acquire_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The PostgreSQL implementation of [`RelayStore`]. Cloning shares the pool.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    connect: Arc<PgConnectOptions>,
    options: PgOptions,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Maps a driver error: connection-level and transient server conditions are
/// [`StoreError::Unavailable`] (503), everything else [`StoreError::Backend`] (500).
pub(crate) fn map_err(err: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    let transient = match &err {
        E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed => true,
        E::WorkerCrashed | E::BeginFailed => true,
        // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention:
        // shutdown, restart, cancel); 40001/40P01 (serialisation, deadlock): worth a retry.
        E::Database(db) => db.code().is_some_and(|code| {
            ["08", "53", "57"]
                .iter()
                .any(|class| code.starts_with(class))
                || code == "40001"
                || code == "40P01"
        }),
        _ => false,
    };
    if transient {
        StoreError::Unavailable(err.to_string())
    } else {
        StoreError::Backend(err.to_string())
    }
}

fn pool_with(connect: &PgConnectOptions, max: u32, acquire_timeout: Duration) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max.max(1))
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        // A connection idle across a database restart is found dead before use, not by the
        // request that gets it.
        .test_before_acquire(true)
        .connect_lazy_with(connect.clone())
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/dbname`, or a libpq key/value
    /// string) and applies the missing schema migrations. Fails when the database cannot be
    /// reached within `options.acquire_timeout`.
    pub async fn connect(url: &str, options: PgOptions) -> StoreResult<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|err| StoreError::Config(format!("invalid database URL: {err}")))?
            .application_name("felund-relay");
        let pool = pool_with(&connect, options.max_connections, options.acquire_timeout);
        migrate::run(&pool).await?;
        Ok(Self {
            pool,
            connect: Arc::new(connect),
            options,
        })
    }

    /// The request pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A separate one-connection pool for the push feed's `LISTEN` connection.
    fn listener_pool(&self) -> PgPool {
        pool_with(&self.connect, 1, self.options.acquire_timeout)
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl RelayStore for PgStore {
    async fn put_presence(
        &self,
        record: PresenceRecord,
        limits: PresenceLimits,
    ) -> StoreResult<PresenceOutcome> {
        queries::put_presence(&self.pool, &record, limits).await
    }

    async fn signing_keys(
        &self,
        circle_hint: &str,
        node_id: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        queries::signing_keys(&self.pool, circle_hint, node_id, now, limit).await
    }

    async fn live_peers(
        &self,
        circle_hint: &str,
        signing_key: &str,
        exclude_node: Option<&str>,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<PresenceRecord>> {
        queries::live_peers(
            &self.pool,
            circle_hint,
            signing_key,
            exclude_node,
            now,
            limit,
        )
        .await
    }

    async fn remove_presence(
        &self,
        circle_hint: &str,
        node_id: &str,
        signing_key: &str,
    ) -> StoreResult<bool> {
        queries::remove_presence(&self.pool, circle_hint, node_id, signing_key).await
    }

    async fn nonce_seen(&self, nonce: &str, not_before: i64) -> StoreResult<bool> {
        queries::nonce_seen(&self.pool, nonce, not_before).await
    }

    async fn claim_nonce(&self, nonce: &str, ts: i64, not_before: i64) -> StoreResult<bool> {
        queries::claim_nonce(&self.pool, nonce, ts, not_before).await
    }

    async fn insert_messages(&self, batch: MessageBatch) -> StoreResult<Vec<StoredMessage>> {
        queries::insert_messages(&self.pool, &batch).await
    }

    async fn pull_messages(
        &self,
        circle_hint: &str,
        cursor: MessageCursor,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<MessagePage> {
        queries::pull_messages(&self.pool, circle_hint, cursor, now, limit).await
    }

    async fn hit_signal_rate(&self, node: &str, now: i64, limit: RateLimit) -> StoreResult<bool> {
        signal_queries::hit_signal_rate(&self.pool, node, now, limit).await
    }

    async fn insert_signal(&self, signal: NewSignal) -> StoreResult<i64> {
        signal_queries::insert_signal(&self.pool, &signal).await
    }

    async fn pending_signals(
        &self,
        to_node: &str,
        since_id: i64,
        session_id: Option<&str>,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<Vec<SignalRecord>> {
        signal_queries::pending_signals(&self.pool, to_node, since_id, session_id, now, limit).await
    }

    async fn prune(&self, now: i64, policy: PrunePolicy) -> StoreResult<PruneReport> {
        queries::prune(&self.pool, now, policy).await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    fn pool_usage(&self) -> Option<PoolUsage> {
        let open = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        Some(PoolUsage {
            in_use: open.saturating_sub(idle),
            idle,
            max: self.options.max_connections,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_distinct() {
        assert_ne!(MIGRATION_LOCK, SIGNAL_LOCK);
        assert_ne!(SIGNAL_LOCK, PRUNE_LOCK);
    }

    #[test]
    fn pool_errors_are_unavailable() {
        assert!(matches!(
            map_err(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map_err(sqlx::Error::RowNotFound),
            StoreError::Backend(_)
        ));
    }

    #[tokio::test]
    async fn bad_url_is_a_config_error() {
        let err = PgStore::connect("not a url ::", PgOptions::default())
            .await
            .expect_err("refused");
        assert!(matches!(err, StoreError::Config(_)), "{err}");
    }
}
