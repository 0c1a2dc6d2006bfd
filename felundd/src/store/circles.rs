//! Circles, their members and names.

use felund_wire::CircleSecret;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{StoreError, StoreResult};
use crate::model::{Circle, CircleSummary};

const COLUMNS: &str = "circle_id, secret_hex, name, joined_ts, bootstrap_peer";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String, i64, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn build(
    (circle_id, secret_hex, name, joined_ts, bootstrap_peer): (String, String, String, i64, String),
) -> StoreResult<Circle> {
    let secret = CircleSecret::from_hex(&secret_hex)
        .map_err(|e| StoreError::Corrupt(format!("secret of circle {circle_id}: {e}")))?;
    Ok(Circle {
        circle_id,
        secret,
        name,
        joined_ts,
        bootstrap_peer,
    })
}

/// Inserts a circle; returns false if it was already there (nothing changes then).
pub fn insert(conn: &Connection, circle: &Circle) -> StoreResult<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO circles (circle_id, secret_hex, name, joined_ts, bootstrap_peer)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            circle.circle_id,
            circle.secret.to_hex(),
            circle.name,
            circle.joined_ts,
            circle.bootstrap_peer
        ],
    )?;
    Ok(n == 1)
}

/// One circle by exact id.
pub fn get(conn: &Connection, circle_id: &str) -> StoreResult<Option<Circle>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM circles WHERE circle_id = ?1"
    ))?
    .query_row([circle_id], from_row)
    .optional()?
    .map(build)
    .transpose()
}

/// Every circle, ordered by join time.
pub fn list(conn: &Connection) -> StoreResult<Vec<Circle>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM circles ORDER BY joined_ts, circle_id"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| build(r?)).collect()
}

/// A circle with its counts.
pub fn summary(conn: &Connection, circle: Circle) -> StoreResult<CircleSummary> {
    let (message_count, last_message_ts): (i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(MAX(created_ts), 0) FROM messages
         WHERE circle_id = ?1 AND channel_id != '__control'",
        [&circle.circle_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let member_count: i64 = conn.query_row(
        "SELECT COUNT(*) FROM circle_members WHERE circle_id = ?1",
        [&circle.circle_id],
        |r| r.get(0),
    )?;
    let peer_count: i64 = conn.query_row(
        "SELECT COUNT(*) FROM circle_members m JOIN peers p ON p.node_id = m.node_id
         WHERE m.circle_id = ?1",
        [&circle.circle_id],
        |r| r.get(0),
    )?;
    let last_sync_ts: i64 = conn.query_row(
        "SELECT last_sync_ts FROM circles WHERE circle_id = ?1",
        [&circle.circle_id],
        |r| r.get(0),
    )?;
    Ok(CircleSummary {
        circle,
        message_count: message_count as u64,
        member_count: member_count as u64,
        peer_count: peer_count as u64,
        last_message_ts,
        last_sync_ts,
    })
}

/// Sets the circle's name if `ts` is not older than the name it has (latest wins).
/// Returns whether the name changed.
pub fn set_name(conn: &Connection, circle_id: &str, name: &str, ts: i64) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE circles SET name = ?2, name_ts = ?3
         WHERE circle_id = ?1 AND name_ts <= ?3 AND name != ?2",
        )?
        .execute(params![circle_id, name, ts])?;
    Ok(n == 1)
}

/// Notes that the circle synced with someone at `ts` (a session or a relay pull).
pub fn mark_synced(conn: &Connection, circle_id: &str, ts: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE circles SET last_sync_ts = ?2 WHERE circle_id = ?1")?
        .execute(params![circle_id, ts])?;
    Ok(())
}

/// Adds a member; returns whether it was new.
pub fn add_member(conn: &Connection, circle_id: &str, node_id: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO circle_members (circle_id, node_id) VALUES (?1, ?2)",
        )?
        .execute(params![circle_id, node_id])?;
    Ok(n == 1)
}

/// Member node ids of a circle, sorted.
pub fn members(conn: &Connection, circle_id: &str) -> StoreResult<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT node_id FROM circle_members WHERE circle_id = ?1 ORDER BY node_id")?;
    let rows = stmt.query_map([circle_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes a circle and everything that belongs only to it.
pub fn delete(conn: &Connection, circle_id: &str) -> StoreResult<bool> {
    for table in [
        "messages",
        "circle_members",
        "channels",
        "channel_members",
        "channel_requests",
        "anchor_records",
        "relay_cursors",
        "dial_candidates",
        "read_markers",
    ] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE circle_id = ?1"),
            [circle_id],
        )?;
    }
    let n = conn.execute("DELETE FROM circles WHERE circle_id = ?1", [circle_id])?;
    Ok(n == 1)
}

/// Number of circles.
pub fn count(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM circles", [], |r| r.get(0))?;
    Ok(n as u64)
}
