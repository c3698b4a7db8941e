//! A message as rows: reading one back (with its recipients' digests) and
//! writing one with its wrapped keys and attachment, for the queries of
//! the parent module.

use super::*;

/// A message with the reader's wrapped key, as `message_select!` reads it.
#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    cursor: i64,
    id: String,
    conversation_id: String,
    sender: String,
    created_at: i64,
    edited_at: Option<i64>,
    content_iv: Vec<u8>,
    content: Vec<u8>,
    signature: Vec<u8>,
    attachment_iv: Option<Vec<u8>>,
    attachment_digest: Option<Digest>,
    attachment_size: Option<i64>,
    signature_version: i64,
    sender_key_index: Option<i64>,
    wrapped_key: Vec<u8>,
    key_index: Option<i64>,
}

/// A message row; `recipients` is filled in by [`fill_recipients`].
pub(super) fn message_from_row(row: &DbRow) -> Result<MessageRecord> {
    let row = MessageRow::from_row(row)?;
    let attachment = match (
        row.attachment_iv,
        row.attachment_digest,
        row.attachment_size,
    ) {
        (Some(iv), Some(digest), Some(size)) => Some(AttachmentMeta { iv, digest, size }),
        _ => None,
    };
    Ok(MessageRecord {
        cursor: row.cursor,
        id: parse_uuid(&row.id)?,
        conversation_id: parse_uuid(&row.conversation_id)?,
        sender: row.sender,
        created_at: row.created_at,
        edited_at: row.edited_at,
        content_iv: row.content_iv,
        content: row.content,
        signature: row.signature,
        signature_version: row.signature_version,
        sender_key_index: row.sender_key_index,
        attachment,
        key: row.wrapped_key,
        key_index: row.key_index,
        recipients: Vec::new(),
    })
}

/// Loads every recipient's key digest for `messages` (one query per
/// [`IN_CHUNK`] messages) and sorts them by username bytes.
pub(super) async fn fill_recipients(conn: &mut Conn, messages: &mut [MessageRecord]) -> Result<()> {
    let ids: Vec<String> = messages.iter().map(|m| uuid_text(m.id)).collect();
    let mut by_message: HashMap<String, Vec<(String, Digest)>> = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT message_id, username, key_digest FROM message_keys WHERE message_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let message_id: String = row.try_get("message_id")?;
            by_message
                .entry(message_id)
                .or_default()
                .push((row.try_get("username")?, row.try_get("key_digest")?));
        }
    }
    for (message, id) in messages.iter_mut().zip(&ids) {
        let mut recipients = by_message.remove(id).unwrap_or_default();
        recipients.sort();
        message.recipients = recipients;
    }
    Ok(())
}

/// Rejects a key list naming a recipient twice.
pub(super) fn check_keys(keys: &[NewKey]) -> Result<()> {
    let mut seen = HashSet::with_capacity(keys.len());
    for key in keys {
        if !seen.insert(key.username.as_str()) {
            return Err(StoreError::Invalid(format!(
                "recipient {} appears twice",
                key.username
            )));
        }
    }
    Ok(())
}

/// Rows per multi-row `INSERT` of wrapped keys: 5 parameters each, far
/// under SQLite's limit, and a 1,000-member message takes 5 statements
/// instead of 1,000.
pub(super) const KEYS_PER_INSERT: usize = 200;

