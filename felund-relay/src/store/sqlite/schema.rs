//! The SQLite schema (felund-relay's own format; not the reference relays' files).

use rusqlite::Connection;

/// Current schema version, kept in `PRAGMA user_version`.
pub(super) const SCHEMA_VERSION: i64 = 3;

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS presence (
    circle_hint  TEXT    NOT NULL,
    node_id      TEXT    NOT NULL,
    endpoints    TEXT    NOT NULL,
    capabilities TEXT    NOT NULL,
    observed_at  INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    signing_key  TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (circle_hint, node_id)
);
CREATE INDEX IF NOT EXISTS idx_presence_circle  ON presence (circle_hint, observed_at);
CREATE INDEX IF NOT EXISTS idx_presence_expires ON presence (expires_at);

CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT    NOT NULL PRIMARY KEY,
    ts    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_nonces_ts ON nonces (ts);

CREATE TABLE IF NOT EXISTS relay_messages (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id      TEXT    NOT NULL UNIQUE,
    circle_hint TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_ts  INTEGER NOT NULL,
    stored_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_rmsg_stored  ON relay_messages (circle_hint, stored_at, seq);
CREATE INDEX IF NOT EXISTS idx_rmsg_seq     ON relay_messages (circle_hint, seq);
CREATE INDEX IF NOT EXISTS idx_rmsg_expires ON relay_messages (expires_at);

CREATE TABLE IF NOT EXISTS signal_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id  TEXT    NOT NULL,
    from_node   TEXT    NOT NULL,
    to_node     TEXT    NOT NULL,
    circle_hint TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_sig_to      ON signal_messages (to_node, id);
CREATE INDEX IF NOT EXISTS idx_sig_expires ON signal_messages (expires_at);

CREATE TABLE IF NOT EXISTS signal_rate (
    node_id      TEXT    NOT NULL PRIMARY KEY,
    count        INTEGER NOT NULL,
    window_start INTEGER NOT NULL
);
";

/// Version 2: the time floor (the largest `now` of any stored batch or `since` pull) that keeps
/// `stored_at` from going below the server time of a pull that could not see the message.
const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS relay_clock (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    time_floor INTEGER NOT NULL
);
INSERT OR IGNORE INTO relay_clock (id, time_floor) VALUES (1, 0);
";

/// Version 3: presence partitioned by signing key (a registration only ever creates or refreshes
/// the record of its own key) and the registering client address.
const SCHEMA_V3: &str = "
CREATE TABLE presence_v3 (
    circle_hint  TEXT    NOT NULL,
    node_id      TEXT    NOT NULL,
    signing_key  TEXT    NOT NULL DEFAULT '',
    endpoints    TEXT    NOT NULL,
    capabilities TEXT    NOT NULL,
    observed_at  INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    client_addr  TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (circle_hint, node_id, signing_key)
);
INSERT INTO presence_v3
    (circle_hint, node_id, signing_key, endpoints, capabilities, observed_at, expires_at)
    SELECT circle_hint, node_id, signing_key, endpoints, capabilities, observed_at, expires_at
    FROM presence;
DROP TABLE presence;
ALTER TABLE presence_v3 RENAME TO presence;
CREATE INDEX idx_presence_key     ON presence (circle_hint, signing_key, observed_at);
CREATE INDEX idx_presence_expires ON presence (expires_at);
";

/// Sets the connection up (WAL, busy timeout) and creates the schema if needed.
pub(super) fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    // journal_mode answers with a row, so it is read rather than executed.
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    conn.busy_timeout(std::time::Duration::from_secs(8))?;
    conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version < SCHEMA_VERSION {
        // One transaction, so a crash leaves the old version.
        let v1_v2 = if version < 2 {
            [SCHEMA_V1, SCHEMA_V2].concat()
        } else {
            String::new()
        };
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {v1_v2} {SCHEMA_V3} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        ))?;
    }
    Ok(())
}
