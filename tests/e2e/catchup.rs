//! The client's [`EventStream`] catching up after a gap longer than a page
//! of history: every message posted meanwhile is delivered exactly once,
//! in order, between the catch-up markers, with the edits, deletions,
//! renames, new conversations and removals of the gap; nothing delivered
//! before the gap comes again.

use std::time::Duration;

use nanochat::bodies::Event;
use nanochat::client::{Bodies as _, EventStream, StreamItem};
use nanochat::models::CreateConversation;

use crate::support::{TestServer, chat, duo};

/// The next item within a few seconds (a hang is a failure, not a wait).
async fn next(stream: &mut EventStream<'_>) -> StreamItem {
    tokio::time::timeout(Duration::from_secs(30), stream.next_item())
        .await
        .expect("the stream stalled")
        .expect("the stream failed")
}

#[tokio::test]
async fn two_hundred_messages_and_the_gaps_changes_arrive_once_in_order() {
    let server = TestServer::start_with(|c| c.shutdown_grace = Duration::from_millis(200)).await;
    let (_alice, _bob, c) = duo(&server).await;
    let carol_session = server.user("carol").await;
    let homes = tempfile::tempdir().unwrap();
    let alice = chat(&server, &homes.path().join("alice"), "alice").await;
    let bob = chat(&server, &homes.path().join("bob"), "bob").await;
    let carol = chat(&server, &homes.path().join("carol"), "carol").await;
    // A group bob will be removed from while away.
    let group = alice
        .create_conversation(&["bob", "carol"], None)
        .await
        .unwrap();

    let mut stream = EventStream::open(bob.session())
        .await
        .unwrap()
        .with_reconnect_delay(Duration::from_millis(20), Duration::from_millis(200));
    let mut before = Vec::new();
    for text in ["before", "to be edited", "to be deleted"] {
        before.push(alice.send(c.id, Some(text), None).await.unwrap());
    }
    for sent in &before {
        match next(&mut stream).await {
            StreamItem::Event(Event::MessageCreated(m)) => assert_eq!(m.id, sent.id),
            other => panic!("expected {}, got {other:?}", sent.id),
        }
    }

    // The server goes down and comes back; bob's stream has not noticed
    // yet (it reconnects when next asked). Meanwhile: 200 messages, an
    // edit and a deletion of messages bob saw, a rename, a conversation
    // bob is added to, and one he is removed from.
    let server = server.restart_same_port().await;
    let mut missed = Vec::new();
    for i in 0..200 {
        let text = format!("while away {i}");
        missed.push(alice.send(c.id, Some(&text), None).await.unwrap().id);
    }
    let edited = alice
        .edit(c.id, before[1].id, Some("edited while away"), None)
        .await
        .unwrap();
    alice.delete_message(c.id, before[2].id).await.unwrap();
    let current = alice.conversation(c.id).await.unwrap();
    alice
        .session()
        .rename_conversation(&current, "Renamed while away")
        .await
        .unwrap();
    let group_now = alice.conversation(group.id).await.unwrap();
    alice
        .session()
        .set_members(&group_now, &["alice", "carol"])
        .await
        .unwrap();
    let added = carol
        .session()
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    let in_added = carol.send(added.id, Some("hello bob"), None).await.unwrap();
    drop(carol_session);

    match next(&mut stream).await {
        StreamItem::CatchingUp { reconnects } => assert_eq!(reconnects, 1),
        other => panic!("expected the catching-up marker, got {other:?}"),
    }
    let mut created = Vec::new();
    let (mut updates, mut deletions, mut renamed, mut removed, mut new_conversation) =
        (Vec::new(), Vec::new(), false, false, false);
    let count = loop {
        match next(&mut stream).await {
            StreamItem::CaughtUp { missed } => break missed,
            StreamItem::Event(Event::MessageCreated(m)) => created.push(m.id),
            StreamItem::Event(Event::MessageUpdated(m)) => updates.push((m.id, m.edited_at)),
            StreamItem::Event(Event::MessageDeleted(m)) => deletions.push(m.id),
            StreamItem::Event(Event::ConversationUpdated(u)) => {
                assert_eq!(u.id, c.id);
                assert_eq!(u.name_revision, current.name_revision + 1);
                renamed = true;
            }
            // Gone while away: history cannot tell a removal from a
            // deletion, so the stream reports it as gone (deleted).
            StreamItem::Event(Event::ConversationDeleted(d)) => {
                assert_eq!(d.id, group.id);
                removed = true;
            }
            StreamItem::Event(Event::ConversationCreated(n)) => {
                assert_eq!(n.id, added.id);
                new_conversation = true;
            }
            other => panic!("unexpected while catching up: {other:?}"),
        }
    };
    let mut expected = missed.clone();
    expected.push(in_added.id);
    assert_eq!(created.len(), 201, "every missed message, once");
    let in_c: Vec<_> = created
        .iter()
        .filter(|id| **id != in_added.id)
        .copied()
        .collect();
    assert_eq!(in_c, missed, "in the order they were posted");
    assert!(created.contains(&in_added.id));
    assert_eq!(updates, [(before[1].id, edited.edited_at)]);
    assert_eq!(deletions, [before[2].id]);
    assert!(renamed && removed && new_conversation);
    assert_eq!(count, 201 + 1 + 1 + 3);
    assert_eq!(stream.reconnects(), 1);

    // Live again: a new message once, and nothing else (no message of
    // before or during the gap comes again).
    let live = alice.send(c.id, Some("live"), None).await.unwrap();
    match next(&mut stream).await {
        StreamItem::Event(Event::MessageCreated(m)) => assert_eq!(m.id, live.id),
        other => panic!("expected the live message, got {other:?}"),
    }
    let nothing = tokio::time::timeout(Duration::from_millis(500), stream.next_item()).await;
    assert!(nothing.is_err(), "a duplicate arrived: {nothing:?}");

    // A second gap with nothing in it: the markers, and nothing between.
    let server = server.restart_same_port().await;
    assert!(matches!(
        next(&mut stream).await,
        StreamItem::CatchingUp { reconnects: 2 }
    ));
    assert!(matches!(
        next(&mut stream).await,
        StreamItem::CaughtUp { missed: 0 }
    ));
    drop(server);
}
