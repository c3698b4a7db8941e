//! Persistent storage: users, conversations, end-to-end encrypted messages
//! and the replay guard, in SQLite through `sqlx`.
//!
//! The server stores ciphertext, wrapped keys, digests and public keys only;
//! nothing here can read a message.
//!
//! # Conventions
//! - Every timestamp is an `i64` of unix **milliseconds**, passed in by the
//!   caller (`now`) so behaviour is deterministic and testable.
//! - UUIDs are stored as lowercase hyphenated `TEXT`, binary values as `BLOB`.
//! - The SQL is kept portable for a later PostgreSQL backend: standard SQL,
//!   `$1, $2, ...` placeholders numbered in order of first appearance, no
//!   SQLite-only functions (`RETURNING` and `ON CONFLICT ... DO NOTHING` are
//!   shared by both). Orderings that the protocol fixes by bytes (member and
//!   recipient lists) are also sorted in Rust, so a database collation cannot
//!   change them.
//! - Multi-statement changes run in one transaction. Write transactions start
//!   with `BEGIN IMMEDIATE` so that two writers queue on the busy timeout
//!   instead of failing when a read lock cannot be upgraded.
//!
//! # Durability
//! [`Store::open`] uses WAL journaling with `synchronous = FULL`: a write the
//! store has acknowledged survives a crash of the process *and* a power loss
//! (NORMAL would survive a process crash but could lose the last
//! transactions on power loss). Chat traffic is small, so the extra fsync
//! per commit is affordable, and it keeps the replay guard and accepted
//! messages durable.

mod attempts;
mod conversations;
mod digest;
mod events;
mod location;
mod messages;
mod names;
mod operator;
mod replay;
pub mod scratch;
mod users;

pub use digest::Digest;
pub use events::{ConversationTurn, EVENTS_CHANNEL, EventRecord};
pub use users::{KEY_CHANGES_CHANNEL, KeyChange, TokenRules};

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::ConnectOptions as _;
use sqlx::Connection as _;
use sqlx::Row as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use uuid::Uuid;

pub use location::{Backend, Location};
pub use operator::{BackupReport, check_sqlite_file, is_set_up, schema_version};

/// The store speaks to both engines through sqlx's `Any` driver, so one set
/// of queries serves SQLite and PostgreSQL.
type Conn = sqlx::AnyConnection;
/// A row of either engine.
type DbRow = sqlx::any::AnyRow;
/// The connection pool.
type DbPool = sqlx::AnyPool;
/// An open transaction.
type DbTransaction = sqlx::Transaction<'static, sqlx::Any>;

/// The embedded SQLite migrations (`migrations/sqlite/`).
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
/// The embedded PostgreSQL migrations (`migrations/postgres/`): the same
/// schema in PostgreSQL's types.
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

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

/// A stored user. A user is *pending* (created by the operator, not yet
/// completed) while `completed_at` is `None`.
///
/// `Debug` redacts the stored private key, the sync password hash and the
/// token hash.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    /// The username (primary key).
    pub username: String,
    /// The display name; set by `user.complete`.
    pub display_name: Option<String>,
    /// The public key, DER SubjectPublicKeyInfo; `None` while pending.
    pub public_key: Option<Vec<u8>>,
    /// The password-encrypted private key (`EncryptedPrivateKey` JSON, stored
    /// as the client sent it), if the user opted in.
    pub private_key: Option<String>,
    /// Argon2id PHC string of the sync password, if the user opted in.
    pub sync_password_hash: Option<String>,
    /// When the operator created the user (unix ms).
    pub created_at: i64,
    /// When the user completed (unix ms); `None` while pending.
    pub completed_at: Option<i64>,
    /// SHA-256 of the pending user's complete token, for a constant-time
    /// comparison by the server; `None` once completed.
    pub token_hash: Option<Vec<u8>>,
    /// When the pending user's complete token expires (unix ms); `None` once
    /// completed.
    pub token_expires_at: Option<i64>,
    /// The index of `public_key` in the user's key history; `None` while
    /// pending.
    pub key_index: Option<i64>,
}

