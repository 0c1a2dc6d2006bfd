//! [`SqliteStore`]: the [`RelayStore`] on one SQLite file (WAL mode, file mode 0600).

mod queries;
mod schema;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode};

use super::{
    MessageBatch, MessageCursor, MessagePage, NewSignal, PageLimit, PresenceLimits,
    PresenceOutcome, PresenceRecord, PrunePolicy, PruneReport, RateLimit, RelayStore, SignalRecord,
    StoreError, StoreResult, StoredMessage,
};

/// The SQLite implementation of [`RelayStore`].
///
/// One connection per store, used from blocking threads. Several relay processes may share
/// the file: check-and-set operations run in `BEGIN IMMEDIATE` transactions or single atomic
/// statements, and a busy database is waited for (8 s) before answering 503.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn map_err(err: rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen) => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Backend(err.to_string()),
    }
}

fn migration_err(err: rusqlite_migration::Error) -> StoreError {
    use rusqlite_migration::{Error, MigrationDefinitionError};
    match err {
        Error::RusqliteError { err, .. } => map_err(err),
        Error::MigrationDefinition(MigrationDefinitionError::DatabaseTooFarAhead) => {
            StoreError::Config(format!(
                "the database has a schema newer than this felund-relay knows (version {}); \
                 upgrade felund-relay",
                schema::STEPS.len()
            ))
        }
        other => StoreError::Backend(format!("schema migration: {other}")),
    }
}

/// Creates `path` with mode 0600 if it does not exist, and makes an existing file 0600.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        options.open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    options.open(path)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`: parent directories are created, the
    /// file is made mode 0600, WAL mode is switched on and the schema is created.
    pub fn open(path: &Path) -> StoreResult<Self> {
        create_private_file(path)?;
        let mut conn = Connection::open(path).map_err(map_err)?;
        schema::prepare(&mut conn).map_err(migration_err)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on a blocking thread.
    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Backend("connection mutex poisoned".into()))?;
            f(&mut guard).map_err(map_err)
        })
        .await
        .map_err(|err| StoreError::Backend(format!("store task failed: {err}")))?
    }
}

#[async_trait]
impl RelayStore for SqliteStore {
    async fn put_presence(
        &self,
        record: PresenceRecord,
        limits: PresenceLimits,
    ) -> StoreResult<PresenceOutcome> {
        self.run(move |c| queries::put_presence(c, &record, limits))
            .await
    }

    async fn signing_keys(
        &self,
        circle_hint: &str,
        node_id: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        let (hint, node) = (circle_hint.to_owned(), node_id.to_owned());
        self.run(move |c| queries::signing_keys(c, &hint, &node, now, limit))
            .await
    }