pub(super) async fn insert_keys(conn: &mut Conn, message_id: &str, keys: &[NewKey]) -> Result<()> {
    for chunk in keys.chunks(KEYS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO message_keys (message_id, username, wrapped_key, key_digest, key_index) \
             VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for key in chunk {
            query = query
                .bind(message_id)
                .bind(&key.username)
                .bind(&key.wrapped_key)
                .bind(key.key_digest)
                .bind(key.key_index);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The attachment columns of `msg`: iv, data, digest, size.
pub(super) type AttachmentColumns<'a> = (
    Option<&'a [u8]>,
    Option<&'a [u8]>,
    Option<Digest>,
    Option<i64>,
);

pub(super) fn attachment_columns(msg: &NewMessage) -> Result<AttachmentColumns<'_>> {
    match &msg.attachment {
        None => Ok((None, None, None, None)),
        Some(a) => {
            let size = i64::try_from(a.data.len())
                .map_err(|_| StoreError::Invalid("attachment too large".to_owned()))?;
            Ok((
                Some(a.iv.as_slice()),
                Some(a.data.as_slice()),
                Some(a.digest),
                Some(size),
            ))
        }
    }
}

/// The record of `msg` as `reader` sees it, from what was just written.
pub(super) fn record_for(
    msg: &NewMessage,
    reader: &str,
    cursor: i64,
    sender: String,
    created_at: i64,
    edited_at: Option<i64>,
) -> MessageRecord {
    let mut recipients: Vec<(String, Digest)> = msg
        .keys
        .iter()
        .map(|k| (k.username.clone(), k.key_digest))
        .collect();
    recipients.sort();
    let own = msg.keys.iter().find(|k| k.username == reader);
    MessageRecord {
        cursor,
        id: msg.id,
        conversation_id: msg.conversation_id,
        sender,
        created_at,
        edited_at,
        content_iv: msg.content_iv.clone(),
        content: msg.content.clone(),
        signature: msg.signature.clone(),
        signature_version: msg.signature_version,
        sender_key_index: msg.sender_key_index,
        attachment: msg.attachment.as_ref().map(|a| AttachmentMeta {
            iv: a.iv.clone(),
            digest: a.digest,
            size: i64::try_from(a.data.len()).unwrap_or(i64::MAX),
        }),
        key: own.map(|k| k.wrapped_key.clone()).unwrap_or_default(),
        key_index: own.and_then(|k| k.key_index),
        recipients,
    }
}

/// Writes one message (with the digest of the create that sent it, if
/// any), its wrapped keys and the conversation's bump inside the caller's
/// write transaction; returns its cursor. With a create digest, an id that
/// was deleted is a [`StoreError::Conflict`].
pub(super) async fn insert_one(
    conn: &mut Conn,
    msg: &NewMessage,
    create_digest: Option<Digest>,
    now: i64,
) -> Result<i64> {
    check_keys(&msg.keys)?;
    let (attachment_iv, attachment, attachment_digest, attachment_size) = attachment_columns(msg)?;
    let id = uuid_text(msg.id);
    let conversation_id = uuid_text(msg.conversation_id);
    // Bumping the conversation first also finds out whether it exists.
    if !touch(&mut *conn, &conversation_id, now).await? {
        return Err(StoreError::NotFound);
    }
    // With `create_digest` (a `message.create`), a deleted message's id is
    // not stored again (nothing is inserted, so no cursor comes back): the
    // handler need not look the id up first. A bulk import may store one.
    macro_rules! insert_into {
        () => {
            "INSERT INTO messages (id, conversation_id, sender, created_at, content_iv, content, \
             signature, attachment_iv, attachment, attachment_digest, attachment_size, \
             signature_version, sender_key_index, create_digest) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 "
        };
    }
    let sql = if create_digest.is_some() {
        concat!(
            insert_into!(),
            "WHERE NOT EXISTS (SELECT 1 FROM deleted_messages WHERE id = $1) RETURNING cursor"
        )
    } else {
        concat!(insert_into!(), "RETURNING cursor")
    };
    let cursor = sqlx::query_scalar::<_, i64>(sql)
        .bind(&id)
        .bind(&conversation_id)
        .bind(&msg.sender)
        .bind(now)
        .bind(&msg.content_iv)
        .bind(&msg.content)
        .bind(&msg.signature)
        .bind(attachment_iv)
        .bind(attachment)
        .bind(attachment_digest)
        .bind(attachment_size)
        .bind(msg.signature_version)
        .bind(msg.sender_key_index)
        .bind(create_digest)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("message {id} already exists"))
            } else if is_foreign_key_violation(&e) {
                StoreError::NotFound
            } else {
                e.into()
            }
        })?
        .ok_or_else(|| StoreError::Conflict(format!("message {id} was deleted")))?;
    insert_keys(&mut *conn, &id, &msg.keys).await?;
    Ok(cursor)
}