impl UserRecord {
    /// Whether the user has completed (is not pending).
    pub fn is_complete(&self) -> bool {
        self.completed_at.is_some()
    }
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field(
                "public_key",
                &self
                    .public_key
                    .as_ref()
                    .map(|k| format!("<{} bytes>", k.len())),
            )
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "sync_password_hash",
                &self.sync_password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("created_at", &self.created_at)
            .field("completed_at", &self.completed_at)
            .field(
                "token_hash",
                &self.token_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("token_expires_at", &self.token_expires_at)
            .field("key_index", &self.key_index)
            .finish()
    }
}

/// One entry of a user's key history (api.yml, "Key history").
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyEntry {
    /// The entry's index, 0 for the first key.
    pub key_index: i64,
    /// The key, DER SubjectPublicKeyInfo.
    pub public_key: Vec<u8>,
    /// When it became current (unix ms).
    pub since: i64,
    /// When it stopped being current (unix ms); `None` for the current key.
    pub until: Option<i64>,
    /// RSA-PSS by the previous key over the succession bytes; `None` for a
    /// chain start.
    pub succession_signature: Option<Vec<u8>>,
    /// RSA-PSS by this key over the same bytes; `None` for a chain start.
    pub public_key_signature: Option<Vec<u8>>,
}

/// A rotation: the caller's next key, proven by both keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The key index it succeeds (the caller's current one); the store
    /// refuses the rotation if another one came first.
    pub previous_index: i64,
    /// The new key (DER SubjectPublicKeyInfo).
    pub public_key: Vec<u8>,
    /// RSA-PSS by the previous key over the succession bytes.
    pub succession_signature: Vec<u8>,
    /// RSA-PSS by the new key over the succession bytes.
    pub public_key_signature: Vec<u8>,
}

/// Changes to a completed user; `None` fields stay as they are.
///
/// `Debug` redacts the private key and the sync password hash.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// A new display name.
    pub display_name: Option<String>,
    /// A new public key with its succession proofs.
    pub rotation: Option<Rotation>,
    /// `Some(Some(json))` stores a new encrypted private key, `Some(None)`
    /// removes it.
    pub private_key: Option<Option<String>>,
    /// `Some(Some(phc))` stores a new sync password hash, `Some(None)`
    /// removes it.
    pub sync_password_hash: Option<Option<String>>,
}

impl fmt::Debug for UserUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<Option<String>>| match v {
            None => "unchanged",
            Some(None) => "removed",
            Some(Some(_)) => "<redacted>",
        };
        f.debug_struct("UserUpdate")
            .field("display_name", &self.display_name)
            .field(
                "rotation",
                &self.rotation.as_ref().map(|r| r.previous_index + 1),
            )
            .field("private_key", &redact(&self.private_key))
            .field("sync_password_hash", &redact(&self.sync_password_hash))
            .finish()
    }
}

/// What [`Store::delete_user`] changed, so the server can send events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeletedUser {
    /// Conversations the user left that still exist, each with its remaining
    /// members (sorted), ordered by conversation id.
    pub left: Vec<(Uuid, Vec<String>)>,
    /// Conversations deleted because the user was their last member, sorted.
    pub deleted_conversations: Vec<Uuid>,
}

/// A member of a conversation with what a sender needs to wrap keys for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// The member's username.
    pub username: String,
    /// The member's display name (the username if none is set).
    pub display_name: String,
    /// The member's public key, DER SubjectPublicKeyInfo; `None` while the
    /// member has been reset ([`Store::reset_user`]) and is pending again.
    pub public_key: Option<Vec<u8>>,
    /// The index of `public_key` in the member's key history.
    pub key_index: Option<i64>,
    /// When the member joined (unix ms).
    pub joined_at: i64,
    /// Whether the member owns the conversation.
    pub owner: bool,
}

/// A conversation with its members, as one reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRecord {
    /// The conversation id.
    pub id: Uuid,
    /// How many times the name was set, re-sealed or removed.
    pub name_revision: i64,
    /// The sealed name, if the conversation has one, with the key wrapped
    /// for the reader it was loaded for.
    pub name: Option<NameRecord>,
    /// The owner's username (always a member).
    pub owner: String,
    /// When it was created (unix ms).
    pub created_at: i64,
    /// When it, its members or its messages last changed (unix ms).
    pub updated_at: i64,
    /// The members, ordered by username (bytes ascending).
    pub members: Vec<MemberRecord>,
}

