//! Target `envelope`: the encrypted envelope on both sides, without the
//! store. The first byte picks the mode:
//!
//! 0. The rest is the JSON of `POST /encrypted`: parsed as poem-openapi
//!    parses the `EncryptedRequest` (and as serde does for a WebSocket
//!    frame's `EncryptedBody`), checked by the pipeline's `parse_envelope`,
//!    opened with the server key ([`RequestEnvelope::open`]) and, if it
//!    opens, decoded as the pipeline decodes a Body (type, payload, UUID
//!    spelling, username) and its signature checked with Alice's key.
//! 1. The rest is a Body plaintext, sealed for the server under the cached
//!    K: the real `open` (one RSA decryption) must give it back, then it is
//!    decoded as in mode 0.
//! 2. The same decoding without the RSA step.
//! 3. A response plaintext sealed under the cached K_resp and opened by the
//!    client ([`crate::client::Session::open_response`]) for a request of
//!    the type the next byte names, then decoded as that type's response.
//! 4. An event: 8 bytes of `seq`, then the Body plaintext, sealed under the
//!    cached K_events and opened by an [`EventReceiver`] (which must then
//!    refuse the same `seq`), decoded as the client's socket decodes it.
//! 5. The rest is a server frame (JSON) as the client's socket reads it:
//!    a response or an event envelope, or a plain `Error`.

use std::sync::OnceLock;
use std::time::Duration;

use poem_openapi::types::ParseFromJSON;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{fixtures, mode, seal_cached};
use crate::bodies::{BodyType, Event, Request, Response};
use crate::client::{Session, http};
use crate::crypto::{
    CryptoError, EventEnvelope, EventReceiver, PublicKey, RequestEnvelope, ResponseEnvelope,
};
use crate::models::{Body, EncryptedBody, EncryptedRequest, Error, Limits, References};
use crate::server::pipeline::parse_envelope;
use crate::username::Username;

/// The request id of the request every fixture response answers.
pub const RESPONSE_REQUEST_ID: &str = "00000000-0000-4000-8000-00000000f022";

/// Runs one input (see the module documentation).
pub fn run(data: &[u8]) {
    let (mode, rest) = mode(data, 6);
    match mode {
        0 => wire_request(rest),
        1 => {
            let sealed = seal_cached(rest, None);
            let opened = sealed
                .open(&fixtures().server)
                .expect("an envelope sealed for the server opens");
            assert_eq!(opened.body, rest, "opening gives back what was sealed");
            decode_request(&opened.body, &sealed);
        }
        2 => decode_request(rest, &seal_cached(b"", None)),
        3 => response(rest),
        4 => event(rest),
        _ => server_frame(rest),
    }
}

/// Mode 0: `POST /encrypted` and a WebSocket request frame.
fn wire_request(json: &[u8]) {
    // poem-openapi parses the body the generated endpoint receives (after
    // `admit_body` checked it with serde); a frame is parsed with serde.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(json)
        && let Ok(request) = EncryptedRequest::parse_from_json(Some(value))
    {
        open_wire(EncryptedBody::from(request));
    }
    if serde_json::from_slice::<EncryptedRequest>(json).is_ok() {
        // What admit_body accepts, poem-openapi must accept too; except that
        // serde's derived Deserialize also takes a struct as a JSON array of
        // its fields in order (`[1,"<key>","<iv>","<data>"]`), which api.yml
        // does not allow and poem-openapi refuses (a known deviation: such a
        // POST /encrypted gets bad_envelope from poem-openapi, but a WebSocket
        // frame in array form is read and answered).
        let value: serde_json::Value = serde_json::from_slice(json).expect("valid JSON");
        if value.is_object() {
            EncryptedRequest::parse_from_json(Some(value))
                .expect("poem-openapi accepts what serde accepted");
        }
    }
    if let Ok(frame) = serde_json::from_slice::<EncryptedBody>(json) {
        // A frame that is a request converts to the HTTP form and back.
        if let Ok(request) = EncryptedRequest::try_from(&frame) {
            assert_eq!(EncryptedBody::from(request), frame);
        }
        open_wire(frame);
    }
}

fn open_wire(envelope: EncryptedBody) {
    let Ok(envelope) = parse_envelope(envelope) else {
        return;
    };
    if let Ok(opened) = envelope.open(&fixtures().server) {
        decode_request(&opened.body, &envelope);
    }
}

/// What the pipeline does with a decrypted request Body before dispatch:
/// parse it, check the UUID spelling, decode the typed request, check the
/// username, and verify the signature (with Alice's key; `user.complete`
/// with the key it carries).
fn decode_request(plaintext: &[u8], envelope: &RequestEnvelope) {
    let Ok(body) = serde_json::from_slice::<Body>(plaintext) else {
        return;
    };
    if let Some(username) = &body.username {
        let _ = Username::is_valid(username);
    }
    let Ok(request) =
        Request::from_parts(&body.r#type, body.payload.map(serde_json::Value::Object))
    else {
        return;
    };
    let key = match &request {
        Request::UserComplete(payload) => PublicKey::from_spki_der(&payload.public_key).ok(),
        _ => Some(fixtures().alice.public_key().clone()),
    };
    if let Some(key) = key {
        match envelope.verify_signature(&key) {
            Ok(()) | Err(CryptoError::BadSignature | CryptoError::MissingSignature) => {}
            Err(other) => panic!("a signature check fails with {other:?}"),
        }
    }
}

/// The client's session, offline: it only opens responses here.
fn session() -> &'static Session {
    static SESSION: OnceLock<Session> = OnceLock::new();
    SESSION.get_or_init(|| {
        let server = fixtures().server.public_key();
        let references = References {
            protocol_version: crate::wire::PROTOCOL_VERSION,
            server_public_key: server.to_spki_der().to_vec().into(),
            server_fingerprint: server.fingerprint().to_string(),
            server_time: OffsetDateTime::now_utc(),
            // Wide, so that the committed fixture responses stay fresh.
            freshness_window_seconds: 10 * 365 * 86_400,
            limits: Limits {
                max_body_bytes: 1 << 24,
                max_file_bytes: 1 << 23,
                max_content_bytes: 1 << 16,
                max_members: 100,
                max_page_size: 100,
                max_conversations: 1000,
            },
        };
        Session::with_references(
            http::Client::new("http://fuzz.invalid"),
            references,
            "alice",
            Some(fixtures().alice.clone()),
        )
        .expect("a session on the fixture references")
    })
}