    async fn live_peers(
        &self,
        circle_hint: &str,
        signing_key: &str,
        exclude_node: Option<&str>,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<PresenceRecord>> {
        let (hint, key) = (circle_hint.to_owned(), signing_key.to_owned());
        let exclude = exclude_node.map(str::to_owned);
        self.run(move |c| queries::live_peers(c, &hint, &key, exclude.as_deref(), now, limit))
            .await
    }

    async fn remove_presence(
        &self,
        circle_hint: &str,
        node_id: &str,
        signing_key: &str,
    ) -> StoreResult<bool> {
        let (hint, node, key) = (
            circle_hint.to_owned(),
            node_id.to_owned(),
            signing_key.to_owned(),
        );
        self.run(move |c| queries::remove_presence(c, &hint, &node, &key))
            .await
    }

    async fn nonce_seen(&self, nonce: &str, not_before: i64) -> StoreResult<bool> {
        let nonce = nonce.to_owned();
        self.run(move |c| queries::nonce_seen(c, &nonce, not_before))
            .await
    }

    async fn claim_nonce(&self, nonce: &str, ts: i64, not_before: i64) -> StoreResult<bool> {
        let nonce = nonce.to_owned();
        self.run(move |c| queries::claim_nonce(c, &nonce, ts, not_before))
            .await
    }

    async fn insert_messages(&self, batch: MessageBatch) -> StoreResult<Vec<StoredMessage>> {
        self.run(move |c| queries::insert_messages(c, &batch)).await
    }

    async fn pull_messages(
        &self,
        circle_hint: &str,
        cursor: MessageCursor,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<MessagePage> {
        let hint = circle_hint.to_owned();
        self.run(move |c| queries::pull_messages(c, &hint, cursor, now, limit))
            .await
    }

    async fn hit_signal_rate(&self, node: &str, now: i64, limit: RateLimit) -> StoreResult<bool> {
        let node = node.to_owned();
        self.run(move |c| queries::hit_signal_rate(c, &node, now, limit))
            .await
    }

    async fn insert_signal(&self, signal: NewSignal) -> StoreResult<i64> {
        self.run(move |c| queries::insert_signal(c, &signal)).await
    }

    async fn pending_signals(
        &self,
        to_node: &str,
        since_id: i64,
        session_id: Option<&str>,
        now: i64,
        limit: PageLimit,
    ) -> StoreResult<Vec<SignalRecord>> {
        let to = to_node.to_owned();
        let session = session_id.map(str::to_owned);
        self.run(move |c| {
            queries::pending_signals(c, &to, since_id, session.as_deref(), now, limit)
        })
        .await
    }

    async fn prune(&self, now: i64, policy: PrunePolicy) -> StoreResult<PruneReport> {
        self.run(move |c| queries::prune(c, now, policy)).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.run(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewMessage;

    fn batch(messages: Vec<NewMessage>, now: i64, expires_at: i64) -> MessageBatch {
        MessageBatch {
            circle_hint: "hinthint".into(),
            messages,
            now,
            expires_at,
            sender_node: None,
        }
    }

    fn msg(id: &str) -> NewMessage {
        NewMessage {
            msg_id: id.into(),
            created_ts: 1,
            payload: format!("{{\"msg_id\":\"{id}\"}}"),
        }
    }

    #[tokio::test]
    async fn file_is_private_and_wal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("relay.sqlite");
        let store = SqliteStore::open(&path).expect("open");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mode: String = store
            .run(|c| c.query_row("PRAGMA journal_mode", [], |r| r.get(0)))
            .await
            .expect("mode");
        assert_eq!(mode, "wal");
        // Reopening an existing database works and keeps the schema.
        drop(store);
        SqliteStore::open(&path).expect("reopen");
    }

    /// A database as a felund-relay of schema `version` left it.
    fn database_at_version(path: &Path, version: i64) -> Connection {
        let conn = Connection::open(path).expect("open");
        for (_, sql) in schema::STEPS.iter().filter(|(step, _)| *step <= version) {
            conn.execute_batch(sql).expect("old schema");
        }
        conn.execute_batch(&format!("PRAGMA user_version={version}"))
            .expect("version");
        conn
    }

    /// Every table, index and trigger with its SQL, by name.
    fn schema_of(path: &Path) -> Vec<(String, String)> {
        let conn = Connection::open(path).expect("open");
        conn.prepare("SELECT name, COALESCE(sql, '') FROM sqlite_master ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("schema")
    }

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .expect("user_version")
    }

    /// A file that any earlier felund-relay left (schema version 0 to the newest, the old
    /// runner's record) continues from its version: the later steps run once, the earlier
    /// ones are not run again, its messages stay, and the schema is a new file's.
    #[tokio::test]
    async fn a_file_an_older_relay_left_at_any_version_continues_from_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fresh = dir.path().join("fresh.sqlite");
        drop(SqliteStore::open(&fresh).expect("fresh"));
        let newest = schema_of(&fresh);
        for version in 0..=schema::STEPS.len() as i64 {
            let path = dir.path().join(format!("v{version}.sqlite"));
            let old = database_at_version(&path, version);
            if version >= 1 {
                old.execute_batch(
                    "INSERT INTO relay_messages (msg_id, circle_hint, payload, created_ts,
                                                 stored_at, expires_at)
                     VALUES ('aaaaaaaa', 'hinthint', '{}', 1, 10, 100)",
                )
                .expect("old row");
            }
            drop(old);
            let store =
                SqliteStore::open(&path).unwrap_or_else(|e| panic!("upgrade from v{version}: {e}"));
            assert_eq!(user_version(&path), schema::STEPS.len() as i64);
            assert_eq!(schema_of(&path), newest, "from v{version}");
            let page = store
                .pull_messages(
                    "hinthint",
                    MessageCursor::AfterSeq(0),
                    30,
                    PageLimit::rows(10),
                )
                .await
                .expect("pull");
            assert_eq!(
                page.messages.len(),
                usize::from(version >= 1),
                "from v{version}"
            );
        }
    }

    #[test]
    fn a_file_of_a_newer_relay_is_refused_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.sqlite");
        let future = schema::STEPS.len() as i64 + 1;
        database_at_version(&path, future - 1)
            .execute_batch(&format!("PRAGMA user_version={future}"))
            .expect("future");
        let Err(err) = SqliteStore::open(&path) else {
            panic!("a newer schema was opened");
        };
        assert!(matches!(err, StoreError::Config(_)), "{err}");
        assert!(err.to_string().contains("newer"), "{err}");
        assert_eq!(user_version(&path), future);
    }

