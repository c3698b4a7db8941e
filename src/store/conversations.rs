//! Conversations and their members.

use std::collections::HashMap;

use sqlx::sqlite::{SqliteConnection, SqliteRow};
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
        "SELECT m.conversation_id, m.username, m.joined_at, u.display_name, u.public_key \
         FROM members m JOIN users u ON u.username = m.username "
    };
}

/// A member joined with its user, as [`member_select`] reads it.
#[derive(sqlx::FromRow)]
struct MemberRow {
    username: String,
    display_name: Option<String>,
    public_key: Option<Vec<u8>>,
    joined_at: i64,
}

/// A member row; `owner` is filled in by the caller.
fn member_from_row(row: &SqliteRow) -> Result<MemberRecord> {
    let row = MemberRow::from_row(row)?;
    Ok(MemberRecord {
        display_name: row.display_name.unwrap_or_else(|| row.username.clone()),
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
    row: &SqliteRow,
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
    conn: &mut SqliteConnection,
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
pub(super) async fn member_names(conn: &mut SqliteConnection, id: &str) -> Result<Vec<String>> {
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
    conn: &mut SqliteConnection,
    id: &str,
    username: &str,
    now: i64,
) -> Result<LeaveOutcome> {
    let owner = sqlx::query_scalar::<_, String>("SELECT owner FROM conversations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let done = sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND username = $2")
        .bind(id)
        .bind(username)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    // The leaver knew the name; a later one is sealed without them.
    forget_name_key(conn, id, username).await?;
    if owner == username {
        return transfer_or_delete(conn, id, now).await;
    }
    let remaining = member_names(conn, id).await?;
    if remaining.is_empty() {
        delete_conversation_row(conn, id).await?;
        return Ok(LeaveOutcome::Deleted);
    }
    sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(LeaveOutcome::Left {
        remaining,
        new_owner: None,
    })
}

/// For a conversation whose owner is no longer a member: passes ownership to
/// the longest-standing member (earliest `joined_at`, then username), or
/// deletes the conversation if nobody is left.
pub(super) async fn transfer_or_delete(
    conn: &mut SqliteConnection,
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
async fn delete_conversation_row(conn: &mut SqliteConnection, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM conversations WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

async fn insert_member(
    conn: &mut SqliteConnection,
    id: &str,
    username: &str,
    now: i64,
) -> Result<()> {
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
        id: Uuid,
        name: Option<&NewName>,
        owner: &str,
        members: &[String],
        now: i64,
    ) -> Result<ConversationRecord> {
        let everyone = sorted_unique(
            members
                .iter()
                .cloned()
                .chain(std::iter::once(owner.to_owned())),
        );
        let id = uuid_text(id);
        let mut tx = self.begin_write().await?;
        require_completed(&mut tx, &everyone).await?;
        require_room(&mut tx, &everyone, self.conversations_per_user).await?;
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
        id: Uuid,
        name: &NameChange,
        members: Option<&[String]>,
        reader: &str,
        now: i64,
    ) -> Result<(ConversationRecord, Vec<String>, Vec<String>)> {
        let id = uuid_text(id);
        let mut tx = self.begin_write().await?;
        let (added, removed) = match members {
            Some(members) => {
                apply_members(&mut tx, &id, members, now, self.conversations_per_user).await?
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
        id: Uuid,
        members: &[String],
        reader: &str,
        now: i64,
    ) -> Result<(ConversationRecord, Vec<String>, Vec<String>)> {
        self.update_conversation(id, &NameChange::Keep, Some(members), reader, now)
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
        id: Uuid,
        username: &str,
        now: i64,
    ) -> Result<LeaveOutcome> {
        let mut tx = self.begin_write().await?;
        let outcome = remove_member(&mut tx, &uuid_text(id), username, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Deletes a conversation with its members and messages; returns the
    /// members it had (sorted), to notify them.
    ///
    /// [`StoreError::NotFound`] if it does not exist.
    pub async fn delete_conversation(&self, id: Uuid) -> Result<Vec<String>> {
        let id = uuid_text(id);
        let mut tx = self.begin_write().await?;
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
    pub async fn touch_conversation(&self, id: Uuid, now: i64) -> Result<()> {
        let done = sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(uuid_text(id))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// The member-list replacement of [`Store::set_members`], inside `tx`.
async fn apply_members(
    tx: &mut sqlx::SqliteConnection,
    id: &str,
    members: &[String],
    now: i64,
    conversations_per_user: i64,
) -> Result<(Vec<String>, Vec<String>)> {
    let wanted = sorted_unique(members.iter().cloned());
    let owner = sqlx::query_scalar::<_, String>("SELECT owner FROM conversations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
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
    require_room(&mut *tx, &added, conversations_per_user).await?;
    for name in &removed {
        sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND username = $2")
            .bind(id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        forget_name_key(&mut *tx, id, name).await?;
    }
    for name in &added {
        insert_member(&mut *tx, id, name, now).await?;
    }
    if !added.is_empty() || !removed.is_empty() {
        sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok((added, removed))
}

#[cfg(test)]
mod tests {
    use super::super::Digest;
    use super::super::tests::{T0, message, new_user, store};
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A sealed name as the server would store it (the bytes are stand-ins:
    /// the store never reads them).
    fn sealed(revision: i64, sealer: &str, readers: &[&str]) -> NewName {
        NewName {
            revision,
            iv: vec![revision as u8; 12],
            ciphertext: format!("ct-{revision}").into_bytes(),
            signature: format!("sig-{revision}").into_bytes(),
            sealed_by: sealer.to_owned(),
            sealer_key_digest: Digest::of(format!("pkd-{sealer}").as_bytes()),
            keys: readers
                .iter()
                .map(|r| super::super::NewNameKey {
                    key: super::super::NewKey {
                        username: (*r).to_owned(),
                        wrapped_key: format!("nk-{r}-{revision}").into_bytes(),
                        key_digest: Digest::of(format!("nkd-{r}-{revision}").as_bytes()),
                    },
                    recipient_key_digest: Digest::of(format!("pkd-{r}").as_bytes()),
                })
                .collect(),
        }
    }

    async fn with_users(list: &[&str]) -> Store {
        let s = store().await;
        for name in list {
            new_user(&s, name).await;
        }
        s
    }

    #[tokio::test]
    async fn create_and_get() {
        let s = with_users(&["alice", "bob", "carol"]).await;
        let id = Uuid::new_v4();
        let name = sealed(1, "bob", &["alice", "bob", "carol"]);
        let created = s
            .create_conversation(
                id,
                Some(&name),
                "bob",
                &names(&["carol", "alice", "carol", "bob"]),
                T0,
            )
            .await
            .unwrap();
        assert_eq!(created.id, id);
        assert_eq!(created.name_revision, 1);
        let stored = created.name.clone().unwrap();
        assert_eq!(
            (
                stored.revision,
                stored.ciphertext.as_slice(),
                stored.sealed_by.as_str()
            ),
            (1, &b"ct-1"[..], "bob")
        );
        assert_eq!(stored.sealed_at, T0);
        // The owner (the reader it was loaded for) gets only their own key.
        assert_eq!(stored.reader_key.as_deref(), Some(&b"nk-bob-1"[..]));
        let digests: Vec<_> = stored
            .recipients
            .iter()
            .map(|r| (r.username.as_str(), r.key_digest, r.holds_key))
            .collect();
        assert_eq!(
            digests,
            [
                ("alice", Digest::of(b"nkd-alice-1"), true),
                ("bob", Digest::of(b"nkd-bob-1"), true),
                ("carol", Digest::of(b"nkd-carol-1"), true)
            ]
        );
        assert_eq!(created.owner, "bob");
        assert_eq!((created.created_at, created.updated_at), (T0, T0));
        let members: Vec<_> = created
            .members
            .iter()
            .map(|m| (m.username.as_str(), m.owner))
            .collect();
        assert_eq!(members, [("alice", false), ("bob", true), ("carol", false)]);
        let alice = &created.members[0];
        assert_eq!(alice.display_name, "Display alice");
        assert_eq!(alice.public_key.as_deref(), Some(&b"pk-alice"[..]));
        assert_eq!(alice.joined_at, T0);
        assert_eq!(
            s.get_conversation(id, "bob").await.unwrap().unwrap(),
            created
        );
        let as_alice = s.get_conversation(id, "alice").await.unwrap().unwrap();
        assert_eq!(
            as_alice.name.unwrap().reader_key.as_deref(),
            Some(&b"nk-alice-1"[..])
        );
        assert!(
            s.get_conversation(Uuid::new_v4(), "bob")
                .await
                .unwrap()
                .is_none()
        );

        let dup = s
            .create_conversation(id, None, "alice", &names(&["bob"]), T0)
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    }

    #[tokio::test]
    async fn create_rejects_unknown_and_pending() {
        let s = with_users(&["alice"]).await;
        s.create_user("pending", b"tok", T0 + 1000, T0)
            .await
            .unwrap();
        let id = Uuid::new_v4();
        let err = s
            .create_conversation(id, None, "alice", &names(&["zed", "pending", "alice"]), T0)
            .await
            .unwrap_err();
        match err {
            StoreError::UnknownUsers(list) => assert_eq!(list, ["pending", "zed"]),
            other => panic!("{other:?}"),
        }
        assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn membership_queries() {
        let s = with_users(&["alice", "bob", "carol"]).await;
        let id = Uuid::new_v4();
        s.create_conversation(id, None, "alice", &names(&["carol"]), T0)
            .await
            .unwrap();
        assert!(s.is_member(id, "alice").await.unwrap());
        assert!(s.is_member(id, "carol").await.unwrap());
        assert!(!s.is_member(id, "bob").await.unwrap());
        assert!(!s.is_member(Uuid::new_v4(), "alice").await.unwrap());
        assert_eq!(s.member_usernames(id).await.unwrap(), ["alice", "carol"]);
        assert!(s.member_usernames(Uuid::new_v4()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn list_orders_by_activity() {
        let s = with_users(&["alice", "bob", "carol"]).await;
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        let c = Uuid::new_v4();
        s.create_conversation(a, None, "alice", &names(&["bob"]), T0)
            .await
            .unwrap();
        s.create_conversation(b, None, "alice", &names(&["carol"]), T0 + 1)
            .await
            .unwrap();
        s.create_conversation(c, None, "bob", &names(&["carol"]), T0 + 2)
            .await
            .unwrap();
        let ids: Vec<_> = s
            .list_conversations("alice")
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, [b, a]);
        // A message in `a` makes it the most recent.
        s.insert_message(&message(a, "bob", &["alice", "bob"]), T0 + 10)
            .await
            .unwrap();
        let list = s.list_conversations("alice").await.unwrap();
        assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [a, b]);
        assert_eq!(list[0].updated_at, T0 + 10);
        assert_eq!(
            list[0]
                .members
                .iter()
                .map(|m| m.username.as_str())
                .collect::<Vec<_>>(),
            ["alice", "bob"]
        );
        assert_eq!(
            list[1]
                .members
                .iter()
                .map(|m| m.username.as_str())
                .collect::<Vec<_>>(),
            ["alice", "carol"]
        );
        assert!(s.list_conversations("nobody").await.unwrap().is_empty());
        // Same updated_at: ordered by id.
        s.touch_conversation(a, T0 + 20).await.unwrap();
        s.touch_conversation(b, T0 + 20).await.unwrap();
        let mut expected = [a, b];
        expected.sort_by_key(|u| u.hyphenated().to_string());
        let ids: Vec<_> = s
            .list_conversations("alice")
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, expected);
        assert!(matches!(
            s.touch_conversation(Uuid::new_v4(), T0).await,
            Err(StoreError::NotFound)
        ));
    }

    #[tokio::test]
    async fn names_need_the_next_revision() {
        let s = with_users(&["alice", "bob"]).await;
        let id = Uuid::new_v4();
        let first = sealed(2, "alice", &["alice", "bob"]);
        let wrong_first = s
            .create_conversation(id, Some(&first), "alice", &names(&["bob"]), T0)
            .await;
        assert!(
            matches!(wrong_first, Err(StoreError::Conflict(_))),
            "{wrong_first:?}"
        );
        assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
        s.create_conversation(id, None, "alice", &names(&["bob"]), T0)
            .await
            .unwrap();
        let set = |revision| NameChange::Set(sealed(revision, "bob", &["alice", "bob"]));
        let (renamed, _, _) = s
            .update_conversation(id, &set(1), None, "bob", T0 + 5)
            .await
            .unwrap();
        assert_eq!(renamed.name_revision, 1);
        let key = renamed.name.unwrap().reader_key;
        assert_eq!(key.as_deref(), Some(&b"nk-bob-1"[..]));
        assert_eq!(renamed.updated_at, T0 + 5);
        // A stale or skipping revision loses.
        for stale in [1, 3] {
            let lost = s
                .update_conversation(id, &set(stale), None, "bob", T0 + 6)
                .await;
            assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
        }
        // A removal counts as a revision: a name sealed before it is stale.
        let (cleared, _, _) = s
            .update_conversation(id, &NameChange::Remove, None, "bob", T0 + 7)
            .await
            .unwrap();
        assert_eq!((cleared.name, cleared.name_revision), (None, 2));
        let late = s
            .update_conversation(id, &set(2), None, "bob", T0 + 8)
            .await;
        assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
        let (again, _, _) = s
            .update_conversation(id, &set(3), None, "alice", T0 + 9)
            .await
            .unwrap();
        let key = again.name.unwrap().reader_key;
        assert_eq!(key.as_deref(), Some(&b"nk-alice-3"[..]));
        let keys = s.name_keys(id).await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys["bob"], b"nk-bob-3");
        let missing = s
            .update_conversation(Uuid::new_v4(), &NameChange::Remove, None, "bob", T0)
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)));
    }

    #[tokio::test]
    async fn leavers_and_reset_users_lose_their_name_key() {
        let s = with_users(&["alice", "bob", "carol"]).await;
        let id = Uuid::new_v4();
        let name = sealed(1, "alice", &["alice", "bob", "carol"]);
        s.create_conversation(id, Some(&name), "alice", &names(&["bob", "carol"]), T0)
            .await
            .unwrap();
        s.leave_conversation(id, "carol", T0 + 1).await.unwrap();
        s.reset_user("bob", b"new-token", T0 + 1000, T0 + 2)
            .await
            .unwrap();
        let conv = s.get_conversation(id, "alice").await.unwrap().unwrap();
        let held: Vec<_> = conv
            .name
            .unwrap()
            .recipients
            .iter()
            .map(|r| (r.username.clone(), r.holds_key))
            .collect();
        // The digests stay (the signature covers them); the keys go.
        assert_eq!(
            held,
            [
                ("alice".into(), true),
                ("bob".into(), false),
                ("carol".into(), false)
            ]
        );
        let bob = s.get_conversation(id, "bob").await.unwrap().unwrap();
        assert_eq!(bob.name.unwrap().reader_key, None);
        assert_eq!(s.name_keys(id).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn update_conversation_is_all_or_nothing() {
        let s = with_users(&["alice", "bob", "carol"]).await;
        let id = Uuid::new_v4();
        let name = sealed(1, "alice", &["alice", "bob"]);
        s.create_conversation(id, Some(&name), "alice", &names(&["bob"]), T0)
            .await
            .unwrap();
        // The member list drops the owner: refused, and the new name with it.
        let refused = s
            .update_conversation(
                id,
                &NameChange::Set(sealed(2, "alice", &["bob", "carol"])),
                Some(&names(&["bob", "carol"])),
                "alice",
                T0 + 1,
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
        let conv = s.get_conversation(id, "alice").await.unwrap().unwrap();
        assert_eq!(conv.name.unwrap().revision, 1);
        assert_eq!(conv.members.len(), 2);
        // Both parts valid: both applied.
        let (conv, added, removed) = s
            .update_conversation(
                id,
                &NameChange::Set(sealed(2, "alice", &["alice", "carol"])),
                Some(&names(&["alice", "carol"])),
                "carol",
                T0 + 2,
            )
            .await
            .unwrap();
        assert_eq!(
            (conv.name.unwrap().reader_key, added, removed),
            (
                Some(b"nk-carol-2".to_vec()),
                names(&["carol"]),
                names(&["bob"])
            )
        );
    }

    #[tokio::test]
    async fn set_members_diff_and_joined_at() {
        let s = with_users(&["alice", "bob", "carol", "dave"]).await;
        let id = Uuid::new_v4();
        s.create_conversation(id, None, "alice", &names(&["bob", "carol"]), T0)
            .await
            .unwrap();
        let (conv, added, removed) = s
            .set_members(
                id,
                &names(&["dave", "alice", "bob", "dave"]),
                "alice",
                T0 + 7,
            )
            .await
            .unwrap();
        assert_eq!(added, ["dave"]);
        assert_eq!(removed, ["carol"]);
        assert_eq!(conv.updated_at, T0 + 7);
        let joined: Vec<_> = conv
            .members
            .iter()
            .map(|m| (m.username.as_str(), m.joined_at))
            .collect();
        assert_eq!(joined, [("alice", T0), ("bob", T0), ("dave", T0 + 7)]);

        // No change: updated_at stays.
        let (conv, added, removed) = s
            .set_members(id, &names(&["alice", "bob", "dave"]), "alice", T0 + 9)
            .await
            .unwrap();
        assert!(added.is_empty() && removed.is_empty());
        assert_eq!(conv.updated_at, T0 + 7);

        let unknown = s
            .set_members(id, &names(&["alice", "zed"]), "alice", T0 + 10)
            .await;
        assert!(
            matches!(unknown, Err(StoreError::UnknownUsers(ref l)) if l == &["zed"]),
            "{unknown:?}"
        );
        let no_owner = s.set_members(id, &names(&["bob"]), "alice", T0 + 10).await;
        assert!(
            matches!(no_owner, Err(StoreError::Invalid(_))),
            "{no_owner:?}"
        );
        let missing = s
            .set_members(Uuid::new_v4(), &names(&["alice"]), "alice", T0)
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)));
        // Failed calls changed nothing.
        assert_eq!(
            s.member_usernames(id).await.unwrap(),
            ["alice", "bob", "dave"]
        );
    }

    #[tokio::test]
    async fn leave_member_owner_and_last() {
        let s = with_users(&["alice", "bob", "carol"]).await;
        let id = Uuid::new_v4();
        s.create_conversation(id, None, "alice", &names(&["carol"]), T0)
            .await
            .unwrap();
        s.set_members(id, &names(&["alice", "bob", "carol"]), "alice", T0 + 1)
            .await
            .unwrap();
        let msg = message(id, "alice", &["alice", "bob", "carol"]);
        s.insert_message(&msg, T0 + 2).await.unwrap();

        // A plain member leaves.
        let out = s.leave_conversation(id, "bob", T0 + 3).await.unwrap();
        assert_eq!(
            out,
            LeaveOutcome::Left {
                remaining: names(&["alice", "carol"]),
                new_owner: None
            }
        );
        assert!(matches!(
            s.leave_conversation(id, "bob", T0 + 3).await,
            Err(StoreError::NotFound)
        ));

        // The owner leaves: carol (the only one left) takes over.
        let out = s.leave_conversation(id, "alice", T0 + 4).await.unwrap();
        assert_eq!(
            out,
            LeaveOutcome::Left {
                remaining: names(&["carol"]),
                new_owner: Some("carol".into())
            }
        );
        let conv = s.get_conversation(id, "alice").await.unwrap().unwrap();
        assert_eq!(conv.owner, "carol");
        assert!(conv.members[0].owner);
        assert_eq!(conv.updated_at, T0 + 4);
        // alice's message stays (leaving is not deleting).
        assert_eq!(
            s.get_message_sender(id, msg.id).await.unwrap().as_deref(),
            Some("alice")
        );

        // The last member leaves: everything goes.
        assert_eq!(
            s.leave_conversation(id, "carol", T0 + 5).await.unwrap(),
            LeaveOutcome::Deleted
        );
        assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
        assert!(s.get_message_sender(id, msg.id).await.unwrap().is_none());
        assert!(matches!(
            s.leave_conversation(id, "carol", T0 + 6).await,
            Err(StoreError::NotFound)
        ));
    }

    #[tokio::test]
    async fn owner_transfer_prefers_earliest_then_username() {
        let s = with_users(&["alice", "bob", "carol", "dave"]).await;
        let id = Uuid::new_v4();
        // dave joined later; bob and carol tie on joined_at -> bob.
        s.create_conversation(id, None, "alice", &names(&["carol", "bob"]), T0)
            .await
            .unwrap();
        s.set_members(
            id,
            &names(&["alice", "bob", "carol", "dave"]),
            "alice",
            T0 + 1,
        )
        .await
        .unwrap();
        let out = s.leave_conversation(id, "alice", T0 + 2).await.unwrap();
        assert_eq!(
            out,
            LeaveOutcome::Left {
                remaining: names(&["bob", "carol", "dave"]),
                new_owner: Some("bob".into())
            }
        );
        // bob leaves: carol joined at T0, dave at T0 + 1.
        let out = s.leave_conversation(id, "bob", T0 + 3).await.unwrap();
        assert_eq!(
            out,
            LeaveOutcome::Left {
                remaining: names(&["carol", "dave"]),
                new_owner: Some("carol".into())
            }
        );
    }

    #[tokio::test]
    async fn delete_returns_members_and_cascades() {
        let s = with_users(&["alice", "bob"]).await;
        let id = Uuid::new_v4();
        s.create_conversation(id, None, "alice", &names(&["bob"]), T0)
            .await
            .unwrap();
        let msg = message(id, "bob", &["alice", "bob"]);
        s.insert_message(&msg, T0 + 1).await.unwrap();
        assert_eq!(s.delete_conversation(id).await.unwrap(), ["alice", "bob"]);
        assert!(s.get_conversation(id, "alice").await.unwrap().is_none());
        assert!(s.get_message_sender(id, msg.id).await.unwrap().is_none());
        assert!(!s.is_member(id, "alice").await.unwrap());
        assert!(matches!(
            s.delete_conversation(id).await,
            Err(StoreError::NotFound)
        ));
        // The message id is free again (its key rows went with it).
        s.create_conversation(id, None, "alice", &names(&["bob"]), T0 + 2)
            .await
            .unwrap();
        s.insert_message(&msg, T0 + 3).await.unwrap();
    }
}
