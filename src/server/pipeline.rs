//! The envelope pipeline: from an `EncryptedBody` to a handler call and
//! back to an encrypted response.
//!
//! Order matters and is the protocol's: rate limit the peer (before any RSA
//! work), open the envelope, parse the Body, check freshness and the
//! spelling of UUIDs, decode the typed request, verify the signature,
//! record the request id (replay guard; for `message.*` in the change's
//! own transaction, see `check_replay`), dispatch, seal the answer.
//! Every check is one function here, so a reader (or a deliberately broken
//! test server) finds each rule once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::api::dispatch;
use crate::bodies::{BodyType, Request};
use crate::crypto::{RequestEnvelope, RequestSecret};
use crate::models::{Body, EncryptedBody, ErrorCode};
use crate::server::error::{Failure, PlainFailure, PlainKind, blocking};
use crate::server::metrics::{RsaOperation, Transport};
use crate::server::protocol::{Caller, PROTOCOL_VERSION, is_json_object, unix_ms};
use crate::server::state::State;
use crate::store::PendingRequest;
use crate::username::Username;

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

/// A request that was opened and answered.
pub struct Answered {
    /// The encrypted response.
    pub response: EncryptedBody,
    /// The request's secret (the WebSocket derives its event key from it).
    pub secret: RequestSecret,
    /// The request's type and caller when the Body got that far and succeeded.
    pub accepted: Option<(BodyType, Username)>,
    /// The type the Body named (anything, as the client wrote it; empty
    /// when it could not be read).
    pub body_type: String,
    /// The error code of the answer, if it is an error.
    pub refused: Option<ErrorCode>,
}

impl Channel {
    fn transport(self) -> Transport {
        match self {
            Channel::Http => Transport::Http,
            Channel::SocketFirst | Channel::Socket => Transport::Websocket,
        }
    }
}

/// Runs one envelope through the pipeline, and counts it in the metrics.
pub async fn handle(
    state: &Arc<State>,
    peer: Option<SocketAddr>,
    envelope: EncryptedBody,
    channel: Channel,
) -> Result<Answered, PlainFailure> {
    let started = Instant::now();
    let result = answer(state, peer, envelope, channel).await;
    let (body_type, code) = match &result {
        Ok(answered) => (answered.body_type.as_str(), answered.refused),
        // Refused before a Body was read: no type.
        Err(refused) => ("", Some(refused.error.code)),
    };
    state
        .metrics
        .request(channel.transport(), body_type, code, started.elapsed());
    result
}

async fn answer(
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
    state.metrics.rsa(RsaOperation::Decrypt, 1);
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
        if !is_json_object(&opened.body) {
            return Err(Failure::bad_request(
                "the decrypted Body is not valid: expected a JSON object",
            ));
        }
        let body: Body = serde_json::from_slice(&opened.body)
            .map_err(|e| Failure::bad_request(format!("the decrypted Body is not valid: {e}")))?;
        body_type_name = body.r#type.clone();
        request_id = body.request_id;
        let now = OffsetDateTime::now_utc();
        check_freshness(state, body.created_at, now)?;
        let request =
            Request::from_parts(&body.r#type, body.payload.map(serde_json::Value::Object))
                .map_err(|e| match e {
                    crate::bodies::DecodeError::UnknownType(t) => {
                        Failure::new(ErrorCode::UnknownType, format!("unknown body type {t:?}"))
                    }
                    other => Failure::bad_request(other.to_string()),
                })?;
        let body_type = request.body_type();
        check_channel(body_type, channel)?;
        let username = body
            .username
            .ok_or_else(|| Failure::bad_request("a request Body needs a username"))?;
        // Before anything is stored or logged under this name.
        let username =
            Username::try_from(username).map_err(|_| Failure::bad_request(Username::RULE))?;
        let id = body
            .request_id
            .ok_or_else(|| Failure::bad_request("a request Body needs a request_id"))?;
        check_signature(state, &envelope, &request, &username).await?;
        authenticated = true;
        let pending = check_replay(state, &username, id, body_type, body.created_at, now).await?;
        let caller = Caller {
            username: username.clone(),
            peer,
            request_id: id,
            now,
            pending: pending.clone(),
        };
        let response = dispatch(state.as_ref(), &caller, request).await;
        let response = settle_replay(state, pending.as_deref(), response).await?;
        let payload = response
            .payload_json()
            .map_err(|e| Failure::internal("encoding the response", e))?;
        Ok::<_, Failure>((body_type, username, payload))
    }
    .await;

    if channel == Channel::SocketFirst
        && let Err(error) = &outcome
        && error.code() == ErrorCode::SessionRequired
    {
        return Err(PlainFailure {
            kind: PlainKind::SessionRequired,
            error: error.public().clone(),
        });
    }

    let now = OffsetDateTime::now_utc();
    let (accepted, payload, error) = match outcome {
        Ok((body_type, username, payload)) => (
            Some((body_type, username)),
            payload.as_object().cloned(),
            None,
        ),
        // The edge: an internal failure's detail is logged here, once.
        Err(failure) => (None, None, Some(failure.report())),
    };
    if error.is_some() && !authenticated {
        state.penalize(peer);
    }
    if let Some(error) = &error {
        // The type is caller-chosen text: log a bounded, escaped prefix.
        let body_type: String = body_type_name.chars().take(64).collect();
        tracing::info!(code = %error.code, body_type = ?body_type, "request refused");
    }
    let refused = error.as_ref().map(|e| e.code);
    let body = Body {
        r#type: body_type_name.clone(),
        created_at: now,
        // A deliberately broken server without `response_echo` forgets it
        // on errors (the answers setup never sees).
        request_id: request_id.filter(|_| state.config.rules().response_echo || error.is_none()),
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
        body_type: body_type_name,
        refused,
    })
}

