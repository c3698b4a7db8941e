//! Shared test helpers and tests of the store as a whole (opening, pragmas,
//! durability).

use super::*;
use sqlx::migrate::Migrator;
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

/// Test shorthands for the store's conversation writes: each takes its
/// conversation's turn for the one call, as a handler would around it.
pub(super) async fn turn(s: &Store, id: Uuid) -> ConversationTurn {
    s.conversation_turn(id).await.unwrap()
}

pub(super) async fn create_conversation(
    s: &Store,
    id: Uuid,
    name: Option<&NewName>,
    owner: &str,
    members: &[String],
    now: i64,
) -> Result<ConversationRecord> {
    s.create_conversation(&turn(s, id).await, name, owner, members, now)
        .await
}

pub(super) async fn update_conversation(
    s: &Store,
    id: Uuid,
    name: &NameChange,
    members: Option<&[String]>,
    reader: &str,
    now: i64,
) -> Result<(ConversationRecord, Vec<String>, Vec<String>)> {
    s.update_conversation(&turn(s, id).await, name, members, reader, now)
        .await
}

pub(super) async fn set_members(
    s: &Store,
    id: Uuid,
    members: &[String],
    reader: &str,
    now: i64,
) -> Result<(ConversationRecord, Vec<String>, Vec<String>)> {
    s.set_members(&turn(s, id).await, members, reader, now)
        .await
}

pub(super) async fn leave_conversation(
    s: &Store,
    id: Uuid,
    username: &str,
    now: i64,
) -> Result<LeaveOutcome> {
    s.leave_conversation(&turn(s, id).await, username, now)
        .await
}

pub(super) async fn delete_conversation(s: &Store, id: Uuid) -> Result<Vec<String>> {
    s.delete_conversation(&turn(s, id).await).await
}

pub(super) async fn touch_conversation(s: &Store, id: Uuid, now: i64) -> Result<()> {
    s.touch_conversation(&turn(s, id).await, now).await
}

pub(super) async fn insert_message(s: &Store, msg: &NewMessage, now: i64) -> Result<MessageRecord> {
    s.insert_message(&turn(s, msg.conversation_id).await, msg, now)
        .await
}

pub(super) async fn insert_sent_message(
    s: &Store,
    msg: &NewMessage,
    digest: Option<Digest>,
    now: i64,
) -> Result<MessageRecord> {
    s.insert_sent_message(&turn(s, msg.conversation_id).await, msg, digest, now)
        .await
}

pub(super) async fn update_message(s: &Store, msg: &NewMessage, now: i64) -> Result<MessageRecord> {
    s.update_message(&turn(s, msg.conversation_id).await, msg, now)
        .await
}

pub(super) async fn delete_message(
    s: &Store,
    conversation_id: Uuid,
    id: Uuid,
    now: i64,
) -> Result<()> {
    s.delete_message(&turn(s, conversation_id).await, id, now)
        .await
}

/// A fixed "now" (unix ms) so tests are deterministic.
pub(super) const T0: i64 = 1_790_000_000_000;

/// A fresh store: in-memory SQLite, or a new PostgreSQL database when
/// `NANOCHAT_TEST_POSTGRES` names a server (`.ci/run` runs these tests on
/// both engines).
pub(super) async fn store() -> Store {
    match super::scratch::test_postgres() {
        Some(admin) => {
            let location = super::scratch::scratch_postgres(&admin)
                .await
                .expect("a scratch PostgreSQL database");
            Store::open(location).await.expect("PostgreSQL store")
        }
        None => Store::open_in_memory().await.expect("in-memory store"),
    }
}

/// Creates and completes `name` (display name `Display {name}`, public key
/// `pk-{name}`).
pub(super) async fn new_user(store: &Store, name: &str) {
    let token = format!("token-{name}");
    store
        .create_user(name, token.as_bytes(), T0 + 86_400_000, T0)
        .await
        .unwrap();
    store
        .complete_user(
            name,
            token.as_bytes(),
            T0,
            &format!("Display {name}"),
            format!("pk-{name}").as_bytes(),
            None,
            None,
        )
        .await
        .unwrap();
}

