//! The PostgreSQL side of a migration: one transaction, committed only after the SQLite side
//! streamed everything (its last chunk is the marks).

use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc::Receiver;

use super::{Chunk, MessageRow, MigrateReport, PresenceRow, SignalRow};
use crate::store::postgres::map_err;
use crate::store::{StoreError, StoreResult};

/// Writes everything `chunks` brings into the (empty) database behind `pool`.
pub(super) async fn run(pool: &PgPool, mut chunks: Receiver<Chunk>) -> StoreResult<MigrateReport> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // The seq lock: a relay instance already running on this database waits until we are done.
    sqlx::query("SELECT time_floor FROM relay_clock WHERE id = 1 FOR UPDATE")
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    refuse_unless_empty(&mut tx).await?;
    let mut report = MigrateReport::default();
    loop {
        let Some(chunk) = chunks.recv().await else {
            // Dropping `tx` rolls everything back.
            return Err(StoreError::Backend(
                "the SQLite side stopped before the end; nothing was copied".into(),
            ));
        };
        match chunk {
            Chunk::Presence(rows) => report.presence += presence(&mut tx, &rows).await?,
            Chunk::Messages(rows) => report.messages += messages(&mut tx, &rows).await?,
            Chunk::CircleClocks(rows) => {
                report.circle_clocks += circle_clocks(&mut tx, &rows).await?
            }
            Chunk::Nonces(rows) => report.nonces += nonces(&mut tx, &rows).await?,
            Chunk::Signals(rows) => report.signals += signals(&mut tx, &rows).await?,
            Chunk::Marks {
                time_floor,
                seq_high,
                signal_high,
            } => {
                marks(&mut tx, time_floor, seq_high, signal_high).await?;
                report.seq_high = seq_high;
                break;
            }
        }
    }
    tx.commit().await.map_err(map_err)?;
    Ok(report)
}

async fn refuse_unless_empty(tx: &mut PgConnection) -> StoreResult<()> {
    let (messages, presence, signals): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM relay_messages), (SELECT COUNT(*) FROM presence),
                (SELECT COUNT(*) FROM signal_messages)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    if messages + presence + signals > 0 {
        return Err(StoreError::Config(format!(
            "the target database is not empty ({messages} messages, {presence} presence \
             records, {signals} signals); migrate into a fresh database"
        )));
    }
    Ok(())
}

fn col<T, U>(rows: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}

async fn presence(tx: &mut PgConnection, rows: &[PresenceRow]) -> StoreResult<u64> {
    let done = sqlx::query(
        "INSERT INTO presence (circle_hint, node_id, signing_key, endpoints, capabilities,
                               observed_at, expires_at, client_addr)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::bigint[], $7::bigint[], $8::text[])",
    )
    .bind(col(rows, |r| r.circle_hint.clone()))
    .bind(col(rows, |r| r.node_id.clone()))
    .bind(col(rows, |r| r.signing_key.clone()))
    .bind(col(rows, |r| r.endpoints.clone()))
    .bind(col(rows, |r| r.capabilities.clone()))
    .bind(col(rows, |r| r.observed_at))
    .bind(col(rows, |r| r.expires_at))
    .bind(col(rows, |r| r.client_addr.clone()))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

async fn messages(tx: &mut PgConnection, rows: &[MessageRow]) -> StoreResult<u64> {
    // The seqs are the SQLite relay's: clients hold them as after_seq cursors.
    let done = sqlx::query(
        "INSERT INTO relay_messages
             (seq, msg_id, circle_hint, payload, created_ts, stored_at, expires_at, pos)
         OVERRIDING SYSTEM VALUE
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[],
                              $6::bigint[], $7::bigint[], $8::bigint[])",
    )
    .bind(col(rows, |r| r.seq))
    .bind(col(rows, |r| r.msg_id.clone()))
    .bind(col(rows, |r| r.circle_hint.clone()))
    .bind(col(rows, |r| r.payload.clone()))
    .bind(col(rows, |r| r.created_ts))
    .bind(col(rows, |r| r.stored_at))
    .bind(col(rows, |r| r.expires_at))
    .bind(col(rows, |r| r.pos))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

async fn circle_clocks(tx: &mut PgConnection, rows: &[(String, i64)]) -> StoreResult<u64> {
    let done = sqlx::query(
        "INSERT INTO circle_clock (circle_hint, next_pos)
         SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (circle_hint) DO UPDATE
         SET next_pos = GREATEST(circle_clock.next_pos, EXCLUDED.next_pos)",
    )
    .bind(col(rows, |r| r.0.clone()))
    .bind(col(rows, |r| r.1))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

async fn nonces(tx: &mut PgConnection, rows: &[(String, i64)]) -> StoreResult<u64> {
    let done = sqlx::query(
        "INSERT INTO nonces (nonce, ts) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (nonce) DO UPDATE SET ts = GREATEST(nonces.ts, EXCLUDED.ts)",
    )
    .bind(col(rows, |r| r.0.clone()))
    .bind(col(rows, |r| r.1))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

async fn signals(tx: &mut PgConnection, rows: &[SignalRow]) -> StoreResult<u64> {
    let done = sqlx::query(
        "INSERT INTO signal_messages
             (id, session_id, from_node, to_node, circle_hint, type, payload, created_at,
              expires_at)
         OVERRIDING SYSTEM VALUE
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::bigint[], $9::bigint[])",
    )
    .bind(col(rows, |r| r.id))
    .bind(col(rows, |r| r.session_id.clone()))
    .bind(col(rows, |r| r.from_node.clone()))
    .bind(col(rows, |r| r.to_node.clone()))
    .bind(col(rows, |r| r.circle_hint.clone()))
    .bind(col(rows, |r| r.kind.clone()))
    .bind(col(rows, |r| r.payload.clone()))
    .bind(col(rows, |r| r.created_at))
    .bind(col(rows, |r| r.expires_at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

/// The time floor, and the sequences above every seq and signal id SQLite handed out (its
/// `sqlite_sequence` counts pruned rows too), so none is handed out again.
async fn marks(
    tx: &mut PgConnection,
    time_floor: i64,
    seq_high: i64,
    signal_high: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE relay_clock SET time_floor = GREATEST(time_floor, $1) WHERE id = 1")
        .bind(time_floor)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    for (table, column, high) in [
        ("relay_messages", "seq", seq_high),
        ("signal_messages", "id", signal_high),
    ] {
        // setval(seq, n, true): the next value is n + 1; (1, false): the next value is 1.
        sqlx::query("SELECT setval(pg_get_serial_sequence($1, $2), GREATEST($3, 1), $3 > 0)")
            .bind(table)
            .bind(column)
            .bind(high)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}
