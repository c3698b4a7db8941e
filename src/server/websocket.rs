//! `GET /websocket`: request/response frames through the same pipeline as
//! `POST /encrypted`, plus events pushed under the session's event key.
//!
//! One task per socket owns both directions, so frames are never
//! interleaved mid-write, and the hub only ever `try_send`s into the
//! socket's bounded queue (see [`crate::server::hub`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{
    BoxWebSocketUpgraded, Message, WebSocket, WebSocketConfig, WebSocketStream,
};
use time::OffsetDateTime;

use crate::bodies::{BodyType, Event};
use crate::crypto::EventSealer;
use crate::models::{Body, EncryptedBody, Error, ErrorCode};
use crate::server::hub::Subscription;
use crate::server::pipeline::{self, Channel, PROTOCOL_VERSION};
use crate::server::state::State;

/// A socket after a successful `session.open`.
struct Session {
    username: String,
    subscription: Subscription,
    sealer: EventSealer,
}

/// Accepts the upgrade; frames larger than the body limit close the socket.
pub fn upgrade(state: Arc<State>, peer: Option<SocketAddr>, ws: WebSocket) -> BoxWebSocketUpgraded {
    let max = usize::try_from(state.config.limits.max_body_bytes).unwrap_or(usize::MAX);
    let config = WebSocketConfig::default()
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    ws.config(config)
        .on_upgrade(move |socket| run(state, peer, socket))
        .boxed()
}

async fn run(state: Arc<State>, peer: Option<SocketAddr>, socket: WebSocketStream) {
    let (mut sink, mut stream) = socket.split();
    let mut session: Option<Session> = None;
    let interval = state.config.ping_interval;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let mut last_seen = Instant::now();
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            frame = stream.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => { last_seen = Instant::now(); continue; }
                    Some(Ok(Message::Binary(_))) => {
                        let error = Error::new(ErrorCode::BadEnvelope, "frames must be text frames holding EncryptedBody JSON");
                        if send_json(&mut sink, &error).await.is_err() { break; }
                        continue;
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                };
                last_seen = Instant::now();
                let (reply, keep_open) = handle_frame(&state, peer, &text, &mut session).await;
                if sink.send(Message::Text(reply)).await.is_err() || !keep_open {
                    break;
                }
            }
            event = next_event(&mut session) => {
                let Some(event) = event else {
                    // The hub dropped this socket: too slow, or the user is gone.
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                };
                let Some(frame) = session.as_mut().and_then(|s| seal_event(s, &event)) else { break };
                if sink.send(Message::Text(frame)).await.is_err() { break; }
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > interval * 3 { break; }
                if sink.send(Message::Ping(Vec::new())).await.is_err() { break; }
            }
            _ = shutdown.changed() => {
                let _ = sink.send(Message::Close(None)).await;
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

/// Runs one request frame; returns the reply frame and whether the socket stays open.
async fn handle_frame(
    state: &Arc<State>,
    peer: Option<SocketAddr>,
    text: &str,
    session: &mut Option<Session>,
) -> (String, bool) {
    let envelope: EncryptedBody = match serde_json::from_str(text) {
        Ok(envelope) => envelope,
        Err(e) => {
            return (
                plain(&Error::new(
                    ErrorCode::BadEnvelope,
                    format!("the frame is not an EncryptedBody: {e}"),
                )),
                true,
            );
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
                let subscription = state.hub.subscribe(&username);
                *session = Some(Session {
                    username,
                    subscription,
                    sealer: EventSealer::new(answered.secret.event_key()),
                });
            }
            let reply = serde_json::to_string(&answered.response).unwrap_or_default();
            // A first frame that was opened but refused leaves no session: close.
            (reply, session.is_some())
        }
        Err(failure) => (plain(&failure.error), channel != Channel::SocketFirst),
    }
}

async fn next_event(session: &mut Option<Session>) -> Option<Event> {
    match session {
        Some(session) => session.subscription.events.recv().await,
        None => std::future::pending().await,
    }
}

fn seal_event(session: &mut Session, event: &Event) -> Option<String> {
    let seq = session.sealer.next_seq();
    let body = Body {
        r#type: event.event_type().as_str().to_owned(),
        created_at: OffsetDateTime::now_utc(),
        request_id: None,
        username: None,
        seq: Some(seq as i64),
        payload: event.payload_json().ok()?.as_object().cloned(),
        error: None,
    };
    let json = serde_json::to_vec(&body).ok()?;
    let sealed = session
        .sealer
        .seal(&json)
        .map_err(|e| tracing::error!(%e, "sealing an event failed"))
        .ok()?;
    let frame = EncryptedBody {
        version: PROTOCOL_VERSION,
        key: None,
        iv: sealed.iv.to_vec().into(),
        data: sealed.data.into(),
        signature: None,
        seq: Some(sealed.seq as i64),
    };
    serde_json::to_string(&frame).ok()
}

fn plain(error: &Error) -> String {
    serde_json::to_string(error).unwrap_or_default()
}

async fn send_json<S: SinkExt<Message> + Unpin>(
    sink: &mut S,
    error: &Error,
) -> Result<(), S::Error> {
    sink.send(Message::Text(plain(error))).await
}
