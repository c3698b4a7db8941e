//! `GET /websocket`: request/response frames through the same pipeline as
//! `POST /encrypted`, plus events pushed under the session's event key.
//!
//! One task per socket owns both directions, so frames are never
//! interleaved mid-write, and the hub only ever `try_send`s into the
//! socket's bounded queue (see [`crate::server::hub`]). `without_socket`
//! is one frame's path without the socket's I/O, for the fuzzer and tests.

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::time::Instant;

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{
    BoxWebSocketUpgraded, CloseCode, Message, WebSocket, WebSocketConfig, WebSocketStream,
};
use time::OffsetDateTime;

use crate::bodies::BodyType;
use crate::crypto::EventSealer;
use crate::models::{EncryptedBody, Error, ErrorCode};
use crate::server::hub::{Outgoing, Subscription};
use crate::server::metrics::SocketEnd;
use crate::server::pipeline::{self, Channel};
use crate::server::protocol::{PROTOCOL_VERSION, is_json_object};
use crate::server::state::State;
use crate::username::Username;

#[cfg(any(feature = "fuzzing", all(test, feature = "client")))]
pub(crate) mod without_socket;

/// A socket after a successful `session.open`.
struct Session {
    username: Username,
    /// The key the session was opened with: when the user's stored key
    /// changes (rotation, operator reset or delete), the session ends.
    public_key: Vec<u8>,
    subscription: Subscription,
    sealer: EventSealer,
}

/// The initial read buffer of a socket.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// How much larger than `limits.max_body_bytes` a frame (or message) may
/// be and still be read to its end before the socket is closed with 1009.
const OVERSIZE_READ_FACTOR: usize = 2;

/// How long, after the 1009 close frame, the server waits for the client's
/// close frame before it closes the connection.
const OVERSIZE_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The body limit in bytes.
fn max_frame_bytes(state: &State) -> usize {
    usize::try_from(state.config.limits.max_body_bytes).unwrap_or(usize::MAX)
}

/// Accepts the upgrade; frames larger than the body limit close the socket.
///
/// tungstenite refuses a frame over its limit as soon as it reads the
/// frame's header, and the socket then ends with the rest of the frame
/// unread: the kernel answers the client's further bytes with a reset, which
/// can destroy the 1009 close frame before the client reads it (api.yml,
/// "WebSocket"). So tungstenite's limit is `OVERSIZE_READ_FACTOR` times
/// the documented one, and `run` enforces the documented limit on the
/// frames tungstenite hands over, read to their end.
pub fn upgrade(state: Arc<State>, peer: Option<SocketAddr>, ws: WebSocket) -> BoxWebSocketUpgraded {
    // A deliberately broken server without `frame_cut` waits for any
    // frame, however large its header says it is.
    let read_whole = if state.config.rules().frame_cut {
        max_frame_bytes(&state).saturating_mul(OVERSIZE_READ_FACTOR)
    } else {
        usize::MAX
    };
    // tungstenite allocates its whole read buffer per socket up front (128
    // KiB by default): most sockets sit idle, so start small and let a
    // large frame grow it. Frames are written out at once, not batched.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(Some(read_whole))
        .max_frame_size(Some(read_whole));
    ws.config(config)
        .on_upgrade(move |socket| run(state, peer, socket))
        .boxed()
}

type Sink = futures_util::stream::SplitSink<WebSocketStream, Message>;

/// Sends one frame, giving up on a peer that does not read within a ping
/// interval (its TCP window stays shut): the socket is then closed rather
/// than held open with a frame in memory.
async fn send(sink: &mut Sink, message: Message, patience: std::time::Duration) -> bool {
    matches!(
        tokio::time::timeout(patience, sink.send(message)).await,
        Ok(Ok(()))
    )
}

