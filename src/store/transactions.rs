//! Write and read transactions, this process's writer queue and its
//! counters (the server's metrics read them).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Backend, Conn, DbTransaction, Result, Store};

/// A write transaction (`BEGIN IMMEDIATE`) holding this process's writer
/// turn until it commits or is dropped (rolled back).
pub(super) struct WriteTx {
    tx: DbTransaction,
    backend: Backend,
    _slot: WriterSlot,
}

/// This process's place in its writer queue (SQLite only, see
/// [`Backend::queues_writers`]) and the timing of the write it admits: a
/// transaction ([`WriteTx`]) or a single-statement write.
pub(super) struct WriterSlot {
    _queued: Option<tokio::sync::OwnedMutexGuard<()>>,
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
    pub(super) async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Locks conversation `id`'s row until the transaction ends
    /// ([`Backend::lock_conversation_row`]).
    pub(super) async fn lock_conversation(&mut self, id: &str) -> Result<()> {
        self.backend.lock_conversation_row(&mut self.tx, id).await
    }

    /// Locks the rows of every conversation `username` is in
    /// ([`Backend::lock_conversations_of`]).
    pub(super) async fn lock_conversations_of(&mut self, username: &str) -> Result<()> {
        self.backend
            .lock_conversations_of(&mut self.tx, username)
            .await
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
    /// Begins a write transaction. On SQLite, `BEGIN IMMEDIATE` takes the
    /// write lock up front, waiting up to the busy timeout for it; on
    /// PostgreSQL a plain `BEGIN` (READ COMMITTED), with the rows a change
    /// depends on locked by the change itself.
    pub(super) async fn begin_write(&self) -> Result<WriteTx> {
        let slot = self.writer_slot().await;
        let tx = self.backend.begin_write(&self.pool).await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            _slot: slot,
        })
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

    /// This process's writer slot, for a single-statement write outside a
    /// transaction (counted as one).
    pub(super) async fn writer_slot(&self) -> WriterSlot {
        let asked = Instant::now();
        let queued = if self.backend.queues_writers() {
            Some(self.writers.clone().lock_owned().await)
        } else {
            None
        };
        WriterSlot {
            _queued: queued,
            _open: self.start_write(asked),
        }
    }

    /// Begins a read transaction: one consistent snapshot for several queries.
    pub(super) async fn begin_read(&self) -> Result<DbTransaction> {
        Ok(self.pool.begin().await?)
    }
}