/// A sealed conversation name as the sealer uploaded it; the server has
/// checked its recipients and signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewName {
    /// `name_revision + 1` of the conversation (signed).
    pub revision: i64,
    /// The 12-byte AES-GCM IV.
    pub iv: Vec<u8>,
    /// The name ciphertext (tag included).
    pub ciphertext: Vec<u8>,
    /// The sealer's RSA-PSS signature over the canonical name bytes.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The sealer's username.
    pub sealed_by: String,
    /// SHA-256 of the sealer's public key (SPKI DER) when sealing.
    pub sealer_key_digest: Digest,
    /// The index of the sealer's key that signed it.
    pub sealer_key_index: Option<i64>,
    /// The name key wrapped for every recipient (unique usernames).
    pub keys: Vec<NewNameKey>,
}

/// The name key wrapped for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNameKey {
    /// The recipient, with the wrapped key and its signed digest.
    pub key: NewKey,
    /// SHA-256 of the recipient's public key (SPKI DER) when sealing, to
    /// tell later whether their key has changed since.
    pub recipient_key_digest: Digest,
}

/// What a conversation update does to the name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NameChange {
    /// The name stays as it is.
    #[default]
    Keep,
    /// A new sealed name (a rename or a re-seal) replaces the current one.
    Set(NewName),
    /// The name is removed.
    Remove,
}

/// One recipient of a stored name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRecipient {
    /// The recipient.
    pub username: String,
    /// SHA-256 of the name key wrapped for them (signed).
    pub key_digest: Digest,
    /// SHA-256 of their public key when the name was sealed.
    pub recipient_key_digest: Digest,
    /// The index of their key it was wrapped for; `None` for a name sealed
    /// before the server kept key history.
    pub key_index: Option<i64>,
    /// Whether the server still holds their wrapped key (it forgets it when
    /// they leave, are reset or are deleted).
    pub holds_key: bool,
}

/// A stored sealed name, with the key wrapped for one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRecord {
    /// The signed revision.
    pub revision: i64,
    /// The 12-byte AES-GCM IV.
    pub iv: Vec<u8>,
    /// The name ciphertext (tag included).
    pub ciphertext: Vec<u8>,
    /// The sealer's signature.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The sealer's username.
    pub sealed_by: String,
    /// When the server accepted it (unix ms).
    pub sealed_at: i64,
    /// SHA-256 of the sealer's public key when sealing.
    pub sealer_key_digest: Digest,
    /// The index of the sealer's key that signed it; `None` before the
    /// server kept key history.
    pub sealer_key_index: Option<i64>,
    /// Every recipient, sorted by username (bytes ascending), as signed.
    pub recipients: Vec<NameRecipient>,
    /// The name key wrapped for the reader, if the server holds one.
    pub reader_key: Option<Vec<u8>>,
    /// The index of the reader's key that `reader_key` is wrapped for.
    pub reader_key_index: Option<i64>,
}

/// The encrypted attachment of a new or edited message.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The 12-byte AES-GCM IV.
    pub iv: Vec<u8>,
    /// The attachment ciphertext (tag included).
    pub data: Vec<u8>,
    /// SHA-256 of `data`, as signed by the sender.
    pub digest: Digest,
}

impl fmt::Debug for NewAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAttachment")
            .field("iv", &self.iv)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .field("digest", &self.digest)
            .finish()
    }
}

/// The content key of a message wrapped for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The recipient.
    pub username: String,
    /// The content key wrapped with RSA-OAEP under the recipient's public key.
    pub wrapped_key: Vec<u8>,
    /// SHA-256 of `wrapped_key`, as signed by the sender.
    pub key_digest: Digest,
    /// The index of the recipient's key it is wrapped for.
    pub key_index: Option<i64>,
}

/// A message to insert, or the new version of an edited message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The message id chosen by the sender.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The sender's username.
    pub sender: String,
    /// The 12-byte IV of `content`.
    pub content_iv: Vec<u8>,
    /// The content ciphertext.
    pub content: Vec<u8>,
    /// The sender's RSA-PSS signature over the canonical message bytes.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The index of the sender's key that signed it.
    pub sender_key_index: Option<i64>,
    /// The attachment, if any (`None` on update removes it).
    pub attachment: Option<NewAttachment>,
    /// The content key wrapped for every recipient (unique usernames).
    pub keys: Vec<NewKey>,
}

