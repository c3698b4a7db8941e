//! The server's failures: [`Failure`] (what the peer is told, apart from
//! what only the log gets), the mapping from storage and crypto failures,
//! and the envelopes answered in clear ([`PlainFailure`]).

use crate::crypto::CryptoError;
use crate::models::{Error, ErrorCode};
use crate::store::StoreError;
use poem::http::StatusCode;

/// A refused or failed request inside the server: the `Error` the peer is
/// told and, for a server fault, the detail only the log gets. Nothing is
/// logged when one is made; the edge that answers the peer
/// ([`Failure::report`], called by the pipeline) logs the detail once, with
/// the request's context.
#[derive(Debug, Clone)]
pub struct Failure {
    public: Error,
    internal: Option<Internal>,
}

/// What failed inside the server, for the log only.
#[derive(Debug, Clone)]
struct Internal {
    context: String,
    detail: String,
}

impl Failure {
    /// A refusal with `code` and a human message for the peer.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            public: Error::new(code, message),
            internal: None,
        }
    }

    /// `bad_request` with a message.
    pub fn bad_request(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::BadRequest, message)
    }

    /// `not_found` with a message.
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::NotFound, message)
    }

    /// `forbidden` with a message.
    pub fn forbidden(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::Forbidden, message)
    }

    /// `too_large` with a message.
    pub fn too_large(message: impl Into<String>) -> Failure {
        Failure::new(ErrorCode::TooLarge, message)
    }

    /// `internal`: the peer learns only that `context` failed; `detail`
    /// waits for [`Failure::report`].
    pub fn internal(context: &str, detail: impl std::fmt::Display) -> Failure {
        Failure {
            public: Error::new(
                ErrorCode::Internal,
                format!("{context} failed; see the server log"),
            ),
            internal: Some(Internal {
                context: context.to_owned(),
                detail: detail.to_string(),
            }),
        }
    }

    /// The code the peer will see.
    pub fn code(&self) -> ErrorCode {
        self.public.code
    }

    /// What the peer will be told; never the internal detail.
    pub fn public(&self) -> &Error {
        &self.public
    }

    /// Logs the internal detail, if any (once: this consumes the failure),
    /// and returns what the peer is told.
    pub fn report(self) -> Error {
        if let Some(internal) = &self.internal {
            tracing::error!(detail = %internal.detail, "{} failed", internal.context);
        }
        self.public
    }
}

impl std::fmt::Display for Failure {
    /// The public text: a failure printed anywhere never leaks the detail.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.public.code, self.public.message)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Failure::not_found("no such object"),
            StoreError::Conflict(what) => Failure::new(ErrorCode::Conflict, what),
            StoreError::InvalidToken => Failure::new(
                ErrorCode::InvalidToken,
                "the complete token is unknown, expired or already used",
            ),
            StoreError::UnknownUsers(names) => {
                Failure::not_found(format!("no such users: {}", names.join(", ")))
            }
            StoreError::Invalid(why) => Failure::bad_request(why),
            StoreError::Replayed => {
                Failure::new(ErrorCode::Replayed, "this request_id was already accepted")
            }
            StoreError::TooManyConversations(names) => Failure::new(
                ErrorCode::TooLarge,
                format!(
                    "already in limits.max_conversations conversations: {}",
                    names.join(", ")
                ),
            ),
            other => Failure::internal("database access", other),
        }
    }
}

impl From<CryptoError> for Failure {
    fn from(error: CryptoError) -> Self {
        Failure::internal("cryptographic operation", error)
    }
}

/// Runs CPU-heavy work (RSA, Argon2id) on the blocking pool so it never
/// stalls the async workers that serve everyone else.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Failure::internal("background task", e))
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
    /// The HTTP status it is answered with: a client (4xx) or server
    /// (5xx) error, by construction.
    pub fn http_status(self) -> StatusCode {
        match self {
            PlainKind::BadEnvelope | PlainKind::SessionRequired => StatusCode::BAD_REQUEST,
            PlainKind::Undecryptable => StatusCode::UNAUTHORIZED,
            PlainKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PlainKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            PlainKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
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

    /// A server fault: its detail is logged here, at the edge.
    pub(crate) fn internal(failure: Failure) -> Self {
        PlainFailure {
            kind: PlainKind::Internal,
            error: failure.report(),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// A log sink for one test.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_internal_detail_reaches_the_log_once_and_never_the_peer() {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let public = tracing::subscriber::with_default(subscriber, || {
            let failure = Failure::internal("database access", "disk I/O error at page 7");
            assert!(log.0.lock().unwrap().is_empty(), "logged when made");
            assert!(!failure.to_string().contains("page 7"));
            assert!(!failure.public().message.contains("page 7"));
            failure.report()
        });
        assert_eq!(public.code, ErrorCode::Internal);
        assert_eq!(public.message, "database access failed; see the server log");
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text.matches("disk I/O error at page 7").count(),
            1,
            "{text}"
        );

        // A refusal has nothing for the log.
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || Failure::forbidden("no").report());
        assert!(log.0.lock().unwrap().is_empty());
    }

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
            let status = kind.http_status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{kind:?}"
            );
            let documented = responses[status.as_u16().to_string()]["description"]
                .as_str()
                .unwrap_or_else(|| panic!("{kind:?}: HTTP {status} is not documented"));
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
