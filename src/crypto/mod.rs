//! The NanoChat crypto core: everything the sections of `api.yml`'s
//! `info.description` specify ("Primitives", "Request envelope",
//! "Response", "WebSocket", "Message content", "Conversation names", "Key
//! history", "Password-encrypted private keys"), shared by the server and
//! the client.
//!
//! All functions are synchronous and CPU-bound (RSA private-key operations take
//! several milliseconds); async callers should run them on a blocking pool.
//! Every type here is `Send + Sync`; [`PublicKey`] and [`PrivateKey`] are cheap
//! to clone (reference counted).
//!
//! Layout:
//!
//! - [`error`]: [`CryptoError`], the one error type of this module.
//! - `rsa_backend` (private): the only place that touches an RSA library
//!   (the `rsa` crate, and AWS-LC with the `aws-lc` feature); [`backend`]
//!   picks which one new keys use.
//! - [`keys`]: [`PublicKey`], [`PrivateKey`], [`Fingerprint`], the key-size
//!   policy and the DER/PEM/base64 encodings.
//! - [`aead`]: AES-256-GCM with explicit key, IV and AAD (the building block
//!   of every other module; public so it can be tested against Wycheproof).
//! - [`envelope`]: request envelopes (seal, open, signature check), the
//!   response and event keys derived from a request, responses and events.
//! - [`content`]: end-to-end message content, its per-member key wraps and
//!   the canonical signed bytes.
//! - [`name`]: end-to-end conversation names, sealed like message content
//!   and bound to the conversation id and a revision.
//! - `sealing` (private): the canonical encoding and recipient handling that
//!   [`content`] and [`name`] share.
//! - `b64` (private): base64 for the JSON formats.
//! - [`password`]: [`EncryptedPrivateKey`], a private key under an
//!   Argon2id-derived key.
//! - [`keyfile`]: [`KeyFile`], the JSON export/import format.
//! - [`ring`]: [`KeyRing`], a user's current and earlier private keys.
//! - [`succession`]: the signed bytes of a key rotation and the check of
//!   one link of a key history.
//!
//! Randomness: every function that draws randomness has a `*_with_rng` form
//! taking any [`TryCryptoRng`] (tests use a seeded ChaCha20 to produce
//! known-answer vectors) and a convenience form that uses the operating
//! system's CSPRNG ([`OsRng`], getrandom). Production code uses the
//! convenience forms only.

pub mod aead;
pub mod backend;
pub mod content;
pub mod envelope;
pub mod error;
pub mod keyfile;
pub mod keys;
pub mod name;
pub mod password;
pub mod ring;
pub mod succession;

mod b64;
mod rsa_backend;
mod sealing;

pub use backend::RsaBackend;
pub use content::{
    MessageContent, OpenedMessage, ReceivedMessage, RecipientDigest, RecipientKey,
    SealedAttachment, SealedMessage, SignatureVersion, message_signed_bytes,
    message_signed_bytes_as, open_message, seal_message, seal_message_keyed,
    seal_message_keyed_with_rng, seal_message_with_rng,
};
pub use envelope::{
    EventEnvelope, EventKey, EventReceiver, EventSealer, OpenedRequest, RequestEnvelope,
    RequestSecret, ResponseEnvelope, ResponseKey, seal_request, seal_request_with_rng,
};
pub use error::{CryptoError, Result};
pub use keyfile::{KeyFile, KeyFilePrivateKey};
pub use keys::{Fingerprint, PrivateKey, PublicKey};
pub use name::{
    MAX_NAME_CHARS, NAME_DOMAIN, ReceivedName, SealedName, check_name, name_signed_bytes,
    name_signed_bytes_as, open_name, seal_name, seal_name_keyed, seal_name_keyed_with_rng,
    seal_name_with_rng,
};
pub use password::{EncryptedPrivateKey, KdfParams};
pub use ring::KeyRing;
pub use succession::{Succession, key_succession_bytes, verify_link};

/// The operating system's CSPRNG (getrandom). Fallible: a failure surfaces as
/// [`CryptoError::Rng`], never as a panic.
pub use getrandom::SysRng as OsRng;
/// The RNG bound taken by the `*_with_rng` functions (re-exported from
/// rand_core 0.10 so callers need no direct dependency).
pub use rand_core::TryCryptoRng;

/// Where a sealing operation's randomness comes from. From the caller's
/// RNG, every draw (keys, IVs, OAEP seeds, PSS salts) comes from it in the
/// documented order, so known-answer vectors reproduce. From the OS, the
/// RSA backend may draw its own, which AWS-LC must.
pub(crate) struct Draws<'a, R: TryCryptoRng + ?Sized> {
    rng: &'a mut R,
    rsa_draws_own: bool,
}

impl<'a, R: TryCryptoRng + ?Sized> Draws<'a, R> {
    /// Every draw from `rng`.
    pub(crate) fn caller(rng: &'a mut R) -> Self {
        Draws {
            rng,
            rsa_draws_own: false,
        }
    }

    /// Fills `buf`.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        fill_random(self.rng, buf)
    }

    /// RSA-OAEP encryption of `msg` to `key`.
    pub(crate) fn encrypt_oaep(&mut self, key: &PublicKey, msg: &[u8]) -> Result<Vec<u8>> {
        if self.rsa_draws_own {
            key.encrypt_oaep(msg)
        } else {
            key.encrypt_oaep_with_rng(self.rng, msg)
        }
    }

    /// RSA-PSS signature over `msg` by `key`.
    pub(crate) fn sign_pss(&mut self, key: &PrivateKey, msg: &[u8]) -> Result<Vec<u8>> {
        if self.rsa_draws_own {
            key.sign_pss(msg)
        } else {
            key.sign_pss_with_rng(self.rng, msg)
        }
    }
}

impl<'a> Draws<'a, OsRng> {
    /// Draws from the OS; the RSA backend may draw its own.
    pub(crate) fn os(rng: &'a mut OsRng) -> Self {
        Draws {
            rng,
            rsa_draws_own: true,
        }
    }
}

/// Fills `buf` from `rng`, mapping an RNG failure to [`CryptoError::Rng`].
pub(crate) fn fill_random<R: TryCryptoRng + ?Sized>(rng: &mut R, buf: &mut [u8]) -> Result<()> {
    rng.try_fill_bytes(buf).map_err(|_| CryptoError::Rng)
}

/// Copies an unwrapped 32-byte key into a zeroizing array; any other length
/// is a [`CryptoError::Decrypt`] (it did not come from this protocol).
pub(crate) fn key_from_unwrapped(bytes: &[u8]) -> Result<zeroize::Zeroizing<[u8; 32]>> {
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        return Err(CryptoError::Decrypt);
    }
    key.copy_from_slice(bytes);
    Ok(key)
}

/// SHA-256 of `data`, as an array (the digest every canonical byte string
/// of the protocol uses: wrapped-key digests, attachment digests,
/// fingerprints).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}