/// Encrypts a response Body under the request's response key (or, in a
/// deliberately broken server without the `response_key` rule, under the
/// events key: the wrong HKDF info string).
fn seal_response(
    secret: &RequestSecret,
    body: &Body,
    derive_correctly: bool,
) -> Result<EncryptedBody, Failure> {
    let json =
        serde_json::to_vec(body).map_err(|e| Failure::internal("encoding the response", e))?;
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
pub(crate) fn parse_envelope(envelope: EncryptedBody) -> Result<RequestEnvelope, PlainFailure> {
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
) -> Result<(), Failure> {
    if !state.config.rules().freshness {
        return Ok(());
    }
    let skew = (now - created_at).abs();
    let window = state.config.freshness_window;
    if skew > window {
        return Err(Failure::new(
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

/// Rule: `session.open` is the first WebSocket frame and only that.
fn check_channel(body_type: BodyType, channel: Channel) -> Result<(), Failure> {
    match (channel, body_type) {
        (Channel::SocketFirst, BodyType::SessionOpen) => Ok(()),
        (Channel::SocketFirst, _) => Err(Failure::new(
            ErrorCode::SessionRequired,
            "the first frame on a WebSocket must be session.open",
        )),
        (_, BodyType::SessionOpen) => Err(Failure::bad_request(
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
) -> Result<(), Failure> {
    let body_type = request.body_type();
    let key = match request {
        Request::UserComplete(payload) => state.client_key(&payload.public_key)?,
        _ if !body_type.is_signed() => return Ok(()),
        _ => {
            // Through the key cache: this process's key changes clear it at
            // once, an operator's reset or delete takes effect within a
            // second.
            let key = state.current_key(username).await?.ok_or_else(|| {
                Failure::new(
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
        return Err(Failure::new(
            ErrorCode::BadSignature,
            format!("{body_type} must be signed"),
        ));
    }
    // Inline: a public-key operation (0.03 to 0.2 ms) costs less than a
    // hand-off to the blocking pool and back.
    state.metrics.rsa(RsaOperation::Verify, 1);
    envelope.verify_signature(&key).map_err(|_| {
        Failure::new(
            ErrorCode::BadSignature,
            "the signature does not verify with this user's key",
        )
    })
}

/// Rule: a request id is accepted once per user, durably, for as long as
/// the request could still be fresh.
///
/// For most types the id is recorded here, before the handler runs. For
/// the types whose handlers change nothing but through a conversation
/// turn ([`records_with_change`]) it is recorded in the change's own
/// transaction instead, which saves a commit per message; the returned
/// [`PendingRequest`] goes to the handler, and [`settle_replay`] records
/// it afterwards when no change did.
async fn check_replay(
    state: &State,
    username: &str,
    request_id: Uuid,
    body_type: BodyType,
    created_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Option<Arc<PendingRequest>>, Failure> {
    if !state.config.rules().replay {
        return Ok(None);
    }
    let window = time::Duration::try_from(state.config.freshness_window)
        .unwrap_or(time::Duration::minutes(5));
    // The latest moment the request could still pass the freshness check.
    let expires = created_at
        .max(now)
        .checked_add(window)
        .unwrap_or(OffsetDateTime::now_utc() + time::Duration::days(1));
    if records_with_change(body_type) {
        return Ok(Some(PendingRequest::new(
            username,
            request_id,
            unix_ms(expires),
        )));
    }
    let fresh = state
        .store
        .remember_request(username, request_id, unix_ms(expires))
        .await?;
    if fresh { Ok(None) } else { Err(replayed()) }
}

/// The types whose request id the replay guard records with their change:
/// their handlers write nothing, and tell nobody anything, but through a
/// conversation turn's change, which records the id in its own
/// transaction. A replay therefore runs the handler's reads and checks
/// again, changes nothing, and is answered `replayed` all the same.
fn records_with_change(body_type: BodyType) -> bool {
    matches!(
        body_type,
        BodyType::MessageCreate | BodyType::MessageUpdate | BodyType::MessageDelete
    )
}

/// After the handler of a [`records_with_change`] type: the request id is
/// recorded now unless its change did. A replay is answered `replayed`
/// whatever the handler answered, so an id is accepted once, whether the
/// request succeeded, changed nothing or failed.
async fn settle_replay<T>(
    state: &State,
    pending: Option<&PendingRequest>,
    answer: Result<T, Failure>,
) -> Result<T, Failure> {
    let Some(pending) = pending else {
        return answer;
    };
    if state.store.settle_request(pending).await? {
        answer
    } else {
        Err(replayed())
    }
}

fn replayed() -> Failure {
    Failure::new(ErrorCode::Replayed, "this request_id was already accepted")
}
