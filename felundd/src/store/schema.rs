//! Schema and migrations, run by `rusqlite_migration`: `PRAGMA user_version` records how far
//! a file has been migrated (step `i` brings it to version `i + 1`), and the missing steps run
//! in one transaction, so a crash leaves the file at its old version. The runner before it
//! kept the same record, so a file it left at version N continues from N.

use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

use super::{StoreError, StoreResult};

/// Migration steps, in order. Step `i` brings the file to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1: everything the foundation needs.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE circles (
        circle_id      TEXT PRIMARY KEY,
        secret_hex     TEXT NOT NULL,
        name           TEXT NOT NULL DEFAULT '',
        name_ts        INTEGER NOT NULL DEFAULT 0,
        joined_ts      INTEGER NOT NULL,
        -- The peer named by the invite code we joined with ("host:port" or relay URL);
        -- kept so a node that joined while that peer was down can retry later.
        bootstrap_peer TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE messages (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        msg_id         TEXT NOT NULL UNIQUE,
        circle_id      TEXT NOT NULL,
        channel_id     TEXT NOT NULL,
        author_node_id TEXT NOT NULL,
        display_name   TEXT NOT NULL,
        created_ts     INTEGER NOT NULL,
        text           TEXT NOT NULL,
        mac            TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        -- The v2 envelope as JSON, kept so the message can be forwarded intact.
        enc            TEXT,
        received_ts    INTEGER NOT NULL
    );
    -- rowid (seq) is implicitly the last column: pages order by (created_ts, seq).
    CREATE INDEX messages_by_channel ON messages (circle_id, channel_id, created_ts);
    CREATE INDEX messages_by_circle ON messages (circle_id, created_ts);
    CREATE TABLE peers (
        node_id   TEXT PRIMARY KEY,
        addr      TEXT NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE TABLE circle_members (
        circle_id TEXT NOT NULL,
        node_id   TEXT NOT NULL,
        PRIMARY KEY (circle_id, node_id)
    );
    CREATE TABLE channels (
        circle_id   TEXT NOT NULL,
        channel_id  TEXT NOT NULL,
        access_mode TEXT NOT NULL,
        created_by  TEXT NOT NULL,
        created_ts  INTEGER NOT NULL,
        key_hash    TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (circle_id, channel_id)
    );
    CREATE TABLE channel_members (
        circle_id  TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        node_id    TEXT NOT NULL,
        PRIMARY KEY (circle_id, channel_id, node_id)
    );
    CREATE TABLE channel_requests (
        circle_id  TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        node_id    TEXT NOT NULL,
        PRIMARY KEY (circle_id, channel_id, node_id)
    );
    CREATE TABLE display_names (
        node_id    TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        updated_ts INTEGER NOT NULL
    );
    CREATE TABLE anchor_records (
        circle_id        TEXT NOT NULL,
        node_id          TEXT NOT NULL,
        can_anchor       INTEGER NOT NULL,
        public_reachable INTEGER NOT NULL,
        is_mobile        INTEGER NOT NULL,
        announced_at     INTEGER NOT NULL,
        last_seen_ts     INTEGER NOT NULL,
        PRIMARY KEY (circle_id, node_id)
    );
    CREATE TABLE relay_cursors (
        circle_id TEXT NOT NULL,
        relay_url TEXT NOT NULL,
        cursor    TEXT NOT NULL,
        PRIMARY KEY (circle_id, relay_url)
    );
    "#,
    // v2: full-text search over chat messages (control events are not indexed).
    r#"
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        text, content = 'messages', content_rowid = 'seq',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
    WHEN new.channel_id != '__control' BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.seq, new.text);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.channel_id != '__control' BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    END;
    INSERT INTO messages_fts (rowid, text)
        SELECT seq, text FROM messages WHERE channel_id != '__control';
    "#,
    // v3: dial candidates (see `candidates`). Members and peer addresses used to be
    // recorded from unverified sources too (PEERS frames, relays, and sessions that had
    // not proved the secret), so every address recorded so far becomes a candidate and
    // only nodes that authored a stored (verified) message stay members. Nodes that are
    // still around prove themselves again at the next session.
    r#"
    CREATE TABLE dial_candidates (
        circle_id      TEXT NOT NULL,
        addr           TEXT NOT NULL,
        -- The node id it was named with; unverified.
        node_id        TEXT NOT NULL,
        source         TEXT NOT NULL,
        last_change_ts INTEGER NOT NULL,
        failures       INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (circle_id, addr)
    );
    INSERT OR IGNORE INTO dial_candidates (circle_id, addr, node_id, source, last_change_ts)
        SELECT m.circle_id, p.addr, p.node_id, 'import', p.last_seen
        FROM circle_members m JOIN peers p ON p.node_id = m.node_id;
    DELETE FROM dial_candidates WHERE rowid IN (
        SELECT rowid FROM (
            SELECT rowid, ROW_NUMBER() OVER (
                PARTITION BY circle_id ORDER BY last_change_ts DESC) AS rank
            FROM dial_candidates)
        WHERE rank > 32);
    DELETE FROM circle_members
        WHERE node_id != COALESCE((SELECT value FROM meta WHERE key = 'node_id'), '')
          AND NOT EXISTS (SELECT 1 FROM messages
                          WHERE messages.circle_id = circle_members.circle_id
                            AND messages.author_node_id = circle_members.node_id);
    DELETE FROM peers;
    "#,
    // v4: when each circle last synced with anyone (0: never, e.g. joined while the
    // code's peer was unreachable). Circles that already hold messages, or were created
    // here, count as synced.
    r#"
    ALTER TABLE circles ADD COLUMN last_sync_ts INTEGER NOT NULL DEFAULT 0;
    UPDATE circles SET last_sync_ts = joined_ts
        WHERE bootstrap_peer = ''
           OR EXISTS (SELECT 1 FROM messages WHERE messages.circle_id = circles.circle_id);
    "#,
    // v5: read markers (see `read_markers`).
    r#"
    CREATE TABLE read_markers (
        circle_id  TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        PRIMARY KEY (circle_id, channel_id)
    );
    "#,
    // v6: chat messages are indexed for search by `messages::insert` itself. The
    // insert trigger made every message INSERT a statement that writes two tables,
    // which SQLite wraps in a statement journal and FTS5 answers by flushing its
    // pending index as a tiny segment: per row, the main cost of ingest. Deletes are
    // rare and keep their trigger.
    r#"
    DROP TRIGGER messages_fts_insert;
    "#,
    // v7: the order a channel is shown in, the same on every node: `order_ms` is the
    // author's send time in milliseconds when it sealed one in the envelope (felundd
    // does), else the start of `created_ts`'s second; `msg_id` breaks ties. Arrival
    // order (`seq`) used to break ties within a second, which a catch-up reversed.
    r#"
    ALTER TABLE messages ADD COLUMN order_ms INTEGER NOT NULL DEFAULT 0;
    UPDATE messages SET order_ms = created_ts * 1000;
    DROP INDEX messages_by_channel;
    CREATE INDEX messages_by_channel ON messages (circle_id, channel_id, order_ms, msg_id);
    "#,
];

