//! Group commit on SQLite: the changes of many requests share one
//! transaction and so one `fsync`.
//!
//! SQLite has one writer at a time, and at `synchronous = FULL` every
//! commit is an `fsync`. With one transaction per change, requests queued
//! behind each other's `fsync`s (BENCHMARKS.md, "What changed"). Here a
//! writer takes this process's writer turn, opens the group's transaction
//! if none is open, and makes its change inside a savepoint of its own, so
//! a change that fails rolls back to its savepoint and leaves the others'
//! changes alone. When it releases its savepoint while other writers wait
//! for the turn, it hands the turn on and waits; the last writer in line
//! commits the group. A writer's commit returns only once the transaction
//! holding its change has committed: nothing is acknowledged before it is
//! durable, and a failed group commit fails every change in it.
//!
//! A writer waiting for its group also queues for the turn itself, so a
//! group whose last writer went away (cancelled while queued) is committed
//! by the first of its writers to get the turn. A writer dropped in the
//! middle of its change (an error, a cancelled request) has its savepoint
//! rolled back before anyone else writes.
//!
//! PostgreSQL needs none of this: it runs writers at once, each locking
//! the rows it depends on, and groups concurrent WAL flushes itself.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::Executor as _;
use sqlx::pool::PoolConnection;
use tokio::sync::{OwnedMutexGuard, watch};

use super::replay::{PendingRequest, insert_request_sql};
use super::{Conn, DbPool, Result, StoreError, WriteStats, uuid_text};

/// Most changes one transaction holds: enough to share an `fsync` among
/// every request a busy server has in flight, few enough that a reader in
/// another process waits briefly for the write lock.
const MOST_PER_GROUP: usize = 64;

/// How many failed groups are remembered for writers that have not yet
/// looked at their outcome.
const FAILURES_KEPT: usize = 64;

/// The writer turn and the group transaction of one SQLite store.
pub(super) struct GroupCommit {
    pool: DbPool,
    /// Whether the group keeps its connection between transactions: yes
    /// for a file (a dedicated writer connection skips the pool's checks),
    /// no for an in-memory database, whose pool has one connection that
    /// readers need too.
    keeps_connection: bool,
    group: Arc<tokio::sync::Mutex<Group>>,
    /// Writers waiting for the turn to begin a change (not those waiting
    /// for their group to commit).
    queued: AtomicUsize,
    /// The number of the last group that ended, committed or not.
    ended: watch::Sender<u64>,
    /// Groups that failed, with the error every change in them gets.
    failures: Mutex<VecDeque<(u64, Arc<str>)>>,
    stats: Arc<WriteStats>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .field("ended", &*self.ended.borrow())
            .finish_non_exhaustive()
    }
}

/// What the holder of the writer turn works on.
struct Group {
    conn: Option<PoolConnection<sqlx::Any>>,
    /// Whether `conn` is inside the group's transaction.
    open: bool,
    /// The number of the open group, or of the last one.
    number: u64,
    /// Changes released into the open group.
    changes: usize,
    /// A change's savepoint is open: its writer is working, or was
    /// dropped before it could roll back.
    savepoint: bool,
}

/// One writer's turn: its change runs in a savepoint of the group's
/// transaction. [`GroupTurn::commit`] ends it; dropping it rolls the
/// change back.
pub(super) struct GroupTurn {
    commit: Arc<GroupCommit>,
    /// `None` once ended.
    group: Option<OwnedMutexGuard<Group>>,
}

