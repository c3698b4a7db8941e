//! Events recorded for every instance sharing a PostgreSQL database.
//!
//! A change commits first; its event is then recorded (with the
//! conversation's next seq) and announced on [`EVENTS_CHANNEL`] with the
//! row id, inside a [`ConversationTurn`](super::ConversationTurn): a
//! transaction holding the conversation's advisory lock from before the
//! change until the event is recorded. Changes to one conversation therefore take turns across every
//! instance, seqs follow the order the database applied the changes, and a
//! seq is only ever allocated after the one before it committed, so a
//! listener that sees a gap can read what it missed at once.
//!
//! SQLite has one process: it records nothing, the server delivers directly.

use super::{Backend, DbTransaction, Result, Store};

/// The PostgreSQL channel on which each recorded event's id is announced.
pub const EVENTS_CHANNEL: &str = "nanochat_events";

/// One recorded event: what a committed change tells whom, as the server
/// serialised it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    /// Row id, as announced.
    pub id: i64,
    /// The conversation whose order it belongs to; `None` for an event
    /// about a user (a key change), which has no order to keep.
    pub conversation_id: Option<String>,
    /// Position in the conversation's order, from 1 (0 without one).
    pub seq: i64,
    /// The server's serialised delivery list.
    pub body: String,
}

/// The columns [`EventRecord`] reads.
macro_rules! event_columns {
    () => {
        "SELECT id, conversation_id, seq, body FROM events "
    };
}

impl Store {
    /// Records and announces an event about a user (no conversation order);
    /// nothing on SQLite.
    pub async fn record_user_event(&self, body: &str, now: i64) -> Result<()> {
        let Some(turns) = &self.turns else {
            return Ok(());
        };
        let mut tx = turns.begin().await?;
        insert_event(&mut tx, None, 0, body, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The event with row id `id`, unless it was purged.
    pub async fn event(&self, id: i64) -> Result<Option<EventRecord>> {
        Ok(sqlx::query_as(concat!(event_columns!(), "WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Conversation `conversation_id`'s events with `after < seq < before`,
    /// in order: what a listener missed before the one it just heard of.
    pub async fn events_between(
        &self,
        conversation_id: &str,
        after: i64,
        before: i64,
    ) -> Result<Vec<EventRecord>> {
        Ok(sqlx::query_as(concat!(
            event_columns!(),
            "WHERE conversation_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq"
        ))
        .bind(conversation_id)
        .bind(after)
        .bind(before)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every event recorded at or after `since` (unix ms, the recording
    /// instance's clock), each conversation's in order: what a listener
    /// re-reads after reconnecting.
    pub async fn events_since(&self, since: i64) -> Result<Vec<EventRecord>> {
        Ok(sqlx::query_as(concat!(
            event_columns!(),
            "WHERE created_at >= $1 ORDER BY conversation_id, seq, id"
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes events recorded before `before` (unix ms); their seqs stay.
    pub async fn purge_events(&self, before: i64) -> Result<u64> {
        if self.backend != Backend::Postgres {
            return Ok(0);
        }
        let done = sqlx::query("DELETE FROM events WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Inserts an event row and announces its id (at commit).
pub(super) async fn insert_event(
    tx: &mut DbTransaction,
    conversation_id: Option<&str>,
    seq: i64,
    body: &str,
    now: i64,
) -> Result<()> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (conversation_id, seq, body, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(conversation_id)
    .bind(seq)
    .bind(body)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    // pg_notify returns void, which the Any driver cannot decode: count it.
    sqlx::query("SELECT COUNT(*) FROM (SELECT pg_notify($1, $2)) AS n")
        .bind(EVENTS_CHANNEL)
        .bind(id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
