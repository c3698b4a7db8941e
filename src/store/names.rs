//! Sealed conversation names: the ciphertext, the signature and the name key
//! wrapped for each recipient. The server cannot read a name; it keeps what
//! readers need to verify and open it.

use std::collections::HashMap;

use super::Conn;
use sqlx::Row;

use super::{NameRecipient, NameRecord, NewName, Result, StoreError, is_unique_violation};

/// Replaces the conversation's name with `name`, whose revision must be
/// exactly one more than the stored `name_revision` (a compare-and-set, so
/// two concurrent renames or re-seals cannot both win).
///
/// [`StoreError::Conflict`] if the revision is not the next one;
/// [`StoreError::NotFound`] if the conversation does not exist.
pub(super) async fn set_name(conn: &mut Conn, id: &str, name: &NewName, now: i64) -> Result<()> {
    bump_revision(conn, id, Some(name.revision), now).await?;
    sqlx::query("DELETE FROM conversation_names WHERE conversation_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO conversation_names \
         (conversation_id, revision, iv, ciphertext, signature, sealed_by, sealed_at, \
         sealer_key_digest, signature_version, sealer_key_index) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(name.revision)
    .bind(&name.iv)
    .bind(&name.ciphertext)
    .bind(&name.signature)
    .bind(&name.sealed_by)
    .bind(now)
    .bind(name.sealer_key_digest)
    .bind(name.signature_version)
    .bind(name.sealer_key_index)
    .execute(&mut *conn)
    .await?;
    for k in &name.keys {
        sqlx::query(
            "INSERT INTO conversation_name_keys \
             (conversation_id, username, wrapped_key, key_digest, recipient_key_digest, \
             key_index) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(&k.key.username)
        .bind(&k.key.wrapped_key)
        .bind(k.key.key_digest)
        .bind(k.recipient_key_digest)
        .bind(k.key.key_index)
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Invalid(format!("{} is named twice", k.key.username))
            } else {
                e.into()
            }
        })?;
    }
    Ok(())
}