    #[tokio::test]
    async fn a_version_1_database_is_upgraded_on_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.sqlite");
        database_at_version(&path, 1)
            .execute_batch(
                "INSERT INTO relay_messages (msg_id, circle_hint, payload, created_ts, stored_at,
                                             expires_at)
                 VALUES ('aaaaaaaa', 'hinthint', '{}', 1, 10, 100)",
            )
            .expect("old row");
        let store = SqliteStore::open(&path).expect("upgrade");
        let stored = store
            .insert_messages(batch(vec![msg("bbbbbbbb")], 20, 100))
            .await
            .expect("insert after upgrade");
        assert_eq!(stored[0].stored_at, 20);
        let page = store
            .pull_messages(
                "hinthint",
                MessageCursor::AfterSeq(0),
                30,
                PageLimit {
                    rows: 10,
                    bytes: 1 << 20,
                },
            )
            .await
            .expect("pull");
        assert_eq!(page.messages.len(), 2);
    }

    #[tokio::test]
    async fn upgrading_to_positions_spreads_a_same_second_backlog_and_keeps_old_cursors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.sqlite");
        // Version 3 stored by the second: five messages at 10, one at 11, one at 50.
        let old = database_at_version(&path, 3);
        for (i, at) in [10, 10, 10, 10, 10, 11, 50].iter().enumerate() {
            old.execute(
                "INSERT INTO relay_messages (msg_id, circle_hint, payload, created_ts, stored_at,
                                             expires_at)
                 VALUES (?1, 'hinthint', '{}', 1, ?2, 1000)",
                rusqlite::params![format!("message-{i}"), at],
            )
            .expect("old row");
        }
        old.execute_batch("UPDATE relay_clock SET time_floor = 60")
            .expect("floor");
        drop(old);
        let store = SqliteStore::open(&path).expect("upgrade");
        let page = store
            .pull_messages("hinthint", MessageCursor::Since(0), 60, PageLimit::rows(10))
            .await
            .expect("pull");
        let positions: Vec<i64> = page.messages.iter().map(|m| m.pos).collect();
        // Two apart, never below stored_at: a cursor taken before the upgrade loses nothing.
        assert_eq!(positions, vec![10, 12, 14, 16, 18, 20, 50]);
        assert_eq!(page.next_pos, 60);
        // The circle's next position continues after them, above the time floor if need be.
        let next = store
            .insert_messages(batch(vec![msg("cccccccc")], 20, 1000))
            .await
            .expect("insert");
        assert_eq!(next[0].pos, 60);
    }
}
