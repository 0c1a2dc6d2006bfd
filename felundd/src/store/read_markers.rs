//! Read markers: how far this node's user has read each channel, kept by felundd so
//! that every client attached to it (TUIs, bots) shares one position and the unread
//! counts survive restarts — like an IRC bouncer's hotlist. A marker is the `seq` of
//! the last message read and only moves forward.

use rusqlite::{params, Connection, OptionalExtension};

use super::{meta, StoreResult};

/// Where reading stands in one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reading {
    /// The seq of the last message read (0: none).
    pub read_seq: i64,
    /// Chat messages by others stored after it.
    pub unread: u64,
    /// Those that mention this node's display name as `@name`.
    pub mentions: u64,
}

/// Moves the marker of a channel forward to `seq`; returns whether it moved.
pub fn advance(
    conn: &Connection,
    circle_id: &str,
    channel_id: &str,
    seq: i64,
) -> StoreResult<bool> {
    let n = conn.execute(
        "INSERT INTO read_markers (circle_id, channel_id, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (circle_id, channel_id) DO UPDATE SET seq = excluded.seq
         WHERE excluded.seq > read_markers.seq",
        params![circle_id, channel_id, seq],
    )?;
    Ok(n == 1)
}

/// The reading position and unread counts of a channel.
pub fn reading(conn: &Connection, circle_id: &str, channel_id: &str) -> StoreResult<Reading> {
    let read_seq: i64 = conn
        .prepare_cached("SELECT seq FROM read_markers WHERE circle_id = ?1 AND channel_id = ?2")?
        .query_row(params![circle_id, channel_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let me = meta::get(conn, meta::NODE_ID)?.unwrap_or_default();
    // `@name` anywhere, ASCII case ignored (SQLite's LIKE); no name, no mentions.
    let mention = meta::get(conn, meta::DISPLAY_NAME)?
        .filter(|n| !n.trim().is_empty())
        .map(|n| format!("%@{}%", n.trim().replace(['%', '_'], "")));
    let (unread, mentions): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(?5 IS NOT NULL AND text LIKE ?5), 0) FROM messages
             WHERE circle_id = ?1 AND channel_id = ?2 AND seq > ?3 AND author_node_id != ?4",
        )?
        .query_row(params![circle_id, channel_id, read_seq, me, mention], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(Reading {
        read_seq,
        unread: unread as u64,
        mentions: mentions as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = super::super::schema::test_db();
        conn.execute_batch("INSERT INTO meta VALUES ('node_id', 'me'), ('display_name', 'Zoe');")
            .expect("meta");
        for (seq, author, text) in [
            (1, "bob", "hello"),
            (2, "me", "hi @bob"),
            (3, "bob", "hey @zoe, look"),
            (4, "bob", "and more"),
        ] {
            conn.execute(
                "INSERT INTO messages (seq, msg_id, circle_id, channel_id, author_node_id,
                     display_name, created_ts, text, mac, schema_version, received_ts)
                 VALUES (?1, ?1, 'c', 'general', ?2, '', 1, ?3, '', 1, 1)",
                params![seq, author, text],
            )
            .expect("message");
        }
        conn
    }

    #[test]
    fn unread_counts_others_messages_after_the_marker_and_mentions_of_me() {
        let conn = db();
        let r = reading(&conn, "c", "general").expect("reading");
        assert_eq!((r.read_seq, r.unread, r.mentions), (0, 3, 1));
        assert!(advance(&conn, "c", "general", 3).expect("advance"));
        let r = reading(&conn, "c", "general").expect("reading");
        assert_eq!((r.read_seq, r.unread, r.mentions), (3, 1, 0));
        assert!(!advance(&conn, "c", "general", 2).expect("never backwards"));
        assert_eq!(reading(&conn, "c", "general").expect("r").read_seq, 3);
    }
}
