//! Behaviour of the crypto core: round trips, policy, tampering (every byte
//! of short fields, a spread sample plus first/last bytes of long ones),
//! garbage and truncated input (must be an `Err`, never a panic), and the
//! RFC 9106 Argon2id vector. One binary, one module per topic.

use crate::crypto_common::*;
use nanochat::crypto::envelope::{EventKey, event_aad};
use nanochat::crypto::password::Kdf;
use nanochat::crypto::{
    CryptoError, EncryptedPrivateKey, EventEnvelope, EventReceiver, EventSealer, Fingerprint,
    KdfParams, KeyFile, KeyFilePrivateKey, MAX_NAME_CHARS, MessageContent, PrivateKey, PublicKey,
    ReceivedName, RecipientDigest, RequestEnvelope, ResponseEnvelope, check_name,
    message_signed_bytes, name_signed_bytes, open_message, open_name, seal_message, seal_name,
    seal_request,
};
use rand_core::Rng;
use uuid::Uuid;

fn flip(v: &mut [u8], i: usize) {
    v[i] ^= 0x01;
}

mod content;
mod envelope;
mod garbage;
mod keyfile;
mod keys;
mod names;
mod password;
