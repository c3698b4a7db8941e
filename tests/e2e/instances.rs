//! Two `nanochat` instances sharing one PostgreSQL database: what must hold
//! across them. Needs `NANOCHAT_TEST_POSTGRES` (`scripts/postgres.sh`);
//! without it each test says loudly that it was skipped. `.ci/run` runs the
//! e2e suite on PostgreSQL, so there they always run.

use std::time::Duration;

use nanochat::client::{ClientError, Socket};
use nanochat::store::scratch;

use crate::support::TestServer;

/// Whether PostgreSQL is there; prints why a test is skipped when not.
fn postgres_or_skip(test: &str) -> bool {
    if scratch::test_postgres().is_some() {
        return true;
    }
    eprintln!(
        "SKIPPED {test}: it needs PostgreSQL; set {} to a server URL \
         (scripts/postgres.sh start DIR prints one)",
        scratch::TEST_POSTGRES_VAR
    );
    false
}

/// Two instances on one database, with the server key file both load
/// (each test server writes the same fixture key). Pings are an hour apart,
/// so nothing but the key-change notification can end a session quickly.
async fn two_instances() -> (TestServer, TestServer) {
    let hour = Duration::from_secs(3600);
    let a = TestServer::start_with(|c| c.ping_interval = hour).await;
    let database = a.database();
    let b = TestServer::start_with(move |c| {
        c.database = database;
        c.ping_interval = hour;
    })
    .await;
    (a, b)
}

#[tokio::test]
async fn a_key_change_ends_the_users_sessions_on_every_instance() {
    if !postgres_or_skip("a_key_change_ends_the_users_sessions_on_every_instance") {
        return;
    }
    let (a, b) = two_instances().await;
    a.user("alice").await;
    a.user("bob").await;
    let bob_on_b = b.session("bob").await;
    let alice_on_b = b.session("alice").await;
    let mut bob_socket = Socket::open(&bob_on_b).await.unwrap();
    let mut alice_socket = Socket::open(&alice_on_b).await.unwrap();

    // The operator resets bob against the shared database; instance b
    // hears of it through PostgreSQL and closes bob's socket at once.
    a.cli(&["user", "reset", "bob"]).await.unwrap();
    // (Bounded, so a socket that stays open fails the test instead of hanging it.)
    match tokio::time::timeout(Duration::from_secs(20), bob_socket.next_event()).await {
        Ok(Err(ClientError::Transport(_))) => {}
        other => panic!("bob's session on the other instance survived the reset: {other:?}"),
    }
    // alice's key did not change: her socket stays open (nothing arrives).
    let quiet = tokio::time::timeout(Duration::from_millis(500), alice_socket.next_event()).await;
    assert!(quiet.is_err(), "alice's socket got {quiet:?}");

    // Deleting a user ends their sessions everywhere too.
    let alice_on_b = b.session("alice").await;
    let mut alice_socket = Socket::open(&alice_on_b).await.unwrap();
    a.cli(&["user", "delete", "alice"]).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(20), alice_socket.next_event()).await {
        Ok(Err(ClientError::Transport(_))) => {}
        other => panic!("alice's session on the other instance survived the delete: {other:?}"),
    }
}