/// A message with a fresh id and keys `wrapped-for-{r}` / `digest-{r}` for
/// each recipient, in the given order.
pub(super) fn message(conversation_id: Uuid, sender: &str, recipients: &[&str]) -> NewMessage {
    NewMessage {
        id: Uuid::new_v4(),
        conversation_id,
        sender: sender.to_owned(),
        content_iv: vec![1; 12],
        content: b"content".to_vec(),
        signature: b"signature".to_vec(),
        signature_version: 2,
        sender_key_index: Some(0),
        attachment: None,
        keys: recipients
            .iter()
            .map(|r| NewKey {
                username: (*r).to_owned(),
                wrapped_key: format!("wrapped-for-{r}").into_bytes(),
                key_digest: Digest::of(format!("digest-{r}").as_bytes()),
                key_index: Some(0),
            })
            .collect(),
    }
}

async fn pragma_text(store: &Store, name: &'static str) -> String {
    let sql = format!("PRAGMA {name}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(&store.pool)
        .await
        .unwrap();
    use sqlx::Row;
    row.try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
        .unwrap()
}

#[tokio::test]
async fn file_store_uses_wal_foreign_keys_full_sync_and_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub-dir-free.db");
    let s = Store::open(&path).await.unwrap();
    assert!(path.exists());
    assert_eq!(pragma_text(&s, "journal_mode").await, "wal");
    assert_eq!(pragma_text(&s, "foreign_keys").await, "1");
    assert_eq!(pragma_text(&s, "synchronous").await, "2");
    assert_eq!(pragma_text(&s, "busy_timeout").await, "5000");
    s.ping().await.unwrap();
    s.close().await;
    assert!(s.ping().await.is_err());
}

#[tokio::test]
async fn foreign_keys_are_enforced() {
    let s = store().await;
    if s.backend() == Backend::Sqlite {
        assert_eq!(pragma_text(&s, "foreign_keys").await, "1");
    }
    let err = sqlx::query(
        "INSERT INTO conversations (id, owner, created_at, updated_at) \
         VALUES ($1, $2, $3, $3)",
    )
    .bind(uuid_text(Uuid::new_v4()))
    .bind("nobody")
    .bind(T0)
    .execute(&s.pool)
    .await
    .unwrap_err();
    assert!(is_foreign_key_violation(&err), "{err:?}");
    // A user who owns a conversation cannot simply vanish.
    new_user(&s, "alice").await;
    new_user(&s, "bob").await;
    create_conversation(&s, Uuid::new_v4(), None, "alice", &["bob".into()], T0)
        .await
        .unwrap();
    let err = sqlx::query("DELETE FROM users WHERE username = $1")
        .bind("alice")
        .execute(&s.pool)
        .await
        .unwrap_err();
    assert!(is_foreign_key_violation(&err), "{err:?}");
}

#[tokio::test]
async fn integrity_problems_reports_orphans_and_nothing_on_a_sound_file() {
    // SQLite's own checks (PostgreSQL has no foreign-key switch to leave an
    // orphan with).
    let s = Store::open_in_memory().await.unwrap();
    new_user(&s, "alice").await;
    new_user(&s, "bob").await;
    create_conversation(&s, Uuid::new_v4(), None, "alice", &["bob".into()], T0)
        .await
        .unwrap();
    assert_eq!(s.integrity_problems().await.unwrap(), Vec::<String>::new());
    // An orphan only a crash or a bug could leave: written with the
    // foreign-key check off on this one connection.
    let mut conn = s.pool.acquire().await.unwrap();
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO conversations (id, owner, created_at, updated_at) \
         VALUES ($1, $2, $3, $3)",
    )
    .bind(uuid_text(Uuid::new_v4()))
    .bind("nobody")
    .bind(T0)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let problems = s.integrity_problems().await.unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("conversations row"), "{problems:?}");
}

