//! Opening a store: the SQLite file (created 0600) or the PostgreSQL
//! pools, the embedded migrations, and the checks an operator or a health
//! probe asks for.

use std::path::Path;
use std::sync::Arc;

use sqlx::ConnectOptions as _;
use sqlx::Connection as _;
use sqlx::Row as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;

use super::{Backend, DbPool, Location, Result, Store, StoreError};

/// Connections in the pool of a file database (SQLite serialises writers
/// anyway; readers run in parallel under WAL).
const MAX_FILE_CONNECTIONS: u32 = 8;

/// Connections each instance keeps to PostgreSQL: enough for the requests
/// one instance's cores can run at once (RSA bounds them), few enough that
/// several instances stay under PostgreSQL's default `max_connections`
/// (100).
const MAX_POSTGRES_CONNECTIONS: u32 = 16;

/// Connections each instance keeps for conversation turns (changes to
/// different conversations in flight at once). With the pool above and the
/// two listeners, one instance uses at most 26 of PostgreSQL's 100.
const MAX_TURN_CONNECTIONS: u32 = 8;

/// How long opening a PostgreSQL store, or waiting for a pooled
/// connection, may take before it is an error.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Store {
    /// Opens the database at `location` and applies the embedded
    /// migrations. A SQLite file is created if missing (mode 0600) and runs
    /// in WAL mode with foreign keys on, a 5 s busy timeout and
    /// `synchronous = FULL`. PostgreSQL must exist; several instances may
    /// start against it at once (sqlx's migrator holds an advisory lock).
    pub async fn open(location: impl Into<Location>) -> Result<Store> {
        sqlx::any::install_default_drivers();
        match location.into() {
            Location::Sqlite(path) => {
                restrict_permissions(&path)?;
                let url = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true)
                    .to_url_lossy();
                let pool = sqlite_pool_options(MAX_FILE_CONNECTIONS, true)
                    .connect_with(AnyConnectOptions::from_url(&url)?)
                    .await?;
                Self::migrated(pool, Backend::Sqlite).await
            }
            Location::Postgres(url) => {
                let options = AnyConnectOptions::from_url(&url.parse().map_err(|e| {
                    StoreError::Invalid(format!("the PostgreSQL URL does not parse: {e}"))
                })?)?;
                // One plain attempt first: the pool would retry an
                // unreachable server until its acquire timeout and then
                // report only the timeout.
                let first = tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    sqlx::AnyConnection::connect_with(&options),
                )
                .await
                .map_err(|_| {
                    StoreError::Unreachable(format!(
                        "no answer from PostgreSQL within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    ))
                })??;
                first.close().await?;
                let pool = AnyPoolOptions::new()
                    .max_connections(MAX_POSTGRES_CONNECTIONS)
                    .acquire_timeout(CONNECT_TIMEOUT)
                    .connect_with(options.clone())
                    .await?;
                let turns = AnyPoolOptions::new()
                    .max_connections(MAX_TURN_CONNECTIONS)
                    .acquire_timeout(CONNECT_TIMEOUT)
                    .connect_lazy_with(options);
                let mut store = Self::migrated(pool, Backend::Postgres).await?;
                store.turns = Some(turns);
                Ok(store)
            }
        }
    }

    /// Opens a fresh in-memory SQLite database (for tests): a pool of
    /// exactly one connection that is never recycled, so the database lives
    /// as long as the store.
    pub async fn open_in_memory() -> Result<Store> {
        sqlx::any::install_default_drivers();
        let pool = sqlite_pool_options(1, false)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect("sqlite::memory:")
            .await?;
        Self::migrated(pool, Backend::Sqlite).await
    }

    pub(super) async fn migrated(pool: DbPool, backend: Backend) -> Result<Store> {
        let write_stats: Arc<super::WriteStats> = Arc::default();
        let group = backend.groups_commits().then(|| {
            // A pool of one connection (an in-memory database) cannot
            // spare it to the writer between groups.
            let keeps_connection = pool.options().get_max_connections() > 1;
            Arc::new(super::group_commit::GroupCommit::new(
                pool.clone(),
                keeps_connection,
                write_stats.clone(),
            ))
        });
        let store = Store {
            pool,
            backend,
            group,
            write_stats,
            conversations_per_user: i64::MAX,
            stripes: super::turn::stripes(),
            turns: None,
        };
        let migrator = backend.migrator();
        // The server and an operator command may open a fresh SQLite
        // database at the same moment; SQLite does not serialise two
        // migrators, so the loser sees "table already exists". Running again
        // after the winner committed finds the migration applied and does
        // nothing. (PostgreSQL migrators queue on an advisory lock.)
        let plain_names = store.plain_names().await?;
        let mut attempt = 0;
        loop {
            match migrator.run(&store.pool).await {
                Ok(()) => {
                    if plain_names > 0 {
                        store.scrub_plain_names(plain_names).await?;
                    }
                    return Ok(store);
                }
                Err(e) if attempt < 3 => {
                    attempt += 1;
                    tracing::debug!(%e, attempt, "migration raced another process; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => {
                    store.pool.close().await;
                    return Err(e.into());
                }
            }
        }
    }

    /// The engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// From now on, a conversation may not be created with, nor gain, a
    /// member who is already in `most` conversations
    /// ([`StoreError::TooManyConversations`]); checked inside the write
    /// transaction, so concurrent requests cannot overshoot it. Unlimited
    /// until called.
    pub fn limit_conversations(&mut self, most: i64) {
        self.conversations_per_user = most;
    }

    /// Checks that the database answers (for `GET /health`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// SQLite's `PRAGMA integrity_check` and `PRAGMA foreign_key_check`:
    /// every problem they report, one line each; empty when the file is
    /// sound (for crash tests and an operator's after-the-fact check).
    /// PostgreSQL checks its own pages and constraints: always empty there.
    pub async fn integrity_problems(&self) -> Result<Vec<String>> {
        if self.backend == Backend::Postgres {
            return Ok(Vec::new());
        }
        let mut problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .filter(|line: &String| line != "ok")
            .collect();
        let orphans = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&self.pool)
            .await?;
        for row in orphans {
            let table: String = row.try_get(0)?;
            let rowid: Option<i64> = row.try_get(1)?;
            let parent: String = row.try_get(2)?;
            problems.push(format!(
                "{table} row {} refers to a missing {parent} row",
                rowid.map_or_else(|| "?".to_owned(), |r| r.to_string())
            ));
        }
        Ok(problems)
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        if let Some(group) = &self.group {
            group.close().await;
        }
        if let Some(turns) = &self.turns {
            turns.close().await;
        }
        self.pool.close().await;
    }
}

/// Pool options for SQLite: every connection gets the durability and
/// journal settings (the `Any` driver's URL cannot carry them); `wal` is
/// off for an in-memory database, which has no journal file.
pub(super) fn sqlite_pool_options(connections: u32, wal: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        // A file on this machine does not go away the way a network
        // connection does; the check cost a round trip to the connection's
        // thread on every acquire.
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor as _;
                if wal {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                }
                // busy_timeout: how long a statement waits for a lock held
                // by another connection (5 s).
                conn.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000")
                    .await?;
                Ok(())
            })
        })
}

/// The database holds password-encrypted private keys and sync-password
/// hashes, which a local user could attack offline: it is created 0600
/// (SQLite gives its `-wal` and `-shm` files the database's mode), and an
/// existing one readable by others is narrowed to 0600 with its companions.
pub(super) fn restrict_permissions(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::Io(e)),
        }
        let mut companions = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            companions.push(name.into());
        }
        for file in companions {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(StoreError::Io)?;
                tracing::warn!(file = %file.display(), "the database was readable by others; it is now 0600");
            }
        }
    }
    Ok(())
}