/// Brings the database up to the newest schema; a file written by a newer felundd is
/// refused untouched.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    let steps = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
    // Take the write lock at the start, not at the first write of a deferred transaction.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    let result = steps.to_latest(conn);
    conn.set_transaction_behavior(TransactionBehavior::Deferred);
    result.map_err(|err| match err {
        rusqlite_migration::Error::RusqliteError { err, .. } => StoreError::Sqlite(err),
        other => StoreError::Corrupt(format!("schema migration: {other}")),
    })?;
    if current < supported {
        tracing::info!(from = current, to = supported, "state database migrated");
    }
    Ok(())
}

/// An in-memory database at the current schema, for the store's unit tests.
#[cfg(test)]
pub(crate) fn test_db() -> Connection {
    let mut conn = Connection::open_in_memory().expect("in-memory database");
    migrate(&mut conn).expect("schema");
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the runner before `rusqlite_migration` did to bring a file to version `upto`: each
    /// step in its own transaction, then the version.
    fn old_runner(conn: &Connection, upto: usize) {
        for (i, sql) in MIGRATIONS[..upto].iter().enumerate() {
            let version = i + 1;
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
            ))
            .expect("old runner");
        }
    }

    /// Every table, index, trigger and view with its SQL, by name.
    fn schema_of(conn: &Connection) -> Vec<(String, String)> {
        conn.prepare("SELECT name, COALESCE(sql, '') FROM sqlite_master ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("schema")
    }

    fn user_version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("user_version")
    }

    /// A file the old runner left at any version N (with data in it) continues from N: the
    /// steps after N run once, the ones before are not run again (they would fail: their
    /// tables exist), nothing stored is lost, and the result is the schema of a new file.
    #[test]
    fn a_file_the_old_runner_left_at_any_version_continues_from_there() {
        let mut fresh = Connection::open_in_memory().expect("db");
        migrate(&mut fresh).expect("fresh");
        let newest = schema_of(&fresh);
        for upto in 0..=MIGRATIONS.len() {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("felund.sqlite");
            let old = Connection::open(&path).expect("open");
            old_runner(&old, upto);
            if upto >= 1 {
                old.execute_batch(
                    "INSERT INTO meta VALUES ('node_id', 'me');
                     INSERT INTO messages (msg_id, circle_id, channel_id, author_node_id,
                                           display_name, created_ts, text, mac,
                                           schema_version, received_ts)
                         VALUES ('m', 'c', 'general', 'me', '', 7, 'kept', '', 1, 7);",
                )
                .expect("old rows");
            }
            drop(old);
            let mut conn = Connection::open(&path).expect("reopen");
            migrate(&mut conn).unwrap_or_else(|e| panic!("upgrade from v{upto}: {e}"));
            assert_eq!(user_version(&conn), MIGRATIONS.len() as i64, "from v{upto}");
            assert_eq!(schema_of(&conn), newest, "from v{upto}");
            if upto >= 1 {
                let (text, order_ms): (String, i64) = conn
                    .query_row("SELECT text, order_ms FROM messages", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .expect("the old message");
                // v7 gives old messages the start of their second; a v7 row keeps its own.
                let expected = if upto < MIGRATIONS.len() { 7000 } else { 0 };
                assert_eq!(
                    (text.as_str(), order_ms),
                    ("kept", expected),
                    "from v{upto}"
                );
            }
            // Opening it again runs nothing.
            migrate(&mut conn).expect("again");
            assert_eq!(schema_of(&conn), newest);
        }
    }

    #[test]
    fn a_file_of_a_newer_felundd_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().expect("db");
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .expect("future file");
        let err = migrate(&mut conn).expect_err("too new");
        assert!(
            matches!(err, StoreError::SchemaTooNew { found: 99, supported } if supported == MIGRATIONS.len() as i64),
            "{err}"
        );
        assert_eq!(user_version(&conn), 99);
        assert_eq!(schema_of(&conn).len(), 1);
    }

    /// A v2 file whose members and peers came partly from hearsay: after v3 only the node
    /// itself and authors of stored messages are members, and every recorded address is a
    /// dial candidate instead of a peer.
    #[test]
    fn v3_turns_recorded_peers_into_candidates_and_keeps_only_proven_members() {
        let mut conn = Connection::open_in_memory().expect("db");
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).expect("v1..v2");
        }
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO meta VALUES ('node_id', 'me');
             INSERT INTO circle_members VALUES ('c', 'me'), ('c', 'author'), ('c', 'named');
             INSERT INTO peers VALUES ('author', '10.0.0.1:1', 5), ('named', '10.0.0.2:2', 6);
             INSERT INTO messages (msg_id, circle_id, channel_id, author_node_id, display_name,
                                   created_ts, text, mac, schema_version, received_ts)
                 VALUES ('m', 'c', 'general', 'author', '', 1, 't', '', 1, 1);",
        )
        .expect("v2 rows");
        migrate(&mut conn).expect("migrate");
        let members: Vec<String> = conn
            .prepare("SELECT node_id FROM circle_members ORDER BY node_id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("members");
        assert_eq!(members, ["author", "me"]);
        let peers: i64 = conn
            .query_row("SELECT COUNT(*) FROM peers", [], |r| r.get(0))
            .expect("peers");
        assert_eq!(peers, 0);
        let candidates: Vec<String> = conn
            .prepare("SELECT addr FROM dial_candidates ORDER BY addr")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("candidates");
        assert_eq!(candidates, ["10.0.0.1:1", "10.0.0.2:2"]);
    }
}
