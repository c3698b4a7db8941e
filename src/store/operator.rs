//! What the operator commands need from the database beyond the API: whether
//! a database was ever set up, the fingerprint of the server key it last
//! served with, and consistent SQLite backups.

use std::path::Path;

use sqlx::ConnectOptions as _;
use sqlx::Connection as _;
use sqlx::any::AnyConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use super::{Backend, Location, Result, Store, StoreError};

/// The newest migration this binary embeds for `backend` (the schema
/// version a database it opened has).
pub fn schema_version(backend: Backend) -> i64 {
    let migrator = backend.migrator();
    migrator.iter().map(|m| m.version).max().unwrap_or_default()
}

/// Whether `location` holds a database `nanochat serve` set up (its
/// migrations table and users table exist), without creating or changing
/// anything: a missing SQLite file is `false`.
pub async fn is_set_up(location: &Location) -> Result<bool> {
    sqlx::any::install_default_drivers();
    let (url, query) = match location {
        Location::Sqlite(path) => {
            if !path.exists() {
                return Ok(false);
            }
            let url = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(false)
                .to_url_lossy();
            (
                url,
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name IN ('_sqlx_migrations', 'users')",
            )
        }
        Location::Postgres(url) => (
            url.parse().map_err(|e| {
                StoreError::Invalid(format!("the PostgreSQL URL does not parse: {e}"))
            })?,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_name IN ('_sqlx_migrations', 'users')",
        ),
    };
    let mut conn = sqlx::AnyConnection::connect_with(&AnyConnectOptions::from_url(&url)?).await?;
    let tables: i64 = sqlx::query_scalar(query).fetch_one(&mut conn).await?;
    conn.close().await?;
    Ok(tables == 2)
}

impl Store {
    /// Whether any user exists (pending or complete).
    pub async fn has_users(&self) -> Result<bool> {
        // COUNT(*) is a 64-bit integer on both engines.
        let found: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS any_user")
                .fetch_one(&self.pool)
                .await?;
        Ok(found > 0)
    }

    /// The fingerprint of the server key this database last served with.
    pub async fn recorded_server_key(&self) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT fingerprint FROM server_key WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Records `fingerprint` as the server key this database serves with.
    /// With `replace` false an existing record is kept (several instances
    /// starting at once); returns the fingerprint recorded afterwards.
    pub async fn record_server_key(
        &self,
        fingerprint: &str,
        replace: bool,
        now_ms: i64,
    ) -> Result<String> {
        let query = if replace {
            "INSERT INTO server_key (id, fingerprint, recorded_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, \
             recorded_at = excluded.recorded_at"
        } else {
            "INSERT INTO server_key (id, fingerprint, recorded_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO NOTHING"
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(query)
            .bind(fingerprint)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(self.recorded_server_key().await?.unwrap_or_default())
    }

    /// The newest migration applied to this database.
    pub async fn applied_schema_version(&self) -> Result<i64> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or_default())
    }

    /// Writes a consistent copy of this SQLite database to `dest` (which
    /// must not exist) with `VACUUM INTO`, while other connections keep
    /// reading and writing.
    pub async fn vacuum_into(&self, dest: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Invalid(
                "VACUUM INTO is SQLite only; back up PostgreSQL with pg_dump".into(),
            ));
        }
        let dest = dest.to_str().ok_or_else(|| {
            StoreError::Invalid(format!("{} is not a UTF-8 path", dest.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// What [`check_sqlite_file`] found in a backup.
#[derive(Debug)]
pub struct BackupReport {
    /// `PRAGMA integrity_check` and `foreign_key_check` problems; empty when sound.
    pub problems: Vec<String>,
    /// The newest migration applied.
    pub schema_version: i64,
    /// The server key fingerprint recorded, if any.
    pub server_key: Option<String>,
    /// How many users it holds.
    pub users: i64,
    /// How many messages it holds.
    pub messages: i64,
}

/// Checks a SQLite database file (a backup) read-only, without migrating
/// or otherwise changing it.
pub async fn check_sqlite_file(path: &Path) -> Result<BackupReport> {
    if !path.is_file() {
        return Err(StoreError::Invalid(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let mut problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?
        .into_iter()
        .filter(|line: &String| line != "ok")
        .collect();
    let orphans: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut conn)
        .await?;
    problems.extend(
        orphans
            .into_iter()
            .map(|(table,)| format!("{table} has a row referring to a missing row")),
    );
    let schema_version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await?;
    let server_key = if schema_version.unwrap_or_default() >= 6 {
        sqlx::query_scalar("SELECT fingerprint FROM server_key WHERE id = 1")
            .fetch_optional(&mut conn)
            .await?
    } else {
        None
    };
    let users = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut conn)
        .await?;
    let messages = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(BackupReport {
        problems,
        schema_version: schema_version.unwrap_or_default(),
        server_key,
        users,
        messages,
    })
}
