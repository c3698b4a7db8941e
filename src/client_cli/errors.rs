//! What `nanochat-client` says when something fails: one sentence in words
//! people use, with what to do, for every error code of api.yml
//! ([`api_sentence`], a `match` without a wildcard, so a new code does not
//! compile until it has its sentence) and for the client's own failures
//! ([`CLIENT_CODES`]). The code and the technical detail follow the
//! sentence, for scripts and for support; with `--json` a failure is one
//! object, `{"error": {"code", "message", "sentence"}}` ([`Failure::json`]).

use serde_json::{Value, json};

use crate::client::ClientError;
use crate::client::pins::PinSubject;
use crate::models::ErrorCode;

/// A failure as the command line reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// A stable code: an api.yml `ErrorCode`, or one of [`CLIENT_CODES`].
    pub code: String,
    /// The technical detail (the server's message, the library's error).
    pub message: String,
    /// What happened and what to do, for people.
    pub sentence: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.sentence)?;
        if !self.message.is_empty() && self.message != self.sentence {
            write!(f, "\n  ({}: {})", self.code, self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl Failure {
    fn new(code: &str, message: impl Into<String>, sentence: impl Into<String>) -> Failure {
        Failure {
            code: code.to_owned(),
            message: message.into(),
            sentence: sentence.into(),
        }
    }

    /// The `--json` form: `{"error": {"code", "message", "sentence"}}`.
    pub fn json(&self) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "sentence": self.sentence,
            }
        })
    }

    /// Any error a command ended with: a [`Failure`] as it is, anything
    /// else (a usage mistake, a local file) as `usage` or `local` with its
    /// own words as the sentence.
    pub fn of(error: &anyhow::Error) -> Failure {
        if let Some(failure) = error.downcast_ref::<Failure>() {
            return failure.clone();
        }
        if let Some(client) = error.downcast_ref::<ClientError>() {
            return describe(client, &Context::default());
        }
        let code = if error.downcast_ref::<std::io::Error>().is_some() {
            "local"
        } else {
            "usage"
        };
        let words = format!("{error:#}");
        Failure::new(code, words.clone(), words)
    }
}

/// What the failed command was about, for a sentence that names it.
#[derive(Debug, Default, Clone)]
pub struct Context<'a> {
    /// The user the command looked up.
    pub username: Option<&'a str>,
}

/// The client's own codes (failures that are not the server's answer),
/// each with its general sentence; the sentence a command prints may name
/// more (a fingerprint, a limit, a file).
pub const CLIENT_CODES: &[(&str, &str)] = &[
    (
        "unreachable",
        "Cannot reach the server: check the address (--server) and your connection, then try again.",
    ),
    (
        "invalid_response",
        "The server's answer did not verify, so it may not be your server: nothing was changed on this machine.",
    ),
    (
        "clock",
        "The server's answer is outside the freshness window: this machine's clock is probably off; set it right, then try again.",
    ),
    (
        "key_changed",
        "A key is not the one this machine pinned: compare the new fingerprint with its owner, then accept it with `nanochat-client trust`.",
    ),
    (
        "rotated_elsewhere",
        "Your key was replaced on another device: run `nanochat-client login --sync`, or `nanochat-client keys import FILE` with a key file exported after the change.",
    ),
    (
        "account_reset",
        "The operator reset your account: complete it again with `nanochat-client complete` and the new token.",
    ),
    (
        "account_deleted",
        "Your account was deleted: ask your operator for a new one.",
    ),
    (
        "session_ended",
        "The server ended the live connection: run the command again.",
    ),
    (
        "fingerprint_mismatch",
        "The fingerprint you compared is not their current key: compare again; nothing was marked verified.",
    ),
    (
        "wrong_key_password",
        "Wrong password of the key: it is the one you chose when you completed your account (or exported the key file).",
    ),
    (
        "unverified",
        "This does not verify, so it is not shown as genuine: ask the sender to send it again.",
    ),
    (
        "local",
        "A file on this machine could not be read or written: check the path and its permissions.",
    ),
    (
        "usage",
        "The command cannot run like this: see `nanochat-client help`.",
    ),
];

