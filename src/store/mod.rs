//! Persistent storage: users, conversations, end-to-end encrypted messages
//! and the replay guard, through `sqlx` on SQLite (the default, one file)
//! or PostgreSQL (several instances sharing one database).
//!
//! The server stores ciphertext, wrapped keys, digests and public keys only;
//! nothing here can read a message.
//!
//! # Map
//! - [`Store`], [`StoreError`] and the type aliases: here.
//! - `open`: opening a store (the SQLite file, created 0600, or the
//!   PostgreSQL pools), migrations, health and integrity checks.
//! - `transactions`: write and read transactions and their counters
//!   ([`WriteStats`], [`PoolState`]); `group_commit`: on SQLite, the
//!   writer turn and the transaction many requests' changes share, one
//!   `fsync` for all.
//! - `dialect`: every difference between the two engines, as methods of
//!   [`Backend`]; `location`: [`Location`], where the database is.
//! - `records`: the records handed out and taken in ([`UserRecord`],
//!   [`MessageRecord`], ...); [`Digest`] in `digest`.
//! - `sql`: helpers every query module shares (UUID text, placeholders,
//!   error classification, membership checks inside a transaction).
//! - Query modules, one per concern: `users`, `conversations`, `names`,
//!   `messages`, `replay` (the replay guard), `attempts` (failed
//!   `user.sync` attempts), `events` (events recorded for several
//!   instances), `operator` (what operator commands need: backups,
//!   the server key fingerprint).
//! - `turn`: [`ConversationTurn`], the lock every write to a conversation
//!   takes as a parameter.
//! - `legacy`: the one-time scrub of databases written by old versions.
//! - [`scratch`]: throwaway PostgreSQL databases for tests and benchmarks.
//!
//! # Conventions
//! - Every timestamp is an `i64` of unix **milliseconds**, passed in by the
//!   caller (`now`) so behaviour is deterministic and testable.
//! - UUIDs are stored as lowercase hyphenated `TEXT`, binary values as `BLOB`
//!   (`BYTEA` on PostgreSQL).
//! - One SQL for both engines: standard SQL, `$1, $2, ...` placeholders
//!   numbered in order of first appearance, no engine-only functions outside
//!   `dialect` (`RETURNING` and `ON CONFLICT ... DO NOTHING` are shared by
//!   both). Orderings that the protocol fixes by bytes (member and recipient
//!   lists) are also sorted in Rust, so a database collation cannot change
//!   them.
//! - Multi-statement changes run in one transaction. On SQLite, each change
//!   is a savepoint in a group transaction (`BEGIN IMMEDIATE`) behind this
//!   process's writer turn, and returns once the group committed; on
//!   PostgreSQL each change is a transaction and locks the rows it depends
//!   on.
//!
//! # Durability
//! [`Store::open`] uses WAL journaling with `synchronous = FULL` on SQLite:
//! a write the store has acknowledged survives a crash of the process *and*
//! a power loss (NORMAL would survive a process crash but could lose the
//! last transactions on power loss). The `fsync` per commit is shared by
//! every change in the group, and it keeps the replay guard and accepted
//! messages durable. PostgreSQL commits durably by default.

mod attempts;
mod conversations;
mod dialect;
mod digest;
mod events;
mod group_commit;
mod legacy;
mod location;
mod messages;
mod names;
mod open;
mod operator;
mod records;
mod replay;
pub mod scratch;
mod sql;
mod transactions;
mod turn;
mod users;

pub use digest::Digest;
pub use events::{EVENTS_CHANNEL, EventRecord};
pub use location::{Backend, Location};
pub use operator::{BackupReport, check_sqlite_file, is_set_up, schema_version};
pub use records::*;
pub use replay::PendingRequest;
pub use transactions::{PoolState, WriteStats};
pub use turn::ConversationTurn;
pub use users::{KEY_CHANGES_CHANNEL, KeyChange, TokenRules};

use std::sync::Arc;

use sql::*;

/// The store speaks to both engines through sqlx's `Any` driver, so one set
/// of queries serves SQLite and PostgreSQL.
type Conn = sqlx::AnyConnection;
/// A row of either engine.
type DbRow = sqlx::any::AnyRow;
/// The connection pool.
type DbPool = sqlx::AnyPool;
/// An open transaction.
type DbTransaction = sqlx::Transaction<'static, sqlx::Any>;

/// Largest number of values bound in one `IN (...)` list; longer lists are
/// split (SQLite's and PostgreSQL's limits on bound values are far above).
const IN_CHUNK: usize = 500;

/// Errors of the store, each mapping to an API error code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The user, conversation, membership or message does not exist
    /// (`not_found`).
    #[error("not found")]
    NotFound,
    /// A unique key is already taken: username, conversation id or message
    /// id (`conflict`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The complete token is wrong, expired, already used, or the user is not
    /// pending (`invalid_token`).
    #[error("invalid or expired token")]
    InvalidToken,
    /// These usernames do not name completed users (`not_found`).
    #[error("unknown or pending users: {}", .0.join(", "))]
    UnknownUsers(Vec<String>),
    /// The request breaks a rule the store enforces: duplicate recipients, an
    /// owner missing from a member list, a page limit below 1
    /// (`bad_request`; the server should normally catch these first).
    #[error("invalid: {0}")]
    Invalid(String),
    /// These users are already in as many conversations as a user may be
    /// (`too_large`).
    #[error("already in the most conversations a user may be in: {}", .0.join(", "))]
    TooManyConversations(Vec<String>),
    /// The database failed (`unavailable`, or an internal error).
    #[error("database error: {0}")]
    // Not `#[from]`/`#[source]`: the message already carries the cause, and
    // an error chain would print it twice.
    Database(sqlx::Error),
    /// The embedded migrations could not be applied.
    #[error("migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// The request id was already recorded by the replay guard
    /// (`replayed`).
    #[error("this request id was already accepted")]
    Replayed,
    /// The group transaction holding this change failed to commit, and
    /// the change with it.
    #[error("database error: the transaction holding this change failed: {0}")]
    GroupFailed(String),
    /// PostgreSQL did not answer in time.
    #[error("database unreachable: {0}")]
    Unreachable(String),
    /// The database file could not be created or its mode set.
    #[error("database file: {0}")]
    Io(std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(error)
    }
}

/// Result of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage handle: cheap to clone, shares one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: DbPool,
    backend: Backend,
    /// SQLite only ([`Backend::groups_commits`]): this process's writer
    /// turn and the transaction that groups its writers' changes.
    group: Option<Arc<group_commit::GroupCommit>>,
    /// Counters of the write transactions above.
    write_stats: Arc<WriteStats>,
    /// Most conversations one user may be a member of (see
    /// [`Store::limit_conversations`]).
    conversations_per_user: i64,
    /// The in-process part of [`ConversationTurn`]s.
    stripes: turn::Stripes,
    /// PostgreSQL only: connections for [`ConversationTurn`]s, apart from
    /// `pool` because a turn stays open across the change's own
    /// transaction, which then needs a connection of its own.
    turns: Option<DbPool>,
}

#[cfg(test)]
mod tests;
