//! Messages: insert (first copy of a msg_id wins), page through a channel, prune.

use felund_wire::ids::CONTROL_CHANNEL;
use felund_wire::{Envelope, WireMessage};
use rusqlite::{params, Connection, Row};

use super::{StoreError, StoreResult};
use crate::model::StoredMessage;

const COLUMNS: &str = "seq, received_ts, msg_id, circle_id, channel_id, author_node_id, \
                       display_name, created_ts, text, mac, schema_version, enc, order_ms";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(StoredMessage, Option<String>)> {
    Ok((
        StoredMessage {
            seq: row.get(0)?,
            received_ts: row.get(1)?,
            wire: WireMessage {
                msg_id: row.get(2)?,
                circle_id: row.get(3)?,
                channel_id: row.get(4)?,
                author_node_id: row.get(5)?,
                display_name: row.get(6)?,
                created_ts: row.get(7)?,
                text: row.get(8)?,
                mac: row.get(9)?,
                schema_version: row.get(10)?,
                enc: None,
                sent_ms: None,
            },
        },
        row.get(11)?,
    ))
    .and_then(|(mut msg, enc)| {
        // The stored order reads back as the send time it came from (see `order_ms`).
        let order_ms: i64 = row.get(12)?;
        if order_ms != msg.wire.created_ts.saturating_mul(1000) {
            msg.wire.sent_ms = Some(order_ms);
        }
        Ok((msg, enc))
    })
}

fn build((mut msg, enc): (StoredMessage, Option<String>)) -> StoreResult<StoredMessage> {
    if let Some(json) = enc {
        let env: Envelope = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("envelope of {}: {e}", msg.wire.msg_id)))?;
        msg.wire.enc = Some(env);
    }
    Ok(msg)
}

/// Stores a verified message and indexes a chat message's text for search (the
/// FTS index is written here rather than by a trigger; see the v4 migration).
/// Returns the stored row, or `None` when a message with this msg_id is already
/// held (the first copy wins everywhere).
pub fn insert(
    conn: &Connection,
    m: &WireMessage,
    received_ts: i64,
) -> StoreResult<Option<StoredMessage>> {
    let enc = m
        .enc
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("cannot encode envelope: {e}")))?;
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO messages
                (msg_id, circle_id, channel_id, author_node_id, display_name, created_ts, text,
                 mac, schema_version, enc, received_ts, order_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            m.msg_id,
            m.circle_id,
            m.channel_id,
            m.author_node_id,
            m.display_name,
            m.created_ts,
            m.text,
            m.mac,
            m.schema_version,
            enc,
            received_ts,
            m.order_ms()
        ])?;
    if n == 0 {
        return Ok(None);
    }
    let seq = conn.last_insert_rowid();
    if m.channel_id != CONTROL_CHANNEL {
        conn.prepare_cached("INSERT INTO messages_fts (rowid, text) VALUES (?1, ?2)")?
            .execute(params![seq, m.text])?;
    }
    Ok(Some(StoredMessage {
        seq,
        received_ts,
        wire: m.clone(),
    }))
}

/// A position in a channel's history: messages strictly before it are older. Channels
/// are ordered by `(order_ms, msg_id)` on every node (see `WireMessage::order_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    /// `order_ms` of the boundary message.
    pub order_ms: i64,
    /// Its msg_id: the tie-breaker, the same on every node.
    pub msg_id: String,
}

impl PageCursor {
    /// The cursor of `m`.
    pub fn of(m: &StoredMessage) -> Self {
        Self {
            order_ms: m.wire.order_ms(),
            msg_id: m.wire.msg_id.clone(),
        }
    }

    /// Encodes the cursor as the opaque string clients pass back.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.order_ms, self.msg_id)
    }

    /// Decodes a cursor string; `None` if it is not one of ours.
    pub fn decode(s: &str) -> Option<Self> {
        let (ms, id) = s.split_once(':')?;
        Some(Self {
            order_ms: ms.parse().ok()?,
            msg_id: id.to_string(),
        })
    }
}

/// Where a page of a channel's history starts, and which way it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageFrom {
    /// The newest messages older than the cursor (the newest of all if `None`).
    Before(Option<PageCursor>),
    /// The oldest messages newer than the cursor (the oldest of all if `None`).
    After(Option<PageCursor>),
}

