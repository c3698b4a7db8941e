//! End-to-end encrypted messages, their wrapped keys and attachments.
//!
//! Readers only ever see messages that carry a wrapped key addressed to them:
//! a member who joined after a message was sent has no key for it and does
//! not see it (they could not decrypt it anyway). Membership itself is the
//! server's check ([`Store::is_member`]); a former member still has key rows
//! for old messages.
//!
//! `rows`: reading a message row and writing one (with its wrapped keys and
//! attachment), shared by the queries here.

use std::collections::{HashMap, HashSet};

use super::{Conn, ConversationTurn, DbRow};
use sqlx::{FromRow as _, Row};
use uuid::Uuid;

use super::conversations::touch;
use super::{
    AttachmentMeta, AttachmentRecord, Digest, EarlierMessage, IN_CHUNK, MessageRecord, NewKey,
    NewMessage, Result, Store, StoreError, is_foreign_key_violation, is_unique_violation,
    parse_uuid, placeholders, uuid_text,
};

/// A message joined with the reader's key row `k`; never the attachment
/// bytes.
macro_rules! message_select {
    () => {
        "SELECT m.cursor, m.id, m.conversation_id, m.sender, m.created_at, m.edited_at, \
         m.content_iv, m.content, m.signature, m.attachment_iv, m.attachment_digest, \
         m.attachment_size, m.signature_version, m.sender_key_index, k.wrapped_key, k.key_index \
         FROM messages m JOIN message_keys k ON k.message_id = m.id AND k.username = $1 \
         AND k.wrapped_key IS NOT NULL "
    };
}

mod rows;
use rows::*;

impl Store {
    /// Stores a new message with its wrapped keys at `created_at = now` and
    /// bumps the conversation's `updated_at`, in one transaction. Returns the
    /// message as the sender sees it (their own wrapped key; empty if the
    /// keys do not include the sender, which the server refuses earlier).
    ///
    /// [`StoreError::Conflict`] if the message id exists (in any
    /// conversation); [`StoreError::NotFound`] if the conversation or the
    /// sender does not exist; [`StoreError::Invalid`] if a recipient appears
    /// twice.
    pub async fn insert_message(
        &self,
        turn: &ConversationTurn,
        msg: &NewMessage,
        now: i64,
    ) -> Result<MessageRecord> {
        self.insert_sent_message(turn, msg, None, now).await
    }

    /// [`Store::insert_message`] for a `message.create`: also keeps
    /// `create_digest`, the digest of what the sender sealed, which
    /// [`Store::earlier_message`] returns so that a repeat of the create is
    /// recognised (an edit does not change it). A deleted message's id is
    /// also a [`StoreError::Conflict`] here: a message id is never used
    /// again.
    pub async fn insert_sent_message(
        &self,
        turn: &ConversationTurn,
        msg: &NewMessage,
        create_digest: Option<Digest>,
        now: i64,
    ) -> Result<MessageRecord> {
        turn.require(msg.conversation_id)?;
        let mut tx = self.begin_turn_write(turn).await?;
        let cursor = insert_one(&mut tx, msg, create_digest, now).await?;
        tx.commit().await?;
        Ok(record_for(
            msg,
            &msg.sender,
            cursor,
            msg.sender.clone(),
            now,
            None,
        ))
    }