/// The sentence for an api.yml error code.
pub fn api_sentence(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::BadEnvelope => {
            "The server could not read this request: update nanochat-client; if it keeps happening, tell your operator."
        }
        ErrorCode::Undecryptable => {
            "The server could not decrypt this request, so its key may have changed: compare the server fingerprint with your operator (nanochat server-key), then try again."
        }
        ErrorCode::TooLarge => {
            "This is larger than the server accepts: send less at once (a shorter text, a smaller file, fewer members)."
        }
        ErrorCode::RateLimited => {
            "Too many attempts in a short time: wait a minute, then try again."
        }
        ErrorCode::Unavailable => "The server is busy or starting up: try again in a moment.",
        ErrorCode::SessionRequired => {
            "The server refused the live connection: run the command again."
        }
        ErrorCode::BadRequest => {
            "The server refused this request as malformed: update nanochat-client; if it keeps happening, tell your operator."
        }
        ErrorCode::UnknownType => {
            "The server does not know this kind of request (it may run an older NanoChat): tell your operator."
        }
        ErrorCode::Stale => {
            "This machine's clock is too far from the server's: set the clock right, then try again."
        }
        ErrorCode::Replayed => {
            "The server already received this request: look where things stand (conversation show, message list) before trying again."
        }
        ErrorCode::UnknownUser => {
            "No such user (or they have not activated their account yet): check the spelling with them."
        }
        ErrorCode::BadSignature => {
            "The server did not accept this machine's signature: your key may have been replaced on another device. Run `nanochat-client login --sync`, or import a key file exported after the change."
        }
        ErrorCode::InvalidToken => {
            "The complete token is wrong, used or expired: ask your operator for a new one (nanochat user reset)."
        }
        ErrorCode::InvalidKey => {
            "The server refused this key: it is malformed or of a size the server does not accept."
        }
        ErrorCode::WrongPassword => {
            "Wrong sync password, or no copy of your key is stored on the server: try again, or import a key file (nanochat-client keys import)."
        }
        ErrorCode::NotFound => "Not found: it was deleted, or you are no longer a member.",
        ErrorCode::Forbidden => {
            "You are not allowed to do that: only the owner of a conversation may change its members or delete it, and only the sender of a message may edit or delete it."
        }
        ErrorCode::Conflict => {
            "Someone changed this at the same time: look again (conversation show), then try again."
        }
        ErrorCode::MembersMismatch => "The members changed while you were writing: send again.",
        ErrorCode::Internal => {
            "The server failed unexpectedly: try again; if it keeps happening, tell your operator."
        }
    }
}

/// Every code the command line reports, with its general sentence: each
/// api.yml code, then the client's own.
pub fn sentences() -> Vec<(&'static str, &'static str)> {
    ErrorCode::ALL
        .iter()
        .map(|code| (code.as_str(), api_sentence(*code)))
        .chain(CLIENT_CODES.iter().copied())
        .collect()
}

fn client_sentence(code: &str) -> &'static str {
    CLIENT_CODES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, sentence)| sentence)
}

/// Bytes as people read them: "512 bytes", "700 KB", "1.9 MB" (decimal
/// units, as file managers show them).
pub fn human_size(bytes: u64) -> String {
    let tenths = |unit: u64| {
        let tenths = (bytes * 10 + unit / 2) / unit;
        if tenths.is_multiple_of(10) {
            format!("{}", tenths / 10)
        } else {
            format!("{}.{}", tenths / 10, tenths % 10)
        }
    };
    if bytes < 1000 {
        format!("{bytes} bytes")
    } else if bytes < 999_950 {
        format!("{} KB", tenths(1000))
    } else if bytes < 999_950_000 {
        format!("{} MB", tenths(1_000_000))
    } else {
        format!("{} GB", tenths(1_000_000_000))
    }
}

