//! `GET /websocket`: session.open, request frames, and events.

use nanochat::bodies::{Event, Request};
use nanochat::client::{Bodies, ClientError, Socket};
use nanochat::models::{BaseConversation, BaseUser, CreateConversation};
use uuid::Uuid;

use crate::messages::sealed;
use crate::support::{TestServer, code, duo, key};

#[tokio::test]
async fn events_reach_online_members() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut bob_socket = Socket::open(&bob).await.unwrap();

    let c = alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    match bob_socket.next_event().await.unwrap() {
        Event::ConversationCreated(seen) => assert_eq!(seen.id, c.id),
        other => panic!("unexpected {other:?}"),
    }
    let id = Uuid::new_v4();
    alice
        .message_create(sealed(&key("alice"), &c, id, "ping", None))
        .await
        .unwrap();
    match bob_socket.next_event().await.unwrap() {
        Event::MessageCreated(message) => {
            assert_eq!(message.id, id);
            let (content, _) = crate::messages::read(&message, "bob", key("alice").public_key());
            assert_eq!(content.text.as_deref(), Some("ping"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Requests over the socket work too.
    let answer = bob_socket
        .request(Request::ConversationGet(BaseConversation { id: c.id }))
        .await
        .unwrap();
    assert_eq!(answer["id"], c.id.to_string());
    alice
        .conversation_leave(BaseConversation { id: c.id })
        .await
        .unwrap();
    match bob_socket.next_event().await.unwrap() {
        Event::ConversationLeft(left) => assert_eq!(left.username, "alice"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn the_first_frame_must_be_session_open() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let mut stream = raw_socket(&alice).await;
    use futures_util::{SinkExt, StreamExt};
    let request = Request::UserGet(BaseUser {
        username: "alice".into(),
    });
    let body = alice.body_for(&request).unwrap();
    let (envelope, _) = alice.seal(&body, true).await.unwrap();
    stream
        .send(tokio_tungstenite::tungstenite::Message::text(
            serde_json::to_string(&envelope).unwrap(),
        ))
        .await
        .unwrap();
    let reply = stream.next().await.unwrap().unwrap();
    let error: serde_json::Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(error["code"], "session_required");
    // Then the server closes the socket.
    let next = stream.next().await;
    assert!(
        matches!(
            next,
            None | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) | Some(Err(_))
        ),
        "{next:?}"
    );
}

#[tokio::test]
async fn session_open_needs_a_valid_signature() {
    let server = TestServer::start().await;
    server.user("alice").await;
    let impostor = nanochat::client::Session::connect(&server.url, "alice", Some(key("bob")))
        .await
        .unwrap();
    match Socket::open(&impostor).await {
        Err(ClientError::Api(error)) => assert_eq!(error.code.as_str(), "bad_signature"),
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("an impostor opened a session"),
    }
}

#[tokio::test]
async fn members_hear_about_key_changes() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let outsider = server.user("carol").await;
    alice
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    let mut bob_socket = Socket::open(&bob).await.unwrap();
    let mut carol_socket = Socket::open(&outsider).await.unwrap();
    let new_key = key("erin");
    let der = new_key.public_key().to_spki_der().to_vec();
    let link = nanochat::crypto::Succession::sign("alice", 1, &key("alice"), &new_key).unwrap();
    alice
        .user_update(nanochat::models::UpdateUser {
            public_key: Some(der.into()),
            succession_signature: Some(link.succession_signature.into()),
            public_key_signature: Some(link.public_key_signature.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    match bob_socket.next_event().await.unwrap() {
        Event::UserKeyChanged(user) => {
            assert_eq!(user.fingerprint, new_key.fingerprint().to_string())
        }
        other => panic!("unexpected {other:?}"),
    }
    // carol shares no conversation with alice: her socket hears nothing.
    let nothing = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        carol_socket.next_event(),
    )
    .await;
    assert!(nothing.is_err(), "carol got {nothing:?}");
}

#[tokio::test]
async fn an_operator_reset_ends_the_users_sessions() {
    let server = TestServer::start().await;
    let (alice, bob, c) = duo(&server).await;
    let mut bob_socket = Socket::open(&bob).await.unwrap();
    server.cli(&["user", "reset", "bob"]).await.unwrap();
    // The reset happened in another "process" (the CLI): the server learns
    // of it when its cached copy of bob's key expires.
    tokio::time::sleep(
        nanochat::server::state::KEY_CHECK_TTL + std::time::Duration::from_millis(100),
    )
    .await;
    assert_eq!(
        code(
            bob.user_get(BaseUser {
                username: "alice".into()
            })
            .await
        ),
        "unknown_user",
        "the old key no longer signs requests"
    );
    // Sealed for the members that have a key now: alice alone.
    let c = alice
        .conversation_get(nanochat::models::BaseConversation { id: c.id })
        .await
        .unwrap();
    alice
        .rename_conversation(&c, "after the reset")
        .await
        .unwrap();
    // The socket notices before delivering anything after the reset and
    // closes, saying why. On PostgreSQL the conversation's creation (made
    // before the socket opened) is announced through the database and may
    // reach the fresh socket first: that one event belongs to before.
    loop {
        match bob_socket.next_event().await {
            Err(ClientError::SessionEnded { code: 4002, .. }) => break,
            Ok(Event::ConversationCreated(created)) if created.id == c.id => {
                assert!(
                    matches!(
                        server.config.database,
                        nanochat::store::Location::Postgres(_)
                    ),
                    "SQLite delivers only what happens after the socket opened"
                );
            }
            other => panic!("the old session still got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_senders_other_devices_hear_their_own_actions() {
    let server = TestServer::start().await;
    let laptop = server.user("alice").await;
    server.user("bob").await;
    let tablet = server.session("alice").await;
    let mut tablet_socket = Socket::open(&tablet).await.unwrap();
    let c = laptop
        .conversation_create(CreateConversation {
            id: uuid::Uuid::new_v4(),
            name: None,
            members: vec!["bob".into()],
        })
        .await
        .unwrap();
    match tablet_socket.next_event().await.unwrap() {
        Event::ConversationCreated(seen) => assert_eq!(seen.id, c.id),
        other => panic!("unexpected {other:?}"),
    }
    let id = Uuid::new_v4();
    laptop
        .message_create(sealed(&key("alice"), &c, id, "from the laptop", None))
        .await
        .unwrap();
    match tablet_socket.next_event().await.unwrap() {
        Event::MessageCreated(message) => {
            let (content, _) = crate::messages::read(&message, "alice", key("alice").public_key());
            assert_eq!(content.text.as_deref(), Some("from the laptop"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn silent_sockets_are_closed() {
    let server =
        TestServer::start_with(|c| c.ping_interval = std::time::Duration::from_millis(100)).await;
    let alice = server.user("alice").await;
    let mut socket = Socket::open(&alice).await.unwrap();
    // Not reading means not answering pings: after three intervals of
    // silence the server gives up on the socket.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    // (Bounded, so a server that keeps the socket fails the test instead of hanging it.)
    let outcome =
        tokio::time::timeout(std::time::Duration::from_secs(10), socket.next_event()).await;
    match outcome {
        Ok(Err(ClientError::Transport(_))) => {}
        other => panic!("a silent socket was kept: {other:?}"),
    }
}

#[tokio::test]
async fn sockets_must_open_a_session_within_a_ping_interval() {
    let server =
        TestServer::start_with(|c| c.ping_interval = std::time::Duration::from_millis(100)).await;
    let alice = server.user("alice").await;
    let mut stream = raw_socket(&alice).await;
    use futures_util::StreamExt;
    // Read (so pings are answered) but never send session.open.
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            match stream.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_)))
                | None
                | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a socket without a session was kept open");
}

#[tokio::test]
async fn a_request_that_is_not_a_handshake_gets_the_documented_400() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/websocket", server.url);
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        ("no upgrade headers", vec![]),
        (
            "no Sec-WebSocket-Key",
            vec![
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "13"),
            ],
        ),
        (
            "another version",
            vec![
                ("connection", "upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-version", "8"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ],
        ),
    ];
    for (case, headers) in cases {
        let mut request = http.get(&url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{case}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{case}"
        );
        let error: nanochat::models::Error = response.json().await.unwrap();
        assert_eq!(
            error.code,
            nanochat::models::ErrorCode::BadRequest,
            "{case}"
        );
        assert!(
            error.message.contains("Sec-WebSocket-Key"),
            "{case}: {}",
            error.message
        );
    }
    let alice = server.user("alice").await;
    let upgraded = alice.http().websocket().await;
    assert!(upgraded.is_ok(), "a real handshake is still upgraded");
}

/// An upgraded WebSocket with no session: for tests of what the server does
/// with frames the client type would never send.
async fn raw_socket(
    session: &nanochat::client::Session,
) -> tokio_tungstenite::WebSocketStream<reqwest::Upgraded> {
    let upgraded = session.http().websocket().await.unwrap().into_inner();
    tokio_tungstenite::WebSocketStream::from_raw_socket(
        upgraded,
        tokio_tungstenite::tungstenite::protocol::Role::Client,
        None,
    )
    .await
}

#[tokio::test]
async fn a_frame_over_the_body_limit_closes_the_socket_with_1009() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let limits = nanochat::server::config::Config::default_in(".").limits;
    let max = usize::try_from(limits.max_body_bytes).unwrap();
    let mut socket = raw_socket(&alice).await;
    let _ = socket.send(Message::text("x".repeat(max + 1))).await;
    let close = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(frame) = socket.next().await {
            if let Ok(Message::Close(close)) = frame {
                return close;
            }
        }
        None
    })
    .await
    .expect("the socket was neither closed nor answered");
    let close = close.expect("a close frame with a code");
    assert_eq!(close.code, CloseCode::Size, "{close:?}");
    assert!(close.reason.contains("max_body_bytes"), "{close:?}");
}
