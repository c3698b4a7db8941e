//! The envelope pipeline: from an `EncryptedBody` to a handler call and
//! back to an encrypted response.
//!
//! Order matters and is the protocol's: rate limit the peer (before any RSA
//! work), open the envelope, parse the Body, check freshness and the
//! spelling of UUIDs, decode the typed request, verify the signature,
//! record the request id (replay guard), dispatch, seal the answer. Every check is one function here, so
//! a reader (or a deliberately broken test server) finds each rule once.

use std::net::SocketAddr;
use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::dispatch;
use crate::bodies::{BodyType, Request};
use crate::crypto::{RequestEnvelope, RequestSecret};
use crate::models::{Body, EncryptedBody, Error, ErrorCode, Limits};
use crate::server::error::blocking;
use crate::server::state::State;

/// The protocol version this server speaks.
pub const PROTOCOL_VERSION: i32 = 1;

/// Where an envelope arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `POST /encrypted`.
    Http,
    /// The first frame of a WebSocket: must be `session.open`.
    SocketFirst,
    /// A later WebSocket frame.
    Socket,
}

/// The authenticated sender of a request, handed to every handler.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The username from the Body; its signature has been verified (except
    /// for `user.sync`, the one unsigned type).
    pub username: String,
    /// The peer address, for rate limits and logs.
    pub peer: Option<SocketAddr>,
    /// The request id (already recorded by the replay guard).
    pub request_id: Uuid,
    /// The server's clock when the request was accepted.
    pub now: OffsetDateTime,
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
    fn internal(error: Error) -> Self {
        PlainFailure {
            kind: PlainKind::Internal,
            error,
        }
    }
}

/// A request that was opened and answered.
pub struct Answered {
    /// The encrypted response.
    pub response: EncryptedBody,
    /// The request's secret (the WebSocket derives its event key from it).
    pub secret: RequestSecret,
    /// The request's type and caller when the Body got that far and succeeded.
    pub accepted: Option<(BodyType, String)>,
}