async fn run(state: Arc<State>, peer: Option<SocketAddr>, socket: WebSocketStream) {
    let (mut sink, mut stream) = socket.split();
    let mut session: Option<Session> = None;
    let interval = state.config.ping_interval;
    let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
    let mut last_seen = Instant::now();
    let mut shutdown = state.shutdown.clone();
    let max = max_frame_bytes(&state);
    let mut counted = state.metrics.socket_opened();
    let too_big = || {
        Message::close_with(
            CloseCode::Size,
            format!(
                "a frame is larger than limits.max_body_bytes ({} bytes)",
                state.config.limits.max_body_bytes
            ),
        )
    };
    loop {
        tokio::select! {
            frame = stream.next() => {
                let text = match frame {
                    // Read to its end: the client sees the close frame, not a reset.
                    Some(Ok(Message::Text(text))) if text.len() > max => {
                        counted.ending(SocketEnd::TooBig);
                        close_after_oversize(&mut sink, &mut stream, too_big(), interval).await;
                        break;
                    }
                    Some(Ok(Message::Binary(data))) if data.len() > max => {
                        counted.ending(SocketEnd::TooBig);
                        close_after_oversize(&mut sink, &mut stream, too_big(), interval).await;
                        break;
                    }
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => { last_seen = Instant::now(); continue; }
                    Some(Ok(Message::Binary(_))) => {
                        let error = Error::new(ErrorCode::BadEnvelope, "frames must be text frames holding EncryptedBody JSON");
                        // Before session.open, anything but session.open ends the socket.
                        if session.is_none() { counted.ending(SocketEnd::Refused); }
                        if !send(&mut sink, Message::Text(plain(&error)), interval).await || session.is_none() { break; }
                        continue;
                    }
                    // Too large even to read to its end (over
                    // OVERSIZE_READ_FACTOR times the limit): cut off, with
                    // the close frame sent on a best-effort basis.
                    Some(Err(e)) if is_too_large(&e) => {
                        counted.ending(SocketEnd::TooBig);
                        let _ = send(&mut sink, too_big(), interval).await;
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        counted.ending(SocketEnd::Client);
                        break;
                    }
                };
                last_seen = Instant::now();
                let (reply, keep_open) = handle_frame(&state, peer, &text, &mut session).await;
                if session.is_some() { counted.session_opened(); }
                counted.ending(if keep_open { SocketEnd::Client } else { SocketEnd::Refused });
                if !send(&mut sink, Message::Text(reply), interval).await || !keep_open {
                    break;
                }
            }
            event = next_event(&mut session) => {
                let Some(event) = event else {
                    // The hub dropped this socket: the user is gone, or too slow.
                    let ended = match &session { Some(current) => ended(&state, current).await, None => None };
                    counted.ending(if ended.is_some() { SocketEnd::Account } else { SocketEnd::SlowReader });
                    let (code, reason) = ended.unwrap_or((CloseCode::Again, "the event queue is full: read events faster".to_owned()));
                    let _ = send(&mut sink, Message::close_with(code, reason), interval).await;
                    break;
                };
                let Some(current) = session.as_mut() else { break };
                if let Some((code, reason)) = ended(&state, current).await {
                    counted.ending(SocketEnd::Account);
                    let _ = send(&mut sink, Message::close_with(code, reason), interval).await;
                    break;
                }
                if event.is_recheck() { continue; }
                let honest_seq = state.config.rules().event_seq;
                let Some(frame) = seal_event(current, &event, honest_seq) else { break };
                if !send(&mut sink, Message::Text(frame), interval).await {
                    counted.ending(SocketEnd::Client);
                    break;
                }
                state.metrics.event_sent();
            }
            // Its own deadline rather than a check at the ping ticks, which
            // would let a socket stay silent for up to four intervals.
            _ = tokio::time::sleep_until(last_seen + interval * 3) => {
                counted.ending(SocketEnd::Silent);
                break;
            }
            _ = ping.tick() => {
                // A socket gets one ping interval to open its session, and
                // three of silence in all (the branch above).
                if session.is_none() {
                    counted.ending(SocketEnd::Silent);
                    break;
                }
                if let Some(current) = &session && let Some((code, reason)) = ended(&state, current).await {
                    counted.ending(SocketEnd::Account);
                    let _ = send(&mut sink, Message::close_with(code, reason), interval).await;
                    break;
                }
                if !send(&mut sink, Message::Ping(Vec::new()), interval).await {
                    counted.ending(SocketEnd::Client);
                    break;
                }
            }
            _ = shutdown.changed() => {
                counted.ending(SocketEnd::Shutdown);
                let _ = send(&mut sink, Message::Close(None), interval).await;
                break;
            }
        }
    }
    if let Some(session) = session {
        state
            .hub
            .unsubscribe(&session.username, session.subscription.id);
    }
}

