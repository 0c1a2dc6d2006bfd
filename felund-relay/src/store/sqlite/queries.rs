//! The SQL of [`SqliteStore`](super::SqliteStore), as plain synchronous functions.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::store::since_pos::{first_free, SINCE_POS_STEP};
use crate::store::{
    take_page, take_within, MessageBatch, MessageCursor, MessagePage, NewSignal, PageLimit,
    PresenceLimits, PresenceOutcome, PresenceRecord, PrunePolicy, PruneReport, RateLimit,
    SignalRecord, StoredMessage,
};

pub(super) fn put_presence(
    conn: &mut Connection,
    r: &PresenceRecord,
    limits: PresenceLimits,
) -> rusqlite::Result<PresenceOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (hint, key, now) = (&r.circle_hint, &r.signing_key, r.observed_at);
    tx.execute(
        "DELETE FROM presence WHERE circle_hint = ?1 AND expires_at <= ?2",
        params![hint, now],
    )?;
    let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<i64> {
        tx.query_row(sql, p, |row| row.get(0))
    };
    let exists = count(
        "SELECT COUNT(*) FROM presence WHERE circle_hint = ?1 AND node_id = ?2 AND signing_key = ?3",
        &[hint, &r.node_id, key],
    )? > 0;
    if !exists {
        if !key.is_empty() {
            let group = count(
                "SELECT COUNT(*) FROM presence WHERE circle_hint = ?1 AND signing_key = ?2",
                &[hint, key],
            )?;
            let keys = count(
                "SELECT COUNT(DISTINCT signing_key) FROM presence
                 WHERE circle_hint = ?1 AND signing_key != ''",
                &[hint],
            )?;
            if group == 0 && keys >= i64::from(limits.max_keys_per_hint) {
                return Ok(PresenceOutcome::TooManyKeys);
            }
            let from_addr = count(
                "SELECT COUNT(DISTINCT signing_key) FROM presence
                 WHERE circle_hint = ?1 AND client_addr = ?2 AND signing_key NOT IN ('', ?3)",
                &[hint, &r.client_addr, key],
            )?;
            if !r.client_addr.is_empty() && from_addr >= i64::from(limits.max_keys_per_address) {
                return Ok(PresenceOutcome::AddressUsesOtherKeys);
            }
        }
        let nodes = count(
            "SELECT COUNT(*) FROM presence WHERE circle_hint = ?1 AND signing_key = ?2",
            &[hint, key],
        )?;
        if nodes >= i64::from(limits.max_nodes_per_key) {
            // Only records of the same key are displaced (see RelayStore::put_presence).
            tx.execute(
                "DELETE FROM presence WHERE rowid IN (
                     SELECT rowid FROM presence WHERE circle_hint = ?1 AND signing_key = ?2
                     ORDER BY observed_at ASC, node_id ASC LIMIT ?3)",
                params![hint, key, nodes + 1 - i64::from(limits.max_nodes_per_key)],
            )?;
        }
    }
    tx.execute(
        "INSERT INTO presence (circle_hint, node_id, signing_key, endpoints, capabilities,
                               observed_at, expires_at, client_addr)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (circle_hint, node_id, signing_key) DO UPDATE SET
             endpoints = excluded.endpoints, capabilities = excluded.capabilities,
             observed_at = excluded.observed_at, expires_at = excluded.expires_at,
             client_addr = excluded.client_addr",
        params![
            hint,
            r.node_id,
            key,
            r.endpoints,
            r.capabilities,
            r.observed_at,
            r.expires_at,
            r.client_addr
        ],
    )?;
    tx.commit()?;
    Ok(PresenceOutcome::Stored)
}

pub(super) fn signing_keys(
    conn: &Connection,
    circle_hint: &str,
    node_id: &str,
    now: i64,
    limit: u32,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT signing_key FROM presence
         WHERE circle_hint = ?1 AND node_id = ?2 AND expires_at > ?3 AND signing_key != ''
         ORDER BY observed_at DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![circle_hint, node_id, now, limit], |row| row.get(0))?;
    rows.collect()
}

fn presence_row(row: &Row<'_>) -> rusqlite::Result<PresenceRecord> {
    Ok(PresenceRecord {
        circle_hint: row.get(0)?,
        node_id: row.get(1)?,
        endpoints: row.get(2)?,
        capabilities: row.get(3)?,
        observed_at: row.get(4)?,
        expires_at: row.get(5)?,
        signing_key: row.get(6)?,
        client_addr: row.get(7)?,
    })
}

pub(super) fn live_peers(
    conn: &Connection,
    circle_hint: &str,
    signing_key: &str,
    exclude: Option<&str>,
    now: i64,
    limit: u32,
) -> rusqlite::Result<Vec<PresenceRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT circle_hint, node_id, endpoints, capabilities, observed_at, expires_at,
                signing_key, client_addr
         FROM presence
         WHERE circle_hint = ?1 AND signing_key = ?2 AND expires_at > ?3
               AND (?4 IS NULL OR node_id != ?4)
         ORDER BY observed_at DESC, node_id ASC
         LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![circle_hint, signing_key, now, exclude, limit],
        presence_row,
    )?;
    rows.collect()
}