/// Up to `limit` messages of a channel from `from`, returned oldest first.
pub fn page(
    conn: &Connection,
    circle_id: &str,
    channel_id: &str,
    limit: u32,
    from: &PageFrom,
) -> StoreResult<Vec<StoredMessage>> {
    let (cursor, newest_first) = match from {
        PageFrom::Before(c) => (c.as_ref(), true),
        PageFrom::After(c) => (c.as_ref(), false),
    };
    let sql = if newest_first {
        format!(
            "SELECT {COLUMNS} FROM messages
             WHERE circle_id = ?1 AND channel_id = ?2
               AND (?5 OR order_ms < ?3 OR (order_ms = ?3 AND msg_id < ?4))
             ORDER BY order_ms DESC, msg_id DESC LIMIT ?6"
        )
    } else {
        format!(
            "SELECT {COLUMNS} FROM messages
             WHERE circle_id = ?1 AND channel_id = ?2
               AND (?5 OR order_ms > ?3 OR (order_ms = ?3 AND msg_id > ?4))
             ORDER BY order_ms, msg_id LIMIT ?6"
        )
    };
    let (ms, id) = cursor.map_or((0, ""), |c| (c.order_ms, c.msg_id.as_str()));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![circle_id, channel_id, ms, id, cursor.is_none(), limit],
        from_row,
    )?;
    let mut out = rows.map(|r| build(r?)).collect::<StoreResult<Vec<_>>>()?;
    if newest_first {
        out.reverse();
    }
    Ok(out)
}

/// Whether the channel holds a message beyond `c`: older than it with `older`, newer
/// otherwise. Decides whether a page gets a cursor to the next one.
pub fn has_beyond(
    conn: &Connection,
    circle_id: &str,
    channel_id: &str,
    c: &PageCursor,
    older: bool,
) -> StoreResult<bool> {
    let sql = if older {
        "SELECT EXISTS (SELECT 1 FROM messages WHERE circle_id = ?1 AND channel_id = ?2
           AND (order_ms < ?3 OR (order_ms = ?3 AND msg_id < ?4)))"
    } else {
        "SELECT EXISTS (SELECT 1 FROM messages WHERE circle_id = ?1 AND channel_id = ?2
           AND (order_ms > ?3 OR (order_ms = ?3 AND msg_id > ?4)))"
    };
    let found: bool = conn
        .prepare_cached(sql)?
        .query_row(params![circle_id, channel_id, c.order_ms, c.msg_id], |r| {
            r.get(0)
        })?;
    Ok(found)
}

/// Messages of a circle in local arrival order (control events included).
pub fn all_in_circle(conn: &Connection, circle_id: &str) -> StoreResult<Vec<StoredMessage>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM messages WHERE circle_id = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([circle_id], from_row)?;
    rows.map(|r| build(r?)).collect()
}

/// Total number of messages held (control events included).
pub fn count(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?;
    Ok(n as u64)
}

/// Number of chat messages held (control events excluded), as `circles` counts them.
pub fn count_chat(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM messages WHERE channel_id != '__control'",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Deletes chat messages older than `cutoff_ts`, and beyond the newest `max_per_circle`
/// chat messages of each circle (0 = no cap). Control events are kept: they carry the
/// circle's channel and name state that newcomers still need. Returns rows removed.
pub fn prune(conn: &Connection, cutoff_ts: i64, max_per_circle: u64) -> StoreResult<u64> {
    let mut removed = conn.execute(
        "DELETE FROM messages WHERE channel_id != '__control' AND created_ts < ?1",
        [cutoff_ts],
    )? as u64;
    if max_per_circle > 0 {
        removed += conn.execute(
            "DELETE FROM messages WHERE seq IN (
               SELECT seq FROM (
                 SELECT seq, ROW_NUMBER() OVER (
                   PARTITION BY circle_id ORDER BY created_ts DESC, msg_id DESC) AS rn
                 FROM messages WHERE channel_id != '__control')
               WHERE rn > ?1)",
            [max_per_circle as i64],
        )? as u64;
    }
    Ok(removed)
}

/// The `(created_ts, msg_id)` of the `cap`-th newest chat message of a circle, in the order
/// the count prune keeps them (newest `created_ts` first, ties by `msg_id`), or `None` while
/// it holds fewer.
pub fn count_floor(
    conn: &Connection,
    circle_id: &str,
    cap: u64,
) -> StoreResult<Option<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT created_ts, msg_id FROM messages WHERE circle_id = ?1 AND channel_id != '__control'
         ORDER BY created_ts DESC, msg_id DESC LIMIT 1 OFFSET ?2",
    )?;
    let offset = i64::try_from(cap.saturating_sub(1)).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![circle_id, offset])?;
    Ok(match rows.next()? {
        Some(row) => Some((row.get(0)?, row.get(1)?)),
        None => None,
    })
}

