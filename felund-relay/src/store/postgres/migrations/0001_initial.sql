-- felund-relay PostgreSQL schema, version 1. Times are Unix seconds (BIGINT) from the relay's
-- clock; payloads are TEXT so message objects come back byte for byte as received.

CREATE TABLE presence (
    circle_hint  TEXT   NOT NULL,
    node_id      TEXT   NOT NULL,
    endpoints    TEXT   NOT NULL,
    capabilities TEXT   NOT NULL,
    observed_at  BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    signing_key  TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (circle_hint, node_id)
);
CREATE INDEX idx_presence_circle  ON presence (circle_hint, observed_at);
CREATE INDEX idx_presence_expires ON presence (expires_at);

CREATE TABLE nonces (
    nonce TEXT   NOT NULL PRIMARY KEY,
    ts    BIGINT NOT NULL
);
CREATE INDEX idx_nonces_ts ON nonces (ts);

-- seq comes from the identity sequence, drawn only while the relay_clock row is locked (see
-- below), so seqs commit, and become visible, in increasing order.
CREATE TABLE relay_messages (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id      TEXT   NOT NULL UNIQUE,
    circle_hint TEXT   NOT NULL,
    payload     TEXT   NOT NULL,
    created_ts  BIGINT NOT NULL,
    stored_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX idx_rmsg_stored  ON relay_messages (circle_hint, stored_at, seq);
CREATE INDEX idx_rmsg_seq     ON relay_messages (circle_hint, seq);
CREATE INDEX idx_rmsg_expires ON relay_messages (expires_at);

CREATE TABLE signal_messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  TEXT   NOT NULL,
    from_node   TEXT   NOT NULL,
    to_node     TEXT   NOT NULL,
    circle_hint TEXT   NOT NULL,
    type        TEXT   NOT NULL,
    payload     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX idx_sig_to      ON signal_messages (to_node, id);
CREATE INDEX idx_sig_expires ON signal_messages (expires_at);

CREATE TABLE signal_rate (
    node_id      TEXT   NOT NULL PRIMARY KEY,
    count        BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);

-- One row: its lock serialises message inserts (seq order = commit order), and time_floor is
-- the largest server time of any stored batch or `since` pull, the lower bound of stored_at.
CREATE TABLE relay_clock (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    time_floor BIGINT   NOT NULL
);
INSERT INTO relay_clock (id, time_floor) VALUES (1, 0);