/// Runs one envelope through the pipeline.
pub async fn handle(
    state: &Arc<State>,
    peer: Option<SocketAddr>,
    envelope: EncryptedBody,
    channel: Channel,
) -> Result<Answered, PlainFailure> {
    // HTTP requests were admitted before their body was read (see
    // `server::admit_body`); WebSocket frames are admitted here, one by one.
    if channel != Channel::Http
        && let Err(refused) = state.admit(peer)
    {
        // The socket reads nothing more meanwhile.
        state.hold_refused().await;
        return Err(refused);
    }
    let envelope = parse_envelope(envelope)?;
    let server_key = state.server_key.clone();
    let (envelope, opened) = blocking(move || {
        let opened = envelope.open(&server_key);
        (envelope, opened)
    })
    .await
    .map_err(PlainFailure::internal)?;
    let opened = opened.map_err(|_| {
        state.penalize(peer);
        PlainFailure::new(
            PlainKind::Undecryptable,
            "the envelope does not decrypt under this server's key; fetch /references again",
        )
    })?;
    let secret = opened.secret;

    let mut request_id = None;
    let mut body_type_name = String::new();
    // Set once the sender is known (signature verified, or user.sync,
    // which its own attempt limit covers): failures before that cost the
    // sending address more.
    let mut authenticated = false;
    let outcome = async {
        let body: Body = serde_json::from_slice(&opened.body)
            .map_err(|e| Error::bad_request(format!("the decrypted Body is not valid: {e}")))?;
        body_type_name = body.r#type.clone();
        request_id = body.request_id;
        let now = OffsetDateTime::now_utc();
        check_freshness(state, body.created_at, now)?;
        check_uuid_spelling(&opened.body, body.payload.as_ref())?;
        let request =
            Request::from_parts(&body.r#type, body.payload.map(serde_json::Value::Object))
                .map_err(|e| match e {
                    crate::bodies::DecodeError::UnknownType(t) => {
                        Error::new(ErrorCode::UnknownType, format!("unknown body type {t:?}"))
                    }
                    other => Error::bad_request(other.to_string()),
                })?;
        let body_type = request.body_type();
        check_channel(body_type, channel)?;
        let username = body
            .username
            .ok_or_else(|| Error::bad_request("a request Body needs a username"))?;
        // Before anything is stored or logged under this name.
        if !is_valid_username(&username) {
            return Err(Error::bad_request(USERNAME_RULE));
        }
        let id = body
            .request_id
            .ok_or_else(|| Error::bad_request("a request Body needs a request_id"))?;
        check_signature(state, &envelope, &request, &username).await?;
        authenticated = true;
        check_replay(state, &username, id, body.created_at, now).await?;
        let caller = Caller {
            username: username.clone(),
            peer,
            request_id: id,
            now,
        };
        let response = dispatch(state.as_ref(), &caller, request).await?;
        let payload = response
            .payload_json()
            .map_err(|e| Error::internal("encoding the response", e))?;
        Ok::<_, Error>((body_type, username, payload))
    }
    .await;

    if channel == Channel::SocketFirst
        && let Err(error) = &outcome
        && error.code == ErrorCode::SessionRequired
    {
        return Err(PlainFailure {
            kind: PlainKind::SessionRequired,
            error: error.clone(),
        });
    }

    let now = OffsetDateTime::now_utc();
    let (accepted, payload, error) = match outcome {
        Ok((body_type, username, payload)) => (
            Some((body_type, username)),
            payload.as_object().cloned(),
            None,
        ),
        Err(error) => (None, None, Some(error)),
    };
    if error.is_some() && !authenticated {
        state.penalize(peer);
    }
    if let Some(error) = &error {
        // The type is caller-chosen text: log a bounded, escaped prefix.
        let body_type: String = body_type_name.chars().take(64).collect();
        tracing::info!(code = %error.code, body_type = ?body_type, "request refused");
    }
    let body = Body {
        r#type: body_type_name,
        created_at: now,
        request_id,
        username: None,
        seq: None,
        payload,
        error,
    };
    let response = seal_response(&secret, &body, state.config.rules().response_key)
        .map_err(PlainFailure::internal)?;
    Ok(Answered {
        response,
        secret,
        accepted,
    })
}

/// Encrypts a response Body under the request's response key (or, in a
/// deliberately broken server without the `response_key` rule, under the
/// events key: the wrong HKDF info string).
fn seal_response(
    secret: &RequestSecret,
    body: &Body,
    derive_correctly: bool,
) -> Result<EncryptedBody, Error> {
    let json = serde_json::to_vec(body).map_err(|e| Error::internal("encoding the response", e))?;
    let sealed = if derive_correctly {
        secret.response_key().seal(&json)?
    } else {
        crate::crypto::ResponseKey::from_raw(*secret.event_key().expose_key()).seal(&json)?
    };
    Ok(EncryptedBody {
        version: PROTOCOL_VERSION,
        key: None,
        iv: sealed.iv.to_vec().into(),
        data: sealed.data.into(),
        signature: None,
        seq: None,
    })
}

/// Checks the envelope's shape before any RSA work is spent on it.
fn parse_envelope(envelope: EncryptedBody) -> Result<RequestEnvelope, PlainFailure> {
    let bad = |message: &str| PlainFailure::new(PlainKind::BadEnvelope, message);
    if envelope.version != PROTOCOL_VERSION {
        return Err(bad(
            "unsupported protocol version; this server speaks version 1",
        ));
    }
    if envelope.seq.is_some() {
        return Err(bad("a request envelope carries no seq"));
    }
    let key = envelope
        .key
        .ok_or_else(|| bad("a request envelope needs a key"))?;
    RequestEnvelope::from_parts(
        key.into_vec(),
        &envelope.iv,
        envelope.data.into_vec(),
        envelope.signature.map(|s| s.into_vec()),
    )
    .map_err(|e| bad(&format!("malformed envelope: {e}")))
}

/// Rule: `created_at` within the freshness window of the server clock.
fn check_freshness(
    state: &State,
    created_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), Error> {
    if !state.config.rules().freshness {
        return Ok(());
    }
    let skew = (now - created_at).abs();
    let window = state.config.freshness_window;
    if skew > window {
        return Err(Error::new(
            ErrorCode::Stale,
            format!(
                "created_at is {} s away from the server clock; the window is {} s",
                skew.whole_seconds(),
                window.as_secs()
            ),
        ));
    }
    Ok(())
}

/// The payload fields that hold UUIDs. Every `format: uuid` field of a
/// request payload schema in api.yml is one of these, at the payload's top
/// level (`tests/e2e/spec_rules.rs` checks that against the spec).
const UUID_FIELDS: [&str; 2] = ["id", "conversation_id"];

/// Rule: UUIDs are spelled one way, lowercase hyphenated, because that is
/// the form the canonical message and name bytes sign. The typed models
/// accept any spelling `uuid` parses (uppercase, braces, `urn:uuid:`), so a
/// client that signed the id it sent would otherwise get `bad_signature`
/// for a spelling the server silently rewrote.
fn check_uuid_spelling(
    body: &[u8],
    payload: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<(), Error> {
    /// The Body's `request_id` as written; the typed Body keeps only its value.
    #[derive(serde::Deserialize)]
    struct Spelling<'a> {
        #[serde(borrow, default)]
        request_id: Option<std::borrow::Cow<'a, str>>,
    }
    let request_id = serde_json::from_slice::<Spelling>(body)
        .map_err(|e| Error::bad_request(format!("the decrypted Body is not valid: {e}")))?
        .request_id;
    let payload_ids = UUID_FIELDS.iter().filter_map(|field| {
        let value = payload?.get(*field)?.as_str()?;
        Some((*field, value))
    });
    for (field, value) in request_id
        .as_deref()
        .map(|v| ("request_id", v))
        .into_iter()
        .chain(payload_ids)
    {
        if !is_canonical_uuid(value) {
            return Err(Error::bad_request(format!(
                "{field} must be a UUID in lowercase hyphenated form (8-4-4-4-12 hex digits)"
            )));
        }
    }
    Ok(())
}

/// Whether `text` is a UUID written as 8-4-4-4-12 lowercase hex digits.
pub fn is_canonical_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Rule: `session.open` is the first WebSocket frame and only that.
fn check_channel(body_type: BodyType, channel: Channel) -> Result<(), Error> {
    match (channel, body_type) {
        (Channel::SocketFirst, BodyType::SessionOpen) => Ok(()),
        (Channel::SocketFirst, _) => Err(Error::new(
            ErrorCode::SessionRequired,
            "the first frame on a WebSocket must be session.open",
        )),
        (_, BodyType::SessionOpen) => Err(Error::bad_request(
            "session.open is only valid as the first WebSocket frame",
        )),
        _ => Ok(()),
    }
}

/// Rule: the envelope is signed by the user the Body names (with the key it
/// carries, for `user.complete`); `user.sync` alone is unsigned.
async fn check_signature(
    state: &State,
    envelope: &RequestEnvelope,
    request: &Request,
    username: &str,
) -> Result<(), Error> {
    let body_type = request.body_type();
    let key = match request {
        Request::UserComplete(payload) => state.client_key(&payload.public_key)?,
        _ if !body_type.is_signed() => return Ok(()),
        _ => {
            // Through the key cache: this process's key changes clear it at
            // once, an operator's reset or delete takes effect within a
            // second.
            let key = state.current_key(username).await?.ok_or_else(|| {
                Error::new(
                    ErrorCode::UnknownUser,
                    format!("no completed user is called {username:?}"),
                )
            })?;
            state.public_key(&key)?
        }
    };
    if !state.config.rules().signature {
        return Ok(());
    }
    if envelope.signature.is_none() {
        return Err(Error::new(
            ErrorCode::BadSignature,
            format!("{body_type} must be signed"),
        ));
    }
    // Inline: a public-key operation (0.03 to 0.2 ms) costs less than a
    // hand-off to the blocking pool and back.
    envelope.verify_signature(&key).map_err(|_| {
        Error::new(
            ErrorCode::BadSignature,
            "the signature does not verify with this user's key",
        )
    })
}

/// Rule: a request id is accepted once per user, durably, for as long as
/// the request could still be fresh.
async fn check_replay(
    state: &State,
    username: &str,
    request_id: Uuid,
    created_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), Error> {
    if !state.config.rules().replay {
        return Ok(());
    }
    let window = time::Duration::try_from(state.config.freshness_window)
        .unwrap_or(time::Duration::minutes(5));
    // The latest moment the request could still pass the freshness check.
    let expires = created_at
        .max(now)
        .checked_add(window)
        .unwrap_or(OffsetDateTime::now_utc() + time::Duration::days(1));
    let fresh = state
        .store
        .remember_request(username, request_id, unix_ms(expires))
        .await?;
    if fresh {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::Replayed,
            "this request_id was already accepted",
        ))
    }
}