/// Every msg_id of a circle with its `created_ts`, newest first.
pub fn ids_newest_first(conn: &Connection, circle_id: &str) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT msg_id, created_ts FROM messages WHERE circle_id = ?1
         ORDER BY created_ts DESC, seq DESC",
    )?;
    let rows = stmt.query_map([circle_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The messages of a circle with the given ids (those held), newest first.
pub fn get_many(
    conn: &Connection,
    circle_id: &str,
    ids: &[String],
) -> StoreResult<Vec<StoredMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE circle_id = ?1 AND msg_id = ?2"
    ))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let mut rows = stmt.query_map(params![circle_id, id], from_row)?;
        if let Some(row) = rows.next() {
            out.push(build(row?)?);
        }
    }
    out.sort_by_key(|m| std::cmp::Reverse((m.wire.created_ts, m.seq)));
    Ok(out)
}

/// The newest `limit` messages of a circle, newest first; control events only when
/// `with_control`.
pub fn newest(
    conn: &Connection,
    circle_id: &str,
    limit: usize,
    with_control: bool,
) -> StoreResult<Vec<StoredMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE circle_id = ?1 AND (?2 OR channel_id != '__control')
         ORDER BY created_ts DESC, seq DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![circle_id, with_control, limit as i64], from_row)?;
    rows.map(|r| build(r?)).collect()
}

/// The seq of the newest message stored, 0 when there is none.
pub fn last_seq(conn: &Connection) -> StoreResult<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM messages", [], |r| {
            r.get(0)
        })?,
    )
}

/// Up to `limit` chat messages stored after `seq` (in one circle, or all), in storage
/// order: what a client that saw everything up to `seq` has missed.
pub fn stored_after(
    conn: &Connection,
    seq: i64,
    circle_id: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<StoredMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages
         WHERE seq > ?1 AND channel_id != '__control' AND (?2 IS NULL OR circle_id = ?2)
         ORDER BY seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![seq, circle_id, limit as i64], from_row)?;
    rows.map(|r| build(r?)).collect()
}

/// Up to `limit` messages of a circle created after `since`, oldest first.
pub fn created_after(
    conn: &Connection,
    circle_id: &str,
    since: i64,
    limit: usize,
) -> StoreResult<Vec<StoredMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE circle_id = ?1 AND created_ts > ?2
         ORDER BY created_ts, seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![circle_id, since, limit as i64], from_row)?;
    rows.map(|r| build(r?)).collect()
}

/// Deletes anchor announcements created before `cutoff_ts`: they only refresh a
/// record, and anchors repeat them, so old ones are dead weight.
pub fn prune_announcements(conn: &Connection, cutoff_ts: i64) -> StoreResult<u64> {
    Ok(conn.execute(
        "DELETE FROM messages WHERE channel_id = '__control' AND created_ts < ?1
           AND text LIKE '%\"ANCHOR_ANNOUNCE\"%'",
        [cutoff_ts],
    )? as u64)
}

/// Up to `limit` messages of a circle stored after local sequence `seq`, in order.
pub fn after_seq(
    conn: &Connection,
    circle_id: &str,
    seq: i64,
    limit: usize,
) -> StoreResult<Vec<StoredMessage>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE circle_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![circle_id, seq, limit as i64], from_row)?;
    rows.map(|r| build(r?)).collect()
}

/// Turns what a person typed into an FTS5 query: every word must match, each taken
/// literally (quoted), a trailing `*` keeps its prefix meaning. `None` when nothing
/// searchable is left.
pub fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .filter_map(|w| {
            let (word, prefix) = match w.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (w, false),
            };
            // The tokenizer ignores punctuation: a word without a letter or digit
            // would silently match nothing.
            if !word.chars().any(char::is_alphanumeric) {
                return None;
            }
            let word = word.replace('"', "\"\"");
            (!word.is_empty()).then(|| format!("\"{word}\"{}", if prefix { "*" } else { "" }))
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Chat messages matching `query` (an [`fts_query`]), newest first, optionally in one
/// circle and channel.
pub fn search(
    conn: &Connection,
    query: &str,
    circle_id: Option<&str>,
    channel_id: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<StoredMessage>> {
    let cols = COLUMNS
        .split(',')
        .map(|c| format!("m.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {cols} FROM messages_fts f JOIN messages m ON m.seq = f.rowid
         WHERE messages_fts MATCH ?1
           AND (?2 IS NULL OR m.circle_id = ?2)
           AND (?3 IS NULL OR m.channel_id = ?3)
         ORDER BY m.created_ts DESC, m.seq DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![query, circle_id, channel_id, limit], from_row)?;
    rows.map(|r| build(r?)).collect()
}
