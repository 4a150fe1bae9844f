//! Versioned, forward-only schema migrations (`migrations/NNNN_name.sql`), applied when a store
//! connects. `civmap_migrations` records each applied version with the SHA-256 of its SQL; an
//! advisory lock makes processes that start together take turns; each migration is applied in
//! its own transaction.

use sha2::{Digest, Sha256};
use tokio_postgres::Config;

use super::{describe_target, pg_err, pool};
use crate::store::StoreError;

/// One migration: its version, its name and its SQL.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, oldest first. Never edit a released one: add the next.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../../../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "0002_duty_posts",
        sql: include_str!("../../../migrations/0002_duty_posts.sql"),
    },
    Migration {
        version: 3,
        name: "0003_notify_per_statement",
        sql: include_str!("../../../migrations/0003_notify_per_statement.sql"),
    },
];

/// Key of the session advisory lock held while migrating ("civmap" in ASCII).
const MIGRATION_LOCK: i64 = 0x6369_766d_6170;
/// The oldest PostGIS civmap works with.
const MIN_POSTGIS_MAJOR: u32 = 3;

const CREATE_LEDGER: &str = "CREATE TABLE IF NOT EXISTS civmap_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Brings the database at `config` up to the newest schema, on a connection of its own (closing
/// it releases the lock whatever happens).
pub(super) async fn run(config: &Config) -> Result<(), StoreError> {
    let mut client = pool::connect(config).await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err("waiting for the migration lock"))?;
    ensure_postgis(&client, config).await?;
    client
        .batch_execute(CREATE_LEDGER)
        .await
        .map_err(pg_err("creating civmap_migrations"))?;
    let applied: Vec<(i32, String, String)> = client
        .query(
            "SELECT version, name, sha256 FROM civmap_migrations ORDER BY version",
            &[],
        )
        .await
        .and_then(|rows| {
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect()
        })
        .map_err(pg_err("reading civmap_migrations"))?;
    let newest_known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some((version, name, _)) = applied.iter().find(|(v, _, _)| *v > newest_known) {
        return Err(StoreError::Schema(format!(
            "{} has schema version {version} ({name}), newer than this civmap knows \
             (up to {newest_known}): upgrade civmap",
            describe_target(config)
        )));
    }
    for migration in MIGRATIONS {
        let checksum = sha256_hex(migration.sql);
        if let Some((_, _, recorded)) = applied.iter().find(|(v, _, _)| *v == migration.version) {
            if *recorded != checksum {
                return Err(StoreError::Schema(format!(
                    "migration {} was applied to {} from different SQL than this civmap ships: \
                     migrations must never be edited once applied",
                    migration.name,
                    describe_target(config)
                )));
            }
            continue;
        }
        let doing = || format!("applying migration {}", migration.name);
        let tx = client.transaction().await.map_err(pg_err(doing()))?;
        tx.batch_execute(migration.sql)
            .await
            .map_err(pg_err(doing()))?;
        tx.execute(
            "INSERT INTO civmap_migrations (version, name, sha256) VALUES ($1, $2, $3)",
            &[&migration.version, &migration.name, &checksum],
        )
        .await
        .map_err(pg_err(doing()))?;
        tx.commit().await.map_err(pg_err(doing()))?;
        tracing::info!(migration = migration.name, "applied a schema migration");
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err("releasing the migration lock"))?;
    Ok(())
}

/// Creates the postgis extension when it is missing, saying what is wrong when it cannot be,
/// and checks its version.
async fn ensure_postgis(
    client: &tokio_postgres::Client,
    config: &Config,
) -> Result<(), StoreError> {
    let target = describe_target(config);
    let installed = client
        .query_opt(
            "SELECT extversion FROM pg_extension WHERE extname = 'postgis'",
            &[],
        )
        .await
        .map_err(pg_err("looking for the postgis extension"))?;
    if installed.is_none() {
        let available = client
            .query_opt(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'",
                &[],
            )
            .await
            .map_err(pg_err("looking for the postgis extension"))?;
        if available.is_none() {
            return Err(StoreError::Postgis(format!(
                "PostGIS is not installed on the server of {target} (pg_available_extensions \
                 has no postgis): install PostGIS 3 for that PostgreSQL (on Debian: \
                 postgresql-15-postgis-3, or `bash .ci/postgis install`)"
            )));
        }
        if let Err(error) = client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS postgis")
            .await
        {
            let denied =
                error.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE);
            return Err(if denied {
                StoreError::Postgis(format!(
                    "the postgis extension is not enabled in {target} and this role may not \
                     create it: ask a superuser to run `CREATE EXTENSION postgis;` in that \
                     database ({})",
                    super::describe(&error)
                ))
            } else {
                pg_err(format!("creating the postgis extension in {target}"))(error)
            });
        }
    }
    let version: String = client
        .query_one("SELECT PostGIS_Lib_Version()", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(pg_err("reading the PostGIS version"))?;
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if major < MIN_POSTGIS_MAJOR {
        return Err(StoreError::Postgis(format!(
            "{target} has PostGIS {version}; civmap needs PostGIS {MIN_POSTGIS_MAJOR}.0 or newer \
             (ALTER EXTENSION postgis UPDATE, after installing a newer PostGIS)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_named_after_their_files() {
        for (n, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, n as i32 + 1);
            assert!(
                migration
                    .name
                    .starts_with(&format!("{:04}_", migration.version)),
                "{}",
                migration.name
            );
        }
    }

    #[test]
    fn every_migration_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{}.sql", m.name))
            .collect();
        assert_eq!(files, listed);
    }
}
