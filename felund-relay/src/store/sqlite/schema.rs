//! The SQLite schema (felund-relay's own format; not the reference relays' files), migrated by
//! `rusqlite_migration`: `PRAGMA user_version` is the number of steps applied, and the missing
//! steps run in one transaction, so a crash leaves the old version. The runner before it kept
//! the same record, so a file it left at version N continues from N.

use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

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

/// Every schema step, oldest first: version N is reached by applying step N (the numbers are
/// for the reader; the position is what counts).
pub(super) const STEPS: [(i64, &str); 4] = [
    (1, SCHEMA_V1),
    (2, SCHEMA_V2),
    (3, SCHEMA_V3),
    (4, SCHEMA_V4),
];

/// Sets the connection up (WAL, busy timeout) and creates or upgrades the schema. A file of a
/// newer felund-relay (a version beyond [`STEPS`]) is refused untouched.
pub(super) fn prepare(conn: &mut Connection) -> Result<(), rusqlite_migration::Error> {
    // journal_mode answers with a row, so it is read rather than executed.
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    conn.busy_timeout(std::time::Duration::from_secs(8))?;
    conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
    let steps = Migrations::new(STEPS.iter().map(|(_, sql)| M::up(sql)).collect());
    // Take the write lock at the start: another process may be opening the same file.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    let result = steps.to_latest(conn);
    conn.set_transaction_behavior(TransactionBehavior::Deferred);
    result
}