/// What a message says of its attachment; the bytes are fetched separately
/// with [`Store::get_attachment`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    /// The 12-byte IV of the attachment.
    pub iv: Vec<u8>,
    /// SHA-256 of the attachment ciphertext.
    pub digest: Digest,
    /// Length of the attachment ciphertext in bytes.
    pub size: i64,
}

/// What an earlier `message.create` left under a message id: how a repeat
/// of it is told from a new message (api.yml, "Message content", retries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlierMessage {
    /// The message is stored.
    Stored {
        /// Its conversation.
        conversation_id: Uuid,
        /// Its sender.
        sender: String,
        /// The digest of the create that stored it; `None` for messages
        /// stored before the server kept it, or by a bulk import.
        create_digest: Option<Digest>,
    },
    /// The message was deleted; its id is never used again.
    Deleted {
        /// The conversation it was in.
        conversation_id: Uuid,
    },
}

/// A message as one reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// The pagination cursor: strictly increasing, never reused.
    pub cursor: i64,
    /// The message id.
    pub id: Uuid,
    /// The conversation.
    pub conversation_id: Uuid,
    /// The sender's username.
    pub sender: String,
    /// When the server accepted it (unix ms).
    pub created_at: i64,
    /// When it was last edited (unix ms), if ever.
    pub edited_at: Option<i64>,
    /// The 12-byte IV of `content`.
    pub content_iv: Vec<u8>,
    /// The content ciphertext.
    pub content: Vec<u8>,
    /// The sender's signature over the canonical message bytes.
    pub signature: Vec<u8>,
    /// Which signed bytes the signature covers: 1 or 2.
    pub signature_version: i64,
    /// The index of the sender's key that signed it; `None` before the
    /// server kept key history.
    pub sender_key_index: Option<i64>,
    /// The attachment's IV, digest and size, without its bytes.
    pub attachment: Option<AttachmentMeta>,
    /// The content key wrapped for the reader.
    pub key: Vec<u8>,
    /// The index of the reader's key that `key` is wrapped for.
    pub key_index: Option<i64>,
    /// Every recipient with the digest of its wrapped key, sorted by username
    /// (bytes ascending), as signed.
    pub recipients: Vec<(String, Digest)>,
}

/// The encrypted bytes of one message's attachment.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The message.
    pub message_id: Uuid,
    /// The 12-byte IV.
    pub iv: Vec<u8>,
    /// The attachment ciphertext.
    pub data: Vec<u8>,
}

impl fmt::Debug for AttachmentRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttachmentRecord")
            .field("conversation_id", &self.conversation_id)
            .field("message_id", &self.message_id)
            .field("iv", &self.iv)
            .field("data", &format_args!("<{} bytes>", self.data.len()))
            .finish()
    }
}

/// What happened when a member left a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveOutcome {
    /// The conversation goes on without the member.
    Left {
        /// The remaining members, sorted.
        remaining: Vec<String>,
        /// The new owner, if the leaving member owned the conversation
        /// (the longest-standing remaining member: earliest `joined_at`,
        /// then username).
        new_owner: Option<String>,
    },
    /// The member was the last one; the conversation and its messages are
    /// deleted.
    Deleted,
}

/// The storage handle: cheap to clone, shares one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: DbPool,
    backend: Backend,
    /// This process's writers take turns here. SQLite has one writer at a
    /// time anyway; queueing in process replaces its busy handler, which
    /// sleeps 1 to 100 ms between retries and made the write path's tail
    /// latency, with the lock idle in between.
    writers: Arc<tokio::sync::Mutex<()>>,
    /// Counters of the write transactions above.
    write_stats: Arc<WriteStats>,
    /// Most conversations one user may be a member of (see
    /// [`Store::limit_conversations`]).
    conversations_per_user: i64,
    /// PostgreSQL only: connections for [`ConversationTurn`]s, apart from
    /// `pool` because a turn stays open across the change's own
    /// transaction, which then needs a connection of its own.
    turns: Option<DbPool>,
}

