//! The transcript format: one YAML file per case in `cases/`. The JSON
//! Schema in `conformance/case.schema.json` is derived from these types (a
//! test checks it has not drifted), so editors can validate case files and
//! other implementations can reuse the format.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One conformance case: who takes part, what they send, what must come
/// back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Stable identifier, `AREA-WHAT-NNN` (for example `MSG-CREATE-003`).
    pub id: String,
    /// One line saying what the case proves.
    pub title: String,
    /// The `api.yml` body type (`message.create`) or protocol rule
    /// (`rule:replay`) this case checks.
    pub checks: String,
    /// The ids of the `statements.yml` entries (normative statements of
    /// `api.yml`) this case checks; `COVERAGE.md` is generated from them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<String>,
    /// MUST cases decide conformance; SHOULD cases run with `--strict`.
    #[serde(default)]
    pub level: Level,
    /// Users completed before the first step, by logical name. Each gets a
    /// fresh username per run; the name picks its fixture key (`alice`,
    /// `bob`, `carol`, `dave` and `erin` exist).
    #[serde(default)]
    pub users: Vec<String>,
    /// Users created but not completed: their token is `${token:NAME}`.
    #[serde(default)]
    pub pending: Vec<String>,
    /// Pending users whose token has already expired (`${token:NAME}`):
    /// the case is skipped when the provisioner cannot make such a token
    /// (`--provision-expired-cmd`, or `expired` lines in `--users`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired: Vec<String>,
    /// The case waits out the server's timers (ping interval, silence
    /// limit: up to about 100 s) and runs only with `--slow`; its waiting
    /// overlaps the other cases.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub slow: bool,
    /// The case runs after every other case, with nothing beside it (it
    /// floods the server from the runner's address, which would throttle
    /// cases running beside it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alone: bool,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// MUST or SHOULD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Level {
    /// Required for conformance.
    #[default]
    #[serde(rename = "MUST")]
    Must,
    /// Recommended; checked with `--strict`.
    #[serde(rename = "SHOULD")]
    Should,
}

/// One step: an exchange, a socket to open, or an event to wait for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The logical user who acts (sends, or owns the socket).
    #[serde(rename = "as")]
    pub actor: String,
    /// The body type to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// The payload template (see the README of `cases/`); omitted for types
    /// without a payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Keep the payload as sent (directives expanded) as `${NAME}`, so a
    /// later step can send the very same bytes again (`payload: ${NAME}`),
    /// as a client retrying a request does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_as: Option<String>,
    /// Sign as the actor with this fixture key instead of the actor's own
    /// (the key they rotated to with `$rotation: {to: KEY}`): the request
    /// envelope, the socket's `session.open`, and the directives' seals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Send over the actor's WebSocket instead of `POST /encrypted`.
    #[serde(default)]
    pub websocket: bool,
    /// Open the actor's WebSocket (`session.open`); events are then read
    /// with `event`.
    #[serde(default)]
    pub open_socket: bool,
    /// Open a fresh WebSocket and send this body type (signed, no payload,
    /// `tamper` applied) as its first frame; `expect` then names the error
    /// that must come back, after which the socket must close. The answer
    /// to any type but `session.open` must be a plain Error frame; a
    /// refused `session.open` gets its encrypted error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_frame: Option<String>,
    /// Open a fresh WebSocket and send this text as its first frame (not
    /// an `EncryptedBody`); `expect` names the plain error frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_frame_text: Option<String>,
    /// Open a fresh WebSocket and send a first frame one byte over the
    /// announced `limits.max_body_bytes`: the server must answer with the
    /// close code 1009 (read to its end, so the close frame arrives).
    #[serde(default)]
    pub oversized_frame: bool,
    /// Open a fresh WebSocket and send only the header of a text frame
    /// over twice `limits.max_body_bytes`: the server must send the close
    /// frame 1009 without waiting for the rest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut_frame: bool,
    /// Open a fresh WebSocket with a `session.open`, then read it without
    /// sending anything: a ping must come within this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping_within: Option<u64>,
    /// Open a fresh WebSocket and send nothing: the server must end the
    /// connection within this many seconds (no first frame in time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_if_silent: Option<u64>,
    /// Open a fresh WebSocket with a `session.open`, then send the first
    /// kilobyte of a frame one byte over `limits.max_body_bytes` and stall:
    /// the server must end the connection within this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_if_stalled: Option<u64>,
    /// Send up to this many envelopes that cannot be opened (`{}`), 16 at
    /// a time, until one gets the plain 429 `rate_limited`; the step fails
    /// if none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flood: Option<u64>,
    /// Send this step's request this many times (a template, such as
    /// `${limits.max_conversations}`); use `${new_uuid}` for an id that
    /// differs each time. `expect` applies to every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Value>,
    /// Fetch `GET /references`: `expect` checks its fields, and the runner
    /// checks that the announced limits keep api.yml's relation between
    /// `max_body_bytes` and the rest.
    #[serde(default)]
    pub references: bool,
    /// Wait for the next event on the actor's socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventExpectation>,
    /// Have the operator act on the actor's account (through the
    /// provisioner's hooks, `--reset-cmd` and `--delete-cmd`; a case with
    /// such a step is skipped when the hook is missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorAction>,
    /// Wait (at most 5 s) for the actor's socket to be closed by the server
    /// with this close code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<u16>,
    /// How to break the exchange on purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tamper: Vec<Tamper>,
    /// What must come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expectation>,
}

