//! The SQL of [`PgStore`](super::PgStore). Text ordering uses `COLLATE "C"` (byte order, as
//! SQLite), so results do not depend on the database's locale.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgPool;

use super::{map_err, PRESENCE_LOCK_SPACE, PRUNE_LOCK, PUSH_CHANNEL};
use crate::store::since_pos::{first_free, SINCE_POS_STEP};
use crate::store::{
    take_page, MessageBatch, MessageCursor, MessagePage, PageLimit, PresenceLimits,
    PresenceOutcome, PresenceRecord, PrunePolicy, PruneReport, StoreResult, StoredMessage,
};

/// A sender node longer than this is left out of the notification (its own sockets on other
/// instances then get an echo, which clients de-duplicate), keeping payloads far below
/// PostgreSQL's 8,000-byte limit.
const MAX_NOTIFIED_SENDER: usize = 1024;

/// The payload of a `NOTIFY felund_relay_push`: which rows to read and how to push them.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub(super) struct PushNote {
    /// Circle hint.
    pub c: String,
    /// Poster's node id, if known.
    pub n: Option<String>,
    /// Server time of the request.
    pub t: i64,
    /// Lowest and highest seq stored by the transaction (all in circle `c`).
    pub lo: i64,
    /// See `lo`.
    pub hi: i64,
}

async fn count(tx: &mut sqlx::PgConnection, sql: &str, args: &[&str]) -> StoreResult<i64> {
    let mut query = sqlx::query_scalar::<_, i64>(sql);
    for arg in args {
        query = query.bind(*arg);
    }
    query.fetch_one(tx).await.map_err(map_err)
}

pub(super) async fn put_presence(
    pool: &PgPool,
    r: &PresenceRecord,
    limits: PresenceLimits,
) -> StoreResult<PresenceOutcome> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // Registrations of one hint run one at a time (on any instance), so the checks below and
    // the insert are atomic together.
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(PRESENCE_LOCK_SPACE)
        .bind(&r.circle_hint)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let (hint, key, node) = (
        r.circle_hint.as_str(),
        r.signing_key.as_str(),
        r.node_id.as_str(),
    );
    sqlx::query("DELETE FROM presence WHERE circle_hint = $1 AND expires_at <= $2")
        .bind(hint)
        .bind(r.observed_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let exists = count(
        &mut tx,
        "SELECT COUNT(*) FROM presence WHERE circle_hint = $1 AND node_id = $2 AND signing_key = $3",
        &[hint, node, key],
    )
    .await?
        > 0;
    if !exists {
        if !key.is_empty() {
            let group = count(
                &mut tx,
                "SELECT COUNT(*) FROM presence WHERE circle_hint = $1 AND signing_key = $2",
                &[hint, key],
            )
            .await?;
            let keys = count(
                &mut tx,
                "SELECT COUNT(DISTINCT signing_key) FROM presence
                 WHERE circle_hint = $1 AND signing_key <> ''",
                &[hint],
            )
            .await?;
            if group == 0 && keys >= i64::from(limits.max_keys_per_hint) {
                return Ok(PresenceOutcome::TooManyKeys);
            }
            let from_addr = count(
                &mut tx,
                "SELECT COUNT(DISTINCT signing_key) FROM presence
                 WHERE circle_hint = $1 AND client_addr = $2 AND signing_key NOT IN ('', $3)",
                &[hint, &r.client_addr, key],
            )
            .await?;
            if !r.client_addr.is_empty() && from_addr >= i64::from(limits.max_keys_per_address) {
                return Ok(PresenceOutcome::AddressUsesOtherKeys);
            }
        }
        let nodes = count(
            &mut tx,
            "SELECT COUNT(*) FROM presence WHERE circle_hint = $1 AND signing_key = $2",
            &[hint, key],
        )
        .await?;
        if nodes >= i64::from(limits.max_nodes_per_key) {
            // Only records of the same key are displaced (see RelayStore::put_presence).
            sqlx::query(
                "DELETE FROM presence WHERE (circle_hint, node_id, signing_key) IN (
                     SELECT circle_hint, node_id, signing_key FROM presence
                     WHERE circle_hint = $1 AND signing_key = $2
                     ORDER BY observed_at ASC, node_id COLLATE \"C\" ASC LIMIT $3)",
            )
            .bind(hint)
            .bind(key)
            .bind(nodes + 1 - i64::from(limits.max_nodes_per_key))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
    }
    sqlx::query(
        "INSERT INTO presence (circle_hint, node_id, signing_key, endpoints, capabilities,
                               observed_at, expires_at, client_addr)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (circle_hint, node_id, signing_key) DO UPDATE SET
             endpoints = EXCLUDED.endpoints, capabilities = EXCLUDED.capabilities,
             observed_at = EXCLUDED.observed_at, expires_at = EXCLUDED.expires_at,
             client_addr = EXCLUDED.client_addr",
    )
    .bind(hint)
    .bind(node)
    .bind(key)
    .bind(&r.endpoints)
    .bind(&r.capabilities)
    .bind(r.observed_at)
    .bind(r.expires_at)
    .bind(&r.client_addr)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(PresenceOutcome::Stored)
}