/// A write transaction (`BEGIN IMMEDIATE`) holding this process's writer
/// turn until it commits or is dropped (rolled back).
struct WriteTx {
    tx: DbTransaction,
    _turn: tokio::sync::OwnedMutexGuard<()>,
    _open: OpenWrite,
}

/// This process's writer turn for a single-statement write.
struct WriterTurn {
    _turn: tokio::sync::OwnedMutexGuard<()>,
    _open: OpenWrite,
}

/// Counters of this process's write transactions (the server's metrics
/// read them at each scrape).
#[derive(Debug, Default)]
pub struct WriteStats {
    transactions: AtomicU64,
    waited_micros: AtomicU64,
    open_micros: AtomicU64,
}

impl WriteStats {
    /// Write transactions begun, ended or not.
    pub fn transactions(&self) -> u64 {
        self.transactions.load(Ordering::Relaxed)
    }

    /// Time spent waiting for the writer turn and a connection.
    pub fn waited(&self) -> Duration {
        Duration::from_micros(self.waited_micros.load(Ordering::Relaxed))
    }

    /// Time write transactions were open, for the ones that ended.
    pub fn held(&self) -> Duration {
        Duration::from_micros(self.open_micros.load(Ordering::Relaxed))
    }
}

/// The connection pool as of now.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    /// Connections open.
    pub size: u32,
    /// Of those, the ones not in use.
    pub idle: u32,
}

/// Records how long a write transaction stayed open when it ends.
struct OpenWrite {
    since: Instant,
    stats: Arc<WriteStats>,
}