/// What the operator does to a user's account in a case step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperatorAction {
    /// The user loses their key and must complete again (`nanochat user
    /// reset`).
    Reset,
    /// The user is deleted (`nanochat user delete`).
    Delete,
}

/// A deliberate fault in one exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// Flip a bit of the wrapped key.
    FlipKey,
    /// Flip a bit of the IV.
    FlipIv,
    /// Flip a bit of the ciphertext (not its tag).
    FlipData,
    /// Flip a bit of the GCM tag (the last 16 bytes of `data`).
    FlipTag,
    /// Flip a bit of the signature.
    FlipSignature,
    /// Send no signature.
    DropSignature,
    /// Sign with another fixture key than the actor's.
    SignWith(String),
    /// Reuse the request id of the actor's previous request.
    ReuseRequestId,
    /// Move `created_at` by this many seconds.
    ShiftCreatedAt(i64),
    /// Write `created_at` (the same instant) with this UTC offset, in
    /// minutes east (`330` for `+05:30`), instead of `Z`.
    CreatedAtOffset(i32),
    /// Seal to another key than the server's (a fixture key name).
    SealTo(String),
    /// Send this text as the body instead of an envelope.
    RawBody(String),
    /// Replace the envelope's `version`.
    Version(i64),
    /// Set the Body's `type` to this text (unknown types).
    BodyType(String),
    /// Add a field to the envelope.
    ExtraEnvelopeField,
    /// Pad the envelope with an extra field to one byte over the announced
    /// `limits.max_body_bytes`.
    PadOverBodyLimit,
    /// Remove a field of the Body (`created_at`, `request_id`, `username`).
    RemoveBodyField(String),
}

/// What an exchange must answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The exact error code, or none for success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The HTTP status of a plain (unencrypted) error: 400, 401, 413, 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Values the response payload must hold: a dotted path (`members.0.username`)
    /// to a template value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matches: BTreeMap<String, Value>,
    /// Paths whose length must be this (`items: 2`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lengths: BTreeMap<String, usize>,
    /// Paths that must be absent or null.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// Values to keep for later steps: variable name to dotted path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
}

/// An event the actor's socket must receive next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventExpectation {
    /// The event type (`event.message.created`), or `none` for "no event
    /// within a second".
    #[serde(rename = "type")]
    pub event_type: String,
    /// Values the event payload must hold.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matches: BTreeMap<String, Value>,
}

impl Case {
    /// Parses one case file.
    pub fn from_yaml(text: &str) -> Result<Case, String> {
        // Through JSON's data model, so `tamper: [{seal_to: carol}]` reads
        // as the enum it looks like (YAML alone would want `!seal_to`).
        let value: Value = serde_norway::from_str(text).map_err(|e| e.to_string())?;
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    /// Whether `selector` (an id or an id prefix) selects this case.
    pub fn selected_by(&self, selector: &str) -> bool {
        self.id == selector || self.id.starts_with(selector)
    }
}

/// The JSON Schema of a case file.
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Case)).expect("a schema is JSON")
}
