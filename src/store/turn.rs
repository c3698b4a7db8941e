//! A conversation's turn: the one lock that orders changes to a
//! conversation and their events.
//!
//! Every write to a conversation (creating, changing, leaving or deleting
//! it; creating, editing or deleting a message) takes a
//! [`ConversationTurn`] as a parameter, so the compiler proves that each
//! one happens inside its conversation's turn. The turn is taken before the
//! change reads what it depends on (the members, the current name) and
//! ends once the change's events are on their way: sockets therefore hear
//! a conversation's changes in the order they were applied.
//!
//! In this process the turn is a per-conversation stripe lock. On
//! PostgreSQL it also holds the conversation's advisory lock in a
//! transaction of its own until the event is recorded (see `events`), so
//! changes take turns across every instance; SQLite has one process.

use std::sync::Arc;

use uuid::Uuid;

use super::events::insert_event;
use super::replay::PendingRequest;
use super::{DbTransaction, Result, Store, StoreError, uuid_text};

/// Stripes of the in-process lock: conversations whose ids fall on one
/// stripe wait for each other, which is rare and brief.
pub(crate) const STRIPES: usize = 64;

/// The in-process stripe locks, shared by every clone of a store.
pub(super) type Stripes = Arc<[Arc<tokio::sync::Mutex<()>>]>;

/// New stripe locks.
pub(super) fn stripes() -> Stripes {
    (0..STRIPES)
        .map(|_| Arc::new(tokio::sync::Mutex::new(())))
        .collect()
}

/// A conversation's turn: held from before a change until its events are
/// on their way ([`ConversationTurn::record`]); dropping it records nothing
/// and hands the turn on.
#[derive(Debug)]
pub struct ConversationTurn {
    conversation_id: Uuid,
    _local: tokio::sync::OwnedMutexGuard<()>,
    /// PostgreSQL only: the transaction holding the advisory lock, behind
    /// a mutex only so that `&ConversationTurn` is `Sync` (a connection is
    /// not) and the store's writes can hold it across awaits; nothing but
    /// [`ConversationTurn::record`] touches it.
    shared: std::sync::Mutex<Option<DbTransaction>>,
    /// Whether `shared` holds a transaction.
    is_shared: bool,
    /// The request the replay guard records with this turn's change.
    request: Option<Arc<PendingRequest>>,
}

impl Store {
    /// Waits for conversation `id`'s turn. Take it before reading what a
    /// change depends on.
    pub async fn conversation_turn(&self, id: Uuid) -> Result<ConversationTurn> {
        let stripe = (id.as_u128() % self.stripes.len() as u128) as usize;
        let local = self.stripes[stripe].clone().lock_owned().await;
        let shared = match &self.turns {
            None => None,
            Some(turns) => {
                let mut tx = turns.begin().await?;
                // pg_advisory_xact_lock returns void, which the Any driver
                // cannot decode: count it.
                sqlx::query(
                    "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS l",
                )
                .bind(format!("nanochat conversation {}", uuid_text(id)))
                .fetch_one(&mut *tx)
                .await?;
                Some(tx)
            }
        };
        Ok(ConversationTurn {
            conversation_id: id,
            _local: local,
            is_shared: shared.is_some(),
            shared: std::sync::Mutex::new(shared),
            request: None,
        })
    }
}

impl ConversationTurn {
    /// The conversation whose turn this is.
    pub fn conversation_id(&self) -> Uuid {
        self.conversation_id
    }

    /// Has the replay guard record `request` in the same transaction as
    /// this turn's change, so that a replay finds the id taken exactly when
    /// the change was made. Without a change, the request is recorded on
    /// its own afterwards ([`Store::settle_request`]).
    pub fn for_request(mut self, request: Option<Arc<PendingRequest>>) -> Self {
        self.request = request;
        self
    }

    /// The request recorded with this turn's change, if any.
    pub(super) fn request(&self) -> Option<&Arc<PendingRequest>> {
        self.request.as_ref()
    }

    /// Whether the events of this turn's change must be recorded for
    /// other instances ([`ConversationTurn::record`]) rather than delivered
    /// by this process alone.
    pub fn is_shared(&self) -> bool {
        self.is_shared
    }

    /// Fails unless this is conversation `id`'s turn: a write to one
    /// conversation in another's turn is a bug, refused before it writes.
    pub(super) fn require(&self, id: Uuid) -> Result<()> {
        if id == self.conversation_id {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "a write to conversation {id} in the turn of {}",
                self.conversation_id
            )))
        }
    }

    /// Records the event of the change made in this turn with the
    /// conversation's next seq, announces it (PostgreSQL), and ends the
    /// turn. Returns false, recording nothing, where there are no other
    /// instances (SQLite): the caller delivers the events itself.
    pub async fn record(self, body: &str, now: i64) -> Result<bool> {
        let shared = self.shared.into_inner().unwrap_or_else(|p| p.into_inner());
        let Some(mut tx) = shared else {
            return Ok(false);
        };
        let conversation_id = uuid_text(self.conversation_id);
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO event_seqs (conversation_id, seq) VALUES ($1, 1) \
             ON CONFLICT (conversation_id) DO UPDATE SET seq = event_seqs.seq + 1 RETURNING seq",
        )
        .bind(&conversation_id)
        .fetch_one(&mut *tx)
        .await?;
        insert_event(&mut tx, Some(&conversation_id), seq, body, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
