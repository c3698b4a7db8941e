//! Helpers every query module shares: UUID text, error classification,
//! numbered placeholders, and the membership checks run inside write
//! transactions.

use uuid::Uuid;

use super::{Backend, Conn, IN_CHUNK, Result, StoreError};

/// A UUID as stored: lowercase hyphenated.
pub(super) fn uuid_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// Parses a stored UUID; a malformed one is a decode error, not a panic.
pub(super) fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

/// Whether `e` is a unique or primary key violation.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether `e` is a foreign key violation.
pub(super) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// `$start, $start+1, ...`: `n` numbered placeholders for an `IN` list.
pub(super) fn placeholders(start: usize, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('$');
        out.push_str(&(start + i).to_string());
    }
    out
}

/// Sorts and deduplicates usernames.
pub(super) fn sorted_unique(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names.dedup();
    names
}

/// Fails with [`StoreError::TooManyConversations`], naming them, if any of
/// `names` is already in `most` conversations: one grouped count per
/// [`IN_CHUNK`] names, as [`require_completed`] does.
pub(super) async fn require_room(
    conn: &mut Conn,
    backend: Backend,
    names: &[String],
    most: i64,
) -> Result<()> {
    if most == i64::MAX || names.is_empty() {
        return Ok(());
    }
    backend.lock_users(conn, names).await?;
    let mut full = Vec::new();
    for chunk in names.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT username FROM members WHERE username IN ({}) \
             GROUP BY username HAVING COUNT(*) >= ${}",
            placeholders(1, chunk.len()),
            chunk.len() + 1
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for name in chunk {
            query = query.bind(name);
        }
        full.extend(query.bind(most).fetch_all(&mut *conn).await?);
    }
    if full.is_empty() {
        Ok(())
    } else {
        full.sort();
        Err(StoreError::TooManyConversations(full))
    }
}

/// Fails with [`StoreError::UnknownUsers`] unless every name is a completed
/// user. `names` must be sorted and unique.
pub(super) async fn require_completed(conn: &mut Conn, names: &[String]) -> Result<()> {
    let mut found = std::collections::HashSet::with_capacity(names.len());
    for chunk in names.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT username FROM users WHERE completed_at IS NOT NULL AND username IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for name in chunk {
            query = query.bind(name);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !found.contains(*n))
        .cloned()
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(StoreError::UnknownUsers(unknown))
    }
}
