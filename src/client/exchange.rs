//! One request's way out and its answer's way back, step by step: a
//! [`Draft`] (the Body), a [`Sealed`] request (the wire envelope and the
//! secret that opens its answer), [`post`] over `POST /encrypted` and the
//! [`Reply`] that comes back.
//!
//! [`crate::client::Session`] goes through these steps for every exchange. They are public
//! so that the callers that need to stand between two steps use the same
//! code: the conformance runner tampers with the Body before sealing and
//! with the envelope after it, and the load generator seals ahead of time
//! on worker threads and sends later.

use std::time::Duration;

use progenitor_client::ClientInfo as _;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::bodies::{BodyType, Request};
use crate::client::error::ClientError;
use crate::client::generated::http;
use crate::crypto::{PrivateKey, PublicKey, RequestSecret, seal_request};
use crate::models::{Body, EncryptedBody, Error};
use crate::wire::PROTOCOL_VERSION;

/// Paces retries of requests the server refused with its per-address
/// limit (a plain `rate_limited`, before it read or handled anything, so
/// the same envelope may be sent again): exponential waits from 50 ms,
/// for at most [`RateLimitBackoff::PATIENCE`] in all.
#[derive(Debug)]
pub struct RateLimitBackoff {
    started: std::time::Instant,
    wait: Duration,
}

impl RateLimitBackoff {
    /// How long one request keeps being retried.
    pub const PATIENCE: Duration = Duration::from_secs(10);

    /// A fresh backoff for one request.
    pub fn new() -> Self {
        RateLimitBackoff {
            started: std::time::Instant::now(),
            wait: Duration::from_millis(50),
        }
    }

    /// Whether `error` is the per-address limit's refusal.
    pub fn applies_to(error: &Error) -> bool {
        error.code == crate::models::ErrorCode::RateLimited
    }

    /// Waits before the next attempt; `false` once patience is exhausted.
    pub async fn wait(&mut self) -> bool {
        if self.started.elapsed() + self.wait > Self::PATIENCE {
            return false;
        }
        tokio::time::sleep(self.wait).await;
        self.wait = (self.wait * 2).min(Duration::from_secs(1));
        true
    }
}

impl Default for RateLimitBackoff {
    fn default() -> Self {
        Self::new()
    }
}

/// The wire form of a sealed request: what `POST /encrypted` and a
/// WebSocket frame carry (for callers that seal with
/// [`crate::crypto::seal_request`] themselves).
pub fn wire_request(envelope: crate::crypto::RequestEnvelope) -> EncryptedBody {
    EncryptedBody {
        version: PROTOCOL_VERSION,
        key: Some(envelope.key.into()),
        iv: envelope.iv.to_vec().into(),
        data: envelope.data.into(),
        signature: envelope.signature.map(Into::into),
        seq: None,
    }
}

/// A signing function outside this crate: the signature over
/// `key || iv || data`, or why it could not be made.
pub type ExternalSign<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, String>;

/// Who signs a request (api.yml, "Request envelope", step 4).
pub enum Signer<'a> {
    /// Nobody: `user.sync`, or a request sent unsigned on purpose.
    Nobody,
    /// A user's key.
    Key(&'a PrivateKey),
    /// A signature made outside this crate over `key || iv || data`: a key
    /// the key policy refuses cannot be a [`PrivateKey`], yet a conformance
    /// case must be able to prove possession of one.
    External(ExternalSign<'a>),
}

impl<'a> From<Option<&'a PrivateKey>> for Signer<'a> {
    fn from(key: Option<&'a PrivateKey>) -> Self {
        key.map_or(Signer::Nobody, Signer::Key)
    }
}

/// A request's Body before it is sealed; [`Draft::body_mut`] changes it.
#[derive(Debug, Clone)]
pub struct Draft {
    body: Body,
    signed: bool,
}

impl Draft {
    /// The Body of `request` from `username`, with a fresh `request_id`
    /// and `created_at` now.
    pub fn new(username: &str, request: &Request) -> Result<Draft, ClientError> {
        Ok(Draft {
            body: fresh_body(
                username,
                request.body_type().as_str(),
                request.payload_json()?.and_then(|v| v.as_object().cloned()),
            ),
            signed: request.body_type().is_signed(),
        })
    }

    /// A Body of any type name with any payload (a type this crate does not
    /// know is signed, as every type but `user.sync` is), for callers that
    /// send what a typed [`Request`] cannot hold.
    pub fn of_type(username: &str, body_type: &str, payload: Option<Map<String, Value>>) -> Draft {
        Draft {
            body: fresh_body(username, body_type, payload),
            signed: BodyType::from_name(body_type).is_none_or(|t| t.is_signed()),
        }
    }

    /// An already built Body (a stale or replayed one, in tests), signed
    /// only if `signed`.
    pub fn from_body(body: Body, signed: bool) -> Draft {
        Draft { body, signed }
    }

    /// The Body as it will be sealed, and as the answer must echo it.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// Changes the Body; the answer is then checked against the changed one.
    pub fn body_mut(&mut self) -> &mut Body {
        &mut self.body
    }

    /// Whether the request's type is signed: a signer given to
    /// [`Draft::seal`] is used only then.
    pub fn signed(&self) -> bool {
        self.signed
    }

    /// Seals the Body to `server_key`, signed by `signer` if the type is
    /// signed.
    pub fn seal(self, server_key: &PublicKey, signer: Signer<'_>) -> Result<Sealed, ClientError> {
        // The Body's JSON straight from the struct: no `Value` tree to
        // build for a large payload.
        let json = serde_json::to_vec(&self.body)?;
        self.seal_json(&json, server_key, signer)
    }