pub(super) async fn signing_keys(
    pool: &PgPool,
    circle_hint: &str,
    node_id: &str,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<String>> {
    sqlx::query_scalar(
        "SELECT signing_key FROM presence
         WHERE circle_hint = $1 AND node_id = $2 AND expires_at > $3 AND signing_key <> ''
         ORDER BY observed_at DESC LIMIT $4",
    )
    .bind(circle_hint)
    .bind(node_id)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(map_err)
}

type PresenceRow = (String, String, String, String, i64, i64, String, String);

pub(super) async fn live_peers(
    pool: &PgPool,
    circle_hint: &str,
    signing_key: &str,
    exclude: Option<&str>,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<PresenceRecord>> {
    let rows: Vec<PresenceRow> = sqlx::query_as(
        "SELECT circle_hint, node_id, endpoints, capabilities, observed_at, expires_at,
                signing_key, client_addr
         FROM presence
         WHERE circle_hint = $1 AND signing_key = $2 AND expires_at > $3
               AND ($4::text IS NULL OR node_id <> $4)
         ORDER BY observed_at DESC, node_id COLLATE \"C\" ASC
         LIMIT $5",
    )
    .bind(circle_hint)
    .bind(signing_key)
    .bind(now)
    .bind(exclude)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    Ok(rows
        .into_iter()
        .map(|r| PresenceRecord {
            circle_hint: r.0,
            node_id: r.1,
            endpoints: r.2,
            capabilities: r.3,
            observed_at: r.4,
            expires_at: r.5,
            signing_key: r.6,
            client_addr: r.7,
        })
        .collect())
}

pub(super) async fn remove_presence(
    pool: &PgPool,
    circle_hint: &str,
    node_id: &str,
    signing_key: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM presence WHERE circle_hint = $1 AND node_id = $2 AND signing_key = $3",
    )
    .bind(circle_hint)
    .bind(node_id)
    .bind(signing_key)
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn nonce_seen(pool: &PgPool, nonce: &str, not_before: i64) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM nonces WHERE nonce = $1 AND ts >= $2)")
        .bind(nonce)
        .bind(not_before)
        .fetch_one(pool)
        .await
        .map_err(map_err)
}

