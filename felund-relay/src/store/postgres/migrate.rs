//! Versioned schema migrations, run at start-up.
//!
//! Migration `N` is `migrations/000N_name.sql`, compiled into the binary. The versions applied
//! are kept in `felund_relay_migrations`. Every start-up applies the missing ones in order, in
//! one transaction under an advisory lock, so several instances starting at once apply each
//! migration exactly once; a database whose schema is newer than the binary is refused.

use sqlx::PgPool;

use super::{map_err, MIGRATION_LOCK};
use crate::store::{StoreError, StoreResult};

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version (1, 2, ...).
    pub version: i32,
    /// A short name.
    pub name: &'static str,
    /// The SQL (several statements).
    pub sql: &'static str,
}

/// Every migration this binary knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "presence_per_key",
        sql: include_str!("migrations/0002_presence_per_key.sql"),
    },
    Migration {
        version: 3,
        name: "since_positions",
        sql: include_str!("migrations/0003_since_positions.sql"),
    },
];

/// The newest schema version this binary knows.
pub fn latest_version() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies the missing migrations; returns the versions applied now.
pub(super) async fn run(pool: &PgPool) -> StoreResult<Vec<i32>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS felund_relay_migrations (
             version    INTEGER     PRIMARY KEY,
             name       TEXT        NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let applied: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM felund_relay_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
    let latest = latest_version();
    if let Some(&newest) = applied.last() {
        if newest > latest {
            return Err(StoreError::Config(format!(
                "database schema version {newest} is newer than this felund-relay knows \
                 ({latest}); upgrade felund-relay"
            )));
        }
    }
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        sqlx::raw_sql(m.sql)
            .execute(&mut *tx)
            .await
            .map_err(|err| StoreError::Backend(format!("migration {}: {err}", m.version)))?;
        sqlx::query("INSERT INTO felund_relay_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        done.push(m.version);
    }
    tx.commit().await.map_err(map_err)?;
    Ok(done)
}
