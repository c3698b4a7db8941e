//! A WebSocket session: `session.open` first, then request/response frames
//! and events checked for authenticity, order (`seq`) and freshness.

use std::collections::VecDeque;

use futures_util::{SinkExt, StreamExt};
use time::OffsetDateTime;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::bodies::{Event, Request};
use crate::client::error::ClientError;
use crate::client::session::{RateLimitBackoff, Session};
use crate::crypto::{EventEnvelope, EventReceiver};
use crate::models::{Body, EncryptedBody, Error};

type Stream = WebSocketStream<reqwest::Upgraded>;

/// An open, authenticated WebSocket.
pub struct Socket<'a> {
    session: &'a Session,
    stream: Stream,
    events: EventReceiver,
    pending: VecDeque<Event>,
    /// Set when a frame failed its checks mid-exchange: the stream may hold
    /// an unread response, so the socket is not trusted for more requests.
    broken: bool,
}

impl<'a> Socket<'a> {
    /// Upgrades `GET /websocket` and sends the signed `session.open`.
    pub async fn open(session: &'a Session) -> Result<Socket<'a>, ClientError> {
        let mut backoff = RateLimitBackoff::new();
        loop {
            match Self::open_once(session).await {
                // The server closes a socket whose first frame it refused.
                Err(ClientError::Api(error))
                    if RateLimitBackoff::applies_to(&error) && backoff.wait().await => {}
                other => return other,
            }
        }
    }

    async fn open_once(session: &'a Session) -> Result<Socket<'a>, ClientError> {
        let upgraded = session
            .http()
            .websocket()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .into_inner();
        let mut stream = WebSocketStream::from_raw_socket(upgraded, Role::Client, None).await;
        let request = Request::SessionOpen;
        let body = session.body_for(&request)?;
        let (envelope, secret) = session.seal(&body, true).await?;
        stream
            .send(Message::text(serde_json::to_string(&envelope)?))
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let frame = next_text(&mut stream).await?;
        let response = parse_frame(&frame)?;
        session.open_response(&body, &response, &secret)?;
        Ok(Socket {
            session,
            stream,
            events: EventReceiver::new(secret.event_key()),
            pending: VecDeque::new(),
            broken: false,
        })
    }

    /// Sends one request over the socket and returns its response payload;
    /// events arriving meanwhile are kept for [`Socket::next_event`].
    pub async fn request(&mut self, request: Request) -> Result<serde_json::Value, ClientError> {
        self.check_usable()?;
        let body = self.session.body_for(&request)?;
        let (envelope, secret) = self
            .session
            .seal(&body, request.body_type().is_signed())
            .await?;
        let text = serde_json::to_string(&envelope)?;
        // The server closes a socket on a frame over its limit.
        self.session.check_body_size(text.len())?;
        self.stream
            .send(Message::text(text.clone()))
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let mut backoff = RateLimitBackoff::new();
        loop {
            let frame = match parse_frame(&next_text(&mut self.stream).await?) {
                // Refused before it was read: the same frame may go again.
                Err(ClientError::Api(error))
                    if RateLimitBackoff::applies_to(&error) && backoff.wait().await =>
                {
                    self.stream
                        .send(Message::text(text.clone()))
                        .await
                        .map_err(|e| ClientError::Transport(e.to_string()))?;
                    continue;
                }
                other => other?,
            };
            if frame.seq.is_some() {
                match self.open_event(&frame) {
                    Ok(event) => self.pending.push_back(event),
                    Err(e) => {
                        self.broken = true;
                        return Err(e);
                    }
                }
                continue;
            }
            return self.session.open_response(&body, &frame, &secret);
        }
    }

    /// The next event, checked: it decrypts under the event key with its
    /// `seq`, `seq` increases, and `created_at` is fresh.
    pub async fn next_event(&mut self) -> Result<Event, ClientError> {
        if let Some(event) = self.pending.pop_front() {
            return Ok(event);
        }
        self.check_usable()?;
        let frame = parse_frame(&next_text(&mut self.stream).await?)?;
        if frame.seq.is_none() {
            return Err(ClientError::InvalidResponse(
                "expected an event, got a response frame".into(),
            ));
        }
        self.open_event(&frame)
    }

    fn check_usable(&self) -> Result<(), ClientError> {
        if self.broken {
            return Err(ClientError::InvalidResponse(
                "this socket received a frame that failed its checks; open a new one".into(),
            ));
        }
        Ok(())
    }

    fn open_event(&mut self, frame: &EncryptedBody) -> Result<Event, ClientError> {
        let seq = frame
            .seq
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| ClientError::InvalidResponse("bad seq".into()))?;
        let envelope = EventEnvelope::from_parts(seq, &frame.iv, frame.data.to_vec())?;
        let plain = self.events.open(&envelope)?;
        let body: Body = serde_json::from_slice(&plain)?;
        if body.seq != Some(seq as i64) {
            return Err(ClientError::InvalidResponse(
                "the event body's seq does not match its frame".into(),
            ));
        }
        let skew = (OffsetDateTime::now_utc() - body.created_at).abs();
        if skew > self.session.window() {
            return Err(ClientError::InvalidResponse("stale event".into()));
        }
        Event::from_parts(&body.r#type, body.payload.map(serde_json::Value::Object))
            .map_err(|e| ClientError::InvalidResponse(e.to_string()))
    }
}

/// The close codes that end a session for good (api.yml, "Key history"):
/// 4001 the key was replaced, 4002 the user was reset, 4003 deleted.
pub const KEY_CLOSE_CODES: std::ops::RangeInclusive<u16> = 4001..=4003;

async fn next_text(stream: &mut Stream) -> Result<String, ClientError> {
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Binary(_))) => {
                return Err(ClientError::InvalidResponse(
                    "unexpected binary frame".into(),
                ));
            }
            Some(Ok(Message::Close(Some(frame))))
                if (KEY_CLOSE_CODES).contains(&u16::from(frame.code)) =>
            {
                return Err(ClientError::SessionEnded {
                    code: frame.code.into(),
                    reason: frame.reason.to_string(),
                });
            }
            Some(Ok(Message::Close(_))) | None => {
                return Err(ClientError::Transport(
                    "the server closed the socket".into(),
                ));
            }
            Some(Err(e)) => return Err(ClientError::Transport(e.to_string())),
        }
    }
}

/// A frame is an EncryptedBody, or a plain Error for envelopes the server could not open.
fn parse_frame(text: &str) -> Result<EncryptedBody, ClientError> {
    if let Ok(frame) = serde_json::from_str::<EncryptedBody>(text) {
        return Ok(frame);
    }
    match serde_json::from_str::<Error>(text) {
        Ok(error) => Err(ClientError::Api(error)),
        Err(e) => Err(ClientError::InvalidResponse(format!(
            "unreadable frame: {e}"
        ))),
    }
}