pub(super) async fn claim_nonce(
    pool: &PgPool,
    nonce: &str,
    ts: i64,
    not_before: i64,
) -> StoreResult<bool> {
    // A concurrent claim of the same nonce (on any instance) waits on the unique index and then
    // takes the conflict branch, whose condition fails: exactly one claim wins. A stale row
    // (older than the window, not pruned yet) may be reclaimed.
    let done = sqlx::query(
        "INSERT INTO nonces (nonce, ts) VALUES ($1, $2)
         ON CONFLICT (nonce) DO UPDATE SET ts = EXCLUDED.ts WHERE nonces.ts < $3",
    )
    .bind(nonce)
    .bind(ts)
    .bind(not_before)
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn insert_messages(
    pool: &PgPool,
    batch: &MessageBatch,
) -> StoreResult<Vec<StoredMessage>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // Locks the clock row until commit: the seq lock (see the module docs). Every insert holds
    // it, so the circle's next position cannot change before this commits.
    let stored_at: i64 = sqlx::query_scalar(
        "UPDATE relay_clock SET time_floor = GREATEST(time_floor, $1) WHERE id = 1
         RETURNING time_floor",
    )
    .bind(batch.now)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    // A statement of its own, after the lock: its snapshot includes the insert that held the
    // lock before (a sub-select of the UPDATE above would read the snapshot from before the
    // wait, and hand out that insert's positions again).
    let circle_next: Option<i64> =
        sqlx::query_scalar("SELECT next_pos FROM circle_clock WHERE circle_hint = $1")
            .bind(&batch.circle_hint)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    let first_pos = first_free(stored_at, circle_next.unwrap_or(0));
    let ids: Vec<&str> = batch.messages.iter().map(|m| m.msg_id.as_str()).collect();
    let payloads: Vec<&str> = batch.messages.iter().map(|m| m.payload.as_str()).collect();
    let created: Vec<i64> = batch.messages.iter().map(|m| m.created_ts).collect();
    // Only new msg_ids (the first copy in the batch) are inserted, so only they take seqs and
    // positions; under the seq lock no other insert can store one of them meanwhile.
    let mut rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "INSERT INTO relay_messages
             (msg_id, circle_hint, payload, created_ts, stored_at, expires_at, pos)
         SELECT f.msg_id, $1, f.payload, f.created_ts, $2, $3,
                $7 + $8 * (ROW_NUMBER() OVER (ORDER BY f.ord) - 1)
         FROM (SELECT DISTINCT ON (m.msg_id) m.msg_id, m.payload, m.created_ts, m.ord
               FROM unnest($4::text[], $5::text[], $6::bigint[]) WITH ORDINALITY
                    AS m(msg_id, payload, created_ts, ord)
               WHERE NOT EXISTS (SELECT 1 FROM relay_messages r WHERE r.msg_id = m.msg_id)
               ORDER BY m.msg_id, m.ord) f
         ORDER BY f.ord
         ON CONFLICT (msg_id) DO NOTHING
         RETURNING seq, msg_id, pos",
    )
    .bind(&batch.circle_hint)
    .bind(stored_at)
    .bind(batch.expires_at)
    .bind(&ids)
    .bind(&payloads)
    .bind(&created)
    .bind(first_pos)
    .bind(SINCE_POS_STEP)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    rows.sort_unstable_by_key(|(seq, _, _)| *seq);
    // The first copy of a msg_id wins, also within one batch.
    let mut first: HashMap<&str, &str> = HashMap::with_capacity(batch.messages.len());
    for m in &batch.messages {
        first.entry(m.msg_id.as_str()).or_insert(m.payload.as_str());
    }
    let stored: Vec<StoredMessage> = rows
        .into_iter()
        .map(|(seq, msg_id, pos)| StoredMessage {
            seq,
            payload: first.get(msg_id.as_str()).copied().unwrap_or("").to_owned(),
            msg_id,
            stored_at,
            pos,
        })
        .collect();
    if let Some(last) = stored.last() {
        sqlx::query(
            "INSERT INTO circle_clock (circle_hint, next_pos) VALUES ($1, $2)
             ON CONFLICT (circle_hint) DO UPDATE
             SET next_pos = GREATEST(circle_clock.next_pos, EXCLUDED.next_pos)",
        )
        .bind(&batch.circle_hint)
        .bind(last.pos + SINCE_POS_STEP)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    if let (Some(lo), Some(hi)) = (stored.first(), stored.last()) {
        let note = PushNote {
            c: batch.circle_hint.clone(),
            n: batch
                .sender_node
                .clone()
                .filter(|n| n.len() <= MAX_NOTIFIED_SENDER),
            t: batch.now,
            lo: lo.seq,
            hi: hi.seq,
        };
        let text = serde_json::to_string(&note)
            .map_err(|err| crate::store::StoreError::Backend(err.to_string()))?;
        // Delivered to every listening instance if, and only if, this transaction commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(PUSH_CHANNEL)
            .bind(text)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(stored)
}

/// `max_seq`, `next_pos`, then one message (all `None` when the page is empty).
type PageRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

/// One page of a circle: `{order}` is the cursor's order, `{after}` its condition on `$2`. The
/// window keeps the rows whose predecessors in the page hold at most `$5` payload bytes, so
/// only about one page of bytes (plus one row) leaves the database; `take_page` makes the cut.
/// The circle's highest seq and next free position come from the same snapshot.
fn page_sql(after: &str, order: &str) -> String {
    format!(
        "SELECT mx.max_seq, mx.next_pos, m.seq, m.msg_id, m.stored_at, m.pos, m.payload
         FROM (SELECT (SELECT COALESCE(MAX(seq), 0)::bigint
                       FROM relay_messages WHERE circle_hint = $1) AS max_seq,
                      GREATEST((SELECT time_floor FROM relay_clock WHERE id = 1),
                               (SELECT next_pos FROM circle_clock WHERE circle_hint = $1))
                          AS next_pos) mx
         LEFT JOIN LATERAL (
             SELECT seq, msg_id, stored_at, pos, payload FROM (
                 SELECT seq, msg_id, stored_at, pos, payload,
                        SUM(octet_length(payload)) OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING)
                            - octet_length(payload) AS before
                 FROM (SELECT seq, msg_id, stored_at, pos, payload FROM relay_messages
                       WHERE circle_hint = $1 AND {after} AND expires_at > $3
                       ORDER BY {order} LIMIT $4) p
             ) w
             WHERE w.before <= $5
         ) m ON TRUE
         ORDER BY {order}",
        order = order,
        after = after,
    )
}

