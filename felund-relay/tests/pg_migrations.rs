//! PostgreSQL databases that felund-relay's runner before sqlx migrated (recorded in
//! `felund_relay_migrations`) upgrade in place: the steps it applied are never run again, the
//! missing ones run once, the data stays, and sqlx's record takes over.

#[macro_use]
mod common;

use common::Backend;
use felund_relay::store::postgres::migrate::{self, LEGACY_TABLE};
use felund_relay::store::{MessageCursor, PageLimit, PgStore, RelayStore, StoreError};
use sqlx::{Connection, PgConnection};

/// The names the old runner recorded, by version.
const OLD_NAMES: [&str; 3] = ["initial", "presence_per_key", "since_positions"];

/// What the old runner left after applying versions `1..=upto` (the same SQL files, the same
/// record), with one message stored at `stored_at` 10 in circle `hinthint`.
async fn old_runner_database(url: &str, upto: i64) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::raw_sql(&format!(
        "CREATE TABLE {LEGACY_TABLE} (
             version    INTEGER     PRIMARY KEY,
             name       TEXT        NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    ))
    .execute(&mut conn)
    .await
    .expect("old record table");
    for m in migrate::migrations().iter().filter(|m| m.version <= upto) {
        sqlx::raw_sql(&m.sql)
            .execute(&mut conn)
            .await
            .expect("old step");
        sqlx::query(&format!(
            "INSERT INTO {LEGACY_TABLE} (version, name) VALUES ($1, $2)"
        ))
        .bind(m.version as i32)
        .bind(OLD_NAMES[m.version as usize - 1])
        .execute(&mut conn)
        .await
        .expect("old record");
    }
    // From version 3 on a message has a position (no default: the relay sets it).
    let (pos_column, pos) = if upto >= 3 {
        (", pos", ", 10")
    } else {
        ("", "")
    };
    sqlx::query(&format!(
        "INSERT INTO relay_messages (msg_id, circle_hint, payload, created_ts, stored_at,
                                     expires_at{pos_column})
         VALUES ('aaaaaaaa', 'hinthint', '{{}}', 1, 10, 4000000000{pos})"
    ))
    .execute(&mut conn)
    .await
    .expect("old message");
}

async fn sqlx_versions(store: &PgStore) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(store.pool())
        .await
        .expect("sqlx record")
}

async fn legacy_table_exists(url: &str) -> bool {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(LEGACY_TABLE)
        .fetch_one(&mut conn)
        .await
        .expect("to_regclass")
}

async fn old_database_upgrades_in_place(test: &str, upto: i64) {
    let Some(Backend::Postgres(url)) = Backend::postgres(test) else {
        return;
    };
    old_runner_database(&url, upto).await;
    // Had the old steps run again, their CREATE TABLEs would fail and so would this.
    let store = PgStore::connect(&url, Backend::pg_options())
        .await
        .unwrap_or_else(|e| panic!("upgrade from version {upto}: {e}"));
    let known: Vec<i64> = migrate::migrations().iter().map(|m| m.version).collect();
    assert_eq!(sqlx_versions(&store).await, known);
    assert!(!legacy_table_exists(&url).await, "the old record is gone");
    // The old message is there, with its position on the `since` scale (computed by step 3
    // when it ran now).
    let page = store
        .pull_messages("hinthint", MessageCursor::Since(0), 20, PageLimit::rows(10))
        .await
        .expect("pull");
    let stored: Vec<(&str, i64)> = page
        .messages
        .iter()
        .map(|m| (m.payload.as_str(), m.pos))
        .collect();
    assert_eq!(stored, [("{}", 10)]);
    // Starting again changes nothing.
    drop(store);
    let again = PgStore::connect(&url, Backend::pg_options())
        .await
        .expect("second start");
    assert_eq!(sqlx_versions(&again).await, known);
}

#[tokio::test]
async fn a_database_the_old_runner_completed_continues_without_running_a_step_again() {
    old_database_upgrades_in_place("old_runner_completed", 3).await;
}

#[tokio::test]
async fn a_database_the_old_runner_left_at_version_2_gets_only_the_missing_step() {
    old_database_upgrades_in_place("old_runner_at_version_2", 2).await;
}

#[tokio::test]
async fn an_old_record_of_a_version_this_relay_does_not_know_is_refused_untouched() {
    let Some(Backend::Postgres(url)) = Backend::postgres("old_record_too_new") else {
        return;
    };
    old_runner_database(&url, 3).await;
    let mut conn = PgConnection::connect(&url).await.expect("connect");
    sqlx::query(&format!(
        "INSERT INTO {LEGACY_TABLE} (version, name) VALUES (9999, 'future')"
    ))
    .execute(&mut conn)
    .await
    .expect("future record");
    let err = PgStore::connect(&url, Backend::pg_options())
        .await
        .expect_err("newer schema");
    assert!(matches!(err, StoreError::Config(_)), "{err}");
    assert!(err.to_string().contains("9999"), "{err}");
    assert!(legacy_table_exists(&url).await, "nothing was changed");
    let adopted: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut conn)
        .await
        .expect("to_regclass");
    assert!(!adopted, "nothing was changed");
}