/// Sends the 1009 close frame `close` for a frame that was read to its end,
/// then waits (at most [`OVERSIZE_CLOSE_WAIT`]) for the client's close
/// frame, discarding whatever else it still sends: the connection is then
/// closed with nothing unread, so the client gets an orderly end instead
/// of a reset that could discard the close frame.
async fn close_after_oversize(
    sink: &mut Sink,
    stream: &mut futures_util::stream::SplitStream<WebSocketStream>,
    close: Message,
    patience: std::time::Duration,
) {
    if !send(sink, close, patience).await {
        return;
    }
    let _ = tokio::time::timeout(OVERSIZE_CLOSE_WAIT, async {
        while let Some(Ok(frame)) = stream.next().await {
            if matches!(frame, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Close code: the user's key was replaced (a rotation, or completing
/// again after a reset) since the session opened (api.yml, "Key history").
pub const CLOSE_KEY_REPLACED: u16 = 4001;
/// Close code: the operator reset the user, who must complete again.
pub const CLOSE_USER_RESET: u16 = 4002;
/// Close code: the user was deleted.
pub const CLOSE_USER_DELETED: u16 = 4003;

/// Why the session must end, as a close code and reason (at most 123
/// bytes, as a close frame allows); `None` while its
/// user still exists with the key it opened with. Operator commands (`user
/// reset`, `user delete`) change the database from another process, so the
/// socket asks the database (through a cache of at most a second, which
/// this process's own key changes and the key-change watchers clear at
/// once) rather than the hub.
async fn ended(state: &State, session: &Session) -> Option<(CloseCode, String)> {
    if !state.config.rules().session_end {
        // The broken server of the conformance suite: sessions outlive
        // their key.
        return None;
    }
    let closing = |code: u16, reason: &str| Some((CloseCode::from(code), reason.to_owned()));
    match state.current_key(&session.username).await {
        Ok(Some(key)) if *key == session.public_key => None,
        Ok(Some(_)) => closing(
            CLOSE_KEY_REPLACED,
            "key replaced (rotated on another device, or completed again): log in with the current key",
        ),
        Ok(None) => match state.store.get_user(&session.username).await {
            Ok(Some(_)) => closing(
                CLOSE_USER_RESET,
                "user reset by the operator: complete the account again with a new token",
            ),
            Ok(None) => closing(
                CLOSE_USER_DELETED,
                "user deleted: the account no longer exists",
            ),
            Err(e) => {
                tracing::warn!(%e, "cannot re-check a WebSocket session; closing it");
                closing(1011, "the server cannot check this session")
            }
        },
        Err(e) => {
            tracing::warn!(%e, "cannot re-check a WebSocket session; closing it");
            closing(1011, "the server cannot check this session")
        }
    }
}

/// Runs one request frame; returns the reply frame and whether the socket stays open.
async fn handle_frame(
    state: &Arc<State>,
    peer: Option<SocketAddr>,
    text: &str,
    session: &mut Option<Session>,
) -> (String, bool) {
    let parsed = if is_json_object(text.as_bytes()) {
        serde_json::from_str(text)
    } else {
        Err(serde::de::Error::custom("expected a JSON object"))
    };
    let envelope: EncryptedBody = match parsed {
        Ok(envelope) => envelope,
        Err(e) => {
            let error = Error::new(
                ErrorCode::BadEnvelope,
                format!("the frame is not an EncryptedBody: {e}"),
            );
            return (plain(&error), session.is_some());
        }
    };
    let channel = if session.is_some() {
        Channel::Socket
    } else {
        Channel::SocketFirst
    };
    match pipeline::handle(state, peer, envelope, channel).await {
        Ok(answered) => {
            if let Some((BodyType::SessionOpen, username)) = answered.accepted {
                let key = state
                    .store
                    .get_user(&username)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|u| u.public_key);
                if let Some(public_key) = key {
                    let subscription = state.hub.subscribe(&username);
                    *session = Some(Session {
                        username,
                        public_key,
                        subscription,
                        sealer: EventSealer::new(answered.secret.event_key()),
                    });
                }
            }
            let reply = serde_json::to_string(&answered.response).unwrap_or_default();
            // A first frame that was opened but refused leaves no session: close.
            (reply, session.is_some())
        }
        Err(failure) => (plain(&failure.error), channel != Channel::SocketFirst),
    }
}

async fn next_event(session: &mut Option<Session>) -> Option<Outgoing> {
    match session {
        Some(session) => session.subscription.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Seals one event for the socket; `honest_seq` is off only in a
/// deliberately broken server, which then labels every frame seq 1. The
/// Body is written around the payload the hub serialised once for every
/// socket.
fn seal_event(session: &mut Session, event: &Outgoing, honest_seq: bool) -> Option<String> {
    let seq = session.sealer.next_seq();
    let created_at = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .ok()?;
    let mut json = String::with_capacity(128);
    json.push_str("{\"type\":");
    json.push_str(&serde_json::to_string(event.event_type().as_str()).ok()?);
    json.push_str(",\"created_at\":");
    json.push_str(&serde_json::to_string(&created_at).ok()?);
    json.push_str(&format!(",\"seq\":{seq},\"payload\":"));
    event.write_payload(&mut json);
    json.push('}');
    let sealed = session
        .sealer
        .seal(json.as_bytes())
        .map_err(|e| tracing::error!(%e, "sealing an event failed"))
        .ok()?;
    let frame = EncryptedBody {
        version: PROTOCOL_VERSION,
        key: None,
        iv: sealed.iv.to_vec().into(),
        data: sealed.data.into(),
        signature: None,
        seq: Some(if honest_seq { sealed.seq as i64 } else { 1 }),
    };
    serde_json::to_string(&frame).ok()
}

fn plain(error: &Error) -> String {
    serde_json::to_string(error).unwrap_or_default()
}

/// Whether a read failed because a frame or message was over the limit set
/// in [`upgrade`]. poem hands tungstenite's errors over as `io::Error`
/// carrying only their text, so the text is what can be matched
/// (`tests/e2e/websocket.rs` checks the close code this leads to).
fn is_too_large(error: &std::io::Error) -> bool {
    let text = error.to_string();
    text.contains("Space limit exceeded")
}

/// What to tell a client whose `GET /websocket` is not a WebSocket
/// handshake (poem refused the upgrade with `error`): `bad_request`, naming
/// the headers a handshake needs, since poem's own text ("invalid protocol")
/// does not say what was wrong.
pub fn refusal(error: &poem::Error) -> Error {
    Error::new(
        ErrorCode::BadRequest,
        format!(
            "GET /websocket needs a WebSocket handshake (Connection: upgrade, Upgrade: websocket, \
             Sec-WebSocket-Version: 13, Sec-WebSocket-Key) over HTTP/1.1: {error}"
        ),
    )
}