/// Counts a writer as queued for the turn while it waits, also when the
/// wait is cancelled.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn on(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Queued(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl GroupCommit {
    pub(super) fn new(pool: DbPool, keeps_connection: bool, stats: Arc<WriteStats>) -> Self {
        GroupCommit {
            pool,
            keeps_connection,
            group: Arc::new(tokio::sync::Mutex::new(Group {
                conn: None,
                open: false,
                number: 0,
                changes: 0,
                savepoint: false,
            })),
            queued: AtomicUsize::new(0),
            ended: watch::Sender::new(0),
            failures: Mutex::new(VecDeque::new()),
            stats,
        }
    }

    /// Waits for the writer turn and opens a savepoint for one change in
    /// the group's transaction (beginning one if none is open). With a
    /// `request`, the replay guard records it in the same round trip:
    /// `Some(false)` if its id was already taken (the savepoint is then
    /// the caller's to roll back, by dropping the turn).
    pub(super) async fn begin(
        self: &Arc<Self>,
        request: Option<&PendingRequest>,
    ) -> Result<(GroupTurn, Option<bool>)> {
        let mut group = {
            let _queued = Queued::on(&self.queued);
            self.group.clone().lock_owned().await
        };
        self.recover(&mut group).await;
        // The BEGIN (when the change opens the group), the savepoint and
        // the replay guard's insert go in one round trip: each statement is
        // a hand-off to SQLite's connection thread and back, and the writer
        // turn waits for it. (SQLite binds `$n` in every statement of the
        // text from the one list. The insert returns a row only when it
        // inserted: the summed change counts of the text would not tell,
        // since SQLite reports a savepoint's count as the last insert's.)
        let opens = !group.open;
        let sql = match (opens, request.is_some()) {
            (true, true) => concat!(
                "BEGIN IMMEDIATE; SAVEPOINT change; ",
                insert_request_sql!(),
                " RETURNING 1"
            ),
            (true, false) => "BEGIN IMMEDIATE; SAVEPOINT change",
            (false, true) => concat!("SAVEPOINT change; ", insert_request_sql!(), " RETURNING 1"),
            (false, false) => "SAVEPOINT change",
        };
        let mut query = sqlx::query(sql);
        if let Some(request) = request {
            query = query
                .bind(request.username().to_owned())
                .bind(uuid_text(request.request_id()))
                .bind(request.expires_at());
        }
        if opens && group.conn.is_none() {
            group.conn = Some(self.pool.acquire().await?);
        }
        let rows = match query.fetch_all(connection(&mut group)?).await {
            Ok(rows) => rows,
            Err(error) => {
                if opens {
                    // Whichever statement failed, nothing is left open
                    // (and no other change was in this group).
                    let _ = connection(&mut group)?.execute("ROLLBACK").await;
                    self.release_connection(&mut group);
                } else {
                    self.abort(&mut group, &error.to_string()).await;
                }
                return Err(error.into());
            }
        };
        if opens {
            group.open = true;
            group.number += 1;
            group.changes = 0;
        }
        group.savepoint = true;
        let recorded = request.map(|_| rows.len() == 1);
        Ok((
            GroupTurn {
                commit: self.clone(),
                group: Some(group),
            },
            recorded,
        ))
    }

    /// Waits for the writers in line, ends an open group and hands the
    /// writer connection back to the pool (which waits for it to close).
    pub(super) async fn close(&self) {
        let mut group = self.group.lock().await;
        self.recover(&mut group).await;
        self.finish(&mut group).await;
        group.conn = None;
    }

    /// Rolls back the savepoint of a writer dropped mid-change.
    async fn recover(&self, group: &mut Group) {
        if !group.savepoint {
            return;
        }
        group.savepoint = false;
        let Ok(conn) = connection(group) else {
            return;
        };
        if let Err(error) = conn.execute("ROLLBACK TO change; RELEASE change").await {
            self.abort(group, &error.to_string()).await;
        }
    }

    /// Ends the open group: commits it, or rolls it back when it holds no
    /// change. Every writer of the group learns the outcome.
    async fn finish(&self, group: &mut Group) {
        if !group.open {
            return;
        }
        if group.changes == 0 {
            self.abort(group, "the group held no change").await;
            return;
        }
        let committed = match connection(group) {
            Ok(conn) => conn.execute("COMMIT").await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match committed {
            Ok(_) => {
                self.stats.count_commit();
                group.open = false;
                self.release_connection(group);
                self.ended.send_replace(group.number);
            }
            Err(error) => self.abort(group, &error).await,
        }
    }

    /// Rolls the open group back and fails every change in it with
    /// `error`; a connection that cannot even roll back is closed.
    async fn abort(&self, group: &mut Group, error: &str) {
        if !group.open {
            return;
        }
        if group.changes > 0 {
            tracing::error!(%error, changes = group.changes, "a group of writes failed to commit");
            let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if failures.len() == FAILURES_KEPT {
                failures.pop_front();
            }
            failures.push_back((group.number, Arc::from(error)));
        }
        group.open = false;
        group.savepoint = false;
        let rolled_back = match group.conn.as_mut() {
            Some(conn) => conn.execute("ROLLBACK").await.is_ok(),
            None => true,
        };
        if rolled_back {
            self.release_connection(group);
        } else if let Some(conn) = group.conn.take() {
            drop(conn.detach());
        }
        self.ended.send_replace(group.number);
    }

    fn release_connection(&self, group: &mut Group) {
        if !self.keeps_connection {
            group.conn = None;
        }
    }

    /// The outcome of group `number`, which has ended.
    fn outcome(&self, number: u64) -> Result<()> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.iter().find(|(n, _)| *n == number) {
            Some((_, error)) => Err(StoreError::GroupFailed(error.to_string())),
            None => Ok(()),
        }
    }

    /// After a change was released into group `number`: commits the group
    /// if no other writer is queued (or it is full), or else hands the turn
    /// on and waits for the group to end.
    async fn end_or_wait(
        self: &Arc<Self>,
        mut group: OwnedMutexGuard<Group>,
        number: u64,
    ) -> Result<()> {
        if self.queued.load(Ordering::SeqCst) == 0 || group.changes >= MOST_PER_GROUP {
            self.finish(&mut group).await;
            drop(group);
            return self.outcome(number);
        }
        let mut ended = self.ended.subscribe();
        drop(group);
        tokio::select! {
            biased;
            () = wait_for_end(&mut ended, number) => {}
            mut group = self.group.clone().lock_owned() => {
                // Every writer queued before this one has had its turn and
                // none committed: the group's last writer went away.
                self.recover(&mut group).await;
                if group.number == number {
                    self.finish(&mut group).await;
                }
            }
        }
        self.outcome(number)
    }
}

