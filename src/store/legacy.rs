//! What the store does once for databases written by older versions: a
//! SQLite database from before sealed names held plain names, which
//! migration 2 drops and this module scrubs from the file.

use super::{Backend, Result, Store};

impl Store {
    /// How many plain conversation names a SQLite database from before
    /// sealed names holds: migration 2 drops them, since the server cannot
    /// seal them for the members. (PostgreSQL support came after: never.)
    pub(super) async fn plain_names(&self) -> Result<i64> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let has_column = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM pragma_table_info('conversations') WHERE name = 'name'",
        )
        .fetch_optional(&self.pool)
        .await?;
        if has_column.is_none() {
            return Ok(0);
        }
        Ok(sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM conversations WHERE name IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// After migration 2 dropped `count` plain names: says so, and rewrites
    /// the database file and empties the WAL, so the names do not linger in
    /// free pages or old frames.
    pub(super) async fn scrub_plain_names(&self, count: i64) -> Result<()> {
        tracing::warn!(
            count,
            "dropped plain conversation names: names are now end-to-end encrypted and the server \
             cannot seal these for the members; the conversations are unnamed until a member names \
             them again"
        );
        sqlx::query("VACUUM").execute(&self.pool).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