    /// Like [`Draft::seal`], with `edit` changing the Body's JSON just
    /// before it is encrypted: what a typed [`Body`] cannot express (a
    /// missing field, another spelling of a date). The answer is still
    /// checked against [`Draft::body`]. An error of `edit` is
    /// [`ClientError::Local`].
    pub fn seal_edited(
        self,
        server_key: &PublicKey,
        signer: Signer<'_>,
        edit: impl FnOnce(&mut Value) -> Result<(), String>,
    ) -> Result<Sealed, ClientError> {
        let mut plain = serde_json::to_value(&self.body)?;
        edit(&mut plain).map_err(ClientError::Local)?;
        let json = serde_json::to_vec(&plain)?;
        self.seal_json(&json, server_key, signer)
    }

    fn seal_json(
        self,
        json: &[u8],
        server_key: &PublicKey,
        signer: Signer<'_>,
    ) -> Result<Sealed, ClientError> {
        let signer = if self.signed { signer } else { Signer::Nobody };
        let key = match &signer {
            Signer::Key(key) => Some(*key),
            Signer::Nobody | Signer::External(_) => None,
        };
        let (mut envelope, secret) = seal_request(server_key, json, key)?;
        if let Signer::External(sign) = signer {
            envelope.signature = Some(sign(&envelope.signed_bytes()).map_err(ClientError::Local)?);
        }
        Ok(Sealed {
            wire: serde_json::to_value(wire_request(envelope))?,
            body: self.body,
            secret,
        })
    }
}

fn fresh_body(username: &str, body_type: &str, payload: Option<Map<String, Value>>) -> Body {
    Body {
        r#type: body_type.to_owned(),
        created_at: OffsetDateTime::now_utc(),
        request_id: Some(Uuid::new_v4()),
        username: Some(username.to_owned()),
        seq: None,
        payload,
        error: None,
    }
}

/// A sealed request: its envelope as JSON (which [`Sealed::wire_mut`]
/// may still change), and the Body and secret its answer is opened and
/// checked with.
pub struct Sealed {
    body: Body,
    wire: Value,
    secret: RequestSecret,
}

impl Sealed {
    /// The Body that was sealed (before any JSON edit): the answer must
    /// echo its type and `request_id`.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The secret whose derived keys open the answer and the events.
    pub fn secret(&self) -> &RequestSecret {
        &self.secret
    }

    /// The secret alone, once the envelope has gone out.
    pub fn into_secret(self) -> RequestSecret {
        self.secret
    }

    /// The envelope as JSON, `{version, key, iv, data, signature}`.
    pub fn wire(&self) -> &Value {
        &self.wire
    }

    /// Changes the envelope before it is sent (a flipped bit, another
    /// version, an extra field).
    pub fn wire_mut(&mut self) -> &mut Value {
        &mut self.wire
    }

    /// The envelope's text: the body of `POST /encrypted`, or a WebSocket
    /// frame.
    pub fn text(&self) -> String {
        // In the protocol's field order (api.yml: `{version, key, iv, data,
        // signature}`), then whatever a tamper added: a JSON map alone
        // would write the fields sorted by name.
        const ORDER: [&str; 5] = ["version", "key", "iv", "data", "signature"];
        let Some(fields) = self.wire.as_object() else {
            return self.wire.to_string();
        };
        let known = ORDER
            .iter()
            .filter_map(|name| fields.get(*name).map(|value| (*name, value)));
        let added = fields
            .iter()
            .filter(|(name, _)| !ORDER.contains(&name.as_str()))
            .map(|(name, value)| (name.as_str(), value));
        let members: Vec<String> = known
            .chain(added)
            .map(|(name, value)| format!("{}:{value}", Value::from(name)))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// The envelope as the typed model (fails once an edit made it
    /// something else).
    pub fn envelope(&self) -> Result<EncryptedBody, ClientError> {
        Ok(serde_json::from_value(self.wire.clone())?)
    }
}

/// What `POST /encrypted` answered.
#[derive(Debug)]
pub enum Reply {
    /// HTTP 200: the encrypted answer, errors included, to open with the
    /// request's secret.
    Encrypted(EncryptedBody),
    /// The plain `Error` of an envelope the server could not open, with its
    /// HTTP status.
    Plain(u16, Error),
    /// Another status whose body is not an `Error` (a proxy's page): the
    /// status and the body as it came.
    Unreadable(u16, Vec<u8>),
}

/// Posts `text` to `POST /encrypted` through `http`'s connection pool,
/// sending it again while the server's per-address limit refuses it
/// ([`RateLimitBackoff`]: refused before it was read, so the same envelope
/// may go again). Checks nothing about the size or the content: the
/// conformance runner sends what a client never would.
pub async fn post(http: &http::Client, text: String) -> Result<Reply, ClientError> {
    let url = format!("{}/encrypted", http.baseurl().trim_end_matches('/'));
    let mut backoff = RateLimitBackoff::new();
    loop {
        let response = http
            .client()
            .post(&url)
            .header("content-type", "application/json")
            .body(text.clone())
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(format!("reading the answer: {e}")))?;
        if status == 200 {
            let answer = serde_json::from_slice(&bytes).map_err(|e| {
                ClientError::InvalidResponse(format!("HTTP 200 without an EncryptedBody: {e}"))
            })?;
            return Ok(Reply::Encrypted(answer));
        }
        match serde_json::from_slice::<Error>(&bytes) {
            Ok(error) if RateLimitBackoff::applies_to(&error) && backoff.wait().await => continue,
            Ok(error) => return Ok(Reply::Plain(status, error)),
            Err(_) => return Ok(Reply::Unreadable(status, bytes.to_vec())),
        }
    }
}
