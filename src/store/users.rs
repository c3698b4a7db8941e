//! Users: creation by the operator, completion, updates, reset and deletion.

use std::collections::HashMap;

use super::conversations::{remove_member, transfer_or_delete};
use super::names::forget_all_name_keys;
use super::{
    DeletedUser, IN_CHUNK, LeaveOutcome, Result, Store, StoreError, UserRecord, UserUpdate,
    is_unique_violation, parse_uuid, placeholders,
};

/// The columns of [`UserRecord`] (its `sqlx::FromRow`), in a form `concat!` accepts.
macro_rules! user_columns {
    () => {
        "username, display_name, public_key, private_key, sync_password_hash, created_at, \
         completed_at, token_hash, token_expires_at"
    };
}

/// Which complete-token rules [`Store::complete_user_under`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRules {
    /// A token is refused once `token_expires_at` has passed.
    pub expiry: bool,
    /// A token is cleared by the completion it allows.
    pub single_use: bool,
}

impl TokenRules {
    /// Both rules, as every real server applies them.
    pub const ENFORCED: TokenRules = TokenRules {
        expiry: true,
        single_use: true,
    };
}

impl Store {
    /// Creates a pending user with the SHA-256 hash of its complete token.
    ///
    /// [`StoreError::Conflict`] if the username exists.
    pub async fn create_user(
        &self,
        username: &str,
        token_hash: &[u8],
        token_expires_at: i64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (username, token_hash, token_expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(username)
        .bind(token_hash)
        .bind(token_expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("user {username} already exists"))
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    /// Makes a user who lost their keys pending again with a new complete
    /// token: clears the public key, the stored private key, the sync
    /// password and `completed_at`. Their conversations and messages stay.
    ///
    /// [`StoreError::NotFound`] if there is no such user.
    pub async fn reset_user(
        &self,
        username: &str,
        token_hash: &[u8],
        token_expires_at: i64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET token_hash = $1, token_expires_at = $2, public_key = NULL, \
             private_key = NULL, sync_password_hash = NULL, completed_at = NULL, updated_at = $3 \
             WHERE username = $4",
        )
        .bind(token_hash)
        .bind(token_expires_at)
        .bind(now)
        .bind(username)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("complete token already in use".to_owned())
            } else {
                e.into()
            }
        })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Keys wrapped for the lost key pair are useless to the user's next
        // key and must not be handed to it.
        forget_wrapped_keys(&mut tx, username).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every user, pending or not, ordered by username.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY username"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// One user, pending or not.
    pub async fn get_user(&self, username: &str) -> Result<Option<UserRecord>> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Completes a pending user, atomically and only if `token_hash` is the
    /// user's and has not expired (`token_expires_at > now`): stores the
    /// display name, public key and the optional encrypted private key and
    /// sync password hash, sets `completed_at = now` and clears the token, so
    /// it cannot be used twice.
    ///
    /// [`StoreError::InvalidToken`] otherwise (unknown user, not pending,
    /// wrong or expired token).
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_user(
        &self,
        username: &str,
        token_hash: &[u8],
        now: i64,
        display_name: &str,
        public_key: &[u8],
        private_key: Option<String>,
        sync_password_hash: Option<String>,
    ) -> Result<UserRecord> {
        self.complete_user_under(
            TokenRules::ENFORCED,
            username,
            token_hash,
            now,
            display_name,
            public_key,
            private_key,
            sync_password_hash,
        )
        .await
    }

    /// [`Self::complete_user`] with the token rules given: every server
    /// enforces both; only the conformance suite's deliberately broken
    /// servers (`mutants` builds) switch one off.
    #[allow(clippy::too_many_arguments)]
    pub async fn complete_user_under(
        &self,
        rules: TokenRules,
        username: &str,
        token_hash: &[u8],
        now: i64,
        display_name: &str,
        public_key: &[u8],
        private_key: Option<String>,
        sync_password_hash: Option<String>,
    ) -> Result<UserRecord> {
        let row: Option<UserRecord> = sqlx::query_as(concat!(
            "UPDATE users SET display_name = $1, public_key = $2, private_key = $3, \
             sync_password_hash = $4, completed_at = $5, updated_at = $5, \
             token_hash = CASE WHEN $8 THEN NULL ELSE token_hash END, \
             token_expires_at = CASE WHEN $8 THEN NULL ELSE token_expires_at END \
             WHERE username = $6 AND ($8 = FALSE OR completed_at IS NULL) AND token_hash = $7 \
             AND ($9 = FALSE OR token_expires_at > $5) RETURNING ",
            user_columns!()
        ))
        .bind(display_name)
        .bind(public_key)
        .bind(private_key)
        .bind(sync_password_hash)
        .bind(now)
        .bind(username)
        .bind(token_hash)
        .bind(rules.single_use)
        .bind(rules.expiry)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(user) => Ok(user),
            None => Err(StoreError::InvalidToken),
        }
    }

    /// Changes a completed user's display name, public key, stored private
    /// key or sync password hash.
    ///
    /// [`StoreError::NotFound`] for unknown or pending users.
    pub async fn update_user(
        &self,
        username: &str,
        now: i64,
        update: UserUpdate,
    ) -> Result<UserRecord> {
        let (set_private_key, private_key) = match update.private_key {
            Some(value) => (true, value),
            None => (false, None),
        };
        let (set_sync, sync_password_hash) = match update.sync_password_hash {
            Some(value) => (true, value),
            None => (false, None),
        };
        let row: Option<UserRecord> = sqlx::query_as(concat!(
            "UPDATE users SET display_name = COALESCE($1, display_name), \
             public_key = COALESCE($2, public_key), \
             private_key = CASE WHEN $3 THEN $4 ELSE private_key END, \
             sync_password_hash = CASE WHEN $5 THEN $6 ELSE sync_password_hash END, \
             updated_at = $7 \
             WHERE username = $8 AND completed_at IS NOT NULL RETURNING ",
            user_columns!()
        ))
        .bind(update.display_name)
        .bind(update.public_key)
        .bind(set_private_key)
        .bind(private_key)
        .bind(set_sync)
        .bind(sync_password_hash)
        .bind(now)
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(user) => Ok(user),
            None => Err(StoreError::NotFound),
        }
    }

    /// Deletes a user, in one transaction: the user leaves every conversation
    /// (ownership passes to the longest-standing remaining member; a
    /// conversation left without members is deleted with its messages),
    /// every message they sent is deleted, then the user row.
    ///
    /// Wrapped keys addressed to the user in other people's messages stay
    /// (the signed recipient lists must remain verifiable), and so do their
    /// replay-guard entries until they expire.
    ///
    /// [`StoreError::NotFound`] if there is no such user.
    pub async fn delete_user(&self, username: &str, now: i64) -> Result<DeletedUser> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query_scalar::<_, i64>("SELECT 1 FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }

        let mut deleted = DeletedUser::default();
        let memberships = sqlx::query_scalar::<_, String>(
            "SELECT conversation_id FROM members WHERE username = $1 ORDER BY conversation_id",
        )
        .bind(username)
        .fetch_all(&mut *tx)
        .await?;
        for conversation in &memberships {
            let id = parse_uuid(conversation)?;
            match remove_member(&mut tx, conversation, username, now).await? {
                LeaveOutcome::Left { remaining, .. } => deleted.left.push((id, remaining)),
                LeaveOutcome::Deleted => deleted.deleted_conversations.push(id),
            }
        }

        // Defensive: a conversation owned by the user without them as a
        // member (the store never creates one) must not block the delete.
        let orphans = sqlx::query_scalar::<_, String>(
            "SELECT id FROM conversations WHERE owner = $1 ORDER BY id",
        )
        .bind(username)
        .fetch_all(&mut *tx)
        .await?;
        for conversation in &orphans {
            let id = parse_uuid(conversation)?;
            match transfer_or_delete(&mut tx, conversation, now).await? {
                LeaveOutcome::Left { remaining, .. } => deleted.left.push((id, remaining)),
                LeaveOutcome::Deleted => deleted.deleted_conversations.push(id),
            }
        }

        sqlx::query("DELETE FROM messages WHERE sender = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        // The signed digests stay (other readers verify against them); the
        // wrapped keys go, so a later user of this name inherits nothing.
        forget_wrapped_keys(&mut tx, username).await?;
        sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;

        deleted.left.sort_by_key(|entry| entry.0);
        deleted.deleted_conversations.sort();
        Ok(deleted)
    }

    /// The public keys (SPKI DER) of the completed users among `usernames`;
    /// unknown and pending users are absent from the map.
    pub async fn public_keys(&self, usernames: &[String]) -> Result<HashMap<String, Vec<u8>>> {
        let mut keys = HashMap::with_capacity(usernames.len());
        for chunk in usernames.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT username, public_key FROM users \
                 WHERE public_key IS NOT NULL AND username IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, Vec<u8>)>(sqlx::AssertSqlSafe(sql));
            for name in chunk {
                query = query.bind(name);
            }
            keys.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(keys)
    }

    /// The distinct users sharing at least one conversation with `username`
    /// (excluding them), sorted: who gets `event.user.key_changed`.
    pub async fn shared_contacts(&self, username: &str) -> Result<Vec<String>> {
        let mut names = sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT other.username FROM members mine \
             JOIN members other ON other.conversation_id = mine.conversation_id \
             WHERE mine.username = $1 AND other.username <> $1",
        )
        .bind(username)
        .fetch_all(&self.pool)
        .await?;
        names.sort();
        Ok(names)
    }
}

