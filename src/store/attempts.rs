//! Failed `user.sync` attempts per username, counted in the database so
//! that every process sharing it (several instances on PostgreSQL) sees
//! the same count; a guesser gains nothing by spreading attempts.

use super::{Backend, Result, Store};

impl Store {
    /// Counts one attempt for `username` if fewer than `allowed` attempts
    /// were counted since `now - window_ms` and returns true; false when the
    /// allowance is spent. A success hands the count back with
    /// [`Store::release_sync_attempt`]. Checked and counted in one transaction, under a
    /// lock on the username, so concurrent guesses from any instance cannot
    /// all pass the check before one is counted.
    pub async fn reserve_sync_attempt(
        &self,
        username: &str,
        allowed: u32,
        window_ms: i64,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // A transaction-scoped lock on this username; SQLite's write
            // transaction already excludes every other writer.
            sqlx::query(
                "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS l",
            )
            .bind(format!("nanochat sync {username}"))
            .fetch_one(&mut *tx)
            .await?;
        }
        let cutoff = now.saturating_sub(window_ms);
        sqlx::query("DELETE FROM sync_failures WHERE attempted_at <= $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        let counted: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sync_failures WHERE username = $1")
                .bind(username)
                .fetch_one(&mut *tx)
                .await?;
        if counted >= i64::from(allowed) {
            return Ok(false);
        }
        sqlx::query("INSERT INTO sync_failures (username, attempted_at) VALUES ($1, $2)")
            .bind(username)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Hands back an attempt that succeeded, and forgets the user's earlier
    /// failures: the right password resets the count.
    pub async fn release_sync_attempt(&self, username: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sync_failures WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{T0, store};

    #[tokio::test]
    async fn attempts_are_counted_per_user_within_the_window() {
        let s = store().await;
        for i in 0..3 {
            assert!(
                s.reserve_sync_attempt("alice", 3, 60_000, T0 + i)
                    .await
                    .unwrap()
            );
        }
        assert!(
            !s.reserve_sync_attempt("alice", 3, 60_000, T0 + 10)
                .await
                .unwrap()
        );
        // Another user, and an unknown one, have their own allowance.
        assert!(s.reserve_sync_attempt("bob", 3, 60_000, T0).await.unwrap());
        assert!(
            s.reserve_sync_attempt("nobody", 1, 60_000, T0)
                .await
                .unwrap()
        );
        assert!(
            !s.reserve_sync_attempt("nobody", 1, 60_000, T0)
                .await
                .unwrap()
        );
        // Past the window the old failures no longer count.
        assert!(
            s.reserve_sync_attempt("alice", 3, 60_000, T0 + 60_001)
                .await
                .unwrap()
        );
        // A success clears the count.
        s.release_sync_attempt("alice").await.unwrap();
        for i in 0..3 {
            assert!(
                s.reserve_sync_attempt("alice", 3, 60_000, T0 + 70_000 + i)
                    .await
                    .unwrap()
            );
        }
        assert!(
            !s.reserve_sync_attempt("alice", 0, 60_000, T0)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn concurrent_guesses_never_pass_the_allowance() {
        let s = store().await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.reserve_sync_attempt("alice", 5, 60_000, T0 + i)
                    .await
                    .unwrap()
            }));
        }
        let mut passed = 0;
        for t in tasks {
            passed += usize::from(t.await.unwrap());
        }
        assert_eq!(passed, 5);
    }
}