pub(super) fn remove_presence(
    conn: &Connection,
    circle_hint: &str,
    node_id: &str,
    signing_key: &str,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM presence WHERE circle_hint = ?1 AND node_id = ?2 AND signing_key = ?3",
        params![circle_hint, node_id, signing_key],
    )?;
    Ok(n > 0)
}

pub(super) fn nonce_seen(
    conn: &Connection,
    nonce: &str,
    not_before: i64,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM nonces WHERE nonce = ?1 AND ts >= ?2)",
        params![nonce, not_before],
        |row| row.get(0),
    )
}

pub(super) fn claim_nonce(
    conn: &Connection,
    nonce: &str,
    ts: i64,
    not_before: i64,
) -> rusqlite::Result<bool> {
    // A stale row (older than the window, not pruned yet) may be reclaimed.
    let n = conn.execute(
        "INSERT INTO nonces (nonce, ts) VALUES (?1, ?2)
         ON CONFLICT (nonce) DO UPDATE SET ts = excluded.ts WHERE nonces.ts < ?3",
        params![nonce, ts, not_before],
    )?;
    Ok(n > 0)
}

pub(super) fn insert_messages(
    conn: &mut Connection,
    batch: &MessageBatch,
) -> rusqlite::Result<Vec<StoredMessage>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored_at: i64 = tx.query_row(
        "UPDATE relay_clock SET time_floor = MAX(time_floor, ?1) WHERE id = 1
         RETURNING time_floor",
        params![batch.now],
        |row| row.get(0),
    )?;
    let circle_next: Option<i64> = tx
        .query_row(
            "SELECT next_pos FROM circle_clock WHERE circle_hint = ?1",
            params![batch.circle_hint],
            |row| row.get(0),
        )
        .optional()?;
    let mut pos = first_free(stored_at, circle_next.unwrap_or(0));
    let mut stored = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO relay_messages
                 (msg_id, circle_hint, payload, created_ts, stored_at, expires_at, pos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (msg_id) DO NOTHING",
        )?;
        for m in &batch.messages {
            let n = stmt.execute(params![
                m.msg_id,
                batch.circle_hint,
                m.payload,
                m.created_ts,
                stored_at,
                batch.expires_at,
                pos
            ])?;
            // Only a newly stored message takes a position: re-posted duplicates (the
            // reference client re-sends its 100 newest every round) cost nothing.
            if n > 0 {
                stored.push(StoredMessage {
                    seq: tx.last_insert_rowid(),
                    msg_id: m.msg_id.clone(),
                    stored_at,
                    pos,
                    payload: m.payload.clone(),
                });
                pos += SINCE_POS_STEP;
            }
        }
    }
    if !stored.is_empty() {
        tx.execute(
            "INSERT INTO circle_clock (circle_hint, next_pos) VALUES (?1, ?2)
             ON CONFLICT (circle_hint) DO UPDATE SET next_pos = MAX(next_pos, excluded.next_pos)",
            params![batch.circle_hint, pos],
        )?;
    }
    tx.commit()?;
    Ok(stored)
}

fn message_row(row: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        seq: row.get(0)?,
        msg_id: row.get(1)?,
        stored_at: row.get(2)?,
        pos: row.get(3)?,
        payload: row.get(4)?,
    })
}

