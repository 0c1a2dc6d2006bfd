//! The SQL of [`PgStore`](super::PgStore) for WebRTC signalling: the per-node post rate,
//! signals stored with ids committed in order, and byte-bounded polls.

use sqlx::PgPool;

use super::{map_err, SIGNAL_LOCK};
use crate::store::{take_within, NewSignal, PageLimit, RateLimit, SignalRecord, StoreResult};

pub(super) async fn hit_signal_rate(
    pool: &PgPool,
    node: &str,
    now: i64,
    limit: RateLimit,
) -> StoreResult<bool> {
    // One atomic upsert: a request in the current window counts if the window is not full; a
    // request after the window (or before it: the clock stepped back) starts a new one. No row
    // back = refused (and not counted).
    let counted: Option<i32> = sqlx::query_scalar(
        "INSERT INTO signal_rate AS r (node_id, count, window_start) VALUES ($1, 1, $2)
         ON CONFLICT (node_id) DO UPDATE SET
             count = CASE WHEN $2 - r.window_start BETWEEN 0 AND $3 - 1
                          THEN r.count + 1 ELSE 1 END,
             window_start = CASE WHEN $2 - r.window_start BETWEEN 0 AND $3 - 1
                                 THEN r.window_start ELSE $2 END
         WHERE $2 - r.window_start NOT BETWEEN 0 AND $3 - 1 OR r.count < $4
         RETURNING 1",
    )
    .bind(node)
    .bind(now)
    .bind(limit.window_s)
    .bind(i64::from(limit.limit))
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    Ok(counted.is_some())
}

pub(super) async fn insert_signal(pool: &PgPool, s: &NewSignal) -> StoreResult<i64> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // Ids drawn and committed one at a time: a `since_id` poller never skips a late commit.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SIGNAL_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO signal_messages
             (session_id, from_node, to_node, circle_hint, type, payload, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id",
    )
    .bind(&s.session_id)
    .bind(&s.from_node)
    .bind(&s.to_node)
    .bind(&s.circle_hint)
    .bind(&s.kind)
    .bind(&s.payload)
    .bind(s.created_at)
    .bind(s.expires_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(id)
}

type SignalRow = (i64, String, String, String, String, String, i64);

pub(super) async fn pending_signals(
    pool: &PgPool,
    to_node: &str,
    since_id: i64,
    session_id: Option<&str>,
    now: i64,
    limit: PageLimit,
) -> StoreResult<Vec<SignalRecord>> {
    // As for message pages: only rows whose predecessors hold at most the byte budget leave
    // the database; take_within makes the exact cut.
    let rows: Vec<SignalRow> = sqlx::query_as(
        "SELECT id, session_id, from_node, to_node, type, payload, created_at FROM (
             SELECT *, SUM(octet_length(payload)) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING)
                           - octet_length(payload) AS before
             FROM (SELECT id, session_id, from_node, to_node, type, payload, created_at
                   FROM signal_messages
                   WHERE to_node = $1 AND id > $2 AND expires_at > $3
                         AND ($4::text IS NULL OR session_id = $4)
                   ORDER BY id ASC LIMIT $5) p
         ) w
         WHERE w.before <= $6
         ORDER BY id ASC",
    )
    .bind(to_node)
    .bind(since_id)
    .bind(now)
    .bind(session_id)
    .bind(i64::from(limit.rows))
    .bind(i64::try_from(limit.bytes).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    let records = rows.into_iter().map(|r| SignalRecord {
        id: r.0,
        session_id: r.1,
        from_node: r.2,
        to_node: r.3,
        kind: r.4,
        payload: r.5,
        created_at: r.6,
    });
    Ok(take_within(records, limit, |s| s.payload.len()).0)
}
