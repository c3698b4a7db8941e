//! A client session with one server: the server key it pinned, the user
//! it speaks as, and the envelope work of every exchange.
//!
//! Each exchange: build the `Body` (fresh `request_id`, `created_at` now),
//! seal it under the pinned server key, sign it when the type requires,
//! `POST /encrypted`, open the response with the derived response key, and
//! check that it echoes the `request_id` and that its `created_at` is within
//! the freshness window. Only then is the payload handed back.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

use crate::bodies::Request;
use crate::client::error::ClientError;
use crate::client::exchange::{self, Draft, Reply, Sealed, Signer};
use crate::client::generated::{Exchange, http};
use crate::crypto::{Fingerprint, KeyRing, PrivateKey, PublicKey, RequestSecret, ResponseEnvelope};
use crate::models::{
    Body, EncryptedBody, EncryptedRequest, Error, ErrorCode, KeyHistory, Limits, References,
};

/// A session with one server as one user.
pub struct Session {
    http: http::Client,
    server_key: PublicKey,
    window: Duration,
    username: String,
    /// The user's key ring: the current key signs, earlier ones open what
    /// was wrapped for them.
    keys: Option<KeyRing>,
    /// Which of the user's keys each index of their history names, as far
    /// as this session learned it ([`Session::learn_own_history`]).
    own_indexes: Mutex<BTreeMap<i64, Fingerprint>>,
    /// The limits the server announced: requests over them are refused
    /// here, before sending, so the person hears `too_large` rather than
    /// a connection the server cut.
    limits: Limits,
}

impl Session {
    /// Fetches `/references` from `base_url` and trusts the server key it
    /// announces (trust on first use): compare its fingerprint with
    /// `nanochat server-key`, or use [`Session::connect_pinned`].
    pub async fn connect(
        base_url: &str,
        username: &str,
        signer: Option<PrivateKey>,
    ) -> Result<Session, ClientError> {
        let http = http::Client::new(base_url);
        let references = http
            .get_references()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .into_inner();
        Session::with_references(http, references, username, signer)
    }

    /// A session on already fetched (or pinned) references.
    pub fn with_references(
        http: http::Client,
        references: References,
        username: &str,
        signer: Option<PrivateKey>,
    ) -> Result<Session, ClientError> {
        let server_key = PublicKey::from_spki_der(&references.server_public_key)?;
        if server_key.fingerprint().to_string() != references.server_fingerprint {
            return Err(ClientError::InvalidResponse(
                "the announced fingerprint does not match the announced key".into(),
            ));
        }
        Ok(Session {
            http,
            server_key,
            window: Duration::from_secs(references.freshness_window_seconds.max(0) as u64),
            username: username.to_owned(),
            keys: signer.map(KeyRing::single),
            own_indexes: Mutex::new(BTreeMap::new()),
            limits: references.limits,
        })
    }

    /// Like [`Session::connect`], but refuses a server whose key does not
    /// have the fingerprint the user pinned (or read from `nanochat
    /// server-key`): `/references` itself is unauthenticated, so pinning is
    /// what stops a man in the middle from announcing his own key.
    pub async fn connect_pinned(
        base_url: &str,
        username: &str,
        signer: Option<PrivateKey>,
        pinned: &Fingerprint,
    ) -> Result<Session, ClientError> {
        let session = Session::connect(base_url, username, signer).await?;
        if session.server_key.fingerprint() != *pinned {
            return Err(ClientError::InvalidResponse(format!(
                "the server key changed: pinned {pinned}, announced {}",
                session.server_key.fingerprint()
            )));
        }
        Ok(session)
    }

    /// The freshness window the server announced; responses and events
    /// outside it are refused.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The limits the server announced in `/references`.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The pinned server key.
    pub fn server_key(&self) -> &PublicKey {
        &self.server_key
    }

    /// The progenitor client underneath.
    pub fn http(&self) -> &http::Client {
        &self.http
    }

    /// The user this session speaks as.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The signing key, or an error naming what is missing: sealing names
    /// and messages needs the user's private key.
    pub fn require_signer(&self) -> Result<&PrivateKey, ClientError> {
        Ok(self.require_keys()?.current())
    }

    /// The key ring, or an error naming what is missing.
    pub fn require_keys(&self) -> Result<&KeyRing, ClientError> {
        self.keys.as_ref().ok_or_else(|| {
            ClientError::InvalidResponse("this session has no private key to sign with".into())
        })
    }