pub(super) fn pull_messages(
    conn: &mut Connection,
    circle_hint: &str,
    cursor: MessageCursor,
    now: i64,
    limit: PageLimit,
) -> rusqlite::Result<MessagePage> {
    if let MessageCursor::Since(_) = cursor {
        // Messages stored after this pull get stored_at >= now (see RelayStore::pull_messages).
        conn.execute(
            "UPDATE relay_clock SET time_floor = ?1 WHERE id = 1 AND time_floor < ?1",
            params![now],
        )?;
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let fetch = i64::from(limit.rows) + 1;
    let (messages, more) = {
        let (sql, from) = match cursor {
            MessageCursor::Since(since) => (
                "SELECT seq, msg_id, stored_at, pos, payload FROM relay_messages
                 WHERE circle_hint = ?1 AND pos > ?2 AND expires_at > ?3
                 ORDER BY pos ASC LIMIT ?4",
                since,
            ),
            MessageCursor::AfterSeq(after) => (
                "SELECT seq, msg_id, stored_at, pos, payload FROM relay_messages
                 WHERE circle_hint = ?1 AND seq > ?2 AND expires_at > ?3
                 ORDER BY seq ASC LIMIT ?4",
                after,
            ),
            MessageCursor::StoredAfter(time) => (
                "SELECT seq, msg_id, stored_at, pos, payload FROM relay_messages
                 WHERE circle_hint = ?1 AND stored_at > ?2 AND expires_at > ?3
                 ORDER BY stored_at ASC, seq ASC LIMIT ?4",
                time,
            ),
        };
        let mut stmt = tx.prepare_cached(sql)?;
        // Rows are read lazily: take_page stops one row past the page's byte budget.
        let mut error = None;
        let rows = stmt
            .query_map(params![circle_hint, from, now, fetch], message_row)?
            .map_while(|row| row.map_err(|e| error = Some(e)).ok());
        let page = take_page(rows, limit);
        if let Some(err) = error {
            return Err(err);
        }
        page
    };
    // In the page's read transaction, so a batch committed meanwhile is either in the page
    // or above next_pos.
    let (max_seq, time_floor, circle_next): (i64, i64, i64) = tx.query_row(
        "SELECT (SELECT COALESCE(MAX(seq), 0) FROM relay_messages WHERE circle_hint = ?1),
                (SELECT time_floor FROM relay_clock WHERE id = 1),
                COALESCE((SELECT next_pos FROM circle_clock WHERE circle_hint = ?1), 0)",
        params![circle_hint],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    tx.commit()?;
    Ok(MessagePage {
        messages,
        more,
        max_seq,
        next_pos: first_free(time_floor, circle_next),
    })
}

pub(super) fn hit_signal_rate(
    conn: &mut Connection,
    node: &str,
    now: i64,
    limit: RateLimit,
) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let bucket: Option<(i64, i64)> = tx
        .query_row(
            "SELECT count, window_start FROM signal_rate WHERE node_id = ?1",
            params![node],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let allowed = match bucket {
        // A window that starts after now (the clock stepped back) is over too: counting on in
        // it would lock the node out until the clock caught up.
        Some((count, start)) if (start..start + limit.window_s).contains(&now) => {
            if count >= i64::from(limit.limit) {
                false
            } else {
                tx.execute(
                    "UPDATE signal_rate SET count = count + 1 WHERE node_id = ?1",
                    params![node],
                )?;
                true
            }
        }
        _ => {
            tx.execute(
                "INSERT INTO signal_rate (node_id, count, window_start) VALUES (?1, 1, ?2)
                 ON CONFLICT (node_id) DO UPDATE SET count = 1, window_start = excluded.window_start",
                params![node, now],
            )?;
            true
        }
    };
    tx.commit()?;
    Ok(allowed)
}

pub(super) fn insert_signal(conn: &Connection, s: &NewSignal) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO signal_messages
             (session_id, from_node, to_node, circle_hint, type, payload, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            s.session_id,
            s.from_node,
            s.to_node,
            s.circle_hint,
            s.kind,
            s.payload,
            s.created_at,
            s.expires_at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn pending_signals(
    conn: &Connection,
    to_node: &str,
    since_id: i64,
    session_id: Option<&str>,
    now: i64,
    limit: PageLimit,
) -> rusqlite::Result<Vec<SignalRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, session_id, from_node, to_node, type, payload, created_at
         FROM signal_messages
         WHERE to_node = ?1 AND id > ?2 AND expires_at > ?3 AND (?4 IS NULL OR session_id = ?4)
         ORDER BY id ASC LIMIT ?5",
    )?;
    let mut error = None;
    // Read lazily: the cut stops one row past the byte budget.
    let rows = stmt
        .query_map(
            params![to_node, since_id, now, session_id, limit.rows],
            |row| {
                Ok(SignalRecord {
                    id: row.get(0)?,
                    session_id: row.get(1)?,
                    from_node: row.get(2)?,
                    to_node: row.get(3)?,
                    kind: row.get(4)?,
                    payload: row.get(5)?,
                    created_at: row.get(6)?,
                })
            },
        )?
        .map_while(|row| row.map_err(|e| error = Some(e)).ok());
    let (signals, _more) = take_within(rows, limit, |s| s.payload.len());
    match error {
        Some(err) => Err(err),
        None => Ok(signals),
    }
}

pub(super) fn prune(
    conn: &mut Connection,
    now: i64,
    policy: PrunePolicy,
) -> rusqlite::Result<PruneReport> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let report = PruneReport {
        presence: tx.execute("DELETE FROM presence WHERE expires_at <= ?1", params![now])?,
        messages: tx.execute(
            "DELETE FROM relay_messages WHERE expires_at <= ?1",
            params![now],
        )?,
        nonces: tx.execute(
            "DELETE FROM nonces WHERE ts < ?1",
            params![now - policy.nonce_window_s],
        )?,
        signals: tx.execute(
            "DELETE FROM signal_messages WHERE expires_at <= ?1",
            params![now],
        )?,
        rate_buckets: tx.execute(
            "DELETE FROM signal_rate WHERE window_start < ?1",
            params![now - 2 * policy.rate_window_s],
        )?,
        // The time floor only grows, so a circle's next_pos at or below it never matters again.
        circle_clocks: tx.execute(
            "DELETE FROM circle_clock
             WHERE next_pos <= (SELECT time_floor FROM relay_clock WHERE id = 1)",
            [],
        )?,
    };
    tx.commit()?;
    Ok(report)
}
