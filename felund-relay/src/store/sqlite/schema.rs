//! The SQLite schema (felund-relay's own format; not the reference relays' files).

use rusqlite::Connection;

/// Current schema version, kept in `PRAGMA user_version`.
pub(super) const SCHEMA_VERSION: i64 = 4;

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

/// Version 4: positions on the reference `since` cursor (see `store::since_pos`). Every stored
/// message gets `pos`, at least its `stored_at` and two above the previous message of its
/// circle (`pos_i = max over j <= i of stored_at_j + 2 (i - j)`, computed with window
/// functions); `circle_clock` keeps each circle's next position. Positions are never below
/// `stored_at`, so a client cursor taken from an older version loses nothing (it may see a
/// message again, which clients drop by msg_id).
const SCHEMA_V4: &str = "
ALTER TABLE relay_messages ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
WITH numbered AS (
    SELECT seq, circle_hint, stored_at,
           ROW_NUMBER() OVER (PARTITION BY circle_hint ORDER BY seq) AS rn
    FROM relay_messages),
positioned AS (
    SELECT seq, 2 * rn + MAX(stored_at - 2 * rn) OVER (
               PARTITION BY circle_hint ORDER BY seq ROWS UNBOUNDED PRECEDING) AS pos
    FROM numbered)
UPDATE relay_messages SET pos = positioned.pos
FROM positioned WHERE positioned.seq = relay_messages.seq;
CREATE INDEX idx_rmsg_pos ON relay_messages (circle_hint, pos);
CREATE TABLE circle_clock (
    circle_hint TEXT    NOT NULL PRIMARY KEY,
    next_pos    INTEGER NOT NULL
);
INSERT INTO circle_clock (circle_hint, next_pos)
    SELECT circle_hint, MAX(pos) + 2 FROM relay_messages GROUP BY circle_hint;
";

/// Every schema step, oldest first: version N is reached by applying step N.
pub(super) const STEPS: [(i64, &str); 4] = [
    (1, SCHEMA_V1),
    (2, SCHEMA_V2),
    (3, SCHEMA_V3),
    (4, SCHEMA_V4),
];

/// Sets the connection up (WAL, busy timeout) and creates or upgrades the schema.
pub(super) fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    // journal_mode answers with a row, so it is read rather than executed.
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    conn.busy_timeout(std::time::Duration::from_secs(8))?;
    conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version < SCHEMA_VERSION {
        let missing: String = STEPS
            .iter()
            .filter(|(step, _)| *step > version)
            .map(|(_, sql)| *sql)
            .collect();
        // One transaction, so a crash leaves the old version.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {missing} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        ))?;
    }
    Ok(())
}
