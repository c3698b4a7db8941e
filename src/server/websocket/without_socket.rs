//! One socket's frame path without a socket, for the fuzzing harness
//! (`crate::fuzzing::websocket_frame`) and its corpus replay: what
//! [`super::run`] does with one incoming text frame, and with the events the
//! frame queued for the session, minus the I/O.

use super::*;
use crate::crypto::EventKey;

/// What the socket task sent back for one frame.
pub(crate) struct FrameOutcome {
    /// The reply frame (a plain `Error` or an `EncryptedBody`, JSON).
    pub(crate) reply: String,
    /// Whether the socket would stay open.
    pub(crate) keep_open: bool,
    /// The event frames sealed for the session afterwards.
    pub(crate) events: Vec<String>,
}

/// Handles `text` as the socket task would: on a socket whose session is
/// already open as `session_user` (with the user's stored key and an event
/// key `event_key`), or, with `None`, as the first frame of a fresh socket.
/// Then seals the events queued for the session, as `run` does, and
/// unsubscribes the session from the hub (the socket closes).
pub(crate) async fn handle_text_frame(
    state: &Arc<State>,
    peer: Option<SocketAddr>,
    text: &str,
    session_user: Option<&str>,
    event_key: EventKey,
) -> FrameOutcome {
    let mut session = None;
    if let Some(username) = session_user.and_then(|name| Username::try_from(name).ok())
        && let Ok(Some(key)) = state.current_key(&username).await
    {
        session = Some(Session {
            subscription: state.hub.subscribe(&username),
            username,
            public_key: key.to_vec(),
            sealer: EventSealer::new(event_key),
        });
    }
    let (reply, keep_open) = handle_frame(state, peer, text, &mut session).await;
    let mut events = Vec::new();
    if let Some(current) = session.as_mut() {
        while let Ok(event) = current.subscription.events.try_recv() {
            if ended(state, current).await.is_some() {
                break;
            }
            let honest_seq = state.config.rules().event_seq;
            match seal_event(current, &event, honest_seq) {
                Some(frame) => events.push(frame),
                None => break,
            }
        }
    }
    if let Some(session) = session {
        state
            .hub
            .unsubscribe(&session.username, session.subscription.id);
    }
    FrameOutcome {
        reply,
        keep_open,
        events,
    }
}
