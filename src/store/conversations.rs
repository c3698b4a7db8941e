//! Conversations and their members.

use std::collections::HashMap;

use super::{Backend, Conn, ConversationTurn, DbRow};
use sqlx::{FromRow as _, Row};
use uuid::Uuid;

use super::names::{forget_name_key, load_member_names, load_name, remove_name, set_name};
use super::{
    ConversationRecord, LeaveOutcome, MemberRecord, NameChange, NewName, Result, Store, StoreError,
    is_unique_violation, parse_uuid, require_completed, require_room, sorted_unique, uuid_text,
};

/// Conversation columns.
const CONVERSATION_COLUMNS: &str = "c.id, c.name_revision, c.owner, c.created_at, c.updated_at";

/// Member columns joined with the user; `conversation_id` comes first.
macro_rules! member_select {
    () => {
        "SELECT m.conversation_id, m.username, m.joined_at, u.display_name, u.public_key, \
         u.key_index \
         FROM members m JOIN users u ON u.username = m.username "
    };
}

/// A member joined with its user, as [`member_select`] reads it.
#[derive(sqlx::FromRow)]
struct MemberRow {
    username: String,
    display_name: Option<String>,
    public_key: Option<Vec<u8>>,
    key_index: Option<i64>,
    joined_at: i64,
}

/// A member row; `owner` is filled in by the caller.
fn member_from_row(row: &DbRow) -> Result<MemberRecord> {
    let row = MemberRow::from_row(row)?;
    Ok(MemberRecord {
        display_name: row.display_name.unwrap_or_else(|| row.username.clone()),
        // A pending member has no current key, whatever the column says.
        key_index: row.public_key.as_ref().and(row.key_index),
        public_key: row.public_key,
        joined_at: row.joined_at,
        owner: false,
        username: row.username,
    })
}

/// A conversation as [`CONVERSATION_COLUMNS`] reads it.
#[derive(sqlx::FromRow)]
struct ConversationRow {
    id: String,
    name_revision: i64,
    owner: String,
    created_at: i64,
    updated_at: i64,
}

/// A conversation row with its members (sorted by username, owner flagged);
/// the name is filled in by the caller.
fn conversation_from_row(
    row: &DbRow,
    mut members: Vec<MemberRecord>,
) -> Result<ConversationRecord> {
    let row = ConversationRow::from_row(row)?;
    members.sort_by(|a, b| a.username.cmp(&b.username));
    for member in &mut members {
        member.owner = member.username == row.owner;
    }
    Ok(ConversationRecord {
        id: parse_uuid(&row.id)?,
        name_revision: row.name_revision,
        name: None,
        owner: row.owner,
        created_at: row.created_at,
        updated_at: row.updated_at,
        members,
    })
}

/// One conversation with its members and name as `reader` sees it, read on
/// `conn`.
pub(super) async fn load_conversation(
    conn: &mut Conn,
    id: &str,
    reader: &str,
) -> Result<Option<ConversationRecord>> {
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let members = sqlx::query(concat!(member_select!(), "WHERE m.conversation_id = $1"))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(member_from_row)
        .collect::<Result<Vec<_>>>()?;
    let mut record = conversation_from_row(&row, members)?;
    record.name = load_name(conn, id, reader).await?;
    Ok(Some(record))
}

