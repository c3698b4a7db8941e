//! A WebSocket session: `session.open` first, then request/response frames
//! and events checked for authenticity, order (`seq`) and freshness, over
//! the [`RawSocket`] transport.

use std::collections::VecDeque;

use time::OffsetDateTime;

use crate::bodies::{Event, Request};
use crate::client::error::ClientError;
use crate::client::exchange::RateLimitBackoff;
pub use crate::client::raw_socket::KEY_CLOSE_CODES;
use crate::client::raw_socket::RawSocket;
use crate::client::session::Session;
use crate::models::{Body, EncryptedBody};

/// An open, authenticated WebSocket.
pub struct Socket<'a> {
    session: &'a Session,
    raw: RawSocket,
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
        let session_open = session
            .seal_draft(session.draft(&Request::SessionOpen)?)
            .await?;
        Ok(Socket {
            session,
            raw: RawSocket::open(session, &session_open).await?,
            pending: VecDeque::new(),
            broken: false,
        })
    }

    /// Sends one request over the socket and returns its response payload;
    /// events arriving meanwhile are kept for [`Socket::next_event`].
    pub async fn request(&mut self, request: Request) -> Result<serde_json::Value, ClientError> {
        self.check_usable()?;
        let sealed = self
            .session
            .seal_draft(self.session.draft(&request)?)
            .await?;
        let text = sealed.text();
        // The server closes a socket on a frame over its limit.
        self.session.check_body_size(text.len())?;
        self.raw.send_text(text.clone()).await?;
        let mut backoff = RateLimitBackoff::new();
        loop {
            let frame = match self.raw.next_frame().await {
                // Refused before it was read: the same frame may go again.
                Err(ClientError::Api(error))
                    if RateLimitBackoff::applies_to(&error) && backoff.wait().await =>
                {
                    self.raw.send_text(text.clone()).await?;
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
            return self.session.open_answer(&sealed, &frame);
        }
    }

    /// The next event, checked: it decrypts under the event key with its
    /// `seq`, `seq` increases, and `created_at` is fresh.
    pub async fn next_event(&mut self) -> Result<Event, ClientError> {
        if let Some(event) = self.pending.pop_front() {
            return Ok(event);
        }
        self.check_usable()?;
        let frame = self.raw.next_frame().await?;
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
        let (seq, plain) = self.raw.open_event(frame)?;
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