pub(super) async fn pull_messages(
    pool: &PgPool,
    circle_hint: &str,
    cursor: MessageCursor,
    now: i64,
    limit: PageLimit,
) -> StoreResult<MessagePage> {
    let (sql, from) = match cursor {
        MessageCursor::Since(since) => {
            // Raise the time floor to now; if a batch holds the clock row, this waits for its
            // commit, so it is visible to the read below (see RelayStore::pull_messages). When
            // the floor is already at now, a batch in flight takes a position at or above the
            // next_pos read below, so there is nothing to wait for.
            sqlx::query("UPDATE relay_clock SET time_floor = $1 WHERE id = 1 AND time_floor < $1")
                .bind(now)
                .execute(pool)
                .await
                .map_err(map_err)?;
            (page_sql("pos > $2", "pos"), since)
        }
        MessageCursor::AfterSeq(after) => (page_sql("seq > $2", "seq"), after),
        MessageCursor::StoredAfter(time) => (page_sql("stored_at > $2", "stored_at, seq"), time),
    };
    // One statement, so the page, max_seq and next_pos come from one snapshot.
    let rows: Vec<PageRow> = sqlx::query_as(&sql)
        .bind(circle_hint)
        .bind(from)
        .bind(now)
        .bind(i64::from(limit.rows) + 1)
        .bind(i64::try_from(limit.bytes).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    let (max_seq, next_pos) = rows.first().map_or((0, 0), |r| (r.0, r.1));
    let stored = rows.into_iter().filter_map(|r| match r {
        (_, _, Some(seq), Some(msg_id), Some(stored_at), Some(pos), Some(payload)) => {
            Some(StoredMessage {
                seq,
                msg_id,
                stored_at,
                pos,
                payload,
            })
        }
        _ => None,
    });
    let (messages, more) = take_page(stored, limit);
    Ok(MessagePage {
        messages,
        more,
        max_seq,
        next_pos,
    })
}

pub(super) async fn prune(
    pool: &PgPool,
    now: i64,
    policy: PrunePolicy,
) -> StoreResult<PruneReport> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // One pruner at a time across instances; the others skip this pass.
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(PRUNE_LOCK)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
    if !got {
        return Ok(PruneReport::default());
    }
    let mut counts = [0_usize; 5];
    let steps: [(&str, i64); 5] = [
        ("DELETE FROM presence WHERE expires_at <= $1", now),
        ("DELETE FROM relay_messages WHERE expires_at <= $1", now),
        (
            "DELETE FROM nonces WHERE ts < $1",
            now - policy.nonce_window_s,
        ),
        ("DELETE FROM signal_messages WHERE expires_at <= $1", now),
        (
            "DELETE FROM signal_rate WHERE window_start < $1",
            now - 2 * policy.rate_window_s,
        ),
    ];
    for (count, (sql, bound)) in counts.iter_mut().zip(steps) {
        let done = sqlx::query(sql)
            .bind(bound)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        *count = usize::try_from(done.rows_affected()).unwrap_or(usize::MAX);
    }
    // The time floor only grows, so a circle's next_pos at or below it never matters again.
    // (A next_pos raised meanwhile by an insert in flight is re-checked after its commit.)
    let circle_clocks = sqlx::query(
        "DELETE FROM circle_clock
         WHERE next_pos <= (SELECT time_floor FROM relay_clock WHERE id = 1)",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_err)?
    .rows_affected();
    tx.commit().await.map_err(map_err)?;
    let [presence, messages, nonces, signals, rate_buckets] = counts;
    Ok(PruneReport {
        presence,
        messages,
        nonces,
        signals,
        rate_buckets,
        circle_clocks: usize::try_from(circle_clocks).unwrap_or(usize::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_note_round_trips_and_stays_small() {
        let note = PushNote {
            c: "c".repeat(128),
            n: Some("n".repeat(MAX_NOTIFIED_SENDER)),
            t: i64::MAX,
            lo: i64::MAX,
            hi: i64::MAX,
        };
        let text = serde_json::to_string(&note).expect("json");
        assert!(text.len() < 2000, "{}", text.len());
        assert_eq!(serde_json::from_str::<PushNote>(&text).expect("back"), note);
    }
}