    /// Replaces the key ring with this one key (after `user.complete`).
    pub fn set_signer(&mut self, signer: Option<PrivateKey>) {
        self.set_keys(signer.map(KeyRing::single));
    }

    /// Replaces the key ring (after a login or a key rotation).
    pub fn set_keys(&mut self, keys: Option<KeyRing>) {
        self.keys = keys;
    }

    /// Learns which key each index of the user's own history names, so
    /// that content wrapped for an earlier key opens with that key
    /// ([`Session::own_key_at`]). The history need not be verified: a wrong
    /// one only makes an unwrap fail.
    pub fn learn_own_history(&self, history: &KeyHistory) {
        let mut indexes = self.own_indexes.lock().unwrap_or_else(|p| p.into_inner());
        for entry in &history.keys {
            indexes.insert(entry.index, Fingerprint::of_spki_der(&entry.public_key));
        }
    }

    /// The private key for content wrapped for the user's key at `index`
    /// (`Message.key_index`, `ConversationName.key_index`): the ring's key
    /// with that index's fingerprint. `None` (a key recorded before the
    /// server kept key history) means index 0. Before the session learned
    /// its history, the current key.
    pub fn own_key_at(&self, index: Option<i64>) -> Result<&PrivateKey, ClientError> {
        let ring = self.require_keys()?;
        let indexes = self.own_indexes.lock().unwrap_or_else(|p| p.into_inner());
        if indexes.is_empty() {
            return Ok(ring.current());
        }
        let index = index.unwrap_or(0);
        indexes
            .get(&index)
            .and_then(|fingerprint| ring.find(fingerprint))
            .ok_or_else(|| {
                ClientError::Local(format!(
                    "this was sealed for key {index} of {}, which this device does not hold: log in again with the sync password, or import a key file that holds it",
                    self.username
                ))
            })
    }

    /// The Body for `request`, with a fresh `request_id` and the current time.
    pub fn body_for(&self, request: &Request) -> Result<Body, ClientError> {
        Ok(self.draft(request)?.body().clone())
    }

    /// The first step of an exchange as this user ([`Draft::new`]).
    pub fn draft(&self, request: &Request) -> Result<Draft, ClientError> {
        Draft::new(&self.username, request)
    }

    /// Seals `draft` to the pinned server key, signed with the current key
    /// when its type is signed, on the calling thread: for callers that
    /// seal ahead of time on their own threads.
    pub fn seal_draft_now(&self, draft: Draft) -> Result<Sealed, ClientError> {
        let signer = self.keys.as_ref().map(KeyRing::current);
        draft.seal(&self.server_key, Signer::from(signer))
    }

    /// Like [`Session::seal_draft_now`], on a blocking thread: RSA-OAEP and
    /// RSA-PSS are too slow for the async executor.
    pub async fn seal_draft(&self, draft: Draft) -> Result<Sealed, ClientError> {
        let server_key = self.server_key.clone();
        let signer = self.keys.as_ref().map(|k| k.current().clone());
        tokio::task::spawn_blocking(move || draft.seal(&server_key, Signer::from(signer.as_ref())))
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?
    }

    /// Seals any Body (tests use this to send stale or replayed ones),
    /// signing it when `sign` is set.
    pub async fn seal(
        &self,
        body: &Body,
        sign: bool,
    ) -> Result<(EncryptedBody, RequestSecret), ClientError> {
        let sealed = self
            .seal_draft(Draft::from_body(body.clone(), sign))
            .await?;
        Ok((sealed.envelope()?, sealed.into_secret()))
    }

    /// Sends a sealed envelope and opens, checks and decodes the answer.
    pub async fn send(
        &self,
        body: &Body,
        envelope: &EncryptedBody,
        secret: &RequestSecret,
    ) -> Result<serde_json::Value, ClientError> {
        let request = EncryptedRequest::try_from(envelope)
            .map_err(|e| ClientError::InvalidResponse(format!("not a request envelope: {e}")))?;
        self.deliver(body, serde_json::to_string(&request)?, secret)
            .await
    }

    /// Sends a sealed request and opens, checks and decodes the answer.
    pub async fn send_sealed(&self, sealed: &Sealed) -> Result<serde_json::Value, ClientError> {
        self.deliver(sealed.body(), sealed.text(), sealed.secret())
            .await
    }

