//! Two `nanochat` instances sharing one PostgreSQL database: what must hold
//! across them. Needs `NANOCHAT_TEST_POSTGRES` (`scripts/postgres.sh`);
//! without it each test says loudly that it was skipped. `.ci/run` runs the
//! e2e suite on PostgreSQL, so there they always run.

use std::time::Duration;

use nanochat::bodies::Event;
use nanochat::client::{Bodies, Chat, ClientError, Socket};
use nanochat::store::scratch;

use crate::support::{TestServer, chat};

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
        Ok(Err(ClientError::SessionEnded { code: 4002, .. })) => {}
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
        Ok(Err(ClientError::SessionEnded { code: 4003, .. })) => {}
        other => panic!("alice's session on the other instance survived the delete: {other:?}"),
    }
}

/// Two instances; alice completed and chatting on a, bob on b.
async fn alice_on_a_bob_on_b() -> (TestServer, TestServer, tempfile::TempDir, Chat, Chat) {
    let (a, b) = two_instances().await;
    a.user("alice").await;
    a.user("bob").await;
    let homes = tempfile::tempdir().unwrap();
    let alice = chat(&a, &homes.path().join("alice"), "alice").await;
    let bob = chat(&b, &homes.path().join("bob"), "bob").await;
    (a, b, homes, alice, bob)
}

/// The next event, bounded so that a lost event fails the test instead of
/// hanging it.
async fn next(socket: &mut Socket<'_>) -> Event {
    tokio::time::timeout(Duration::from_secs(20), socket.next_event())
        .await
        .expect("no event within 20 s")
        .expect("the socket failed")
}

#[tokio::test]
async fn events_cross_instances() {
    if !postgres_or_skip("events_cross_instances") {
        return;
    }
    // alice uses instance a, bob instance b; each listens where they talk.
    let (_a, _b, _homes, alice, bob) = alice_on_a_bob_on_b().await;
    let mut alice_socket = Socket::open(alice.session()).await.unwrap();
    let mut bob_socket = Socket::open(bob.session()).await.unwrap();

    let c = alice
        .create_conversation(&["alice", "bob"], Some("Across"))
        .await
        .unwrap();
    for socket in [&mut alice_socket, &mut bob_socket] {
        match next(socket).await {
            Event::ConversationCreated(v) => {
                assert_eq!(v.id, c.id);
                // Each member gets the name key wrapped for them.
                assert!(v.name.and_then(|n| n.key).is_some());
            }
            other => panic!("expected the new conversation, got {other:?}"),
        }
    }

    let sent = alice.send(c.id, Some("from a"), None).await.unwrap();
    for socket in [&mut alice_socket, &mut bob_socket] {
        match next(socket).await {
            Event::MessageCreated(m) => assert_eq!(m.id, sent.id),
            other => panic!("expected alice's message, got {other:?}"),
        }
    }
    let reply = bob.send(c.id, Some("from b"), None).await.unwrap();
    bob.edit(c.id, reply.id, Some("from b, edited"), None)
        .await
        .unwrap();
    bob.delete_message(c.id, reply.id).await.unwrap();
    for socket in [&mut alice_socket, &mut bob_socket] {
        assert!(matches!(next(socket).await, Event::MessageCreated(m) if m.id == reply.id));
        assert!(matches!(next(socket).await, Event::MessageUpdated(m) if m.id == reply.id));
        assert!(matches!(next(socket).await, Event::MessageDeleted(m) if m.id == reply.id));
    }
    // The event carries bob's own key: his client opens alice's message.
    let (page, _) = bob.history(c.id, None, None).await.unwrap();
    assert_eq!(page[0].content().unwrap().text.as_deref(), Some("from a"));

    alice
        .session()
        .conversation_delete(nanochat::models::BaseConversation { id: c.id })
        .await
        .unwrap();
    assert!(matches!(next(&mut bob_socket).await, Event::ConversationDeleted(d) if d.id == c.id));
    let quiet = tokio::time::timeout(Duration::from_millis(500), bob_socket.next_event()).await;
    assert!(quiet.is_err(), "bob heard more than once: {quiet:?}");
}

/// A removal recorded by one instance reaches the removed member's socket
/// on the other as `event.conversation.removed` (the recorded fan-out
/// carries it), and the owner's as the member change.
#[tokio::test]
async fn a_removal_crosses_instances_as_a_removal() {
    if !postgres_or_skip("a_removal_crosses_instances_as_a_removal") {
        return;
    }
    let (a, _b, _homes, alice, bob) = alice_on_a_bob_on_b().await;
    a.user("carol").await;
    let c = alice
        .create_conversation(&["alice", "bob", "carol"], Some("Across"))
        .await
        .unwrap();
    let mut alice_socket = Socket::open(alice.session()).await.unwrap();
    let mut bob_socket = Socket::open(bob.session()).await.unwrap();
    alice
        .session()
        .set_members(&c, &["alice", "carol"])
        .await
        .unwrap();
    assert!(matches!(next(&mut bob_socket).await, Event::ConversationRemoved(r) if r.id == c.id));
    match next(&mut alice_socket).await {
        Event::ConversationUpdated(v) => assert_eq!(v.members.len(), 2),
        other => panic!("expected the member change, got {other:?}"),
    }
    let quiet = tokio::time::timeout(Duration::from_millis(500), bob_socket.next_event()).await;
    assert!(quiet.is_err(), "bob heard more than his removal: {quiet:?}");
}

