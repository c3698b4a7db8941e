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

/// Why an envelope is answered in clear: one kind per documented answer of
/// `POST /encrypted` that is not an encrypted Body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainKind {
    /// 400 `bad_envelope`: not an envelope this server can read.
    BadEnvelope,
    /// 401 `undecryptable`: the key does not unwrap or the data does not decrypt.
    Undecryptable,
    /// 413 `too_large`: over `max_body_bytes`.
    TooLarge,
    /// 429 `rate_limited`: the peer address's budget is spent.
    RateLimited,
    /// `session_required` in a plain frame: a socket's first frame was not
    /// `session.open` (WebSocket only; 400 if it ever reached HTTP).
    SessionRequired,
    /// 500 `internal`: the server failed before it could encrypt an answer.
    Internal,
}

impl PlainKind {
    /// The HTTP status it is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            PlainKind::BadEnvelope | PlainKind::SessionRequired => 400,
            PlainKind::Undecryptable => 401,
            PlainKind::TooLarge => 413,
            PlainKind::RateLimited => 429,
            PlainKind::Internal => 500,
        }
    }

    /// The error code of the answer.
    pub fn code(self) -> ErrorCode {
        match self {
            PlainKind::BadEnvelope => ErrorCode::BadEnvelope,
            PlainKind::Undecryptable => ErrorCode::Undecryptable,
            PlainKind::TooLarge => ErrorCode::TooLarge,
            PlainKind::RateLimited => ErrorCode::RateLimited,
            PlainKind::SessionRequired => ErrorCode::SessionRequired,
            PlainKind::Internal => ErrorCode::Internal,
        }
    }
}

/// An envelope answered in clear: its kind and the Error body.
#[derive(Debug)]
pub struct PlainFailure {
    /// What went wrong, which fixes the status and the code.
    pub kind: PlainKind,
    /// The error body (its code is `kind.code()`).
    pub error: Error,
}

impl PlainFailure {
    /// A failure of `kind` with a human message.
    pub fn new(kind: PlainKind, message: impl Into<String>) -> Self {
        PlainFailure {
            kind,
            error: Error::new(kind.code(), message),
        }
    }

    /// A server fault, from the internal error that describes it.
    pub(crate) fn internal(error: Error) -> Self {
        PlainFailure {
            kind: PlainKind::Internal,
            error,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Every plain answer is one `api.yml` documents for `POST /encrypted`,
    /// with the status and code it names.
    #[test]
    fn plain_answers_are_the_documented_ones() {
        let spec: serde_json::Value =
            serde_norway::from_str(include_str!("../../api.yml")).unwrap();
        let responses = &spec["paths"]["/encrypted"]["post"]["responses"];
        for kind in [
            PlainKind::BadEnvelope,
            PlainKind::Undecryptable,
            PlainKind::TooLarge,
            PlainKind::RateLimited,
            PlainKind::SessionRequired,
            PlainKind::Internal,
        ] {
            let documented = responses[kind.http_status().to_string()]["description"]
                .as_str()
                .unwrap_or_else(|| {
                    panic!("{kind:?}: HTTP {} is not documented", kind.http_status())
                });
            if kind != PlainKind::SessionRequired {
                assert!(
                    documented.contains(&format!("(code {})", kind.code().as_str())),
                    "{kind:?}: {documented}"
                );
            }
            assert_eq!(PlainFailure::new(kind, "x").error.code, kind.code());
        }
    }
}
