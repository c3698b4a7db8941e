//! The server's error values: the spec's `Error` with shorthand
//! constructors, and the mapping from storage and crypto failures.

use crate::crypto::CryptoError;
use crate::models::{Error, ErrorCode};
use crate::store::StoreError;

/// Shorthand constructors for the codes handlers use most.
impl Error {
    /// `bad_request` with a message.
    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::BadRequest, message)
    }

    /// `not_found` with a message.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::NotFound, message)
    }

    /// `forbidden` with a message.
    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Forbidden, message)
    }

    /// `too_large` with a message.
    pub fn too_large(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::TooLarge, message)
    }

    /// `internal`: the details go to the log, never to the peer.
    pub fn internal(context: &str, detail: impl std::fmt::Display) -> Error {
        tracing::error!(%detail, "{context}");
        Error::new(
            ErrorCode::Internal,
            format!("{context} failed; see the server log"),
        )
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Error::not_found("no such object"),
            StoreError::Conflict(what) => Error::new(ErrorCode::Conflict, what),
            StoreError::InvalidToken => Error::new(
                ErrorCode::InvalidToken,
                "the complete token is unknown, expired or already used",
            ),
            StoreError::UnknownUsers(names) => {
                Error::not_found(format!("no such users: {}", names.join(", ")))
            }
            StoreError::Invalid(why) => Error::bad_request(why),
            StoreError::TooManyConversations(names) => Error::new(
                ErrorCode::TooLarge,
                format!(
                    "already in limits.max_conversations conversations: {}",
                    names.join(", ")
                ),
            ),
            other => Error::internal("database access", other),
        }
    }
}

impl From<CryptoError> for Error {
    fn from(error: CryptoError) -> Self {
        Error::internal("cryptographic operation", error)
    }
}

/// Runs CPU-heavy work (RSA, Argon2id) on the blocking pool so it never
/// stalls the async workers that serve everyone else.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal("background task", e))
}
