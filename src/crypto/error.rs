//! The single error type of the crypto core.
//!
//! Variants are deliberately coarse where finer detail would help an attacker
//! (an RSA-OAEP failure and an AES-GCM tag failure both surface as
//! [`CryptoError::Decrypt`]) and precise where the caller must react
//! differently (a replayed event, a weak KDF blob, a key mismatch).

/// Result alias for the crypto core.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;

/// Everything that can go wrong in `crate::crypto`. No function of the module
/// panics on untrusted input; it returns one of these instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The input could not be parsed (DER, PEM, base64, JSON, UTF-8...).
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// A field has the wrong length.
    #[error("bad length for {what}: expected {expected}, got {got}")]
    BadLength {
        /// Which field.
        what: &'static str,
        /// The length required (for variable fields, the minimum).
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// Key unwrap (RSA-OAEP) or authenticated decryption (AES-GCM) failed:
    /// wrong key, tampered or truncated ciphertext.
    #[error("decryption failed")]
    Decrypt,
    /// A signature did not verify.
    #[error("bad signature")]
    BadSignature,
    /// A signature was required but the envelope carries none.
    #[error("missing signature")]
    MissingSignature,
    /// The RSA modulus size is outside the accepted range (2048..=4096 bits).
    #[error("unsupported RSA key size: {0} bits (accepted: 2048..=4096)")]
    KeySize(usize),
    /// The RSA public exponent is not 65537.
    #[error("unsupported RSA public exponent (only 65537 is accepted)")]
    PublicExponent,
    /// Argon2id parameters below the accepted minimum (m=19456 KiB, t=2, p=1).
    #[error("password KDF parameters are weaker than the minimum")]
    WeakKdf,
    /// Argon2id parameters above the accepted maximum (refused to avoid a
    /// denial of service through a crafted blob).
    #[error("password KDF parameters exceed the accepted maximum")]
    KdfTooExpensive,
    /// A private key does not belong to the public key it is paired with.
    #[error("private key does not match public key")]
    KeyMismatch,
    /// An event whose sequence number is not strictly greater than the last
    /// accepted one (replayed, duplicated or reordered).
    #[error("event sequence {got} is not greater than the last accepted {last}")]
    Replay {
        /// Last sequence number accepted by the receiver.
        last: u64,
        /// Sequence number of the rejected event.
        got: u64,
    },
    /// The event sequence space is exhausted (u64::MAX reached).
    #[error("event sequence number exhausted")]
    SequenceExhausted,
    /// A format version this implementation does not know.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u32),
    /// The same username appears twice in a recipient list.
    #[error("duplicate recipient username")]
    DuplicateRecipient,
    /// The reader is not in the message's recipient list, or the sender's key
    /// is not among the members.
    #[error("not a recipient of this message")]
    NotARecipient,
    /// The reader's wrapped key does not hash to its entry in the signed list.
    #[error("wrapped key does not match the signed recipient list")]
    KeyDigestMismatch,
    /// Attachment ciphertext does not match the signed digest.
    #[error("attachment does not match the signed digest")]
    AttachmentMismatch,
    /// The key file holds an encrypted private key and no password was given.
    #[error("a password is required")]
    PasswordRequired,
    /// The operating system's random number generator failed.
    #[error("random number generator failure")]
    Rng,
    /// A primitive failed in a way that does not depend on the input
    /// (key generation, encoding of a valid key...).
    #[error("internal crypto failure: {0}")]
    Internal(&'static str),
}
