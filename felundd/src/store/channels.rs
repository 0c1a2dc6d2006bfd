//! Channels, their members and join requests.

use felund_wire::control::AccessMode;
use felund_wire::ids::GENERAL_CHANNEL;
use rusqlite::{params, Connection, OptionalExtension};

use super::StoreResult;
use crate::model::Channel;

/// Creates the channel if unknown. Returns whether it was created.
pub fn create(
    conn: &Connection,
    circle_id: &str,
    channel_id: &str,
    access_mode: AccessMode,
    created_by: &str,
    created_ts: i64,
    key_hash: &str,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO channels
               (circle_id, channel_id, access_mode, created_by, created_ts, key_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            circle_id,
            channel_id,
            access_mode.as_str(),
            created_by,
            created_ts,
            key_hash
        ])?;
    Ok(n == 1)
}

/// One channel with its members and requests.
pub fn get(conn: &Connection, circle_id: &str, channel_id: &str) -> StoreResult<Option<Channel>> {
    let row = conn
        .query_row(
            "SELECT access_mode, created_by, created_ts, key_hash FROM channels
             WHERE circle_id = ?1 AND channel_id = ?2",
            [circle_id, channel_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((mode, created_by, created_ts, key_hash)) = row else {
        return Ok(None);
    };
    let mut members = node_set(conn, "channel_members", circle_id, channel_id)?;
    if channel_id == GENERAL_CHANNEL {
        // Nobody announces joining `general` (it is every member's channel, and leaving
        // it is a no-op), so its members are the circle's.
        members.extend(super::circles::members(conn, circle_id)?);
        members.sort();
        members.dedup();
    }
    Ok(Some(Channel {
        circle_id: circle_id.to_string(),
        channel_id: channel_id.to_string(),
        access_mode: AccessMode::parse_lenient(&mode),
        created_by,
        created_ts,
        key_hash,
        members,
        requests: node_set(conn, "channel_requests", circle_id, channel_id)?,
        reading: super::read_markers::reading(conn, circle_id, channel_id)?,
    }))
}

/// Whether a circle has this channel: announced, or holding messages (a peer may post in
/// a channel whose creation never reached us).
pub fn is_known(conn: &Connection, circle_id: &str, channel_id: &str) -> StoreResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM channels WHERE circle_id = ?1 AND channel_id = ?2)
             OR EXISTS (SELECT 1 FROM messages WHERE circle_id = ?1 AND channel_id = ?2)",
        [circle_id, channel_id],
        |r| r.get(0),
    )?)
}

/// Every channel of a circle, sorted by id.
pub fn list(conn: &Connection, circle_id: &str) -> StoreResult<Vec<Channel>> {
    let ids: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT channel_id FROM channels WHERE circle_id = ?1 ORDER BY channel_id")?;
        let rows = stmt.query_map([circle_id], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(c) = get(conn, circle_id, &id)? {
            out.push(c);
        }
    }
    Ok(out)
}

fn node_set(
    conn: &Connection,
    table: &str,
    circle_id: &str,
    channel_id: &str,
) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT node_id FROM {table} WHERE circle_id = ?1 AND channel_id = ?2 ORDER BY node_id"
    ))?;
    let rows = stmt.query_map([circle_id, channel_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Which node set of a channel an operation concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeSet {
    /// Members (may read and post).
    Members,
    /// Pending join requests.
    Requests,
}

impl NodeSet {
    fn table(self) -> &'static str {
        match self {
            NodeSet::Members => "channel_members",
            NodeSet::Requests => "channel_requests",
        }
    }
}

/// Adds a node to a set; returns whether it was new.
pub fn add(
    conn: &Connection,
    set: NodeSet,
    circle_id: &str,
    channel_id: &str,
    node_id: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "INSERT OR IGNORE INTO {} (circle_id, channel_id, node_id) VALUES (?1, ?2, ?3)",
        set.table()
    );
    changed_one(conn, &sql, [circle_id, channel_id, node_id])
}

/// Removes a node from a set; returns whether it was there.
pub fn remove(
    conn: &Connection,
    set: NodeSet,
    circle_id: &str,
    channel_id: &str,
    node_id: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE circle_id = ?1 AND channel_id = ?2 AND node_id = ?3",
        set.table()
    );
    changed_one(conn, &sql, [circle_id, channel_id, node_id])
}

/// Runs a cached statement that touches at most one row; returns whether it did.
fn changed_one(conn: &Connection, sql: &str, params: [&str; 3]) -> StoreResult<bool> {
    Ok(conn.prepare_cached(sql)?.execute(params)? == 1)
}