/// Removes the conversation's name (its keys cascade) and increments
/// `name_revision`, so a sealed name prepared before the removal cannot
/// bring the old name back.
pub(super) async fn remove_name(conn: &mut Conn, id: &str, now: i64) -> Result<()> {
    bump_revision(conn, id, None, now).await?;
    sqlx::query("DELETE FROM conversation_names WHERE conversation_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Increments `name_revision` (to `expected` exactly, when given) and bumps
/// `updated_at`.
async fn bump_revision(conn: &mut Conn, id: &str, expected: Option<i64>, now: i64) -> Result<()> {
    let current =
        sqlx::query_scalar::<_, i64>("SELECT name_revision FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
    let next = current + 1;
    if let Some(expected) = expected
        && expected != next
    {
        return Err(StoreError::Conflict(format!(
            "the name is at revision {current}: a new name must carry revision {next}, not {expected}"
        )));
    }
    sqlx::query(
        "UPDATE conversations SET name_revision = $1, updated_at = $2 \
         WHERE id = $3 AND name_revision = $4",
    )
    .bind(next)
    .bind(now)
    .bind(id)
    .bind(current)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the name key wrapped for `username` in one conversation (they
/// left or were removed); the signed digest stays.
pub(super) async fn forget_name_key(conn: &mut Conn, id: &str, username: &str) -> Result<()> {
    sqlx::query(
        "UPDATE conversation_name_keys SET wrapped_key = NULL \
         WHERE conversation_id = $1 AND username = $2",
    )
    .bind(id)
    .bind(username)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets every name key wrapped for `username` (reset or deleted).
pub(super) async fn forget_all_name_keys(conn: &mut Conn, username: &str) -> Result<()> {
    sqlx::query("UPDATE conversation_name_keys SET wrapped_key = NULL WHERE username = $1")
        .bind(username)
        .execute(conn)
        .await?;
    Ok(())
}

/// Name columns, `conversation_id` first.
const NAME_COLUMNS: &str = "n.conversation_id, n.revision, n.iv, n.ciphertext, n.signature, \
     n.sealed_by, n.sealed_at, n.sealer_key_digest, n.signature_version, n.sealer_key_index";

/// Recipient columns; the wrapped key itself is selected only for `reader`
/// (bound as `$2`), so loading a name never copies other members' keys.
/// `holds_key` is 0 or 1 on both engines (a boolean expression would be an
/// integer in SQLite and a boolean in PostgreSQL).
const KEY_COLUMNS: &str = "k.conversation_id, k.username, k.key_digest, k.recipient_key_digest, \
     k.key_index, \
     CASE WHEN k.wrapped_key IS NOT NULL THEN 1 ELSE 0 END AS holds_key, \
     CASE WHEN k.username = $2 THEN k.wrapped_key END AS reader_key";

/// The names of the conversations selected by `filter` (a condition on
/// `conversation_id` with `$1`), as `reader` (`$2`) sees them.
async fn load_names(
    conn: &mut Conn,
    filter: &str,
    key: &str,
    reader: &str,
) -> Result<HashMap<String, NameRecord>> {
    let names = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {NAME_COLUMNS} FROM conversation_names n WHERE n.conversation_id {filter}"
    )))
    .bind(key)
    .fetch_all(&mut *conn)
    .await?;
    let keys = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM conversation_name_keys k WHERE k.conversation_id {filter}"
    )))
    .bind(key)
    .bind(reader)
    .fetch_all(&mut *conn)
    .await?;

    let mut out = HashMap::with_capacity(names.len());
    for row in &names {
        let id: String = row.try_get("conversation_id")?;
        out.insert(
            id,
            NameRecord {
                revision: row.try_get("revision")?,
                iv: row.try_get("iv")?,
                ciphertext: row.try_get("ciphertext")?,
                signature: row.try_get("signature")?,
                sealed_by: row.try_get("sealed_by")?,
                sealed_at: row.try_get("sealed_at")?,
                sealer_key_digest: row.try_get("sealer_key_digest")?,
                signature_version: row.try_get("signature_version")?,
                sealer_key_index: row.try_get("sealer_key_index")?,
                recipients: Vec::new(),
                reader_key: None,
                reader_key_index: None,
            },
        );
    }
    for row in &keys {
        let id: String = row.try_get("conversation_id")?;
        let Some(name) = out.get_mut(&id) else {
            continue;
        };
        let reader_key: Option<Vec<u8>> = row.try_get("reader_key")?;
        let key_index: Option<i64> = row.try_get("key_index")?;
        if reader_key.is_some() {
            name.reader_key = reader_key;
            name.reader_key_index = key_index;
        }
        name.recipients.push(NameRecipient {
            username: row.try_get("username")?,
            key_digest: row.try_get("key_digest")?,
            recipient_key_digest: row.try_get("recipient_key_digest")?,
            key_index,
            holds_key: row.try_get::<i64, _>("holds_key")? != 0,
        });
    }
    for name in out.values_mut() {
        name.recipients
            .sort_by(|a, b| a.username.as_bytes().cmp(b.username.as_bytes()));
    }
    Ok(out)
}

/// The name of one conversation as `reader` sees it, if it has one.
pub(super) async fn load_name(
    conn: &mut Conn,
    id: &str,
    reader: &str,
) -> Result<Option<NameRecord>> {
    Ok(load_names(conn, "= $1", id, reader).await?.remove(id))
}

/// The names of every conversation `reader` is a member of, by id.
pub(super) async fn load_member_names(
    conn: &mut Conn,
    reader: &str,
) -> Result<HashMap<String, NameRecord>> {
    load_names(
        conn,
        "IN (SELECT conversation_id FROM members WHERE username = $1)",
        reader,
        reader,
    )
    .await
}

impl super::Store {
    /// The name key of a conversation's current name wrapped for each
    /// recipient the server still holds one for, with the index of the key
    /// it is wrapped for, by username (empty if the conversation has no
    /// name): what each member's event carries.
    pub async fn name_keys(
        &self,
        id: uuid::Uuid,
    ) -> Result<HashMap<String, (Vec<u8>, Option<i64>)>> {
        let rows = sqlx::query_as::<_, (String, Vec<u8>, Option<i64>)>(
            "SELECT username, wrapped_key, key_index FROM conversation_name_keys \
             WHERE conversation_id = $1 AND wrapped_key IS NOT NULL",
        )
        .bind(super::uuid_text(id))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(username, key, index)| (username, (key, index)))
            .collect())
    }
}
