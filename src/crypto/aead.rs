//! AES-256-GCM with a 96-bit IV and a 128-bit tag appended to the ciphertext:
//! the only symmetric cipher of the protocol. Everything else (envelopes,
//! message content, private keys at rest) calls these two functions, so the
//! Wycheproof tests on them cover every use.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use super::{CryptoError, Result};

/// AES-256 key length in bytes.
pub const KEY_LEN: usize = 32;
/// GCM IV (nonce) length in bytes.
pub const IV_LEN: usize = 12;
/// GCM tag length in bytes (appended to every ciphertext).
pub const TAG_LEN: usize = 16;

fn cipher(key: &[u8; KEY_LEN]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

/// Encrypts `plaintext` under `key` and `iv`, authenticating `aad`; returns
/// ciphertext || tag. The caller guarantees `iv` is never reused with `key`
/// (every caller in this module draws a fresh random IV, or a fresh key).
pub fn encrypt(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let nonce: &Nonce<_> = iv.into();
    cipher(key)
        .encrypt(
            nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Internal("AES-GCM input too long"))
}

/// Decrypts ciphertext || tag; fails with [`CryptoError::Decrypt`] on any
/// authentication failure, [`CryptoError::BadLength`] if shorter than a tag.
pub fn decrypt(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    if ciphertext.len() < TAG_LEN {
        return Err(CryptoError::BadLength {
            what: "AES-GCM ciphertext",
            expected: TAG_LEN,
            got: ciphertext.len(),
        });
    }
    let nonce: &Nonce<_> = iv.into();
    cipher(key)
        .decrypt(
            nonce,
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Decrypt)
}

/// Converts an untrusted slice to an IV array.
pub(crate) fn iv_from_slice(iv: &[u8]) -> Result<[u8; IV_LEN]> {
    iv.try_into().map_err(|_| CryptoError::BadLength {
        what: "IV",
        expected: IV_LEN,
        got: iv.len(),
    })
}
