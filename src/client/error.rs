//! The client's failures: [`ClientError`], and [`PinSubject`], whose key a
//! pin mismatch is about. Below every other client module but
//! [`crate::client::history`] (whose error it wraps): they all return
//! these.

use crate::client::history::HistoryError;
use crate::crypto::CryptoError;
use crate::models::Error;

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error code (encrypted, or in clear for an envelope it could not open).
    #[error("server refused the request: {0}")]
    Api(Error),
    /// The transport failed (connection, unexpected status).
    #[error("transport: {0}")]
    Transport(String),
    /// A cryptographic check failed: the response is not authentic or not for us.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The response does not echo our request, or its time is out of the window.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// A payload does not match its schema.
    #[error("payload: {0}")]
    Payload(#[from] serde_json::Error),
    /// A key differs from the one pinned on first use: accept the new one
    /// explicitly (after comparing fingerprints) or stop.
    #[error("{subject} changed: pinned {pinned}, now announced {announced}")]
    KeyChanged {
        /// Whose key changed.
        subject: PinSubject,
        /// The pinned fingerprint.
        pinned: String,
        /// The fingerprint announced now.
        announced: String,
    },
    /// A message failed its checks (signature, digests, content): it is
    /// not shown as genuine.
    #[error("the message does not verify: {0}")]
    Unverified(String),
    /// A user's key history does not verify from the key pinned for them:
    /// nothing is shown as theirs through it.
    #[error("{0}")]
    History(#[from] HistoryError),
    /// The user's key was replaced (rotated on another device, or reset and
    /// completed again): this device holds earlier keys only.
    #[error("the key of {username} was replaced: {what_to_do}")]
    RotatedElsewhere {
        /// The user.
        username: String,
        /// The sentence saying how to get the current key.
        what_to_do: String,
    },
    /// The server ended the event session because the user's key changed
    /// or the user was reset or deleted (close codes 4001 to 4003 of
    /// api.yml, "Key history"); `reason` is the server's sentence.
    #[error("the server ended the session ({code}): {reason}")]
    SessionEnded {
        /// The close code.
        code: u16,
        /// The server's reason.
        reason: String,
    },
    /// The fingerprint a person compared with a contact is not the
    /// contact's current key as this device trusts it: nothing is marked
    /// verified.
    #[error(
        "the fingerprint you compared, {compared}, is not the current key of {username} as this device trusts it ({current}): compare again with {username}; nothing was marked verified"
    )]
    FingerprintMismatch {
        /// The contact.
        username: String,
        /// What the person compared.
        compared: String,
        /// The contact's current trusted key.
        current: String,
    },
    /// A file is larger than the server accepts (the limit it announced
    /// in `/references`, in plaintext bytes): nothing was sent. A whole
    /// request over the limit is the server's `too_large`
    /// ([`ClientError::Api`]), whichever side found it.
    #[error("{what} is {} the limit of {limit} bytes", size.map_or("over".to_owned(), |s| format!("{s} bytes, over")))]
    TooLarge {
        /// What is too large ("the request", "the file").
        what: String,
        /// Its size in bytes, when known.
        size: Option<u64>,
        /// The limit in bytes.
        limit: u64,
    },
    /// The password does not decrypt the private key.
    #[error("wrong password: it does not decrypt the private key")]
    WrongPassword,
    /// A local file (key store, pins, key file) could not be read or written.
    #[error("{0}")]
    Local(String),
}

/// Whose key a [`ClientError::KeyChanged`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSubject {
    /// The server's own key.
    Server(String),
    /// A user's key on a server: (server URL, username).
    User(String, String),
}

impl std::fmt::Display for PinSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinSubject::Server(url) => write!(f, "the server key of {url}"),
            PinSubject::User(url, user) => write!(f, "the key of {user} on {url}"),
        }
    }
}