#[tokio::test]
async fn concurrent_changes_reach_every_socket_in_the_databases_order() {
    if !postgres_or_skip("concurrent_changes_reach_every_socket_in_the_databases_order") {
        return;
    }
    let (a, b) = two_instances().await;
    a.user("alice").await;
    a.user("bob").await;
    a.user("carol").await;
    let homes = tempfile::tempdir().unwrap();
    let alice = chat(&a, &homes.path().join("alice"), "alice").await;
    let bob = chat(&b, &homes.path().join("bob"), "bob").await;
    let carol_a = chat(&a, &homes.path().join("carol-a"), "carol").await;
    let carol_b = chat(&b, &homes.path().join("carol-b"), "carol").await;
    // carol listens on both instances, from before the conversation exists:
    // a socket opened after a change may still hear its announcement.
    let mut on_a = Socket::open(carol_a.session()).await.unwrap();
    let mut on_b = Socket::open(carol_b.session()).await.unwrap();
    let c = alice
        .create_conversation(&["alice", "bob", "carol"], None)
        .await
        .unwrap();
    for socket in [&mut on_a, &mut on_b] {
        match next(socket).await {
            Event::ConversationCreated(created) => assert_eq!(created.id, c.id),
            other => panic!("expected the conversation, got {other:?}"),
        }
    }

    // alice (through a) and bob (through b) write at the same time, three
    // requests in flight each.
    const EACH: usize = 12;
    const LANES: usize = 3;
    let (alice, bob): (&'static Chat, &'static Chat) =
        (Box::leak(Box::new(alice)), Box::leak(Box::new(bob)));
    let mut writers = Vec::new();
    for (chat, who) in [(alice, "alice"), (bob, "bob")] {
        for lane in 0..LANES {
            writers.push(tokio::spawn(async move {
                for i in 0..EACH / LANES {
                    chat.send(c.id, Some(&format!("{who} {lane}.{i}")), None)
                        .await
                        .unwrap();
                }
            }));
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }

    let mut orders = Vec::new();
    for socket in [&mut on_a, &mut on_b] {
        let mut order = Vec::new();
        while order.len() < 2 * EACH {
            match next(socket).await {
                Event::MessageCreated(m) => order.push(m.id),
                other => panic!("expected a message, got {other:?}"),
            }
        }
        orders.push(order);
    }
    // The order the database applied them: history by cursor, oldest first.
    let (page, _) = carol_a.history(c.id, None, Some(100)).await.unwrap();
    let applied: Vec<_> = page.iter().rev().map(|m| m.id).collect();
    assert_eq!(orders[0], applied, "carol's socket on a");
    assert_eq!(orders[1], applied, "carol's socket on b");
}

#[tokio::test]
async fn events_sent_while_a_listener_reconnects_are_read_again_once() {
    if !postgres_or_skip("events_sent_while_a_listener_reconnects_are_read_again_once") {
        return;
    }
    let (a, _b, _homes, alice, bob) = alice_on_a_bob_on_b().await;
    let mut bob_socket = Socket::open(bob.session()).await.unwrap();
    let c = alice
        .create_conversation(&["alice", "bob"], None)
        .await
        .unwrap();
    match next(&mut bob_socket).await {
        Event::ConversationCreated(created) => assert_eq!(created.id, c.id),
        other => panic!("expected the conversation, got {other:?}"),
    }

    // Keep cutting every instance's listening connection while the messages
    // go out and a moment after, so that their notifications are lost and
    // only the re-read after the last reconnect can bring them.
    let url = match a.database() {
        nanochat::store::Location::Postgres(url) => url,
        other => panic!("not PostgreSQL: {other}"),
    };
    let cutting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let cutter = tokio::spawn({
        let cutting = cutting.clone();
        async move {
            let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            let mut cuts = 0;
            while cutting.load(std::sync::atomic::Ordering::Relaxed) {
                cuts += sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND query LIKE 'LISTEN%' \
                     AND pid <> pg_backend_pid()) AS t",
                )
                .fetch_one(&mut admin)
                .await
                .unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            cuts
        }
    });
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(
            alice
                .send(c.id, Some(&format!("{i}")), None)
                .await
                .unwrap()
                .id,
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    cutting.store(false, std::sync::atomic::Ordering::Relaxed);
    let cuts = cutter.await.unwrap();
    assert!(cuts >= 2, "the listeners were cut {cuts} times");
    let mut heard = Vec::new();
    for _ in 0..3 {
        match next(&mut bob_socket).await {
            Event::MessageCreated(m) => heard.push(m.id),
            other => panic!("expected a message, got {other:?}"),
        }
    }
    assert_eq!(heard, sent);
    let quiet = tokio::time::timeout(Duration::from_millis(500), bob_socket.next_event()).await;
    assert!(quiet.is_err(), "a message arrived twice: {quiet:?}");
}
