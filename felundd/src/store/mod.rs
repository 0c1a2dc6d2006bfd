//! The state store: one SQLite file (WAL mode) holding everything felundd knows.
//!
//! All writes go through one writer thread ([`writer`]) that batches whatever is
//! queued into a single transaction (group commit), so many concurrent sends cost one
//! fsync instead of one each. A write's future resolves only after its transaction
//! has committed: an acknowledged write is on disk. Reads use a separate connection;
//! WAL lets them run while the writer commits.
//!
//! The SQL lives in small modules per table group (`circles`, `messages`, `channels`,
//! `peers`, `anchors`, `meta`, ...); each takes a plain `&Connection` so it runs inside the writer's
//! transaction or on the read connection alike.

pub mod anchors;
pub mod candidates;
pub mod channels;
pub mod circles;
pub mod cursors;
pub mod messages;
pub mod meta;
pub mod peers;
pub mod read_markers;
mod schema;
mod writer;

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

/// The file name of the state database inside the state directory.
pub const DB_FILE: &str = "felund.sqlite";

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed an operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The state directory or file could not be created or opened.
    #[error("cannot use state directory {path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database was written by a newer felundd.
    #[error("the state database has schema version {found}, newer than this felundd understands ({supported}); upgrade felundd")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
    /// Stored data that should be valid is not (e.g. a corrupt envelope column).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The writer thread is gone (the daemon is shutting down).
    #[error("the store is closed")]
    Closed,
}

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Handle to the state store. Cheap to clone; all clones share one writer and one
/// read connection.
#[derive(Clone)]
pub struct StateStore {
    writer: writer::Writer,
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl StateStore {
    /// Opens (creating if needed) the store in `state_dir`: the directory is made
    /// 0700 and the database file 0600, the schema is migrated, WAL is enabled.
    pub fn open(state_dir: &Path) -> StoreResult<Self> {
        create_private_dir(state_dir)?;
        let path = state_dir.join(DB_FILE);
        let mut write_conn = open_connection(&path, true)?;
        schema::migrate(&mut write_conn)?;
        restrict_file(&path)?;
        let read_conn = open_connection(&path, false)?;
        Ok(Self {
            writer: writer::Writer::spawn(write_conn),
            reader: Arc::new(Mutex::new(read_conn)),
            path,
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` inside the writer's transaction; resolves once it has committed.
    /// If `f` fails, its changes are rolled back and the error returned; other
    /// writes batched with it are unaffected.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.writer.run(f).await
    }

    /// Like [`write`](Self::write), for the hot path (sends, received messages): `f`
    /// may run more than once (after a rollback caused by another job of its batch),
    /// so it must have no effect outside the connection. Such jobs share a
    /// transaction without a savepoint each (see `writer`). The job is queued when
    /// this is called, not when the future is first polled: writes queued in some
    /// order commit in that order.
    pub fn write_repeatable<T, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = StoreResult<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.writer.run_repeatable(f)
    }

    /// Runs `f` on the read connection (on a blocking thread).
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite half-written (reads
            // only), so a poisoned lock is safe to reuse.
            let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Frees the cached pages neither connection is using (after a burst; see
    /// `memory`).
    pub async fn release_memory(&self) -> StoreResult<()> {
        let shrink = |conn: &Connection| Ok(conn.execute_batch("PRAGMA shrink_memory")?);
        self.read(shrink).await?;
        self.write(shrink).await
    }

    /// Synchronous read, for start-up code that runs before the runtime serves.
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }
}

fn open_connection(path: &Path, writer: bool) -> StoreResult<Connection> {
    let flags = if writer {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // Every hot statement is prepared once and kept (`prepare_cached`); rusqlite's
    // default cache of 16 is smaller than the set the ingest path and the sync use.
    conn.set_prepared_statement_cache_capacity(crate::limits::STATEMENT_CACHE);
    // Negative: KiB rather than pages.
    conn.pragma_update(None, "cache_size", -crate::limits::SQLITE_CACHE_KIB)?;
    if writer {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is fsynced before the writer acknowledges it. Group commit
        // keeps this affordable.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    Ok(conn)
}

/// Creates `dir` (and parents) with mode 0700, and tightens it if it already exists.
pub fn create_private_dir(dir: &Path) -> StoreResult<()> {
    let io = |source| StoreError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)
}

fn restrict_file(path: &Path) -> StoreResult<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{}", path.display(), suffix));
        if p.exists() {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).map_err(|source| {
                StoreError::Io {
                    path: p.clone(),
                    source,
                }
            })?;
        }
    }
    Ok(())
}
