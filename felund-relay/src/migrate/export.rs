//! The SQLite side of a migration: every table read in one read transaction, streamed in
//! chunks.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, Row};
use tokio::sync::mpsc::Sender;

use super::{Chunk, MessageRow, PresenceRow, SignalRow, CHUNK_ROWS};

/// Reads the database at `path` (already at the current schema) into `out`; stops early,
/// without error, if the receiver is gone (the import failed and says why).
pub(super) fn run(path: &Path, out: &Sender<Chunk>) -> rusqlite::Result<()> {
    let mut conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(8))?;
    let tx = conn.transaction()?;
    let send = |chunk: Chunk| out.blocking_send(chunk).is_ok();
    let ok = stream(
        &tx,
        "SELECT circle_hint, node_id, signing_key, endpoints, capabilities, observed_at,
                expires_at, client_addr FROM presence",
        presence,
        Chunk::Presence,
        &send,
    )? && stream(
        &tx,
        "SELECT seq, msg_id, circle_hint, payload, created_ts, stored_at, expires_at, pos
         FROM relay_messages ORDER BY seq",
        message,
        Chunk::Messages,
        &send,
    )? && stream(
        &tx,
        "SELECT circle_hint, next_pos FROM circle_clock",
        |r| Ok((r.get(0)?, r.get(1)?)),
        Chunk::CircleClocks,
        &send,
    )? && stream(
        &tx,
        "SELECT nonce, ts FROM nonces",
        |r| Ok((r.get(0)?, r.get(1)?)),
        Chunk::Nonces,
        &send,
    )? && stream(
        &tx,
        "SELECT id, session_id, from_node, to_node, circle_hint, type, payload, created_at,
                expires_at FROM signal_messages ORDER BY id",
        signal,
        Chunk::Signals,
        &send,
    )?;
    if ok {
        let high = |table: &str| -> rusqlite::Result<i64> {
            tx.query_row(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0)",
                [table],
                |r| r.get(0),
            )
        };
        send(Chunk::Marks {
            time_floor: tx.query_row(
                "SELECT time_floor FROM relay_clock WHERE id = 1",
                [],
                |r| r.get(0),
            )?,
            seq_high: high("relay_messages")?,
            signal_high: high("signal_messages")?,
        });
    }
    Ok(())
}

/// Sends the rows of `sql` in chunks of [`CHUNK_ROWS`]; false if the receiver is gone.
fn stream<T>(
    conn: &Connection,
    sql: &str,
    row: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    wrap: impl Fn(Vec<T>) -> Chunk,
    send: &impl Fn(Chunk) -> bool,
) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    while let Some(r) = rows.next()? {
        chunk.push(row(r)?);
        if chunk.len() == CHUNK_ROWS && !send(wrap(std::mem::take(&mut chunk))) {
            return Ok(false);
        }
    }
    Ok(chunk.is_empty() || send(wrap(chunk)))
}

fn presence(r: &Row<'_>) -> rusqlite::Result<PresenceRow> {
    Ok(PresenceRow {
        circle_hint: r.get(0)?,
        node_id: r.get(1)?,
        signing_key: r.get(2)?,
        endpoints: r.get(3)?,
        capabilities: r.get(4)?,
        observed_at: r.get(5)?,
        expires_at: r.get(6)?,
        client_addr: r.get(7)?,
    })
}

fn message(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        seq: r.get(0)?,
        msg_id: r.get(1)?,
        circle_hint: r.get(2)?,
        payload: r.get(3)?,
        created_ts: r.get(4)?,
        stored_at: r.get(5)?,
        expires_at: r.get(6)?,
        pos: r.get(7)?,
    })
}

fn signal(r: &Row<'_>) -> rusqlite::Result<SignalRow> {
    Ok(SignalRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        from_node: r.get(2)?,
        to_node: r.get(3)?,
        circle_hint: r.get(4)?,
        kind: r.get(5)?,
        payload: r.get(6)?,
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
    })
}
