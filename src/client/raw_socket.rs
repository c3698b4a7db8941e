//! The WebSocket underneath every client socket: the upgrade, text frames
//! in and out, the `session.open` handshake and the opening of event
//! frames, without decoding what they carry.
//!
//! [`crate::client::Socket`] builds the checked session on it; the load
//! generator uses it as it is, so that decoding events stays out of its
//! timings; the conformance runner reaches through it
//! ([`RawSocket::stream_mut`]) to send frames no client would.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::client::error::ClientError;
use crate::client::exchange::Sealed;
use crate::client::generated::http;
use crate::client::session::Session;
use crate::crypto::{EventEnvelope, EventReceiver};
use crate::models::{EncryptedBody, Error};

/// The WebSocket stream itself, for frames sent byte by byte.
pub type Stream = WebSocketStream<reqwest::Upgraded>;

/// The close codes that end a session for good (api.yml, "Key history"):
/// 4001 the key was replaced, 4002 the user was reset, 4003 deleted.
pub const KEY_CLOSE_CODES: std::ops::RangeInclusive<u16> = 4001..=4003;

/// An upgraded `GET /websocket`, with the event key once its session is
/// open.
pub struct RawSocket {
    stream: Stream,
    events: Option<EventReceiver>,
}

impl RawSocket {
    /// Upgrades `GET /websocket` through `http`'s connection settings;
    /// nothing is sent yet.
    pub async fn upgrade(http: &http::Client) -> Result<RawSocket, ClientError> {
        let upgraded = http
            .websocket()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .into_inner();
        Ok(RawSocket {
            stream: WebSocketStream::from_raw_socket(upgraded, Role::Client, None).await,
            events: None,
        })
    }

    /// Upgrades and sends `session_open` (a sealed, signed `session.open`)
    /// as the first frame; succeeds once its answer opened and checked
    /// under `session`. A refusal, plain or encrypted, is
    /// [`ClientError::Api`] and the server closes the socket.
    pub async fn open(session: &Session, session_open: &Sealed) -> Result<RawSocket, ClientError> {
        let mut socket = RawSocket::upgrade(session.http()).await?;
        socket.send_text(session_open.text()).await?;
        let response = socket.next_frame().await?;
        session.open_answer(session_open, &response)?;
        socket.events = Some(EventReceiver::new(session_open.secret().event_key()));
        Ok(socket)
    }

    /// Sends one text frame.
    pub async fn send_text(&mut self, text: String) -> Result<(), ClientError> {
        self.stream
            .send(Message::text(text))
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// The next text frame, past pings and pongs. A close with a code of
    /// [`KEY_CLOSE_CODES`] is [`ClientError::SessionEnded`].
    pub async fn next_text(&mut self) -> Result<String, ClientError> {
        loop {
            match self.stream.next().await {
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

    /// The next frame as an `EncryptedBody` (a response or an event); a
    /// plain `Error` frame, the answer to an envelope the server could not
    /// open, is [`ClientError::Api`].
    pub async fn next_frame(&mut self) -> Result<EncryptedBody, ClientError> {
        parse_frame(&self.next_text().await?)
    }

    /// Decrypts an event frame under the session's event key, which also
    /// checks that its `seq` increases; returns the `seq` and the event
    /// Body's JSON, left to the caller to decode as far as it needs.
    pub fn open_event(&mut self, frame: &EncryptedBody) -> Result<(u64, Vec<u8>), ClientError> {
        let events = self.events.as_mut().ok_or_else(|| {
            ClientError::InvalidResponse("an event before the session was open".into())
        })?;
        let seq = frame
            .seq
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| ClientError::InvalidResponse("bad seq".into()))?;
        let envelope = EventEnvelope::from_parts(seq, &frame.iv, frame.data.to_vec())?;
        Ok((seq, events.open(&envelope)?))
    }

    /// The stream itself, for what the methods above never send: a frame
    /// over the limit, a header without its payload, silence without pongs.
    pub fn stream_mut(&mut self) -> &mut Stream {
        &mut self.stream
    }

    /// The stream itself, for good.
    pub fn into_stream(self) -> Stream {
        self.stream
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
