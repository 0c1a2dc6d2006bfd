//! Sync cursors per circle and source (a relay URL, or `anchor:<node_id>`), so a
//! restart neither re-downloads nor misses anything.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreResult;

/// The stored cursor, if any.
pub fn get(conn: &Connection, circle_id: &str, source: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT cursor FROM relay_cursors WHERE circle_id = ?1 AND relay_url = ?2",
            [circle_id, source],
            |r| r.get(0),
        )
        .optional()?)
}

/// Stores a cursor.
pub fn set(conn: &Connection, circle_id: &str, source: &str, cursor: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO relay_cursors (circle_id, relay_url, cursor) VALUES (?1, ?2, ?3)
         ON CONFLICT (circle_id, relay_url) DO UPDATE SET cursor = excluded.cursor",
        params![circle_id, source, cursor],
    )?;
    Ok(())
}
