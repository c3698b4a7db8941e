//! Users: creation by the operator, completion, updates, reset and deletion.

use std::collections::HashMap;

use super::conversations::{remove_member, transfer_or_delete};
use super::names::forget_all_name_keys;
use super::{
    Backend, Conn, DeletedUser, IN_CHUNK, KeyEntry, LeaveOutcome, Result, Store, StoreError,
    UserRecord, UserUpdate, is_unique_violation, parse_uuid, placeholders,
};

/// The columns of [`UserRecord`] (its `sqlx::FromRow`), in a form `concat!` accepts.
macro_rules! user_columns {
    () => {
        "username, display_name, public_key, private_key, sync_password_hash, created_at, \
         completed_at, token_hash, token_expires_at, key_index"
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
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (username, token_hash, token_expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(username)
        .bind(token_hash)
        .bind(token_expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("user {username} already exists"))
            } else {
                e.into()
            }
        })?;
        tx.commit().await
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
        tx.lock_conversations_of(username).await?;
        close_current_key(&mut tx, username, now).await?;
        let done = sqlx::query(
            "UPDATE users SET token_hash = $1, token_expires_at = $2, public_key = NULL, \
             key_index = NULL, private_key = NULL, sync_password_hash = NULL, \
             completed_at = NULL, updated_at = $3 WHERE username = $4",
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
        announce_key_change(&mut tx, self.backend, username, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A user's key history, oldest first (empty for an unknown user or
    /// one who never completed).
    pub async fn key_history(&self, username: &str) -> Result<Vec<KeyEntry>> {
        Ok(sqlx::query_as(
            "SELECT key_index, public_key, since, until, succession_signature, \
             public_key_signature FROM user_keys WHERE username = $1 ORDER BY key_index",
        )
        .bind(username)
        .fetch_all(&self.pool)
        .await?)
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

    /// How many users completed their setup, and how many are pending.
    pub async fn count_users(&self) -> Result<(i64, i64)> {
        // COUNT(*) is a 64-bit integer on both engines.
        Ok(sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users WHERE completed_at IS NOT NULL), \
                    (SELECT COUNT(*) FROM users WHERE completed_at IS NULL)",
        )
        .fetch_one(&self.pool)
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
        let mut tx = self.begin_write().await?;
        // The completion starts a new chain: the next index after any the
        // user had (api.yml, "Key history").
        let next_index = sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(key_index) + 1, 0) FROM user_keys WHERE username = $1",
        )
        .bind(username)
        .fetch_one(&mut *tx)
        .await?;
        let row: Option<UserRecord> = sqlx::query_as(concat!(
            "UPDATE users SET display_name = $1, public_key = $2, private_key = $3, \
             sync_password_hash = $4, completed_at = $5, updated_at = $5, \
             key_index = $10, \
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
        .bind(next_index)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = row else {
            return Err(StoreError::InvalidToken);
        };
        // A second completion with a reusable token (only the conformance
        // suite's broken servers allow one) closes the key it replaces.
        close_current_key(&mut tx, username, now).await?;
        sqlx::query(
            "INSERT INTO user_keys (username, key_index, public_key, since) VALUES ($1, $2, $3, $4)",
        )
        .bind(username)
        .bind(next_index)
        .bind(public_key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        announce_key_change(&mut tx, self.backend, username, now).await?;
        tx.commit().await?;
        Ok(user)
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
        let mut tx = self.begin_write().await?;
        let (public_key, previous_index, new_index) = match &update.rotation {
            Some(r) => (
                Some(r.public_key.as_slice()),
                Some(r.previous_index),
                Some(r.previous_index + 1),
            ),
            None => (None, None, None),
        };
        // A rotation applies only to the key it succeeds: of two concurrent
        // rotations, the second finds another current index and is refused.
        let row: Option<UserRecord> = sqlx::query_as(concat!(
            "UPDATE users SET display_name = COALESCE($1, display_name), \
             public_key = COALESCE($2, public_key), \
             key_index = COALESCE($9, key_index), \
             private_key = CASE WHEN $3 THEN $4 ELSE private_key END, \
             sync_password_hash = CASE WHEN $5 THEN $6 ELSE sync_password_hash END, \
             updated_at = $7 \
             WHERE username = $8 AND completed_at IS NOT NULL \
             AND ($10 IS NULL OR key_index = $10) RETURNING ",
            user_columns!()
        ))
        .bind(update.display_name)
        .bind(public_key)
        .bind(set_private_key)
        .bind(private_key)
        .bind(set_sync)
        .bind(sync_password_hash)
        .bind(now)
        .bind(username)
        .bind(new_index)
        .bind(previous_index)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user) = row else {
            if update.rotation.is_some() && self.get_user(username).await?.is_some() {
                return Err(StoreError::Conflict(
                    "the key changed meanwhile: the rotation names a key that is no longer current"
                        .to_owned(),
                ));
            }
            return Err(StoreError::NotFound);
        };
        if let Some(rotation) = &update.rotation {
            close_current_key(&mut tx, username, now).await?;
            sqlx::query(
                "INSERT INTO user_keys (username, key_index, public_key, since, \
                 succession_signature, public_key_signature) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(username)
            .bind(rotation.previous_index + 1)
            .bind(&rotation.public_key)
            .bind(now)
            .bind(&rotation.succession_signature)
            .bind(&rotation.public_key_signature)
            .execute(&mut *tx)
            .await?;
            announce_key_change(&mut tx, self.backend, username, now).await?;
        }
        tx.commit().await?;
        Ok(user)
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
        tx.lock_conversations_of(username).await?;
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
        announce_key_change(&mut tx, self.backend, username, now).await?;
        tx.commit().await?;

        deleted.left.sort_by_key(|entry| entry.0);
        deleted.deleted_conversations.sort();
        Ok(deleted)
    }

    /// The public keys (SPKI DER) of the completed users among `usernames`,
    /// each with its index in the user's key history; unknown and pending
    /// users are absent from the map.
    pub async fn public_keys(
        &self,
        usernames: &[String],
    ) -> Result<HashMap<String, (Vec<u8>, Option<i64>)>> {
        let mut keys = HashMap::with_capacity(usernames.len());
        for chunk in usernames.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT username, public_key, key_index FROM users \
                 WHERE public_key IS NOT NULL AND username IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query =
                sqlx::query_as::<_, (String, Vec<u8>, Option<i64>)>(sqlx::AssertSqlSafe(sql));
            for name in chunk {
                query = query.bind(name);
            }
            keys.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(username, key, index)| (username, (key, index))),
            );
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
async fn forget_wrapped_keys(tx: &mut Conn, username: &str) -> Result<()> {
    sqlx::query("UPDATE message_keys SET wrapped_key = NULL WHERE username = $1")
        .bind(username)
        .execute(&mut *tx)
        .await?;
    forget_all_name_keys(tx, username).await
}

/// Ends the current entry of `username`'s key history at `now`, if any.
async fn close_current_key(conn: &mut Conn, username: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE user_keys SET until = $1 WHERE username = $2 AND until IS NULL")
        .bind(now)
        .bind(username)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The PostgreSQL channel on which every change to a user's key (a
/// rotation, an operator reset, a deletion) is announced when it commits,
/// with the username as payload, from whichever process made it: each
/// instance then re-checks its sockets of that user at once.
pub const KEY_CHANGES_CHANNEL: &str = "nanochat_key_changes";

/// How long SQLite keeps a row of `key_changes`: far longer than the
/// serving process's poll interval, so no poll misses one.
const KEY_CHANGES_KEPT_MS: i64 = 60_000;

/// One recorded key change (SQLite's `key_changes` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// Its row id: strictly increasing.
    pub id: i64,
    /// Whose key changed.
    pub username: String,
}

/// Announces a key change of `username`: on PostgreSQL on
/// [`KEY_CHANGES_CHANNEL`] (delivered at commit); on SQLite as a row of
/// `key_changes`, which the serving process polls
/// ([`Store::key_changes_after`]) to notice what the operator's command
/// line changed in the same file.
async fn announce_key_change(
    conn: &mut Conn,
    backend: Backend,
    username: &str,
    now: i64,
) -> Result<()> {
    match backend {
        Backend::Postgres => {
            // pg_notify returns void, which the Any driver cannot decode: count it.
            sqlx::query("SELECT COUNT(*) FROM (SELECT pg_notify($1, $2)) AS n")
                .bind(KEY_CHANGES_CHANNEL)
                .bind(username)
                .fetch_one(&mut *conn)
                .await?;
        }
        Backend::Sqlite => {
            sqlx::query("DELETE FROM key_changes WHERE changed_at < $1")
                .bind(now - KEY_CHANGES_KEPT_MS)
                .execute(&mut *conn)
                .await?;
            sqlx::query("INSERT INTO key_changes (username, changed_at) VALUES ($1, $2)")
                .bind(username)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

impl Store {
    /// The key changes recorded after row `after` (SQLite; always empty on
    /// PostgreSQL, which announces them with NOTIFY), oldest first, and the
    /// last row id to pass next time. Pass `None` first: it returns no
    /// changes and the current last id.
    pub async fn key_changes_after(&self, after: Option<i64>) -> Result<(Vec<KeyChange>, i64)> {
        if self.backend != Backend::Sqlite {
            return Ok((Vec::new(), 0));
        }
        let Some(after) = after else {
            let last = sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(id), 0) FROM key_changes")
                .fetch_one(&self.pool)
                .await?;
            return Ok((Vec::new(), last));
        };
        let rows = sqlx::query_as::<_, (i64, String)>(
            "SELECT id, username FROM key_changes WHERE id > $1 ORDER BY id",
        )
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        let last = rows.last().map_or(after, |(id, _)| *id);
        Ok((
            rows.into_iter()
                .map(|(id, username)| KeyChange { id, username })
                .collect(),
            last,
        ))
    }
}

#[cfg(test)]
mod tests;