/// Waits until group `number` has ended (the watch's value is not held
/// across the wait: it is not `Send`).
async fn wait_for_end(ended: &mut watch::Receiver<u64>, number: u64) {
    // An error means the sender is gone with the store: nothing to wait for.
    let _ = ended.wait_for(|n| *n >= number).await.map(|_| ());
}

/// The group's connection, which is there while a group is open.
fn connection(group: &mut Group) -> Result<&mut Conn> {
    match group.conn.as_deref_mut() {
        Some(conn) => Ok(conn),
        None => Err(StoreError::GroupFailed(
            "the writer connection was closed".to_owned(),
        )),
    }
}

impl GroupTurn {
    /// The connection, inside this change's savepoint. It is there for
    /// the whole turn: only the turn's holder touches the group, and the
    /// group loses its connection only when it ends, which a live turn's
    /// group cannot.
    pub(super) fn conn(&mut self) -> &mut Conn {
        self.group
            .as_deref_mut()
            .and_then(|group| group.conn.as_deref_mut())
            .expect("a live writer turn has its group's connection")
    }

    /// [`GroupTurn::conn`], shared.
    pub(super) fn conn_ref(&self) -> &Conn {
        self.group
            .as_deref()
            .and_then(|group| group.conn.as_deref())
            .expect("a live writer turn has its group's connection")
    }

