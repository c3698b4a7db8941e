//! The replay guard: request ids already accepted from each user.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use uuid::Uuid;

use super::{Conn, Result, Store, uuid_text};

/// A request whose id the replay guard records together with the
/// request's change, in one transaction ([`ConversationTurn::for_request`](super::ConversationTurn::for_request)),
/// rather than in a commit of its own before the request runs. A request
/// that changes nothing, or fails, is recorded afterwards
/// ([`Store::settle_request`]), so its id is taken all the same.
#[derive(Debug)]
pub struct PendingRequest {
    username: String,
    request_id: Uuid,
    expires_at: i64,
    recorded: AtomicBool,
}

impl PendingRequest {
    /// `username`'s request `request_id`, to be remembered until
    /// `expires_at` (unix ms).
    pub fn new(username: &str, request_id: Uuid, expires_at: i64) -> Arc<Self> {
        Arc::new(PendingRequest {
            username: username.to_owned(),
            request_id,
            expires_at,
            recorded: AtomicBool::new(false),
        })
    }

    pub(super) fn username(&self) -> &str {
        &self.username
    }

    pub(super) fn request_id(&self) -> Uuid {
        self.request_id
    }

    pub(super) fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// Whether a committed change recorded it.
    pub fn is_recorded(&self) -> bool {
        self.recorded.load(Ordering::SeqCst)
    }

    pub(super) fn mark_recorded(&self) {
        self.recorded.store(true, Ordering::SeqCst);
    }
}

/// The replay guard's insert: `$1` username, `$2` request id, `$3` expiry.
macro_rules! insert_request_sql {
    () => {
        "INSERT INTO seen_requests (username, request_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (username, request_id) DO NOTHING"
    };
}
pub(super) use insert_request_sql;

/// Inserts the guard's row; `false` if the pair was already there.
pub(super) async fn insert_request(
    conn: &mut Conn,
    username: &str,
    request_id: Uuid,
    expires_at: i64,
) -> Result<bool> {
    let done = sqlx::query(insert_request_sql!())
        .bind(username)
        .bind(uuid_text(request_id))
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

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
        let mut tx = self.begin_write().await?;
        let fresh = insert_request(&mut tx, username, request_id, expires_at).await?;
        if fresh {
            tx.commit().await?;
        }
        Ok(fresh)
    }

    /// Records `request` unless its change already did
    /// ([`PendingRequest::is_recorded`]): `true` if it was new (or recorded
    /// by its own change), `false` if it is a replay.
    pub async fn settle_request(&self, request: &PendingRequest) -> Result<bool> {
        if request.is_recorded() {
            return Ok(true);
        }
        let fresh = self
            .remember_request(&request.username, request.request_id, request.expires_at)
            .await?;
        if fresh {
            request.mark_recorded();
        }
        Ok(fresh)
    }

    /// Deletes the entries that expired at or before `now`; returns how many.
    pub async fn purge_requests(&self, now: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM seen_requests WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
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
