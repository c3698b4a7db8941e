//! Where SQLite and PostgreSQL differ. The store speaks one SQL to both
//! through sqlx's `Any` driver; what cannot be said the same way lives
//! here, as methods of [`Backend`], so the query modules ask for "lock this
//! conversation's row" or "the join that fixes the plan" and never branch
//! on the engine themselves.
//!
//! Features that exist on one engine only are decided where they live and
//! say why: events recorded for other instances and NOTIFY (PostgreSQL:
//! several processes), the `key_changes` table an operator's command writes
//! and the serving process polls, the legacy name scrub, `PRAGMA` checks
//! and file backups (SQLite: one file).

use sqlx::migrate::Migrator;

use super::{Backend, Conn, DbPool, DbTransaction, IN_CHUNK, Result, placeholders};

/// The embedded SQLite migrations (`migrations/sqlite/`).
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
/// The embedded PostgreSQL migrations (`migrations/postgres/`): the same
/// schema in PostgreSQL's types.
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

impl Backend {
    /// The embedded migrations for this engine.
    pub(super) fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        }
    }

    /// Whether this process groups its writers' changes into shared
    /// transactions (`group_commit`): SQLite has one writer at a time and
    /// an `fsync` per commit, and queueing in process replaces its busy
    /// handler (which sleeps 1 to 100 ms between retries). PostgreSQL runs
    /// writers at once, each locking the rows its change depends on, and
    /// groups their WAL flushes itself.
    pub(super) fn groups_commits(self) -> bool {
        self == Backend::Sqlite
    }

    /// Begins a write transaction of its own (where commits are not
    /// grouped): on SQLite `BEGIN IMMEDIATE` takes the write lock up front
    /// (a read lock could not be upgraded later); on PostgreSQL a plain
    /// `BEGIN` (READ COMMITTED).
    pub(super) async fn begin_write(self, pool: &DbPool) -> Result<DbTransaction> {
        Ok(match self {
            Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => pool.begin().await?,
        })
    }

    /// Locks conversation `id`'s row until the transaction ends, so that
    /// changes to one conversation apply one at a time across every
    /// instance, in the order PostgreSQL commits them. SQLite's write
    /// transaction already excludes every other writer.
    pub(super) async fn lock_conversation_row(self, conn: &mut Conn, id: &str) -> Result<()> {
        if self == Backend::Postgres {
            sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Locks the rows of every conversation `username` is in, in id order
    /// (one order for every transaction, so two cannot deadlock), for
    /// changes that touch them all (deleting or resetting the user).
    pub(super) async fn lock_conversations_of(self, conn: &mut Conn, username: &str) -> Result<()> {
        if self == Backend::Postgres {
            sqlx::query(
                "SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id \
                 WHERE m.username = $1 ORDER BY c.id FOR UPDATE OF c",
            )
            .bind(username)
            .fetch_all(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Locks the rows of users `names` (sorted) until the transaction ends:
    /// two instances adding the same user to two conversations at once
    /// must not both see room for one.
    pub(super) async fn lock_users(self, conn: &mut Conn, names: &[String]) -> Result<()> {
        if self == Backend::Postgres {
            for chunk in names.chunks(IN_CHUNK) {
                let sql = format!(
                    "SELECT username FROM users WHERE username IN ({}) ORDER BY username FOR UPDATE",
                    placeholders(1, chunk.len())
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for name in chunk {
                    query = query.bind(name);
                }
                query.fetch_all(&mut *conn).await?;
            }
        }
        Ok(())
    }

    /// The join that keeps a query's plan as written. On SQLite, `CROSS
    /// JOIN` fixes the order (left to itself, SQLite drove the latest
    /// messages query from all of a reader's wrapped keys: 2.4 s at
    /// 1,000,000 messages instead of 1.5 ms); PostgreSQL's planner needs
    /// no hint, and its `CROSS JOIN` takes no `ON`.
    pub(super) fn ordered_join(self) -> &'static str {
        match self {
            Backend::Sqlite => "CROSS JOIN",
            Backend::Postgres => "JOIN",
        }
    }
}
