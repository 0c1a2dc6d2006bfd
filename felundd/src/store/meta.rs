//! Key/value settings of the node itself (identity, display name).

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreResult;

/// Key of the node id.
pub const NODE_ID: &str = "node_id";
/// Key of this node's display name.
pub const DISPLAY_NAME: &str = "display_name";
/// Key of the relay base URL (empty: none).
pub const RELAY_URL: &str = "relay_url";

/// Reads a setting.
pub fn get(conn: &Connection, key: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Writes a setting.
pub fn set(conn: &Connection, key: &str, value: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
