//! The encrypted envelope of `api.yml` ("Request envelope", "Response",
//! "WebSocket"): requests, responses and events.
//!
//! Request: a fresh 32-byte `K` and 12-byte `iv`; `data = AES-256-GCM(K, iv,
//! body)` with empty AAD; `key = RSA-OAEP(server, K)`; optionally
//! `signature = RSA-PSS(sender, key || iv || data)` (raw concatenation: `key`
//! has the server modulus length and `iv` 12 bytes, so it is unambiguous).
//! Opening ([`RequestEnvelope::open`]) and checking the signature
//! ([`RequestEnvelope::verify_signature`]) are separate steps because the
//! server learns the sender only from the decrypted body.
//!
//! Response: `K_resp = HKDF-SHA-256(ikm = K, salt = request iv, info =
//! "nanochat/v1 response")`, fresh IV, empty AAD, no key, no signature.
//!
//! Events: `K_events = HKDF-SHA-256(ikm = K, salt = iv, info = "nanochat/v1
//! events")`; each event has a u64 `seq` bound as AAD = `"nanochat/v1 event"
//! || seq as 8 bytes big-endian`; [`EventReceiver`] accepts only strictly
//! increasing `seq`.

use std::fmt;

use hkdf::Hkdf;
use rand_core::TryCryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::aead::{self, IV_LEN, KEY_LEN};
use super::{
    CryptoError, Draws, OsRng, PrivateKey, PublicKey, Result, fill_random, key_from_unwrapped,
};

/// HKDF info for the response key.
pub const RESPONSE_INFO: &[u8] = b"nanochat/v1 response";
/// HKDF info for the event key.
pub const EVENTS_INFO: &[u8] = b"nanochat/v1 events";
/// Prefix of the AES-GCM AAD of an event (followed by `seq`, u64 big-endian).
pub const EVENT_AAD_PREFIX: &[u8] = b"nanochat/v1 event";

/// A request envelope as it travels (binary form; the wire JSON base64s the
/// fields).
#[derive(Clone, PartialEq, Eq)]
pub struct RequestEnvelope {
    /// `K` wrapped with RSA-OAEP under the server key.
    pub key: Vec<u8>,
    /// AES-GCM IV of `data`.
    pub iv: [u8; IV_LEN],
    /// AES-256-GCM ciphertext of the body, tag appended.
    pub data: Vec<u8>,
    /// RSA-PSS signature over `key || iv || data`, if the sender signed.
    pub signature: Option<Vec<u8>>,
}

impl fmt::Debug for RequestEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestEnvelope")
            .field("key_len", &self.key.len())
            .field("iv", &super::keys::hex(&self.iv))
            .field("data_len", &self.data.len())
            .field("signed", &self.signature.is_some())
            .finish()
    }
}

/// A freshly opened request: the body and the secret that keys the reply.
#[derive(Debug)]
pub struct OpenedRequest {
    /// The decrypted body (JSON of `Body`), not yet authenticated as coming
    /// from any user: check [`RequestEnvelope::verify_signature`] next.
    pub body: Vec<u8>,
    /// `K` and the request IV, from which response and event keys derive.
    pub secret: RequestSecret,
}

impl RequestEnvelope {
    /// Builds an envelope from decoded wire fields, checking the IV length.
    pub fn from_parts(
        key: Vec<u8>,
        iv: &[u8],
        data: Vec<u8>,
        signature: Option<Vec<u8>>,
    ) -> Result<Self> {
        Ok(Self {
            key,
            iv: aead::iv_from_slice(iv)?,
            data,
            signature,
        })
    }

    /// The bytes the sender signs: `key || iv || data`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.key.len() + IV_LEN + self.data.len());
        out.extend_from_slice(&self.key);
        out.extend_from_slice(&self.iv);
        out.extend_from_slice(&self.data);
        out
    }

    /// Unwraps `K` with the server's private key and decrypts the body. Does
    /// NOT check the signature. Every failure is [`CryptoError::Decrypt`]
    /// (or `BadLength` for a data field shorter than a tag).
    pub fn open(&self, server_key: &PrivateKey) -> Result<OpenedRequest> {
        let unwrapped = server_key.decrypt_oaep(&self.key)?;
        let secret = RequestSecret {
            k: key_from_unwrapped(&unwrapped)?,
            iv: self.iv,
        };
        let body = aead::decrypt(&secret.k, &self.iv, &[], &self.data)?;
        Ok(OpenedRequest { body, secret })
    }

    /// Checks the signature with the sender's public key (named by the
    /// decrypted body). [`CryptoError::MissingSignature`] if unsigned.
    pub fn verify_signature(&self, sender: &PublicKey) -> Result<()> {
        let sig = self
            .signature
            .as_deref()
            .ok_or(CryptoError::MissingSignature)?;
        sender.verify_pss(&self.signed_bytes(), sig)
    }
}