/// Drops the wrapped content and name keys addressed to `username`,
/// keeping their digests in the signed recipient lists.
async fn forget_wrapped_keys(tx: &mut sqlx::SqliteConnection, username: &str) -> Result<()> {
    sqlx::query("UPDATE message_keys SET wrapped_key = NULL WHERE username = $1")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    forget_all_name_keys(tx, username).await
}

#[cfg(test)]
mod tests {
    use super::super::tests::{T0, message, new_user, store};
    use super::*;
    use uuid::Uuid;

    #[tokio::test]
    async fn create_user_and_conflict() {
        let s = store().await;
        s.create_user("alice", b"hash-a", T0 + 1000, T0)
            .await
            .unwrap();
        let err = s
            .create_user("alice", b"hash-b", T0 + 1000, T0)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let user = s.get_user("alice").await.unwrap().unwrap();
        assert!(!user.is_complete());
        assert_eq!(user.created_at, T0);
        assert_eq!(user.token_expires_at, Some(T0 + 1000));
        assert_eq!(user.token_hash.as_deref(), Some(&b"hash-a"[..]));
        assert_eq!(user.public_key, None);
        assert!(s.get_user("nobody").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn list_users_ordered() {
        let s = store().await;
        for name in ["carol", "alice", "bob"] {
            s.create_user(name, name.as_bytes(), T0 + 1000, T0)
                .await
                .unwrap();
        }
        let names: Vec<_> = s
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
    }

    #[tokio::test]
    async fn complete_user_sets_fields_and_clears_token() {
        let s = store().await;
        s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
        let user = s
            .complete_user(
                "alice",
                b"tok",
                T0 + 10,
                "Alice",
                b"spki",
                Some("{\"enc\":1}".into()),
                Some("$argon2id$...".into()),
            )
            .await
            .unwrap();
        assert!(user.is_complete());
        assert_eq!(user.completed_at, Some(T0 + 10));
        assert_eq!(user.display_name.as_deref(), Some("Alice"));
        assert_eq!(user.public_key.as_deref(), Some(&b"spki"[..]));
        assert_eq!(user.private_key.as_deref(), Some("{\"enc\":1}"));
        assert_eq!(user.sync_password_hash.as_deref(), Some("$argon2id$..."));
        assert_eq!(user.token_expires_at, None);
        assert_eq!(user.token_hash, None);
        assert_eq!(s.get_user("alice").await.unwrap().unwrap(), user);
        // Single use.
        let again = s
            .complete_user("alice", b"tok", T0 + 11, "A", b"k", None, None)
            .await;
        assert!(matches!(again, Err(StoreError::InvalidToken)));
    }

    #[tokio::test]
    async fn complete_user_rejects_wrong_expired_or_unknown() {
        let s = store().await;
        s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
        let wrong = s
            .complete_user("alice", b"bad", T0 + 1, "A", b"k", None, None)
            .await;
        assert!(matches!(wrong, Err(StoreError::InvalidToken)));
        let expired = s
            .complete_user("alice", b"tok", T0 + 1000, "A", b"k", None, None)
            .await;
        assert!(matches!(expired, Err(StoreError::InvalidToken)));
        let unknown = s
            .complete_user("bob", b"tok", T0 + 1, "B", b"k", None, None)
            .await;
        assert!(matches!(unknown, Err(StoreError::InvalidToken)));
        // Still pending and usable before expiry.
        assert!(!s.get_user("alice").await.unwrap().unwrap().is_complete());
        s.complete_user("alice", b"tok", T0 + 999, "A", b"k", None, None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn reset_user_makes_pending_and_keeps_conversations() {
        let s = store().await;
        new_user(&s, "alice").await;
        new_user(&s, "bob").await;
        let id = Uuid::new_v4();
        s.create_conversation(id, None, "alice", &["bob".into()], T0)
            .await
            .unwrap();

        s.reset_user("alice", b"new-token", T0 + 5000, T0 + 1)
            .await
            .unwrap();
        let user = s.get_user("alice").await.unwrap().unwrap();
        assert!(!user.is_complete());
        assert_eq!(user.public_key, None);
        assert_eq!(user.private_key, None);
        assert_eq!(user.sync_password_hash, None);
        assert_eq!(user.token_expires_at, Some(T0 + 5000));
        assert!(s.is_member(id, "alice").await.unwrap());
        // Pending users cannot be updated, but can complete again.
        let upd = s.update_user("alice", T0 + 2, UserUpdate::default()).await;
        assert!(matches!(upd, Err(StoreError::NotFound)));
        let user = s
            .complete_user("alice", b"new-token", T0 + 3, "Alice 2", b"pk2", None, None)
            .await
            .unwrap();
        assert_eq!(user.public_key.as_deref(), Some(&b"pk2"[..]));

        let missing = s.reset_user("nobody", b"t", T0, T0).await;
        assert!(matches!(missing, Err(StoreError::NotFound)));
    }

    #[tokio::test]
    async fn update_user_partial_changes() {
        let s = store().await;
        s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
        s.complete_user(
            "alice",
            b"tok",
            T0,
            "Alice",
            b"pk",
            Some("enc".into()),
            Some("phc".into()),
        )
        .await
        .unwrap();

        let user = s
            .update_user(
                "alice",
                T0 + 1,
                UserUpdate {
                    display_name: Some("Al".into()),
                    ..UserUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(user.display_name.as_deref(), Some("Al"));
        assert_eq!(user.public_key.as_deref(), Some(&b"pk"[..]));
        assert_eq!(user.private_key.as_deref(), Some("enc"));
        assert_eq!(user.sync_password_hash.as_deref(), Some("phc"));

        let user = s
            .update_user(
                "alice",
                T0 + 2,
                UserUpdate {
                    public_key: Some(b"pk2".to_vec()),
                    private_key: Some(None),
                    sync_password_hash: Some(Some("phc2".into())),
                    ..UserUpdate::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(user.display_name.as_deref(), Some("Al"));
        assert_eq!(user.public_key.as_deref(), Some(&b"pk2"[..]));
        assert_eq!(user.private_key, None);
        assert_eq!(user.sync_password_hash.as_deref(), Some("phc2"));

        let missing = s.update_user("nobody", T0, UserUpdate::default()).await;
        assert!(matches!(missing, Err(StoreError::NotFound)));
    }

    #[tokio::test]
    async fn debug_redacts_secrets() {
        let s = store().await;
        s.create_user("alice", b"tok", T0 + 1000, T0).await.unwrap();
        let user = s
            .complete_user(
                "alice",
                b"tok",
                T0,
                "Alice",
                b"pk",
                Some("SECRET-KEY".into()),
                Some("SECRET-PHC".into()),
            )
            .await
            .unwrap();
        let shown = format!("{user:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("alice"));
        let update = UserUpdate {
            private_key: Some(Some("SECRET".into())),
            ..UserUpdate::default()
        };
        assert!(!format!("{update:?}").contains("SECRET"));
    }

    #[tokio::test]
    async fn shared_contacts_distinct() {
        let s = store().await;
        for name in ["alice", "bob", "carol", "dave"] {
            new_user(&s, name).await;
        }
        s.create_conversation(
            Uuid::new_v4(),
            None,
            "alice",
            &["bob".into(), "carol".into()],
            T0,
        )
        .await
        .unwrap();
        s.create_conversation(Uuid::new_v4(), None, "bob", &["alice".into()], T0)
            .await
            .unwrap();
        assert_eq!(s.shared_contacts("alice").await.unwrap(), ["bob", "carol"]);
        assert_eq!(s.shared_contacts("carol").await.unwrap(), ["alice", "bob"]);
        assert!(s.shared_contacts("dave").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn delete_user_transfers_ownership_and_deletes_empty() {
        let s = store().await;
        for name in ["alice", "bob", "carol", "dave"] {
            new_user(&s, name).await;
        }
        // c1: alice owns; carol joined at T0, bob at T0 + 5 -> carol takes over.
        let c1 = Uuid::new_v4();
        s.create_conversation(c1, None, "alice", &["carol".into()], T0)
            .await
            .unwrap();
        s.set_members(
            c1,
            &["alice".into(), "carol".into(), "bob".into()],
            "alice",
            T0 + 5,
        )
        .await
        .unwrap();
        // c2: alice is the only member left after dave leaves -> deleted.
        let c2 = Uuid::new_v4();
        s.create_conversation(c2, None, "dave", &["alice".into()], T0)
            .await
            .unwrap();
        s.leave_conversation(c2, "dave", T0 + 1).await.unwrap();
        // c3: bob owns, alice is a plain member.
        let c3 = Uuid::new_v4();
        s.create_conversation(c3, None, "bob", &["alice".into()], T0)
            .await
            .unwrap();

        let m1 = message(c1, "alice", &["alice", "bob", "carol"]);
        s.insert_message(&m1, T0 + 10).await.unwrap();
        let m3 = message(c3, "bob", &["alice", "bob"]);
        s.insert_message(&m3, T0 + 11).await.unwrap();
        let m3a = message(c3, "alice", &["alice", "bob"]);
        s.insert_message(&m3a, T0 + 12).await.unwrap();

        let deleted = s.delete_user("alice", T0 + 20).await.unwrap();
        let mut expected_left = vec![
            (c1, vec!["bob".to_owned(), "carol".to_owned()]),
            (c3, vec!["bob".to_owned()]),
        ];
        expected_left.sort_by_key(|entry| entry.0);
        assert_eq!(deleted.left, expected_left);
        assert_eq!(deleted.deleted_conversations, vec![c2]);

        assert!(s.get_user("alice").await.unwrap().is_none());
        let conv1 = s.get_conversation(c1, "bob").await.unwrap().unwrap();
        assert_eq!(conv1.owner, "carol");
        assert_eq!(conv1.updated_at, T0 + 20);
        assert!(s.get_conversation(c2, "bob").await.unwrap().is_none());
        assert_eq!(
            s.get_conversation(c3, "bob").await.unwrap().unwrap().owner,
            "bob"
        );
        // alice's messages are gone, bob's stays with alice still a recipient.
        assert!(s.get_message_sender(c1, m1.id).await.unwrap().is_none());
        assert!(s.get_message_sender(c3, m3a.id).await.unwrap().is_none());
        let kept = s.get_message(c3, m3.id, "bob").await.unwrap().unwrap();
        let recipients: Vec<_> = kept.recipients.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(recipients, ["alice", "bob"]);
        assert!(
            s.shared_contacts("bob")
                .await
                .unwrap()
                .contains(&"carol".to_owned())
        );

        assert!(matches!(
            s.delete_user("alice", T0).await,
            Err(StoreError::NotFound)
        ));
        // The name is free again.
        s.create_user("alice", b"fresh", T0 + 100_000, T0 + 30)
            .await
            .unwrap();
    }
}