impl Drop for OpenWrite {
    fn drop(&mut self) {
        let micros = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.stats.open_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

impl WriteTx {
    async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Takes conversation `id`'s row lock until the transaction ends, so
    /// that changes to one conversation apply one at a time across every
    /// instance, in the order PostgreSQL commits them. On SQLite the write
    /// transaction already excludes every other writer: nothing to do.
    async fn lock_conversation(&mut self, backend: Backend, id: &str) -> Result<()> {
        if backend == Backend::Postgres {
            sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Takes the row locks of every conversation `username` is in, in id
    /// order (one order for every transaction, so two cannot deadlock), for
    /// changes that touch them all (deleting or resetting the user).
    async fn lock_conversations_of(&mut self, backend: Backend, username: &str) -> Result<()> {
        if backend == Backend::Postgres {
            sqlx::query(
                "SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id \
                 WHERE m.username = $1 ORDER BY c.id FOR UPDATE OF c",
            )
            .bind(username)
            .fetch_all(&mut *self.tx)
            .await?;
        }
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.tx
    }
}

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

    async fn migrated(pool: DbPool, backend: Backend) -> Result<Store> {
        let store = Store {
            pool,
            backend,
            writers: Arc::new(tokio::sync::Mutex::new(())),
            write_stats: Arc::default(),
            conversations_per_user: i64::MAX,
            turns: None,
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
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
        if let Some(turns) = &self.turns {
            turns.close().await;
        }
        self.pool.close().await;
    }

    /// Begins a write transaction. On SQLite, `BEGIN IMMEDIATE` takes the
    /// write lock up front, waiting up to the busy timeout for it; on
    /// PostgreSQL a plain `BEGIN` (READ COMMITTED), with the rows a change
    /// depends on locked by the change itself.
    async fn begin_write(&self) -> Result<WriteTx> {
        let asked = Instant::now();
        let turn = self.writers.clone().lock_owned().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            _turn: turn,
            _open: self.start_write(asked),
        })
    }

    /// Counts a write that began waiting at `asked` and starts timing it.
    fn start_write(&self, asked: Instant) -> OpenWrite {
        let stats = &self.write_stats;
        let waited = u64::try_from(asked.elapsed().as_micros()).unwrap_or(u64::MAX);
        stats.waited_micros.fetch_add(waited, Ordering::Relaxed);
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        OpenWrite {
            since: Instant::now(),
            stats: stats.clone(),
        }
    }

    /// This process's write transactions so far.
    pub fn write_stats(&self) -> &WriteStats {
        &self.write_stats
    }

    /// The connection pool's size and idle connections now.
    pub fn pool_state(&self) -> PoolState {
        PoolState {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    /// This process's writer turn, for a single-statement write outside a
    /// transaction (counted as one).
    async fn writer_turn(&self) -> WriterTurn {
        let asked = Instant::now();
        let turn = self.writers.clone().lock_owned().await;
        WriterTurn {
            _turn: turn,
            _open: self.start_write(asked),
        }
    }

    /// Begins a read transaction: one consistent snapshot for several queries.
    async fn begin_read(&self) -> Result<DbTransaction> {
        Ok(self.pool.begin().await?)
    }
}

impl Store {
    /// How many plain conversation names a SQLite database from before
    /// sealed names holds: migration 2 drops them, since the server cannot
    /// seal them for the members. (PostgreSQL support came after: never.)
    async fn plain_names(&self) -> Result<i64> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let has_column = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM pragma_table_info('conversations') WHERE name = 'name'",
        )
        .fetch_optional(&self.pool)
        .await?;
        if has_column.is_none() {
            return Ok(0);
        }
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM conversations WHERE name IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// After migration 2 dropped `count` plain names: says so, and rewrites
    /// the database file and empties the WAL, so the names do not linger in
    /// free pages or old frames.
    async fn scrub_plain_names(&self, count: i64) -> Result<()> {
        tracing::warn!(
            count,
            "dropped plain conversation names: names are now end-to-end encrypted and the server \
             cannot seal these for the members; the conversations are unnamed until a member names \
             them again"
        );
        sqlx::query("VACUUM").execute(&self.pool).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Pool options for SQLite: every connection gets the durability and
/// journal settings (the `Any` driver's URL cannot carry them); `wal` is
/// off for an in-memory database, which has no journal file.
fn sqlite_pool_options(connections: u32, wal: bool) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
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

/// A UUID as stored: lowercase hyphenated.
fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// Parses a stored UUID; a malformed one is a decode error, not a panic.
fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

/// Whether `e` is a unique or primary key violation.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether `e` is a foreign key violation.
fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// `$start, $start+1, ...`: `n` numbered placeholders for an `IN` list.
fn placeholders(start: usize, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('$');
        out.push_str(&(start + i).to_string());
    }
    out
}

/// Sorts and deduplicates usernames.
fn sorted_unique(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names.dedup();
    names
}

/// Fails with [`StoreError::TooManyConversations`], naming them, if any of
/// `names` is already in `most` conversations: one grouped count per
/// [`IN_CHUNK`] names, as [`require_completed`] does.
async fn require_room(
    conn: &mut Conn,
    backend: Backend,
    names: &[String],
    most: i64,
) -> Result<()> {
    if most == i64::MAX || names.is_empty() {
        return Ok(());
    }
    if backend == Backend::Postgres {
        // Two instances adding the same user to two conversations at once
        // must not both see room for one: the users' rows are locked (in
        // name order) until the transaction ends.
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
    let mut full = Vec::new();
    for chunk in names.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT username FROM members WHERE username IN ({}) \
             GROUP BY username HAVING COUNT(*) >= ${}",
            placeholders(1, chunk.len()),
            chunk.len() + 1
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for name in chunk {
            query = query.bind(name);
        }
        full.extend(query.bind(most).fetch_all(&mut *conn).await?);
    }
    if full.is_empty() {
        Ok(())
    } else {
        full.sort();
        Err(StoreError::TooManyConversations(full))
    }
}

/// Fails with [`StoreError::UnknownUsers`] unless every name is a completed
/// user. `names` must be sorted and unique.
async fn require_completed(conn: &mut Conn, names: &[String]) -> Result<()> {
    let mut found = std::collections::HashSet::with_capacity(names.len());
    for chunk in names.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT username FROM users WHERE completed_at IS NOT NULL AND username IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for name in chunk {
            query = query.bind(name);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !found.contains(*n))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(StoreError::UnknownUsers(unknown))
    }
}

/// The database holds password-encrypted private keys and sync-password
/// hashes, which a local user could attack offline: it is created 0600
/// (SQLite gives its `-wal` and `-shm` files the database's mode), and an
/// existing one readable by others is narrowed to 0600 with its companions.
fn restrict_permissions(path: &Path) -> Result<()> {
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

#[cfg(test)]
mod tests;