/// The envelope bytes a request needs for a message at the limits: api.yml's
/// `Limits` relation, `16/9 * (file + content + 1024 * members) + 16384`.
/// Base64 twice (attachment and content inside the Body JSON, the Body
/// inside the envelope) is the 16/9; 1024 bytes per member hold a 4096-bit
/// wrapped key with its username; 16384 covers everything else.
pub fn body_bytes_needed(limits: &Limits) -> i128 {
    let parts = i128::from(limits.max_file_bytes)
        + i128::from(limits.max_content_bytes)
        + 1024 * i128::from(limits.max_members);
    (parts * 16 + 8) / 9 + 16_384
}

/// Refuses limits a client could not use: any limit below 1, or a file
/// and content limit that cannot be reached under the body limit.
pub fn check_limits(limits: &Limits) -> Result<(), String> {
    let all = [
        ("max_body_bytes", limits.max_body_bytes),
        ("max_file_bytes", limits.max_file_bytes),
        ("max_content_bytes", limits.max_content_bytes),
        ("max_members", limits.max_members),
        ("max_page_size", limits.max_page_size),
    ];
    if let Some((name, _)) = all.iter().find(|(_, value)| *value < 1) {
        return Err(format!("{name} must be at least 1"));
    }
    let needed = body_bytes_needed(limits);
    if i128::from(limits.max_body_bytes) < needed {
        return Err(format!(
            "max_body_bytes ({}) cannot carry a message at max_file_bytes ({}), \
             max_content_bytes ({}) and max_members ({}): that takes {needed} bytes \
             (16/9 of the file and content, base64 twice, plus 1024 per member and 16384); \
             raise max_body_bytes or lower the others",
            limits.max_body_bytes,
            limits.max_file_bytes,
            limits.max_content_bytes,
            limits.max_members,
        ));
    }
    Ok(())
}

/// What a username may be, for error messages.
pub const USERNAME_RULE: &str = "a username is 1 to 32 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";

/// Usernames: 1 to 32 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn is_valid_username(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Unix milliseconds of a timestamp, the storage format.
pub fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The timestamp of stored unix milliseconds.
pub fn from_unix_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
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