/// Seals a request body for the server, signing it if `signer` is given,
/// with the OS RNG. Returns the envelope and the secret needed to open the
/// response (and, for `session.open`, the events).
pub fn seal_request(
    server: &PublicKey,
    body: &[u8],
    signer: Option<&PrivateKey>,
) -> Result<(RequestEnvelope, RequestSecret)> {
    seal_request_from(&mut Draws::os(&mut OsRng), server, body, signer)
}

/// [`seal_request`] with an explicit RNG. Draw order (for reproducible
/// vectors): `K` (32 bytes), `iv` (12 bytes), then the rsa crate's OAEP seed,
/// then its PSS salt and blinding.
pub fn seal_request_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    server: &PublicKey,
    body: &[u8],
    signer: Option<&PrivateKey>,
) -> Result<(RequestEnvelope, RequestSecret)> {
    seal_request_from(&mut Draws::caller(rng), server, body, signer)
}

fn seal_request_from<R: TryCryptoRng + ?Sized>(
    draws: &mut Draws<'_, R>,
    server: &PublicKey,
    body: &[u8],
    signer: Option<&PrivateKey>,
) -> Result<(RequestEnvelope, RequestSecret)> {
    let mut k = Zeroizing::new([0u8; KEY_LEN]);
    draws.fill(k.as_mut())?;
    let mut iv = [0u8; IV_LEN];
    draws.fill(&mut iv)?;
    let data = aead::encrypt(&k, &iv, &[], body)?;
    let key = draws.encrypt_oaep(server, k.as_ref())?;
    let mut envelope = RequestEnvelope {
        key,
        iv,
        data,
        signature: None,
    };
    if let Some(signer) = signer {
        envelope.signature = Some(draws.sign_pss(signer, &envelope.signed_bytes())?);
    }
    Ok((envelope, RequestSecret { k, iv }))
}

/// The per-request secret `K` with the request IV. Both sides hold one: the
/// client from sealing, the server from opening. Wiped on drop; `Debug`
/// hides it.
#[derive(Clone)]
pub struct RequestSecret {
    k: Zeroizing<[u8; KEY_LEN]>,
    iv: [u8; IV_LEN],
}

impl RequestSecret {
    /// `K_resp = HKDF-SHA-256(ikm = K, salt = iv, info = "nanochat/v1
    /// response")`.
    pub fn response_key(&self) -> ResponseKey {
        ResponseKey(derive(&self.k, &self.iv, RESPONSE_INFO))
    }

    /// `K_events = HKDF-SHA-256(ikm = K, salt = iv, info = "nanochat/v1
    /// events")`.
    pub fn event_key(&self) -> EventKey {
        EventKey(derive(&self.k, &self.iv, EVENTS_INFO))
    }

    /// The request IV.
    pub fn iv(&self) -> &[u8; IV_LEN] {
        &self.iv
    }

    /// The raw `K`. Only for known-answer vectors and interop debugging.
    pub fn expose_key(&self) -> &[u8; KEY_LEN] {
        &self.k
    }
}

impl fmt::Debug for RequestSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestSecret(..)")
    }
}

fn derive(ikm: &[u8; KEY_LEN], salt: &[u8], info: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
    let mut okm = Zeroizing::new([0u8; KEY_LEN]);
    // 32 bytes is far below HKDF-SHA-256's 8160-byte limit: cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, okm.as_mut());
    okm
}

/// A response envelope: no key, no signature.
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseEnvelope {
    /// Fresh AES-GCM IV.
    pub iv: [u8; IV_LEN],
    /// AES-256-GCM ciphertext of the body under `K_resp`, tag appended.
    pub data: Vec<u8>,
}

impl ResponseEnvelope {
    /// Builds an envelope from decoded wire fields, checking the IV length.
    pub fn from_parts(iv: &[u8], data: Vec<u8>) -> Result<Self> {
        Ok(Self {
            iv: aead::iv_from_slice(iv)?,
            data,
        })
    }
}

impl fmt::Debug for ResponseEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseEnvelope")
            .field("iv", &super::keys::hex(&self.iv))
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// `K_resp`: encrypts the response(s) to one request. Wiped on drop.
#[derive(Clone)]
pub struct ResponseKey(Zeroizing<[u8; KEY_LEN]>);

impl ResponseKey {
    /// A response key from raw bytes: for known-answer vectors and the
    /// conformance suite's deliberately broken servers, never for real
    /// responses (those come from [`RequestSecret::response_key`]).
    pub fn from_raw(key: [u8; KEY_LEN]) -> Self {
        ResponseKey(Zeroizing::new(key))
    }

    /// Seals a response body with a fresh IV from the OS RNG.
    pub fn seal(&self, body: &[u8]) -> Result<ResponseEnvelope> {
        self.seal_with_rng(&mut OsRng, body)
    }