    /// Releases this change's savepoint into the group and returns once
    /// the group has committed (or failed, with its error).
    pub(super) async fn commit(mut self) -> Result<()> {
        let Some(mut group) = self.group.take() else {
            return Err(StoreError::GroupFailed("the change has ended".to_owned()));
        };
        let commit = self.commit.clone();
        // Released, not left open for the COMMIT: SQLite keeps the pages a
        // savepoint changed in a statement journal until it is released,
        // and a group of open savepoints made that journal grow with every
        // change.
        let released = match connection(&mut group) {
            Ok(conn) => conn
                .execute("RELEASE change")
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        group.savepoint = false;
        if let Err(error) = released {
            commit.abort(&mut group, &error).await;
            return Err(StoreError::GroupFailed(error));
        }
        group.changes += 1;
        let number = group.number;
        commit.end_or_wait(group, number).await
    }
}

impl Drop for GroupTurn {
    fn drop(&mut self) {
        let Some(mut group) = self.group.take() else {
            return;
        };
        let commit = self.commit.clone();
        // Rolling back needs the database; where there is no runtime any
        // more (shutdown), the next writer rolls the savepoint back first.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                commit.recover(&mut group).await;
                if commit.queued.load(Ordering::SeqCst) == 0 {
                    commit.finish(&mut group).await;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::super::tests::{T0, create_conversation, insert_message, message, new_user, turn};
    use super::super::{PendingRequest, Store, StoreError};

    async fn file_store(dir: &tempfile::TempDir) -> (Store, Uuid) {
        with_conversation(Store::open(&dir.path().join("group.db")).await.unwrap()).await
    }

    /// `s` with alice and bob in a conversation.
    async fn with_conversation(s: Store) -> (Store, Uuid) {
        new_user(&s, "alice").await;
        new_user(&s, "bob").await;
        let c = Uuid::new_v4();
        create_conversation(&s, c, None, "alice", &["bob".into()], T0)
            .await
            .unwrap();
        (s, c)
    }

    /// Waits until `n` writers are queued for the turn.
    async fn queued(s: &Store, n: usize) {
        let group = s.group.as_ref().unwrap();
        for _ in 0..500 {
            if group.queued.load(std::sync::atomic::Ordering::SeqCst) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{n} writers never queued");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_queued_behind_a_change_commit_with_it_and_a_failure_stays_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let (s, c) = file_store(&dir).await;
        let taken = message(c, "alice", &["alice", "bob"]);
        insert_message(&s, &taken, T0).await.unwrap();
        // One conversation per writer, each on its own stripe of the turn
        // locks: writers that shared one would queue for the turn, not for
        // the writer turn.
        let base = Uuid::new_v4().as_u128() & !0xff;
        let mut conversations = Vec::new();
        for i in 0..8 {
            let id = Uuid::from_u128(base + i);
            create_conversation(&s, id, None, "alice", &["bob".into()], T0)
                .await
                .unwrap();
            conversations.push(id);
        }
        let commits_before = s.write_stats().commits();

        // Hold the writer turn while eight changes queue behind it; one of
        // them reuses a taken message id and must fail alone.
        let held = s.begin_write().await.unwrap();
        let mut writers = Vec::new();
        for (i, id) in conversations.iter().enumerate() {
            let s = s.clone();
            let mut msg = message(*id, "alice", &["alice", "bob"]);
            if i == 3 {
                msg.id = taken.id;
            }
            writers.push(tokio::spawn(async move {
                let result = insert_message(&s, &msg, T0 + 1).await;
                (msg.conversation_id, result)
            }));
        }
        queued(&s, 8).await;
        held.commit().await.unwrap();
        for writer in writers {
            let (id, result) = writer.await.unwrap();
            let (stored, _) = s.list_messages(id, "bob", None, 10).await.unwrap();
            match result {
                Ok(_) => assert_eq!(stored.len(), 1),
                Err(StoreError::Conflict(_)) => {
                    assert_eq!(id, conversations[3]);
                    assert!(stored.is_empty());
                }
                Err(other) => panic!("{other}"),
            }
        }
        // The held change and the eight queued ones: one group, one commit.
        assert_eq!(s.write_stats().commits() - commits_before, 1);
        s.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_change_is_rolled_back_and_the_group_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (s, c) = file_store(&dir).await;
        let abandoned = Uuid::new_v4();

        // Alone: dropped mid-change, then the next change finds the turn free.
        let mut tx = s.begin_write().await.unwrap();
        super::super::replay::insert_request(&mut tx, "alice", abandoned, T0)
            .await
            .unwrap();
        drop(tx);
        assert!(s.remember_request("bob", Uuid::new_v4(), T0).await.unwrap());

        // With writers behind it: they still commit, without the dropped change.
        let mut tx = s.begin_write().await.unwrap();
        super::super::replay::insert_request(&mut tx, "alice", abandoned, T0)
            .await
            .unwrap();
        let behind = {
            let s = s.clone();
            tokio::spawn(async move {
                insert_message(&s, &message(c, "alice", &["alice", "bob"]), T0 + 1).await
            })
        };
        queued(&s, 1).await;
        drop(tx);
        tokio::time::timeout(Duration::from_secs(10), behind)
            .await
            .expect("the writer behind a dropped change was not held up")
            .unwrap()
            .unwrap();
        // Never recorded: the id is still free.
        assert!(s.remember_request("alice", abandoned, T0).await.unwrap());
        s.close().await;
    }

    #[tokio::test]
    async fn a_turn_records_its_request_with_its_change_once() {
        let (s, c) = with_conversation(Store::open_in_memory().await.unwrap()).await;
        let request = PendingRequest::new("alice", Uuid::new_v4(), T0 + 300_000);

        let first = turn(&s, c).await.for_request(Some(request.clone()));
        s.insert_message(&first, &message(c, "alice", &["alice", "bob"]), T0)
            .await
            .unwrap();
        drop(first);
        assert!(request.is_recorded());
        assert!(s.settle_request(&request).await.unwrap());

        // The same request again: refused in its change, which stores nothing.
        let again = PendingRequest::new("alice", request.request_id(), T0 + 300_000);
        let second = turn(&s, c).await.for_request(Some(again.clone()));
        let err = s
            .insert_message(&second, &message(c, "alice", &["alice", "bob"]), T0 + 1)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Replayed), "{err:?}");
        drop(second);
        assert!(!again.is_recorded());
        assert!(!s.settle_request(&again).await.unwrap());
        let (all, _) = s.list_messages(c, "bob", None, 100).await.unwrap();
        assert_eq!(all.len(), 1);
    }
}
