//! Target `websocket_frame`: what the server does with one incoming
//! WebSocket frame, through the real request pipeline
//! ([`crate::server::pipeline::handle`], the one `POST /encrypted` uses too)
//! and the real handlers, on an in-memory SQLite store. The server, its
//! store and a tokio current-thread runtime are made once per process.
//!
//! The store holds completed users `alice` and `bob` (the fixture keys), a
//! pending `carol` (complete token [`CAROL_TOKEN`]), the conversation
//! [`CONVERSATION_ID`] of Alice (owner) and Bob, and in it a real message
//! [`MESSAGE_ID`] by Alice. Whatever an input deletes of these is put back
//! after it, so every input starts from much the same world (the replay
//! guard and messages accumulate; conversations, past a few, are deleted).
//!
//! The first byte is a set of flags:
//!
//! - bits 0-1, the mode: 0, the rest is the frame's text as the client sent
//!   it; 1, 2 and 3, the rest is a Body plaintext that the harness seals for
//!   the server (under the cached K) and signs as Alice (1), leaves unsigned
//!   (2) or signs as Bob (3);
//! - bit 2: the socket's session is already open as Alice (a later frame);
//!   otherwise this is the socket's first frame;
//! - bit 3: keep the plaintext's `request_id` (otherwise, when it has one,
//!   it is replaced by a fresh one, so the replay guard does not refuse a
//!   corpus input the second time).
//!
//! A frame that is not UTF-8 is a binary frame, which gets a fixed answer
//! without any parsing. Oracles: every reply is a plain `Error` or an
//! `EncryptedBody`; a reply to a frame the harness sealed opens under the
//! request's response key to a Body; every event sealed for the session
//! opens under its event key to an event of the catalogue.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{fixtures, seal_cached};
use crate::bodies::Event;
use crate::client::exchange::wire_request;
use crate::crypto::{self, EventEnvelope, EventReceiver, MessageContent, ResponseEnvelope};
use crate::models::{Body, EncryptedBody, Error};
use crate::server::protocol::unix_ms;
use crate::server::websocket::without_socket::handle_text_frame;
use crate::server::{Config, State};
use crate::store::{NewKey, NewMessage, Store};

/// Carol's complete token (she is pending).
pub const CAROL_TOKEN: &str = "fuzz-complete-token";
/// The fixture conversation (Alice, owner, and Bob).
pub const CONVERSATION_ID: &str = "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f";
/// The fixture message in it, by Alice.
pub const MESSAGE_ID: &str = "0b9a8c7d-6e5f-4a3b-9c2d-1e0f2a3b4c5d";

/// The peer every frame comes from.
const PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40_000);

struct Server {
    runtime: tokio::runtime::Runtime,
    state: Arc<State>,
    /// The fixture message as stored.
    message: NewMessage,
    /// Held so the state's shutdown channel stays open.
    _shutdown: tokio::sync::watch::Sender<bool>,
    /// One input at a time (the corpus replay test may run in parallel).
    turn: Mutex<()>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let f = fixtures();
        let mut config = Config::default_in(std::env::temp_dir());
        // Wide, so that the committed corpus stays fresh for years; inputs
        // can still be stale (or from the future).
        config.freshness_window = Duration::from_secs(10 * 365 * 86_400);
        config.peer_rate_per_second = 1_000_000;
        config.peer_burst = 1_000_000;
        let (shutdown, stop) = tokio::sync::watch::channel(false);
        let conversation_id = Uuid::parse_str(CONVERSATION_ID).expect("a UUID");
        let message_id = Uuid::parse_str(MESSAGE_ID).expect("a UUID");
        let content = MessageContent {
            text: Some("fixture".to_owned()),
            file_name: None,
            file_type: None,
        };
        let sealed = crypto::seal_message(
            &f.alice,
            conversation_id,
            message_id,
            &content.to_json_bytes().expect("content encodes"),
            None,
            &[("alice", f.alice.public_key()), ("bob", f.bob.public_key())],
        )
        .expect("sealing the fixture message");
        let message = NewMessage {
            id: message_id,
            conversation_id,
            sender: "alice".to_owned(),
            content_iv: sealed.content_iv.to_vec(),
            content: sealed.content.clone(),
            signature: sealed.signature.clone(),
            signature_version: 1,
            sender_key_index: Some(0),
            attachment: None,
            keys: sealed
                .recipients
                .iter()
                .map(|r| NewKey {
                    username: r.username.clone(),
                    key_digest: crate::store::Digest::of(&r.wrapped_key),
                    wrapped_key: r.wrapped_key.clone(),
                    key_index: Some(0),
                })
                .collect(),
        };
        let state = runtime.block_on(async {
            let store = Store::open_in_memory().await.expect("an in-memory store");
            State::new(config, store, f.server.clone(), stop)
        });
        let server = Server {
            runtime,
            state,
            message,
            _shutdown: shutdown,
            turn: Mutex::new(()),
        };
        server.runtime.block_on(restore(&server));
        server
    })
}