/// The member usernames of a conversation, sorted.
pub(super) async fn member_names(conn: &mut Conn, id: &str) -> Result<Vec<String>> {
    let mut names =
        sqlx::query_scalar::<_, String>("SELECT username FROM members WHERE conversation_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    names.sort();
    Ok(names)
}

/// Removes `username` from the conversation; if they owned it, ownership
/// passes to the longest-standing remaining member; a conversation left
/// without members is deleted. Bumps `updated_at`.
///
/// [`StoreError::NotFound`] if the conversation does not exist or the user
/// is not a member.
pub(super) async fn remove_member(
    conn: &mut Conn,
    id: &str,
    username: &str,
    now: i64,
) -> Result<LeaveOutcome> {
    let owner = owner_of(conn, id).await?;
    if !delete_member(conn, id, username).await? {
        return Err(StoreError::NotFound);
    }
    if owner == username {
        return transfer_or_delete(conn, id, now).await;
    }
    let remaining = member_names(conn, id).await?;
    if remaining.is_empty() {
        delete_conversation_row(conn, id).await?;
        return Ok(LeaveOutcome::Deleted);
    }
    touch(conn, id, now).await?;
    Ok(LeaveOutcome::Left {
        remaining,
        new_owner: None,
    })
}

/// The owner of conversation `id`; [`StoreError::NotFound`] if there is
/// no such conversation.
pub(super) async fn owner_of(conn: &mut Conn, id: &str) -> Result<String> {
    sqlx::query_scalar::<_, String>("SELECT owner FROM conversations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Removes `username` from conversation `id` and forgets the name key held
/// for them (a later name is sealed without them); false if they were not
/// a member. Ownership and `updated_at` are the caller's.
async fn delete_member(conn: &mut Conn, id: &str, username: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND username = $2")
        .bind(id)
        .bind(username)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    forget_name_key(conn, id, username).await?;
    Ok(true)
}

/// Bumps the conversation's `updated_at`; false if it does not exist.
pub(super) async fn touch(conn: &mut Conn, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// For a conversation whose owner is no longer a member: passes ownership to
/// the longest-standing member (earliest `joined_at`, then username), or
/// deletes the conversation if nobody is left.
pub(super) async fn transfer_or_delete(
    conn: &mut Conn,
    id: &str,
    now: i64,
) -> Result<LeaveOutcome> {
    let heir = sqlx::query_scalar::<_, String>(
        "SELECT username FROM members WHERE conversation_id = $1 \
         ORDER BY joined_at, username LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(heir) = heir else {
        delete_conversation_row(conn, id).await?;
        return Ok(LeaveOutcome::Deleted);
    };
    sqlx::query("UPDATE conversations SET owner = $1, updated_at = $2 WHERE id = $3")
        .bind(&heir)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let remaining = member_names(conn, id).await?;
    Ok(LeaveOutcome::Left {
        remaining,
        new_owner: Some(heir),
    })
}

/// Deletes a conversation row (members and messages cascade); whether it
/// existed.
async fn delete_conversation_row(conn: &mut Conn, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM conversations WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

async fn insert_member(conn: &mut Conn, id: &str, username: &str, now: i64) -> Result<()> {
    sqlx::query("INSERT INTO members (conversation_id, username, joined_at) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(username)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// Creates a conversation owned by `owner` with the other `members`
    /// (the owner is added if not listed; duplicates are ignored), everyone
    /// joining at `now`, named with `name` (revision 1) if given. Returns it
    /// as the owner sees it.
    ///
    /// [`StoreError::UnknownUsers`] if the owner or any member is not a
    /// completed user; [`StoreError::Conflict`] if the id is taken or the
    /// name's revision is not 1.
    pub async fn create_conversation(
        &self,
        turn: &ConversationTurn,
        name: Option<&NewName>,
        owner: &str,
        members: &[String],
        now: i64,
    ) -> Result<ConversationRecord> {
        let id = turn.conversation_id();
        let everyone = sorted_unique(
            members
                .iter()
                .cloned()
                .chain(std::iter::once(owner.to_owned())),
        );
        let id = uuid_text(id);
        let mut tx = self.begin_turn_write(turn).await?;
        require_completed(&mut tx, &everyone).await?;
        require_room(
            &mut tx,
            self.backend,
            &everyone,
            self.conversations_per_user,
        )
        .await?;
        sqlx::query(
            "INSERT INTO conversations (id, name_revision, owner, created_at, updated_at) \
             VALUES ($1, 0, $2, $3, $3)",
        )
        .bind(&id)
        .bind(owner)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("conversation {id} already exists"))
            } else {
                e.into()
            }
        })?;
        for member in &everyone {
            insert_member(&mut tx, &id, member, now).await?;
        }
        if let Some(name) = name {
            set_name(&mut tx, &id, name, now).await?;
        }
        let record = load_conversation(&mut tx, &id, owner)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(record)
    }

    /// One conversation with its members, and its name as `reader` sees it.
    pub async fn get_conversation(
        &self,
        id: Uuid,
        reader: &str,
    ) -> Result<Option<ConversationRecord>> {
        let mut tx = self.begin_read().await?;
        let record = load_conversation(&mut tx, &uuid_text(id), reader).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The members of a conversation with their keys, by username (empty if
    /// the conversation does not exist: it always has a member). One query:
    /// what a message needs, without the name.
    pub async fn members(&self, id: Uuid) -> Result<Vec<MemberRecord>> {
        sqlx::query(concat!(
            member_select!(),
            "WHERE m.conversation_id = $1 ORDER BY m.username"
        ))
        .bind(uuid_text(id))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(member_from_row)
        .collect()
    }

    /// Whether `username` is a member of the conversation (false if the
    /// conversation does not exist).
    pub async fn is_member(&self, id: Uuid, username: &str) -> Result<bool> {
        let found = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM members WHERE conversation_id = $1 AND username = $2",
        )
        .bind(uuid_text(id))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// The member usernames of a conversation, sorted (empty if the
    /// conversation does not exist).
    pub async fn member_usernames(&self, id: Uuid) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        member_names(&mut conn, &uuid_text(id)).await
    }

    /// The conversations `username` is a member of, most recently updated
    /// first (then by id), with their members and names as they see them.
    /// Four queries, whatever the number of conversations.
    pub async fn list_conversations(&self, username: &str) -> Result<Vec<ConversationRecord>> {
        let mut tx = self.begin_read().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c \
             JOIN members mine ON mine.conversation_id = c.id \
             WHERE mine.username = $1 ORDER BY c.updated_at DESC, c.id"
        )))
        .bind(username)
        .fetch_all(&mut *tx)
        .await?;
        let member_rows = sqlx::query(concat!(
            member_select!(),
            "WHERE m.conversation_id IN (SELECT conversation_id FROM members WHERE username = $1)"
        ))
        .bind(username)
        .fetch_all(&mut *tx)
        .await?;
        let mut names = load_member_names(&mut tx, username).await?;
        tx.commit().await?;

        let mut members: HashMap<String, Vec<MemberRecord>> = HashMap::new();
        for row in &member_rows {
            let conversation: String = row.try_get("conversation_id")?;
            members
                .entry(conversation)
                .or_default()
                .push(member_from_row(row)?);
        }
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let mut record =
                    conversation_from_row(row, members.remove(&id).unwrap_or_default())?;
                record.name = names.remove(&id);
                Ok(record)
            })
            .collect()
    }

    /// Changes the name (see [`NameChange`]) and/or replaces the members
    /// of (`Some(members)`) a conversation in one transaction, so a refused
    /// part leaves nothing half done. Same rules and errors as
    /// [`Store::set_members`], plus [`StoreError::Conflict`] when a new
    /// name does not carry the next revision. Returns the conversation as
    /// `reader` sees it and the added and removed usernames.
    pub async fn update_conversation(
        &self,
        turn: &ConversationTurn,
        name: &NameChange,
        members: Option<&[String]>,
        reader: &str,
        now: i64,
    ) -> Result<(ConversationRecord, Vec<String>, Vec<String>)> {
        let id = turn.conversation_id();
        let id = uuid_text(id);
        let mut tx = self.begin_turn_write(turn).await?;
        let (added, removed) = match members {
            Some(members) => {
                apply_members(
                    &mut tx,
                    &id,
                    members,
                    self.backend,
                    now,
                    self.conversations_per_user,
                )
                .await?
            }
            None => (Vec::new(), Vec::new()),
        };
        match name {
            NameChange::Keep => {}
            NameChange::Set(name) => set_name(&mut tx, &id, name, now).await?,
            NameChange::Remove => remove_name(&mut tx, &id, now).await?,
        }
        let record = load_conversation(&mut tx, &id, reader)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((record, added, removed))
    }

    /// Replaces the member list with `members` (the complete new list, owner
    /// included; duplicates ignored). Members who stay keep their
    /// `joined_at`; new members join at `now`. Bumps `updated_at` if anything
    /// changed. Returns the conversation and the added and removed usernames
    /// (sorted).
    ///
    /// [`StoreError::NotFound`] if the conversation does not exist;
    /// [`StoreError::UnknownUsers`] if an *added* user is unknown or pending
    /// (members who stay are not re-checked, so a member who was reset does
    /// not block the owner); [`StoreError::Invalid`] if the owner is missing
    /// from the list.
    pub async fn set_members(
        &self,
        turn: &ConversationTurn,
        members: &[String],
        reader: &str,
        now: i64,
    ) -> Result<(ConversationRecord, Vec<String>, Vec<String>)> {
        self.update_conversation(turn, &NameChange::Keep, Some(members), reader, now)
            .await
    }

    /// `username` leaves the conversation. If they owned it, ownership passes
    /// to the longest-standing remaining member (earliest `joined_at`, then
    /// username); if nobody is left, the conversation and its messages are
    /// deleted.
    ///
    /// [`StoreError::NotFound`] if the conversation does not exist or the user
    /// is not a member.
    pub async fn leave_conversation(
        &self,
        turn: &ConversationTurn,
        username: &str,
        now: i64,
    ) -> Result<LeaveOutcome> {
        let id = turn.conversation_id();
        let id = uuid_text(id);
        let mut tx = self.begin_turn_write(turn).await?;
        let outcome = remove_member(&mut tx, &id, username, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Deletes a conversation with its members and messages; returns the
    /// members it had (sorted), to notify them.
    ///
    /// [`StoreError::NotFound`] if it does not exist.
    pub async fn delete_conversation(&self, turn: &ConversationTurn) -> Result<Vec<String>> {
        let id = turn.conversation_id();
        let id = uuid_text(id);
        let mut tx = self.begin_turn_write(turn).await?;
        let members = member_names(&mut tx, &id).await?;
        if !delete_conversation_row(&mut tx, &id).await? {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(members)
    }

    /// Sets `updated_at = now` (message changes do this themselves).
    ///
    /// [`StoreError::NotFound`] if the conversation does not exist.
    pub async fn touch_conversation(&self, turn: &ConversationTurn, now: i64) -> Result<()> {
        let id = turn.conversation_id();
        let mut conn = self.pool.acquire().await?;
        if !touch(&mut conn, &uuid_text(id), now).await? {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// The member-list replacement of [`Store::set_members`], inside `tx`.
async fn apply_members(
    tx: &mut Conn,
    id: &str,
    members: &[String],
    backend: Backend,
    now: i64,
    conversations_per_user: i64,
) -> Result<(Vec<String>, Vec<String>)> {
    let wanted = sorted_unique(members.iter().cloned());
    let owner = owner_of(&mut *tx, id).await?;
    if wanted.binary_search(&owner).is_err() {
        return Err(StoreError::Invalid(format!(
            "the owner {owner} must stay a member"
        )));
    }
    let current = member_names(&mut *tx, id).await?;
    let added: Vec<String> = wanted
        .iter()
        .filter(|n| current.binary_search(n).is_err())
        .cloned()
        .collect();
    let removed: Vec<String> = current
        .iter()
        .filter(|n| wanted.binary_search(n).is_err())
        .cloned()
        .collect();
    require_completed(&mut *tx, &added).await?;
    require_room(&mut *tx, backend, &added, conversations_per_user).await?;
    for name in &removed {
        delete_member(&mut *tx, id, name).await?;
    }
    for name in &added {
        insert_member(&mut *tx, id, name, now).await?;
    }
    if !added.is_empty() || !removed.is_empty() {
        touch(&mut *tx, id, now).await?;
    }
    Ok((added, removed))
}

#[cfg(test)]
mod tests;
