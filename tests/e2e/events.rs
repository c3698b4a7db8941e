//! The client's [`EventStream`]: reconnects after the server restarts and
//! hands over what was missed meanwhile, without gaps or duplicates.

use std::time::Duration;

use nanochat::bodies::Event;
use nanochat::client::EventStream;

use crate::support::{TestServer, chat, duo};

fn text_of(event: Event) -> String {
    match event {
        Event::MessageCreated(m) => m.id.to_string(),
        other => panic!("expected a new message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_restarted_server_costs_the_stream_no_event() {
    let server = TestServer::start_with(|c| c.shutdown_grace = Duration::from_millis(200)).await;
    let (_alice, _bob, c) = duo(&server).await;
    let homes = tempfile::tempdir().unwrap();
    let alice = chat(&server, &homes.path().join("alice"), "alice").await;
    let bob = chat(&server, &homes.path().join("bob"), "bob").await;
    let mut stream = EventStream::open(bob.session()).await.unwrap();

    let first = alice.send(c.id, Some("before"), None).await.unwrap();
    assert_eq!(text_of(stream.next().await.unwrap()), first.id.to_string());

    let server = server.restart_same_port().await;
    // Sent while bob's socket is down: caught up after the reconnect.
    let missed = alice.send(c.id, Some("while away"), None).await.unwrap();
    let second = alice.send(c.id, Some("also away"), None).await.unwrap();
    assert_eq!(text_of(stream.next().await.unwrap()), missed.id.to_string());
    assert_eq!(text_of(stream.next().await.unwrap()), second.id.to_string());
    assert_eq!(stream.reconnects(), 1);

    // Live again; nothing is delivered twice.
    let live = alice.send(c.id, Some("after"), None).await.unwrap();
    assert_eq!(text_of(stream.next().await.unwrap()), live.id.to_string());
    let nothing = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
    assert!(nothing.is_err(), "a duplicate arrived: {nothing:?}");

    // The messages read back verified.
    let (page, _) = bob.history(c.id, None, None).await.unwrap();
    let texts: Vec<_> = page
        .iter()
        .map(|m| m.content().unwrap().text.clone().unwrap())
        .collect();
    assert_eq!(texts, ["after", "also away", "while away", "before"]);
    drop(server);
}