    /// Stores many messages, each at its own `created_at`, in one
    /// transaction: all or none. For seeding a history (benchmarks, bulk
    /// imports) while no server serves the database: it takes no
    /// [`ConversationTurn`] (a batch spans many conversations, and taking
    /// their turns in one task could wait on itself where two ids share a
    /// stripe) and tells nobody; the rows of its conversations are locked in
    /// id order instead. The checks and errors are those of
    /// [`Store::insert_message`].
    pub async fn seed_messages(&self, messages: &[(NewMessage, i64)]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conversations: Vec<String> = messages
            .iter()
            .map(|(m, _)| uuid_text(m.conversation_id))
            .collect();
        conversations.sort();
        conversations.dedup();
        for id in &conversations {
            tx.lock_conversation(id).await?;
        }
        for (msg, created_at) in messages {
            insert_one(&mut tx, msg, None, *created_at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a message's content, signature, attachment (`None` removes
    /// it) and every wrapped key, sets `edited_at = now` and bumps the
    /// conversation, in one transaction. The cursor, sender and `created_at`
    /// stay. Returns the message as `msg.sender` sees it.
    ///
    /// Checking that `msg.sender` is the original sender is the server's job
    /// ([`Store::get_message_sender`]).
    ///
    /// [`StoreError::NotFound`] if the message is not in that conversation;
    /// [`StoreError::Invalid`] if a recipient appears twice.
    pub async fn update_message(
        &self,
        turn: &ConversationTurn,
        msg: &NewMessage,
        now: i64,
    ) -> Result<MessageRecord> {
        turn.require(msg.conversation_id)?;
        check_keys(&msg.keys)?;
        let (attachment_iv, attachment, attachment_digest, attachment_size) =
            attachment_columns(msg)?;
        let id = uuid_text(msg.id);
        let conversation_id = uuid_text(msg.conversation_id);
        let mut tx = self.begin_turn_write(turn).await?;
        let row = sqlx::query(
            "UPDATE messages SET content_iv = $1, content = $2, signature = $3, \
             attachment_iv = $4, attachment = $5, attachment_digest = $6, attachment_size = $7, \
             edited_at = $8, signature_version = $11, sender_key_index = $12 \
             WHERE conversation_id = $9 AND id = $10 \
             RETURNING cursor, sender, created_at",
        )
        .bind(&msg.content_iv)
        .bind(&msg.content)
        .bind(&msg.signature)
        .bind(attachment_iv)
        .bind(attachment)
        .bind(attachment_digest)
        .bind(attachment_size)
        .bind(now)
        .bind(&conversation_id)
        .bind(&id)
        .bind(msg.signature_version)
        .bind(msg.sender_key_index)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let cursor: i64 = row.try_get("cursor")?;
        let sender: String = row.try_get("sender")?;
        let created_at: i64 = row.try_get("created_at")?;
        sqlx::query("DELETE FROM message_keys WHERE message_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        insert_keys(&mut tx, &id, &msg.keys).await?;
        touch(&mut tx, &conversation_id, now).await?;
        tx.commit().await?;
        Ok(record_for(
            msg,
            &msg.sender,
            cursor,
            sender,
            created_at,
            Some(now),
        ))
    }

    /// Deletes a message (its keys cascade), remembers its id as deleted
    /// (so a late repeat of its create cannot store it again; see
    /// [`Store::earlier_message`]) and bumps the conversation.
    ///
    /// [`StoreError::NotFound`] if the message is not in that conversation.
    pub async fn delete_message(&self, turn: &ConversationTurn, id: Uuid, now: i64) -> Result<()> {
        let conversation_id = uuid_text(turn.conversation_id());
        let id = uuid_text(id);
        let mut tx = self.begin_turn_write(turn).await?;
        let done = sqlx::query("DELETE FROM messages WHERE conversation_id = $1 AND id = $2")
            .bind(&conversation_id)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // DO NOTHING: a bulk import may have stored a deleted id again.
        sqlx::query(
            "INSERT INTO deleted_messages (id, conversation_id, deleted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(&conversation_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        touch(&mut tx, &conversation_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What an earlier `message.create` left under message id `id`, in any
    /// conversation: the stored message's conversation, sender and create
    /// digest, or that it was deleted; `None` if the id was never used (or
    /// its conversation was deleted). One query.
    pub async fn earlier_message(&self, id: Uuid) -> Result<Option<EarlierMessage>> {
        let row = sqlx::query(
            "SELECT conversation_id, sender, create_digest FROM messages WHERE id = $1 \
             UNION ALL \
             SELECT conversation_id, NULL, NULL FROM deleted_messages WHERE id = $1",
        )
        .bind(uuid_text(id))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let conversation_id = parse_uuid(&row.try_get::<String, _>("conversation_id")?)?;
        Ok(Some(match row.try_get::<Option<String>, _>("sender")? {
            Some(sender) => EarlierMessage::Stored {
                conversation_id,
                sender,
                create_digest: row.try_get("create_digest")?,
            },
            None => EarlierMessage::Deleted { conversation_id },
        }))
    }

    /// The sender of a message in that conversation, if it exists.
    pub async fn get_message_sender(
        &self,
        conversation_id: Uuid,
        id: Uuid,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT sender FROM messages WHERE conversation_id = $1 AND id = $2",
        )
        .bind(uuid_text(conversation_id))
        .bind(uuid_text(id))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// A page of a conversation's history as `reader` sees it: newest first
    /// (cursor descending), only messages with a key for the reader, strictly
    /// older than `before` if given, at most `limit` messages. Returns the
    /// page and, if older messages may exist, the cursor to pass as `before`
    /// for the next page. Attachment bytes are never loaded.
    ///
    /// Cursors only grow, so pages stay stable while messages are added.
    /// Two queries per page, whatever its size.
    ///
    /// [`StoreError::Invalid`] if `limit < 1`.
    pub async fn list_messages(
        &self,
        conversation_id: Uuid,
        reader: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<MessageRecord>, Option<i64>)> {
        if limit < 1 {
            return Err(StoreError::Invalid(format!(
                "page limit {limit} is below 1"
            )));
        }
        let mut tx = self.begin_read().await?;
        let rows = sqlx::query(concat!(
            message_select!(),
            "WHERE m.conversation_id = $2 AND m.cursor < $3 ORDER BY m.cursor DESC LIMIT $4"
        ))
        .bind(reader)
        .bind(uuid_text(conversation_id))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.saturating_add(1))
        .fetch_all(&mut *tx)
        .await?;
        let mut page = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>>>()?;
        let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
        let next = if page.len() > wanted {
            page.truncate(wanted);
            page.last().map(|m| m.cursor)
        } else {
            None
        };
        fill_recipients(&mut tx, &mut page).await?;
        tx.commit().await?;
        Ok((page, next))
    }

    /// The latest message `reader` can see in each conversation they are a
    /// member of (conversations without one are absent), for
    /// `conversation.list`. Two queries in all; per conversation, the
    /// history is walked back from its newest message (the conversation and
    /// cursor index) to the first one with a key for the reader, so the cost
    /// does not grow with the reader's whole history.
    pub async fn latest_messages(&self, reader: &str) -> Result<HashMap<Uuid, MessageRecord>> {
        let mut tx = self.begin_read().await?;
        let join = self.backend.ordered_join();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.cursor, m.id, m.conversation_id, m.sender, m.created_at, m.edited_at, \
             m.content_iv, m.content, m.signature, m.attachment_iv, m.attachment_digest, \
             m.attachment_size, m.signature_version, m.sender_key_index, k.wrapped_key, \
             k.key_index \
             FROM (SELECT (SELECT m2.cursor FROM messages m2 \
             WHERE m2.conversation_id = mb.conversation_id AND EXISTS (SELECT 1 FROM message_keys k2 \
             WHERE k2.message_id = m2.id AND k2.username = $1 AND k2.wrapped_key IS NOT NULL) \
             ORDER BY m2.cursor DESC LIMIT 1) AS cursor \
             FROM members mb WHERE mb.username = $1) latest \
             {join} messages m ON m.cursor = latest.cursor \
             {join} message_keys k ON k.message_id = m.id AND k.username = $1 \
             AND k.wrapped_key IS NOT NULL",
        )))
        .bind(reader)
        .fetch_all(&mut *tx)
        .await?;
        let mut latest = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>>>()?;
        fill_recipients(&mut tx, &mut latest).await?;
        tx.commit().await?;
        Ok(latest.into_iter().map(|m| (m.conversation_id, m)).collect())
    }

    /// One message as `reader` sees it; `None` if it does not exist in that
    /// conversation or has no key for the reader.
    pub async fn get_message(
        &self,
        conversation_id: Uuid,
        id: Uuid,
        reader: &str,
    ) -> Result<Option<MessageRecord>> {
        let mut tx = self.begin_read().await?;
        let row = sqlx::query(concat!(
            message_select!(),
            "WHERE m.conversation_id = $2 AND m.id = $3"
        ))
        .bind(reader)
        .bind(uuid_text(conversation_id))
        .bind(uuid_text(id))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut message = [message_from_row(&row)?];
        fill_recipients(&mut tx, &mut message).await?;
        tx.commit().await?;
        let [message] = message;
        Ok(Some(message))
    }

    /// A message's encrypted attachment; `None` if the message does not
    /// exist in that conversation, has no attachment, or has no key for
    /// `reader`.
    pub async fn get_attachment(
        &self,
        conversation_id: Uuid,
        id: Uuid,
        reader: &str,
    ) -> Result<Option<AttachmentRecord>> {
        let row = sqlx::query(
            "SELECT m.attachment_iv, m.attachment FROM messages m \
             JOIN message_keys k ON k.message_id = m.id AND k.username = $1 \
             AND k.wrapped_key IS NOT NULL \
             WHERE m.conversation_id = $2 AND m.id = $3 \
             AND m.attachment IS NOT NULL AND m.attachment_iv IS NOT NULL",
        )
        .bind(reader)
        .bind(uuid_text(conversation_id))
        .bind(uuid_text(id))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(AttachmentRecord {
            conversation_id,
            message_id: id,
            iv: row.try_get("attachment_iv")?,
            data: row.try_get("attachment")?,
        }))
    }
}

#[cfg(test)]
mod tests;
