//! `felund-relay migrate --from-db PATH --to-database-url URL`: moves a SQLite relay into an
//! empty PostgreSQL database, so a relay outgrowing SQLite keeps its URL, its clients' cursors
//! and whatever waits for a node.
//!
//! What is copied: presence records (with their signing keys, so members' signed requests
//! verify at once), messages with their seqs, storage times, expiry and `since` positions,
//! each circle's next position and the time floor (so neither cursor — `after_seq` nor the
//! reference `since` — goes backwards or skips), nonces (a request signed moments before the
//! move cannot be replayed after it) and signals with their ids. The PostgreSQL sequences are
//! set above the SQLite high-water marks (`sqlite_sequence`, which counts pruned rows too), so
//! no seq or signal id is ever handed out twice. Signal rate-limit windows (10 s) are not
//! copied.
//!
//! The copy is one PostgreSQL transaction: all of it or nothing. It refuses a target that
//! already holds messages, presence or signals. The SQLite file is read in one read
//! transaction (a consistent snapshot) and streamed in chunks of [`CHUNK_ROWS`], so memory
//! stays bounded whatever its size; it is upgraded to the current schema first (as starting
//! felund-relay on it would). Stop the SQLite relay before the copy: what it stores afterwards
//! is not carried over.

mod export;
mod import;

use std::path::Path;

use crate::store::{PgOptions, PgStore, StoreError, StoreResult};
use crate::SqliteStore;

/// Rows per chunk streamed from SQLite to PostgreSQL (messages are at most
/// [`crate::limits::MAX_OBJECT_BYTES`] each, so a chunk stays within about 11 MB).
pub const CHUNK_ROWS: usize = 256;

/// Chunks waiting between the SQLite reader and the PostgreSQL writer.
const CHUNKS_IN_FLIGHT: usize = 2;

/// One row of `presence`.
#[derive(Debug, Clone)]
pub(crate) struct PresenceRow {
    pub circle_hint: String,
    pub node_id: String,
    pub signing_key: String,
    pub endpoints: String,
    pub capabilities: String,
    pub observed_at: i64,
    pub expires_at: i64,
    pub client_addr: String,
}

/// One row of `relay_messages`.
#[derive(Debug, Clone)]
pub(crate) struct MessageRow {
    pub seq: i64,
    pub msg_id: String,
    pub circle_hint: String,
    pub payload: String,
    pub created_ts: i64,
    pub stored_at: i64,
    pub expires_at: i64,
    pub pos: i64,
}

/// One row of `signal_messages`.
#[derive(Debug, Clone)]
pub(crate) struct SignalRow {
    pub id: i64,
    pub session_id: String,
    pub from_node: String,
    pub to_node: String,
    pub circle_hint: String,
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What the SQLite side streams, in this order: rows by table, then the marks.
#[derive(Debug)]
pub(crate) enum Chunk {
    Presence(Vec<PresenceRow>),
    Messages(Vec<MessageRow>),
    /// `(circle_hint, next_pos)`.
    CircleClocks(Vec<(String, i64)>),
    /// `(nonce, ts)`.
    Nonces(Vec<(String, i64)>),
    Signals(Vec<SignalRow>),
    /// The time floor and the highest seq and signal id ever handed out.
    Marks {
        time_floor: i64,
        seq_high: i64,
        signal_high: i64,
    },
}

/// What was copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MigrateReport {
    /// Presence records.
    pub presence: u64,
    /// Messages.
    pub messages: u64,
    /// Circles' next positions.
    pub circle_clocks: u64,
    /// Nonces.
    pub nonces: u64,
    /// Signals.
    pub signals: u64,
    /// The highest seq handed out by the SQLite relay; PostgreSQL continues above it.
    pub seq_high: i64,
}

/// Copies the relay database at `from` into the PostgreSQL database at `to_url` (see the
/// module docs). The URL is never part of an error message.
pub async fn sqlite_to_postgres(from: &Path, to_url: &str) -> StoreResult<MigrateReport> {
    // A typo must not "migrate" a freshly created empty file.
    if !from.is_file() {
        return Err(StoreError::Config(format!(
            "{} is not a felund-relay SQLite database file",
            from.display()
        )));
    }
    drop(SqliteStore::open(from)?);
    let target = PgStore::connect(
        to_url,
        PgOptions {
            max_connections: 1,
            ..PgOptions::default()
        },
    )
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
    let path = from.to_owned();
    let reader = tokio::task::spawn_blocking(move || export::run(&path, &tx));
    let imported = import::run(target.pool(), rx).await;
    let exported = reader
        .await
        .map_err(|err| StoreError::Backend(format!("reader task failed: {err}")))?;
    target.close().await;
    // A reader failure surfaces as an import of a truncated stream: report the reader's.
    exported.map_err(|err| StoreError::Backend(format!("reading {}: {err}", from.display())))?;
    imported
}