/// Puts back whatever of the fixture world an input removed.
async fn restore(server: &Server) {
    let state = &server.state;
    let store = &state.store;
    let now = unix_ms(time::OffsetDateTime::now_utc());
    let f = fixtures();
    let mut changed = false;
    for (name, key) in [("alice", &f.alice), ("bob", &f.bob)] {
        if store.get_user(name).await.ok().flatten().is_none() {
            let token = format!("fixture-{name}");
            let hash = Sha256::digest(token.as_bytes());
            store
                .create_user(name, &hash, now + 60_000, now)
                .await
                .expect("creating a fixture user");
            store
                .complete_user(
                    name,
                    &hash,
                    now,
                    name,
                    key.public_key().to_spki_der(),
                    None,
                    None,
                )
                .await
                .expect("completing a fixture user");
            changed = true;
        }
    }
    if store.get_user("carol").await.ok().flatten().is_none() {
        let hash = Sha256::digest(CAROL_TOKEN.as_bytes());
        store
            .create_user("carol", &hash, now + 10 * 365 * 86_400_000, now)
            .await
            .expect("creating carol");
    }
    let id = server.message.conversation_id;
    // Conversations inputs created pile up and slow every later
    // `conversation.list`: past a few, they go.
    for name in ["alice", "bob"] {
        let list = store.list_conversations(name).await.unwrap_or_default();
        if list.len() > 16 {
            for other in list.iter().filter(|c| c.id != id) {
                if let Ok(turn) = store.conversation_turn(other.id).await {
                    let _ = store.delete_conversation(&turn).await;
                }
            }
        }
    }
    let turn = store
        .conversation_turn(id)
        .await
        .expect("the fixture conversation's turn");
    let members = store.member_usernames(id).await.unwrap_or_default();
    if members != ["alice", "bob"] {
        let _ = store.delete_conversation(&turn).await;
        store
            .create_conversation(&turn, None, "alice", &["bob".to_owned()], now)
            .await
            .expect("creating the fixture conversation");
        changed = true;
    }
    if store
        .get_message_sender(id, server.message.id)
        .await
        .ok()
        .flatten()
        .is_none()
    {
        store
            .insert_message(&turn, &server.message, now)
            .await
            .expect("storing the fixture message");
    }
    if changed {
        state.key_changed();
    }
}

/// Request ids that no corpus input uses.
fn fresh_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("00000000-0000-4000-8000-{:012x}", n & 0xffff_ffff_ffff)
}

/// Runs one input (see the module documentation).
pub fn run(data: &[u8]) {
    let (flags, rest) = match data.split_first() {
        Some((flags, rest)) => (*flags, rest),
        None => (0, data),
    };
    let server = server();
    let _turn = server.turn.lock().unwrap_or_else(|p| p.into_inner());
    server.runtime.block_on(async {
        one_frame(server, flags, rest).await;
        restore(server).await;
    });
}

async fn one_frame(server: &Server, flags: u8, rest: &[u8]) {
    let f = fixtures();
    let sealed_here = flags & 0b11 != 0;
    let text = if sealed_here {
        let mut plaintext = rest.to_vec();
        if flags & 0b1000 == 0
            && let Ok(serde_json::Value::Object(mut body)) = serde_json::from_slice(rest)
            && body.contains_key("request_id")
        {
            body.insert("request_id".into(), fresh_request_id().into());
            plaintext = serde_json::to_vec(&body).expect("a JSON object encodes");
        }
        let signer = match flags & 0b11 {
            1 => Some(&f.alice),
            3 => Some(&f.bob),
            _ => None,
        };
        let envelope = seal_cached(&plaintext, signer);
        serde_json::to_string(&wire_request(envelope)).expect("an envelope encodes")
    } else {
        match std::str::from_utf8(rest) {
            Ok(text) => text.to_owned(),
            // A binary frame: answered without being read.
            Err(_) => return,
        }
    };
    let session = (flags & 0b100 != 0).then_some("alice");
    let outcome = handle_text_frame(
        &server.state,
        Some(PEER),
        &text,
        session,
        f.secret.event_key(),
    )
    .await;

    if session.is_some() {
        assert!(outcome.keep_open, "an open session survives any frame");
    }
    match serde_json::from_str::<EncryptedBody>(&outcome.reply) {
        Ok(reply) => {
            assert!(
                reply.key.is_none() && reply.seq.is_none(),
                "a reply is a response"
            );
            if sealed_here {
                let envelope = ResponseEnvelope::from_parts(&reply.iv, reply.data.to_vec())
                    .expect("a reply has a 12-byte IV");
                let plaintext = f
                    .secret
                    .response_key()
                    .open(&envelope)
                    .expect("a reply opens under the request's response key");
                let body: Body = serde_json::from_slice(&plaintext).expect("a reply holds a Body");
                if std::env::var_os("NANOCHAT_FUZZ_VERBOSE").is_some() {
                    eprintln!("{} -> {:?}", body.r#type, body.error);
                }
            }
        }
        Err(_) => {
            serde_json::from_str::<Error>(&outcome.reply)
                .expect("a reply is an EncryptedBody or a plain Error");
        }
    }
    if !sealed_here && session.is_none() {
        // A session opened by this frame has the frame's own event key.
        return;
    }
    let mut receiver = EventReceiver::new(f.secret.event_key());
    for frame in &outcome.events {
        let frame: EncryptedBody = serde_json::from_str(frame).expect("an event frame parses");
        let seq = frame.seq.expect("an event frame has a seq");
        let envelope = EventEnvelope::from_parts(seq as u64, &frame.iv, frame.data.to_vec())
            .expect("an event has a 12-byte IV");
        let plaintext = receiver
            .open(&envelope)
            .expect("an event opens under the session's event key, in order");
        let body: Body = serde_json::from_slice(&plaintext).expect("an event holds a Body");
        assert_eq!(body.seq, Some(seq));
        Event::from_parts(&body.r#type, body.payload.map(serde_json::Value::Object))
            .expect("an event is one of the catalogue");
    }
}
