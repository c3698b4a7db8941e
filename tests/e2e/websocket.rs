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

/// The next event on `socket`, bounded so that a lost event fails the test
/// instead of hanging it.
async fn next_within(socket: &mut Socket<'_>) -> Event {
    tokio::time::timeout(std::time::Duration::from_secs(10), socket.next_event())
        .await
        .expect("no event within 10 s")
        .expect("the socket failed")
}

/// Whether `socket` stays quiet for a while.
async fn quiet(socket: &mut Socket<'_>) -> bool {
    let heard =
        tokio::time::timeout(std::time::Duration::from_millis(500), socket.next_event()).await;
    heard.is_err()
}

/// api.yml `event.conversation.removed`: a removed member is told it was a
/// removal (never a deletion), the members who stay hear the member change,
/// and a deletion is still `event.conversation.deleted` to every member.
#[tokio::test]
async fn a_removed_member_hears_a_removal_and_a_deletion_stays_a_deletion() {
    let server = TestServer::start().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let c = alice
        .create_conversation(&["alice", "bob", "carol"], Some("Team"))
        .await
        .unwrap();
    let mut alice_socket = Socket::open(&alice).await.unwrap();
    let mut bob_socket = Socket::open(&bob).await.unwrap();
    let mut carol_socket = Socket::open(&carol).await.unwrap();

    alice.set_members(&c, &["alice", "bob"]).await.unwrap();
    match next_within(&mut carol_socket).await {
        Event::ConversationRemoved(removed) => assert_eq!(removed.id, c.id),
        other => panic!("carol expected her removal, got {other:?}"),
    }
    for socket in [&mut alice_socket, &mut bob_socket] {
        match next_within(socket).await {
            Event::ConversationUpdated(updated) => {
                let members: Vec<&str> = updated
                    .members
                    .iter()
                    .map(|m| m.username.as_str())
                    .collect();
                assert_eq!(members, ["alice", "bob"]);
            }
            other => panic!("expected the member change, got {other:?}"),
        }
    }
    assert!(
        quiet(&mut carol_socket).await,
        "carol heard more than her removal"
    );

    alice
        .conversation_delete(BaseConversation { id: c.id })
        .await
        .unwrap();
    for socket in [&mut alice_socket, &mut bob_socket] {
        match next_within(socket).await {
            Event::ConversationDeleted(deleted) => assert_eq!(deleted.id, c.id),
            other => panic!("expected the deletion, got {other:?}"),
        }
    }
    assert!(
        quiet(&mut carol_socket).await,
        "carol heard of a conversation she left"
    );
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

/// A WebSocket handshake by hand over `stream`, for tests that need to
/// write a frame's bytes at their own pace; panics unless upgraded.
async fn raw_handshake(stream: &mut tokio::net::TcpStream, host: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "GET /websocket HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "no handshake answer"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
}

/// The header of a masked client frame: FIN, `opcode`, `len` payload bytes.
fn client_frame_header(opcode: u8, len: usize, mask: [u8; 4]) -> Vec<u8> {
    let mut header = vec![0x80 | opcode];
    match len {
        0..=125 => header.push(0x80 | len as u8),
        126..=0xffff => {
            header.push(0x80 | 126);
            header.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            header.push(0x80 | 127);
            header.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    header.extend_from_slice(&mask);
    header
}

/// Reads one (unmasked) server frame: its opcode and payload.
async fn read_server_frame(stream: &mut tokio::net::TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await?;
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).await?;
            u16::from_be_bytes(ext) as usize
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).await?;
            u64::from_be_bytes(ext) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await?;
    Ok((head[0] & 0x0f, payload))
}

/// A client still writing a frame over the limit (as Python's
/// websocket-client does, unaware of the limit) is not reset mid-write:
/// the server reads the frame to its end, then sends the 1009 close frame,
/// waits for the client's close frame and ends the connection in order.
#[tokio::test]
async fn a_client_still_writing_an_oversized_frame_reads_the_1009_close() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let max = 256 * 1024;
    let server = TestServer::start_with(|c| {
        c.limits.max_body_bytes = max;
        c.limits.max_file_bytes = 64 * 1024;
        c.limits.max_content_bytes = 16 * 1024;
        c.limits.max_members = 10;
    })
    .await;
    let host = server.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    raw_handshake(&mut stream, &host).await;

    // One and a half times the limit, written slowly in chunks, so that a
    // server that gave up at the header would be gone before the end.
    let len = usize::try_from(max).unwrap() * 3 / 2;
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    stream
        .write_all(&client_frame_header(0x1, len, mask))
        .await
        .unwrap();
    let payload: Vec<u8> = (0..len).map(|i| b'x' ^ mask[i % 4]).collect();
    for chunk in payload.chunks(16 * 1024) {
        stream
            .write_all(chunk)
            .await
            .expect("the server reset the connection while the frame was being written");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let (opcode, close) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        read_server_frame(&mut stream),
    )
    .await
    .expect("no close frame within 10 s")
    .expect("the connection was reset before the close frame was read");
    assert_eq!(opcode, 0x8, "a close frame");
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 1009);
    assert!(
        String::from_utf8_lossy(&close[2..]).contains("max_body_bytes"),
        "{close:?}"
    );

    // The closing handshake: the client echoes the code, and the server
    // then ends the connection (EOF), not with a reset.
    let mut reply = client_frame_header(0x8, 2, mask);
    reply.extend([0x03 ^ mask[0], 0xf1 ^ mask[1]]);
    stream.write_all(&reply).await.unwrap();
    let mut rest = Vec::new();
    let end = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut rest),
    )
    .await
    .expect("the server kept the connection open after the closing handshake");
    assert!(end.is_ok(), "the connection ended with {end:?}, not EOF");
    assert!(rest.is_empty(), "nothing follows the close frame: {rest:?}");
}