    /// [`Self::seal`] with an explicit RNG (draws the 12-byte IV).
    pub fn seal_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        body: &[u8],
    ) -> Result<ResponseEnvelope> {
        let mut iv = [0u8; IV_LEN];
        fill_random(rng, &mut iv)?;
        let data = aead::encrypt(&self.0, &iv, &[], body)?;
        Ok(ResponseEnvelope { iv, data })
    }

    /// Opens a response; [`CryptoError::Decrypt`] if it was not sealed
    /// under this key or was altered.
    pub fn open(&self, envelope: &ResponseEnvelope) -> Result<Vec<u8>> {
        aead::decrypt(&self.0, &envelope.iv, &[], &envelope.data)
    }

    /// The raw key. Only for known-answer vectors and interop debugging.
    pub fn expose_key(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for ResponseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseKey(..)")
    }
}

/// An event pushed on a WebSocket.
#[derive(Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    /// Sequence number, bound into the AAD.
    pub seq: u64,
    /// Fresh AES-GCM IV.
    pub iv: [u8; IV_LEN],
    /// AES-256-GCM ciphertext of the event body under `K_events`.
    pub data: Vec<u8>,
}

impl EventEnvelope {
    /// Builds an envelope from decoded wire fields, checking the IV length.
    pub fn from_parts(seq: u64, iv: &[u8], data: Vec<u8>) -> Result<Self> {
        Ok(Self {
            seq,
            iv: aead::iv_from_slice(iv)?,
            data,
        })
    }
}

impl fmt::Debug for EventEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventEnvelope")
            .field("seq", &self.seq)
            .field("iv", &super::keys::hex(&self.iv))
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// The AAD of event `seq`: `"nanochat/v1 event" || seq (u64 big-endian)`.
pub fn event_aad(seq: u64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(EVENT_AAD_PREFIX.len() + 8);
    aad.extend_from_slice(EVENT_AAD_PREFIX);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad
}

/// `K_events`: the key of one WebSocket session's events. Wiped on drop.
#[derive(Clone)]
pub struct EventKey(Zeroizing<[u8; KEY_LEN]>);

impl EventKey {
    /// Seals one event with an explicit sequence number (stateless; prefer
    /// [`EventSealer`], which numbers events for you).
    pub fn seal_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        seq: u64,
        body: &[u8],
    ) -> Result<EventEnvelope> {
        let mut iv = [0u8; IV_LEN];
        fill_random(rng, &mut iv)?;
        let data = aead::encrypt(&self.0, &iv, &event_aad(seq), body)?;
        Ok(EventEnvelope { seq, iv, data })
    }

    /// Decrypts one event without any ordering check (prefer
    /// [`EventReceiver`]).
    pub fn open_unordered(&self, envelope: &EventEnvelope) -> Result<Vec<u8>> {
        aead::decrypt(
            &self.0,
            &envelope.iv,
            &event_aad(envelope.seq),
            &envelope.data,
        )
    }

    /// The raw key. Only for known-answer vectors and interop debugging.
    pub fn expose_key(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventKey(..)")
    }
}

/// Server side of a session's event stream: numbers events 1, 2, 3, ...
#[derive(Debug)]
pub struct EventSealer {
    key: EventKey,
    next_seq: u64,
}

impl EventSealer {
    /// A sealer whose first event gets `seq = 1`.
    pub fn new(key: EventKey) -> Self {
        Self { key, next_seq: 1 }
    }

    /// The sequence number the next event will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Seals the next event with the OS RNG.
    pub fn seal(&mut self, body: &[u8]) -> Result<EventEnvelope> {
        self.seal_with_rng(&mut OsRng, body)
    }

    /// [`Self::seal`] with an explicit RNG (draws the 12-byte IV).
    pub fn seal_with_rng<R: TryCryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        body: &[u8],
    ) -> Result<EventEnvelope> {
        let seq = self.next_seq;
        let next = seq.checked_add(1).ok_or(CryptoError::SequenceExhausted)?;
        let envelope = self.key.seal_with_rng(rng, seq, body)?;
        self.next_seq = next;
        Ok(envelope)
    }
}

/// Client side of a session's event stream: accepts an event only if it
/// decrypts under `K_events` with its `seq` as AAD and `seq` is strictly
/// greater than the last accepted one (gaps are allowed: the server may skip
/// numbers; duplicates, replays and reordering are not).
#[derive(Debug)]
pub struct EventReceiver {
    key: EventKey,
    last: Option<u64>,
}

impl EventReceiver {
    /// A receiver that has accepted nothing yet.
    pub fn new(key: EventKey) -> Self {
        Self { key, last: None }
    }

    /// The last accepted sequence number.
    pub fn last_seq(&self) -> Option<u64> {
        self.last
    }

    /// Checks order, decrypts and, only on success, records `seq`. A failed
    /// decryption leaves the state unchanged.
    pub fn open(&mut self, envelope: &EventEnvelope) -> Result<Vec<u8>> {
        if let Some(last) = self.last
            && envelope.seq <= last
        {
            return Err(CryptoError::Replay {
                last,
                got: envelope.seq,
            });
        }
        let body = self.key.open_unordered(envelope)?;
        self.last = Some(envelope.seq);
        Ok(body)
    }
}