#[tokio::test]
async fn in_memory_stores_are_separate() {
    let a = store().await;
    let b = store().await;
    a.create_user("alice", b"t", T0 + 1, T0).await.unwrap();
    assert!(b.get_user("alice").await.unwrap().is_none());
    // Clones share the database.
    let a2 = a.clone();
    assert!(a2.get_user("alice").await.unwrap().is_some());
    a.ping().await.unwrap();
}

#[tokio::test]
async fn data_and_replay_guard_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nanochat.db");
    let request = Uuid::new_v4();
    {
        let s = Store::open(&path).await.unwrap();
        new_user(&s, "alice").await;
        assert!(
            s.remember_request("alice", request, T0 + 300_000)
                .await
                .unwrap()
        );
        s.close().await;
    }
    // Migrations run again on reopen without harm.
    let s = Store::open(&path).await.unwrap();
    assert!(
        !s.remember_request("alice", request, T0 + 300_000)
            .await
            .unwrap()
    );
    assert!(s.get_user("alice").await.unwrap().unwrap().is_complete());
    s.close().await;
}

#[tokio::test]
async fn open_reports_errors_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    // A directory is not a database file.
    let err = Store::open(dir.path()).await.unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    // Nothing listens on port 1: the refusal itself is reported (not a pool
    // timeout after retrying), and the password stays out of it.
    let err = Store::open(Location::Postgres(
        "postgres://chat:s3cret@127.0.0.1:1/nanochat".into(),
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(!format!("{err} {err:?}").contains("s3cret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_queue_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("busy.db")).await.unwrap();
    new_user(&s, "alice").await;
    new_user(&s, "bob").await;
    let c = Uuid::new_v4();
    create_conversation(&s, c, None, "alice", &["bob".into()], T0)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for j in 0..5 {
                let now = T0 + i * 10 + j;
                insert_message(&s, &message(c, "alice", &["alice", "bob"]), now).await?;
                s.remember_request("bob", Uuid::new_v4(), now).await?;
                s.list_messages(c, "bob", None, 3).await?;
            }
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let (all, next) = s.list_messages(c, "bob", None, 1000).await.unwrap();
    assert_eq!(all.len(), 80);
    assert_eq!(next, None);
    assert!(all.windows(2).all(|w| w[0].cursor > w[1].cursor));
    s.close().await;
}

#[test]
fn placeholders_are_numbered_from_start() {
    assert_eq!(placeholders(1, 3), "$1, $2, $3");
    assert_eq!(placeholders(4, 1), "$4");
    assert_eq!(placeholders(1, 0), "");
}

/// Whether `needle` occurs in any file of `dir` (the database, its WAL and
/// shared memory).
fn dir_contains(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        let path = entry.unwrap().path();
        path.is_file()
            && std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
    })
}

#[tokio::test]
async fn plain_names_of_an_old_database_are_dropped_without_a_trace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    // A database as the server left it before sealed names: migration 1 only.
    let first_only = dir.path().join("migrations");
    std::fs::create_dir(&first_only).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/sqlite/0001_initial.sql"
        ),
        first_only.join("0001_initial.sql"),
    )
    .unwrap();
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool};
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    Migrator::new(first_only.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    for user in ["alice", "bob"] {
        sqlx::query(
            "INSERT INTO users (username, public_key, created_at, completed_at, updated_at) \
             VALUES ($1, $2, $3, $3, $3)",
        )
        .bind(user)
        .bind(format!("pk-{user}").into_bytes())
        .bind(T0)
        .execute(&pool)
        .await
        .unwrap();
    }
    let named = Uuid::new_v4();
    for (id, name) in [(named, Some("Layoffs 2027")), (Uuid::new_v4(), None)] {
        sqlx::query(
            "INSERT INTO conversations (id, name, owner, created_at, updated_at) \
             VALUES ($1, $2, 'alice', $3, $3)",
        )
        .bind(uuid_text(id))
        .bind(name)
        .bind(T0)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO members (conversation_id, username, joined_at) \
             VALUES ($1, 'alice', $2), ($1, 'bob', $2)",
        )
        .bind(uuid_text(id))
        .bind(T0)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    assert!(dir_contains(dir.path(), b"Layoffs 2027"));

    let store = Store::open(&path).await.unwrap();
    // Checked while the store is open: closing would checkpoint the WAL
    // and hide a name that an open server still leaves on disk.
    assert!(
        !dir_contains(dir.path(), b"Layoffs 2027"),
        "a dropped plain name lingers in the database files"
    );
    assert_eq!(store.plain_names().await.unwrap(), 0);
    let conversation = store.get_conversation(named, "bob").await.unwrap().unwrap();
    assert_eq!((conversation.name, conversation.name_revision), (None, 0));
    assert_eq!(store.list_conversations("bob").await.unwrap().len(), 2);
    store.close().await;
    assert!(!dir_contains(dir.path(), b"Layoffs 2027"));
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_are_private_to_the_server() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let s = Store::open(&path).await.unwrap();
    new_user(&s, "alice").await;
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("fresh.db{suffix}"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(s);
    // A database made readable by others (an old version, a careless copy)
    // is narrowed when opened.
    let old = dir.path().join("old.db");
    std::fs::write(&old, b"").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = Store::open(&old).await.unwrap();
    assert_eq!(mode(&old), 0o600);
    drop(s);
}

/// Two stores on one database, as two `nanochat` instances would open it:
/// the same SQLite file, or the same PostgreSQL database when
/// `NANOCHAT_TEST_POSTGRES` is set. The directory must outlive them.
async fn two_instances() -> (Store, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let location = match super::scratch::test_postgres() {
        Some(admin) => super::scratch::scratch_postgres(&admin).await.unwrap(),
        None => Location::Sqlite(dir.path().join("shared.db")),
    };
    let a = Store::open(location.clone()).await.unwrap();
    let b = Store::open(location).await.unwrap();
    (a, b, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_sharing_a_database_keep_its_rules() {
    let (a, b, _dir) = two_instances().await;
    for name in ["alice", "bob", "carol", "dave"] {
        new_user(&a, name).await;
    }
    let (mut a, mut b) = (a, b);
    a.limit_conversations(2);
    b.limit_conversations(2);
    // bob is in one conversation; each instance tries to add him to two
    // more at once: exactly one of the four may succeed.
    create_conversation(&a, Uuid::new_v4(), None, "alice", &["bob".into()], T0)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for (i, store) in [&a, &b, &a, &b].into_iter().enumerate() {
        let store = store.clone();
        let owner = ["alice", "carol", "dave", "carol"][i];
        tasks.push(tokio::spawn(async move {
            create_conversation(&store, Uuid::new_v4(), None, owner, &["bob".into()], T0).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::TooManyConversations(names)) => assert_eq!(names, ["bob"]),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(b.list_conversations("bob").await.unwrap().len(), 2);

    // Messages written through both instances into one conversation get
    // cursors in one order, and every one of them is there.
    let shared = create_conversation(&a, Uuid::new_v4(), None, "carol", &["dave".into()], T0)
        .await
        .unwrap()
        .id;
    let mut writers = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        writers.push(tokio::spawn(async move {
            insert_message(
                &store,
                &message(shared, "carol", &["carol", "dave"]),
                T0 + i,
            )
            .await
            .unwrap()
            .cursor
        }));
    }
    let mut cursors = Vec::new();
    for w in writers {
        cursors.push(w.await.unwrap());
    }
    cursors.sort_unstable();
    cursors.dedup();
    assert_eq!(cursors.len(), 20);
    let (page, _) = b.list_messages(shared, "dave", None, 100).await.unwrap();
    assert_eq!(page.len(), 20);
}

#[tokio::test]
async fn write_statistics_count_every_write_transaction_and_its_time() {
    let s = store().await;
    let before = s.write_stats().transactions();
    new_user(&s, "alice").await;
    new_user(&s, "bob").await;
    let stats = s.write_stats();
    // The two completes, each its own transaction.
    assert!(stats.transactions() >= before + 2, "{stats:?}");
    assert!(stats.held() > Duration::ZERO, "{stats:?}");
    let pool = s.pool_state();
    assert!(pool.idle <= pool.size, "{pool:?}");
}
