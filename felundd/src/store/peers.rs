//! Peers (addresses of other nodes) and display names.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreResult;
use crate::model::{Peer, ANON};

/// Records a peer address; an existing record is replaced only by a newer `last_seen`
/// (the reference's merge rule). Returns whether anything changed.
pub fn upsert(conn: &Connection, node_id: &str, addr: &str, last_seen: i64) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO peers (node_id, addr, last_seen) VALUES (?1, ?2, ?3)
         ON CONFLICT (node_id) DO UPDATE SET addr = excluded.addr, last_seen = excluded.last_seen
         WHERE excluded.last_seen > peers.last_seen",
        )?
        .execute(params![node_id, addr, last_seen])?;
    Ok(n == 1)
}

/// Peers of one circle (or all circles), most recently seen first.
pub fn list(conn: &Connection, circle_id: Option<&str>) -> StoreResult<Vec<Peer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.node_id, m.circle_id, p.addr, p.last_seen, COALESCE(d.name, '')
         FROM peers p
         JOIN circle_members m ON m.node_id = p.node_id
         LEFT JOIN display_names d ON d.node_id = p.node_id
         WHERE ?1 IS NULL OR m.circle_id = ?1
         ORDER BY p.last_seen DESC, p.node_id",
    )?;
    let rows = stmt.query_map([circle_id], |r| {
        Ok(Peer {
            node_id: r.get(0)?,
            circle_id: r.get(1)?,
            addr: r.get(2)?,
            last_seen: r.get(3)?,
            display_name: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The peer known at `addr` (node id and display name, `anon` when unknown), if any.
pub fn at_addr(conn: &Connection, addr: &str) -> StoreResult<Option<(String, String)>> {
    let node: Option<String> = conn
        .query_row(
            "SELECT node_id FROM peers WHERE addr = ?1 ORDER BY last_seen DESC LIMIT 1",
            [addr],
            |r| r.get(0),
        )
        .optional()?;
    let Some(node) = node else {
        return Ok(None);
    };
    let name = display_name(conn, &node)?;
    Ok(Some((node, name)))
}

/// Number of distinct known peers.
pub fn count(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM peers", [], |r| r.get(0))?;
    Ok(n as u64)
}

/// Sets a node's display name if `ts` is not older than the one known (newest by
/// `created_ts` wins, unlike the reference which takes merge order). Returns whether
/// it changed.
pub fn set_display_name(
    conn: &Connection,
    node_id: &str,
    name: &str,
    ts: i64,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO display_names (node_id, name, updated_ts) VALUES (?1, ?2, ?3)
             ON CONFLICT (node_id) DO UPDATE
               SET name = excluded.name, updated_ts = excluded.updated_ts
             WHERE excluded.updated_ts >= display_names.updated_ts
               AND excluded.name != display_names.name",
        )?
        .execute(params![node_id, name, ts])?;
    Ok(n == 1)
}

/// A node's display name, `anon` if unknown or empty.
pub fn display_name(conn: &Connection, node_id: &str) -> StoreResult<String> {
    let name: Option<String> = conn
        .query_row(
            "SELECT name FROM display_names WHERE node_id = ?1",
            [node_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| ANON.to_string()))
}

/// Records `node_id`, which has just completed an encrypted session in `circle_id`, as a
/// member and, with an address, as a peer there (no longer a dial candidate). Returns
/// whether the peer record changed.
pub fn record_verified(
    conn: &Connection,
    circle_id: &str,
    node_id: &str,
    addr: Option<&str>,
    last_seen: i64,
) -> StoreResult<bool> {
    super::circles::add_member(conn, circle_id, node_id)?;
    super::circles::mark_synced(conn, circle_id, last_seen)?;
    match addr {
        Some(a) => {
            super::candidates::remove(conn, circle_id, a)?;
            upsert(conn, node_id, a, last_seen)
        }
        None => Ok(false),
    }
}

/// Whether `node_id` is a member of `circle_id` known to be at `addr`.
pub fn is_verified_at(
    conn: &Connection,
    circle_id: &str,
    node_id: &str,
    addr: &str,
) -> StoreResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM peers p JOIN circle_members m ON m.node_id = p.node_id
                        WHERE m.circle_id = ?1 AND p.node_id = ?2 AND p.addr = ?3)",
        params![circle_id, node_id, addr],
        |r| r.get(0),
    )?)
}
