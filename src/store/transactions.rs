//! Write and read transactions and their counters (the server's metrics
//! read them). The writer turn and group transaction of SQLite are
//! `group_commit`'s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::group_commit::GroupTurn;
use super::replay::{PendingRequest, insert_request};
use super::{Backend, Conn, ConversationTurn, DbTransaction, Result, Store, StoreError, uuid_text};

/// One change's write transaction: on SQLite a savepoint in the group's
/// transaction (`group_commit`), on PostgreSQL a transaction of its own.
/// [`WriteTx::commit`] returns once the change is durable; dropping it
/// rolls the change back.
pub(super) struct WriteTx {
    tx: Tx,
    backend: Backend,
    /// The request recorded by the replay guard with this change
    /// ([`WriteTx::record_request`]), marked recorded once it commits.
    request: Option<Arc<PendingRequest>>,
    open: OpenWrite,
}

enum Tx {
    Grouped(GroupTurn),
    Own(DbTransaction),
}

/// Counters of this process's write transactions (the server's metrics
/// read them at each scrape).
#[derive(Debug, Default)]
pub struct WriteStats {
    transactions: AtomicU64,
    commits: AtomicU64,
    waited_micros: AtomicU64,
    open_micros: AtomicU64,
}

impl WriteStats {
    /// Write transactions begun, ended or not.
    pub fn transactions(&self) -> u64 {
        self.transactions.load(Ordering::Relaxed)
    }

    /// Commits of write transactions. On SQLite one commit serves a group
    /// of changes (see `group_commit`), so `transactions / commits` is the
    /// average group.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub(super) fn count_commit(&self) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }

    /// Time spent waiting for the writer turn and a connection.
    pub fn waited(&self) -> Duration {
        Duration::from_micros(self.waited_micros.load(Ordering::Relaxed))
    }

    /// Time changes were open, from their writer turn to their commit, for
    /// the ones that ended.
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
pub(super) struct OpenWrite {
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
    /// Makes the change durable: on SQLite, releases its savepoint and
    /// waits for the group's commit.
    pub(super) async fn commit(self) -> Result<()> {
        match self.tx {
            Tx::Grouped(turn) => turn.commit().await?,
            Tx::Own(tx) => {
                tx.commit().await?;
                self.open.stats.count_commit();
            }
        }
        if let Some(request) = &self.request {
            request.mark_recorded();
        }
        Ok(())
    }

    /// Locks conversation `id`'s row until the transaction ends
    /// ([`Backend::lock_conversation_row`]).
    pub(super) async fn lock_conversation(&mut self, id: &str) -> Result<()> {
        let backend = self.backend;
        backend.lock_conversation_row(self, id).await
    }

    /// Locks the rows of every conversation `username` is in
    /// ([`Backend::lock_conversations_of`]).
    pub(super) async fn lock_conversations_of(&mut self, username: &str) -> Result<()> {
        let backend = self.backend;
        backend.lock_conversations_of(self, username).await
    }

    /// Records `request` with the replay guard in this change, so that the
    /// change and the record commit together or not at all.
    /// [`StoreError::Replayed`] if the request id was already recorded.
    pub(super) async fn record_request(&mut self, request: &Arc<PendingRequest>) -> Result<()> {
        if !insert_request(
            self,
            request.username(),
            request.request_id(),
            request.expires_at(),
        )
        .await?
        {
            return Err(StoreError::Replayed);
        }
        self.request = Some(request.clone());
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        match &self.tx {
            Tx::Grouped(turn) => turn.conn_ref(),
            Tx::Own(tx) => tx,
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        match &mut self.tx {
            Tx::Grouped(turn) => turn.conn(),
            Tx::Own(tx) => tx,
        }
    }
}

impl Store {
    /// Begins a change. On SQLite it waits for this process's writer turn
    /// and runs in a savepoint of the group's transaction (`BEGIN
    /// IMMEDIATE` when the group begins); on PostgreSQL a plain `BEGIN`
    /// (READ COMMITTED), with the rows a change depends on locked by the
    /// change itself.
    pub(super) async fn begin_write(&self) -> Result<WriteTx> {
        self.begin_change(None).await
    }

    /// Begins a change to the conversation whose turn `turn` is: locks its
    /// row, and records the turn's request with the replay guard in the
    /// same change when it has one ([`ConversationTurn::for_request`]).
    pub(super) async fn begin_turn_write(&self, turn: &ConversationTurn) -> Result<WriteTx> {
        let mut tx = self.begin_change(turn.request()).await?;
        tx.lock_conversation(&uuid_text(turn.conversation_id()))
            .await?;
        Ok(tx)
    }

    /// [`Store::begin_write`], recording `request` with the replay guard
    /// first ([`StoreError::Replayed`] if its id is taken). On SQLite the
    /// insert shares the savepoint's round trip.
    async fn begin_change(&self, request: Option<&Arc<PendingRequest>>) -> Result<WriteTx> {
        let asked = Instant::now();
        let (tx, recorded) = match &self.group {
            Some(group) => {
                let (turn, recorded) = group.begin(request.map(|r| &**r)).await?;
                (Tx::Grouped(turn), recorded)
            }
            None => (Tx::Own(self.backend.begin_write(&self.pool).await?), None),
        };
        let mut tx = WriteTx {
            tx,
            backend: self.backend,
            request: None,
            open: self.start_write(asked),
        };
        match (request, recorded) {
            (None, _) => {}
            (Some(request), Some(true)) => tx.request = Some(request.clone()),
            // Dropping the change rolls its savepoint back.
            (Some(_), Some(false)) => return Err(StoreError::Replayed),
            (Some(request), None) => tx.record_request(request).await?,
        }
        Ok(tx)
    }

    /// Counts a write that began waiting at `asked` and starts timing it.
    pub(super) fn start_write(&self, asked: Instant) -> OpenWrite {
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

    /// Begins a read transaction: one consistent snapshot for several queries.
    pub(super) async fn begin_read(&self) -> Result<DbTransaction> {
        Ok(self.pool.begin().await?)
    }
}
