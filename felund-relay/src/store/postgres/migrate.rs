//! Versioned schema migrations, run at start-up by sqlx's [`Migrator`].
//!
//! Migration `N` is `migrations/000N_name.sql`, embedded in the binary ([`migrations`]); the
//! versions applied (with a checksum of each file) are kept in sqlx's `_sqlx_migrations`.
//! The migrator holds a PostgreSQL advisory lock while it runs, so several instances starting
//! at once apply each migration exactly once. A database that records a migration this binary
//! does not know (migrated by a newer felund-relay) or a changed one is refused.
//!
//! Before sqlx, felund-relay kept its own record, `felund_relay_migrations` (version, name).
//! [`run`] first adopts such a database, under its own advisory lock and in one transaction:
//! the versions recorded there are entered in `_sqlx_migrations` as applied (with the
//! embedded files' checksums: the SQL of every step is unchanged) and the old table is
//! dropped, so an upgraded instance continues where the old runner stopped and never runs an
//! old step again. An instance of an older felund-relay then finds no record and fails to
//! start (its first step's tables exist) rather than running on a schema it does not know.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::{Connection, PgConnection, PgPool};
use sqlx_core::error::BoxDynError;
use sqlx_core::migrate::{
    Migrate, MigrateError, Migration, MigrationSource, MigrationType, Migrator,
};

use super::{map_err, MIGRATION_LOCK};
use crate::store::{StoreError, StoreResult};

/// The schema steps, oldest first: version, description, SQL. Never edit a step that has
/// shipped (the migrator refuses a database whose recorded checksum differs): add one.
const STEPS: [(i64, &str, &str); 3] = [
    (1, "initial", include_str!("migrations/0001_initial.sql")),
    (
        2,
        "presence_per_key",
        include_str!("migrations/0002_presence_per_key.sql"),
    ),
    (
        3,
        "since_positions",
        include_str!("migrations/0003_since_positions.sql"),
    ),
];

/// Every migration this binary knows, oldest first, as sqlx's migrator sees them.
pub fn migrations() -> Vec<Migration> {
    STEPS
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect()
}

/// [`migrations`] as a source for [`Migrator::new`].
#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async { Ok(migrations()) })
    }
}

/// The table the runner before sqlx recorded its versions in.
pub const LEGACY_TABLE: &str = "felund_relay_migrations";

/// The newest schema version this binary knows.
pub fn latest_version() -> i64 {
    STEPS.iter().map(|s| s.0).max().unwrap_or(0)
}

fn migrate_err(err: MigrateError) -> StoreError {
    StoreError::Backend(format!("database migrations: {err}"))
}

/// Adopts a database of the old runner, then applies the missing migrations.
pub(super) async fn run(pool: &PgPool) -> StoreResult<()> {
    let migrator = Migrator::new(Embedded).await.map_err(migrate_err)?;
    let mut conn = pool.acquire().await.map_err(map_err)?;
    adopt_legacy(&mut conn).await?;
    migrator.run(&mut *conn).await.map_err(|err| match err {
        MigrateError::VersionMissing(version) => StoreError::Config(format!(
            "database schema version {version} is newer than this felund-relay knows ({}); \
             upgrade felund-relay",
            latest_version()
        )),
        other => migrate_err(other),
    })
}

/// Moves the old runner's record into `_sqlx_migrations` (see the module docs); nothing when
/// there is none.
async fn adopt_legacy(conn: &mut PgConnection) -> StoreResult<()> {
    let mut tx = conn.begin().await.map_err(map_err)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let legacy: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(LEGACY_TABLE)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
    if !legacy {
        return Ok(());
    }
    let applied: Vec<i32> = sqlx::query_scalar(&format!(
        "SELECT version FROM {LEGACY_TABLE} ORDER BY version"
    ))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.ensure_migrations_table().await.map_err(migrate_err)?;
    let known = migrations();
    for version in applied {
        let Some(m) = known.iter().find(|m| m.version == i64::from(version)) else {
            return Err(StoreError::Config(format!(
                "database schema version {version} is newer than this felund-relay knows ({}); \
                 upgrade felund-relay",
                latest_version()
            )));
        };
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ($1, $2, TRUE, $3, 0) ON CONFLICT (version) DO NOTHING",
        )
        .bind(m.version)
        .bind(&*m.description)
        .bind(&*m.checksum)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    sqlx::query(&format!("DROP TABLE {LEGACY_TABLE}"))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    tracing::info!("adopted the schema record of an older felund-relay");
    Ok(())
}