/// Mode 3: a response as the client opens and decodes it.
fn response(data: &[u8]) {
    let (index, plaintext) = match data.split_first() {
        Some((index, rest)) => (*index as usize, rest),
        None => (0, data),
    };
    let body_type = BodyType::ALL[index % BodyType::ALL.len()];
    let request = Body {
        r#type: body_type.as_str().to_owned(),
        created_at: OffsetDateTime::now_utc(),
        request_id: Some(Uuid::parse_str(RESPONSE_REQUEST_ID).expect("a UUID")),
        username: Some("alice".to_owned()),
        seq: None,
        payload: None,
        error: None,
    };
    let secret = &fixtures().secret;
    let sealed = secret
        .response_key()
        .seal(plaintext)
        .expect("sealing a response");
    let frame = EncryptedBody {
        version: crate::wire::PROTOCOL_VERSION,
        key: None,
        iv: sealed.iv.to_vec().into(),
        data: sealed.data.into(),
        signature: None,
        seq: None,
    };
    if let Ok(payload) = session().open_response(&request, &frame, secret) {
        let _ = Response::from_parts(body_type, payload);
    }
    // Any other key must refuse it.
    let other = crate::crypto::ResponseKey::from_raw([7; 32]);
    let envelope =
        ResponseEnvelope::from_parts(&frame.iv, frame.data.to_vec()).expect("12-byte IV");
    assert!(other.open(&envelope).is_err());
}

/// Mode 4: an event as the client's socket opens and decodes it.
fn event(data: &[u8]) {
    let (seq, plaintext) = match data.split_first_chunk::<8>() {
        Some((seq, rest)) => (u64::from_be_bytes(*seq), rest),
        None => (1, data),
    };
    let key = fixtures().secret.event_key();
    let sealed = key
        .seal_with_rng(&mut crate::crypto::OsRng, seq, plaintext)
        .expect("sealing an event");
    let mut receiver = EventReceiver::new(key);
    let opened = receiver
        .open(&sealed)
        .expect("an event sealed under the key opens");
    assert_eq!(opened, plaintext);
    assert!(
        matches!(receiver.open(&sealed), Err(CryptoError::Replay { .. })),
        "the same seq is refused the second time"
    );
    decode_event(seq, &opened, session().window());
}

/// The client socket's checks of a decrypted event Body.
fn decode_event(seq: u64, plaintext: &[u8], window: Duration) {
    let Ok(body) = serde_json::from_slice::<Body>(plaintext) else {
        return;
    };
    if body.seq != i64::try_from(seq).ok() {
        return;
    }
    if (OffsetDateTime::now_utc() - body.created_at).abs() > window {
        return;
    }
    let _ = Event::from_parts(&body.r#type, body.payload.map(serde_json::Value::Object));
}

/// Mode 5: a frame from the server, as the client's socket parses it.
fn server_frame(json: &[u8]) {
    let Ok(frame) = serde_json::from_slice::<EncryptedBody>(json) else {
        let _ = serde_json::from_slice::<Error>(json);
        return;
    };
    let secret = &fixtures().secret;
    match frame.seq {
        Some(seq) => {
            let Ok(seq) = u64::try_from(seq) else { return };
            let Ok(envelope) = EventEnvelope::from_parts(seq, &frame.iv, frame.data.to_vec())
            else {
                return;
            };
            if let Ok(plaintext) = EventReceiver::new(secret.event_key()).open(&envelope) {
                decode_event(seq, &plaintext, session().window());
            }
        }
        None => {
            let request = Body {
                r#type: "conversation.list".to_owned(),
                created_at: OffsetDateTime::now_utc(),
                request_id: Some(Uuid::parse_str(RESPONSE_REQUEST_ID).expect("a UUID")),
                username: Some("alice".to_owned()),
                seq: None,
                payload: None,
                error: None,
            };
            let _ = session().open_response(&request, &frame, secret);
        }
    }
}

#[cfg(test)]
mod tests {
    /// Found by the `envelope` target: serde (admit_body) accepts an
    /// `EncryptedRequest` written as a JSON array, poem-openapi does not.
    /// The differential check now compares objects only; the array form is
    /// a deviation from api.yml left for a decision (see the target's notes).
    #[test]
    fn a_request_in_array_form_is_not_a_failure() {
        let input = b"\xae[9,\"\",\"\",\"\"]";
        assert!(serde_json::from_slice::<crate::models::EncryptedRequest>(&input[1..]).is_ok());
        super::run(input);
    }
}
