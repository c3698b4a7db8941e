//! The replay guard: request ids already accepted from each user.

use uuid::Uuid;

use super::{Result, Store, uuid_text};

impl Store {
    /// Records that `username` used `request_id`, until `expires_at` (unix
    /// ms). Returns `true` if the pair is new, `false` if it was already
    /// recorded (a replay). Durable: survives a restart.
    ///
    /// A pair whose entry has expired but not yet been purged still counts as
    /// seen; the freshness window rejects such old requests anyway.
    pub async fn remember_request(
        &self,
        username: &str,
        request_id: Uuid,
        expires_at: i64,
    ) -> Result<bool> {
        let _slot = self.writer_slot().await;
        let done = sqlx::query(
            "INSERT INTO seen_requests (username, request_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (username, request_id) DO NOTHING",
        )
        .bind(username)
        .bind(uuid_text(request_id))
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes the entries that expired at or before `now`; returns how many.
    pub async fn purge_requests(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM seen_requests WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{T0, store};
    use super::*;

    #[tokio::test]
    async fn remember_detects_replays_per_user() {
        let s = store().await;
        let id = Uuid::new_v4();
        assert!(s.remember_request("alice", id, T0 + 300_000).await.unwrap());
        assert!(!s.remember_request("alice", id, T0 + 300_000).await.unwrap());
        // Another user may (improbably) pick the same id.
        assert!(s.remember_request("bob", id, T0 + 300_000).await.unwrap());
        assert!(
            s.remember_request("alice", Uuid::new_v4(), T0 + 300_000)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn purge_removes_only_expired() {
        let s = store().await;
        let old = Uuid::new_v4();
        let fresh = Uuid::new_v4();
        s.remember_request("alice", old, T0 + 10).await.unwrap();
        s.remember_request("alice", fresh, T0 + 20).await.unwrap();
        assert_eq!(s.purge_requests(T0 + 5).await.unwrap(), 0);
        assert_eq!(s.purge_requests(T0 + 10).await.unwrap(), 1);
        assert!(!s.remember_request("alice", fresh, T0 + 20).await.unwrap());
        assert!(s.remember_request("alice", old, T0 + 30).await.unwrap());
        assert_eq!(s.purge_requests(T0 + 100).await.unwrap(), 2);
    }
}