    /// `POST /encrypted` of an envelope's `text`, within the announced
    /// size, and the answer opened for `body`: a plain error is
    /// [`ClientError::Api`] like an encrypted one.
    async fn deliver(
        &self,
        body: &Body,
        text: String,
        secret: &RequestSecret,
    ) -> Result<serde_json::Value, ClientError> {
        self.check_body_size(text.len())?;
        match exchange::post(&self.http, text).await? {
            Reply::Encrypted(response) => self.open_response(body, &response, secret),
            Reply::Plain(_, error) => Err(ClientError::Api(error)),
            // A 413 whose body is not the plain Error (a proxy's page).
            Reply::Unreadable(413, _) => Err(ClientError::Api(Error {
                code: ErrorCode::TooLarge,
                message: format!(
                    "the request is over the server's limit of {} bytes",
                    self.limits.max_body_bytes
                ),
            })),
            Reply::Unreadable(status, bytes) => Err(ClientError::Transport(format!(
                "HTTP {status} without an Error body: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ))),
        }
    }

    /// Refuses a request envelope of `size` bytes over the announced
    /// `max_body_bytes` before it is sent: the server answers such a
    /// request early and closes the connection while the client is still
    /// writing, which the client would see as a broken connection. The
    /// refusal is the `too_large` the server would have answered, so
    /// callers handle one error whichever side found it.
    pub fn check_body_size(&self, size: usize) -> Result<(), ClientError> {
        let limit = u64::try_from(self.limits.max_body_bytes).unwrap_or(u64::MAX);
        if size as u64 > limit {
            return Err(ClientError::Api(Error {
                code: ErrorCode::TooLarge,
                message: format!(
                    "the request is {size} bytes, over the server's limit of {limit} bytes (not sent)"
                ),
            }));
        }
        Ok(())
    }

    /// Opens the encrypted answer to `sealed` and checks it
    /// ([`Session::open_response`]).
    pub fn open_answer(
        &self,
        sealed: &Sealed,
        answer: &EncryptedBody,
    ) -> Result<serde_json::Value, ClientError> {
        self.open_response(sealed.body(), answer, sealed.secret())
    }

    /// Opens a response envelope for `body`'s request and checks it.
    pub fn open_response(
        &self,
        body: &Body,
        response: &EncryptedBody,
        secret: &RequestSecret,
    ) -> Result<serde_json::Value, ClientError> {
        let sealed = ResponseEnvelope::from_parts(&response.iv, response.data.to_vec())?;
        let plain = secret.response_key().open(&sealed)?;
        let answer: Body = serde_json::from_slice(&plain)?;
        // Every response, errors included, carries a fresh created_at.
        let skew = (OffsetDateTime::now_utc() - answer.created_at).abs();
        if skew > self.window {
            return Err(ClientError::InvalidResponse(format!(
                "the response is {} s old or ahead; the window is {} s",
                skew.whole_seconds(),
                self.window.as_secs()
            )));
        }
        // A response that decrypts under K_resp comes from the server. When
        // it could not read our Body it cannot echo it: then, and only then,
        // it answers bad_request with an empty type and no request_id.
        if let (None, Some(error)) = (&answer.request_id, &answer.error) {
            if !answer.r#type.is_empty() || error.code != ErrorCode::BadRequest {
                return Err(ClientError::InvalidResponse(format!(
                    "an error without request_id must be bad_request with an empty type, got {:?} {}",
                    answer.r#type, error.code
                )));
            }
            return Err(ClientError::Api(error.clone()));
        }
        if answer.r#type != body.r#type {
            return Err(ClientError::InvalidResponse(format!(
                "the response is for {:?}, not {:?}",
                answer.r#type, body.r#type
            )));
        }
        if answer.request_id != body.request_id {
            return Err(ClientError::InvalidResponse(
                "the response does not echo our request_id".into(),
            ));
        }
        if let Some(error) = answer.error {
            return Err(ClientError::Api(error));
        }
        Ok(serde_json::Value::Object(
            answer.payload.unwrap_or_default(),
        ))
    }
}

impl Exchange for Session {
    type Error = ClientError;

    async fn exchange(&self, request: Request) -> Result<serde_json::Value, ClientError> {
        let sealed = self.seal_draft(self.draft(&request)?).await?;
        self.send_sealed(&sealed).await
    }
}
