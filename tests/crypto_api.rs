//! Behaviour of the crypto core: round trips, policy, tampering (every byte
//! of short fields, a spread sample plus first/last bytes of long ones),
//! garbage and truncated input (must be an `Err`, never a panic), and the
//! RFC 9106 Argon2id vector. One binary, one module per topic.

#[path = "crypto_common/mod.rs"]
mod common;

use common::*;
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

#[path = "crypto_api/content.rs"]
mod content;
#[path = "crypto_api/envelope.rs"]
mod envelope;
#[path = "crypto_api/garbage.rs"]
mod garbage;
#[path = "crypto_api/keyfile.rs"]
mod keyfile;
#[path = "crypto_api/keys.rs"]
mod keys;
#[path = "crypto_api/names.rs"]
mod names;
#[path = "crypto_api/password.rs"]
mod password;