/// A client error as a [`Failure`]: the code, the detail and the sentence.
pub fn describe(error: &ClientError, context: &Context<'_>) -> Failure {
    let detail = error.to_string();
    match error {
        ClientError::Api(e) => {
            let sentence = match (e.code, context.username) {
                (ErrorCode::UnknownUser | ErrorCode::NotFound, Some(user)) => format!(
                    "No user {user} (or {user} has not activated their account yet): check the spelling with them."
                ),
                (code, _) => api_sentence(code).to_owned(),
            };
            Failure::new(e.code.as_str(), e.message.clone(), sentence)
        }
        ClientError::TooLarge { what, size, limit } => {
            let sentence = match (what.as_str(), size) {
                ("the file", Some(size)) => format!(
                    "The file is {}, and this server accepts files up to {}: send a smaller file.",
                    human_size(*size),
                    human_size(*limit)
                ),
                ("the file", None) => format!(
                    "The file is too large: this server accepts files up to {}.",
                    human_size(*limit)
                ),
                _ => format!(
                    "This is larger than the server accepts ({} per request): send less at once (a shorter text, a smaller file, fewer members).",
                    human_size(*limit)
                ),
            };
            Failure::new("too_large", detail, sentence)
        }
        ClientError::KeyChanged {
            subject,
            pinned,
            announced,
        } => {
            let how = match subject {
                PinSubject::Server(_) => format!("nanochat-client trust server '{announced}'"),
                PinSubject::User(_, user) => format!(
                    "nanochat-client trust user {user} '{announced}'\nUntil then nothing is sent to conversations with {user} (and {user} is not marked verified)"
                ),
            };
            Failure::new(
                "key_changed",
                detail,
                format!(
                    "{subject} changed!\n  pinned:    {pinned}\n  announced: {announced}\nSomeone may be impersonating them. Check the new fingerprint with its owner; if it is right, run: {how}"
                ),
            )
        }
        ClientError::InvalidResponse(why) if why.contains("window") => {
            Failure::new("clock", why.clone(), client_sentence("clock"))
        }
        ClientError::InvalidResponse(_)
        | ClientError::Crypto(_)
        | ClientError::Payload(_)
        | ClientError::History(_) => Failure::new(
            "invalid_response",
            detail,
            client_sentence("invalid_response"),
        ),
        ClientError::Transport(why) => {
            Failure::new("unreachable", why.clone(), client_sentence("unreachable"))
        }
        ClientError::RotatedElsewhere { username, .. } => Failure::new(
            "rotated_elsewhere",
            detail,
            format!(
                "The key of {username} was replaced (rotated on another device, or reset and completed again), and this machine holds only earlier keys. Run `nanochat-client login --sync` to fetch the new key ring if the server keeps a copy, or `nanochat-client keys import FILE` with a key file exported after the change."
            ),
        ),
        ClientError::SessionEnded { code: 4002, .. } => {
            Failure::new("account_reset", detail, client_sentence("account_reset"))
        }
        ClientError::SessionEnded { code: 4003, .. } => Failure::new(
            "account_deleted",
            detail,
            client_sentence("account_deleted"),
        ),
        ClientError::SessionEnded { .. } => {
            Failure::new("session_ended", detail, client_sentence("session_ended"))
        }
        ClientError::FingerprintMismatch { .. } => {
            Failure::new("fingerprint_mismatch", detail.clone(), detail)
        }
        ClientError::WrongPassword => Failure::new(
            "wrong_key_password",
            detail,
            client_sentence("wrong_key_password"),
        ),
        ClientError::Unverified(_) => {
            Failure::new("unverified", detail, client_sentence("unverified"))
        }
        ClientError::Local(why) => Failure::new("local", why.clone(), why.clone()),
    }
}
