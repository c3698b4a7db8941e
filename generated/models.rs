// @generated from api.yml by nanochat-codegen: do not edit.
// Refresh the committed copies with `NANOCHAT_UPDATE_GENERATED=1 cargo test --test offline generated::`.

/// An encrypted Body: a response (no key) or an event (with seq), and the shape of every WebSocket frame (a request frame has the fields of EncryptedRequest). See the info description for the construction. No other fields are accepted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(poem_openapi::Object))]
#[cfg_attr(
    feature = "server",
    oai(skip_serializing_if_is_none, example, deny_unknown_fields)
)]
#[serde(deny_unknown_fields)]
pub struct EncryptedBody {
    /// Protocol version; always 1.
    pub version: i32,
    /// Requests only. The 32-byte AES key K, wrapped with RSA-OAEP-SHA-256 under the server public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<crate::wire::Bytes>,
    /// The 12-byte AES-GCM IV (16 base64 characters, no padding).
    pub iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the JSON Body, tag appended (at least the 16-byte tag, so 24 base64 characters).
    pub data: crate::wire::Bytes,
    /// Requests only, all but user.sync. RSA-PSS-SHA-256 signature by the user over key || iv || data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::wire::Bytes>,
    /// Events only. The per-socket sequence number, starting at 1, strictly increasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}
#[cfg(feature = "server")]
impl poem_openapi::types::Example for EncryptedBody {
    fn example() -> Self {
        serde_json::from_str(
                "{\"data\":\"AAECAwQFBgcICQoLDA0ODxAREhM=\",\"iv\":\"AAECAwQFBgcICQoL\",\"key\":\"q83vEjRWeJA=\",\"signature\":\"q83vEjRWeJA=\",\"version\":1}",
            )
            .expect("api.yml example matches its schema")
    }
}
impl EncryptedBody {
    /// The example of `EncryptedBody` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"data\":\"AAECAwQFBgcICQoLDA0ODxAREhM=\",\"iv\":\"AAECAwQFBgcICQoL\",\"key\":\"q83vEjRWeJA=\",\"signature\":\"q83vEjRWeJA=\",\"version\":1}";
}
/// A request envelope, as POST /encrypted takes it: an EncryptedBody with the wrapped key, and the signature for every type but user.sync; never a seq. See the info description for the construction. No other fields are accepted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(poem_openapi::Object))]
#[cfg_attr(
    feature = "server",
    oai(skip_serializing_if_is_none, example, deny_unknown_fields)
)]
#[serde(deny_unknown_fields)]
pub struct EncryptedRequest {
    /// Protocol version; always 1.
    pub version: i32,
    /// The 32-byte AES key K, wrapped with RSA-OAEP-SHA-256 under the server public key.
    pub key: crate::wire::Bytes,
    /// The 12-byte AES-GCM IV (16 base64 characters, no padding).
    pub iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the JSON Body, tag appended (at least the 16-byte tag, so 24 base64 characters).
    pub data: crate::wire::Bytes,
    /// RSA-PSS-SHA-256 signature by the user over key || iv || data; all but user.sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::wire::Bytes>,
}
#[cfg(feature = "server")]
impl poem_openapi::types::Example for EncryptedRequest {
    fn example() -> Self {
        serde_json::from_str(
                "{\"data\":\"AAECAwQFBgcICQoLDA0ODxAREhM=\",\"iv\":\"AAECAwQFBgcICQoL\",\"key\":\"q83vEjRWeJA=\",\"signature\":\"q83vEjRWeJA=\",\"version\":1}",
            )
            .expect("api.yml example matches its schema")
    }
}
impl EncryptedRequest {
    /// The example of `EncryptedRequest` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"data\":\"AAECAwQFBgcICQoLDA0ODxAREhM=\",\"iv\":\"AAECAwQFBgcICQoL\",\"key\":\"q83vEjRWeJA=\",\"signature\":\"q83vEjRWeJA=\",\"version\":1}";
}
/// An error, sent in clear for envelopes that cannot be opened and inside the encrypted response Body otherwise.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(poem_openapi::Object))]
#[cfg_attr(feature = "server", oai(skip_serializing_if_is_none, example))]
pub struct Error {
    /// See [`ErrorCode`].
    pub code: ErrorCode,
    /// A human explanation; never contains secrets.
    pub message: String,
}
#[cfg(feature = "server")]
impl poem_openapi::types::Example for Error {
    fn example() -> Self {
        serde_json::from_str(
                "{\"code\":\"stale\",\"message\":\"created_at is 412 s away from the server clock; the window is 300 s\"}",
            )
            .expect("api.yml example matches its schema")
    }
}
impl Error {
    /// The example of `Error` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"code\":\"stale\",\"message\":\"created_at is 412 s away from the server clock; the window is 300 s\"}";
}
/// The closed list of error codes.
/// - bad_envelope: the EncryptedBody is malformed (plain, 400)
/// - undecryptable: the key or data does not decrypt (plain, 401)
/// - too_large: a request, file, text or member list exceeds a limit (plain 413 or encrypted)
/// - rate_limited: too many requests or failed user.sync attempts (plain 429 or encrypted)
/// - unavailable: the server cannot serve now (plain, 503)
/// - session_required: a WebSocket's first frame was not session.open (plain, then the socket closes)
/// - bad_request: the Body or its payload does not match the schema or a rule (a missing or malformed created_at, a field the schema does not list, a UUID not in lowercase hyphenated form, a payload on a type without one, session.open anywhere but a WebSocket's first frame)
/// - unknown_type: the Body type is not in the catalogue
/// - stale: created_at is outside the freshness window
/// - replayed: this request_id was already accepted from this user
/// - unknown_user: no completed user has this username (never from user.sync, which answers wrong_password for unknown and pending users alike, so it cannot be used to probe for usernames)
/// - bad_signature: the signature is missing or does not verify
/// - invalid_token: the complete token is unknown, expired or used
/// - invalid_key: a public key is malformed or of an unaccepted size
/// - wrong_password: the sync password is wrong, no private key is stored, or (user.sync only) the user is unknown or pending
/// - not_found: no such conversation, message or user visible to the caller
/// - forbidden: the caller may see the object but not do this to it
/// - conflict: the object already exists (conversation or message id; a message.create that repeats the create of its message is answered with that message instead, and a deleted message's id stays taken), or a sealed name does not carry the next name revision; a user who already completed gets invalid_token from user.complete (the token was used), not conflict
/// - members_mismatch: wrapped keys (message content or a sealed name) do not name exactly the current members once each (a member named twice is a mismatch too), or a named conversation changes members without re-sealing its name
/// - internal: an unexpected server fault; details are in the server log only
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(poem_openapi::Enum))]
pub enum ErrorCode {
    /// `bad_envelope`
    #[serde(rename = "bad_envelope")]
    #[cfg_attr(feature = "server", oai(rename = "bad_envelope"))]
    BadEnvelope,
    /// `undecryptable`
    #[serde(rename = "undecryptable")]
    #[cfg_attr(feature = "server", oai(rename = "undecryptable"))]
    Undecryptable,
    /// `too_large`
    #[serde(rename = "too_large")]
    #[cfg_attr(feature = "server", oai(rename = "too_large"))]
    TooLarge,
    /// `rate_limited`
    #[serde(rename = "rate_limited")]
    #[cfg_attr(feature = "server", oai(rename = "rate_limited"))]
    RateLimited,
    /// `unavailable`
    #[serde(rename = "unavailable")]
    #[cfg_attr(feature = "server", oai(rename = "unavailable"))]
    Unavailable,
    /// `session_required`
    #[serde(rename = "session_required")]
    #[cfg_attr(feature = "server", oai(rename = "session_required"))]
    SessionRequired,
    /// `bad_request`
    #[serde(rename = "bad_request")]
    #[cfg_attr(feature = "server", oai(rename = "bad_request"))]
    BadRequest,
    /// `unknown_type`
    #[serde(rename = "unknown_type")]
    #[cfg_attr(feature = "server", oai(rename = "unknown_type"))]
    UnknownType,
    /// `stale`
    #[serde(rename = "stale")]
    #[cfg_attr(feature = "server", oai(rename = "stale"))]
    Stale,
    /// `replayed`
    #[serde(rename = "replayed")]
    #[cfg_attr(feature = "server", oai(rename = "replayed"))]
    Replayed,
    /// `unknown_user`
    #[serde(rename = "unknown_user")]
    #[cfg_attr(feature = "server", oai(rename = "unknown_user"))]
    UnknownUser,
    /// `bad_signature`
    #[serde(rename = "bad_signature")]
    #[cfg_attr(feature = "server", oai(rename = "bad_signature"))]
    BadSignature,
    /// `invalid_token`
    #[serde(rename = "invalid_token")]
    #[cfg_attr(feature = "server", oai(rename = "invalid_token"))]
    InvalidToken,
    /// `invalid_key`
    #[serde(rename = "invalid_key")]
    #[cfg_attr(feature = "server", oai(rename = "invalid_key"))]
    InvalidKey,
    /// `wrong_password`
    #[serde(rename = "wrong_password")]
    #[cfg_attr(feature = "server", oai(rename = "wrong_password"))]
    WrongPassword,
    /// `not_found`
    #[serde(rename = "not_found")]
    #[cfg_attr(feature = "server", oai(rename = "not_found"))]
    NotFound,
    /// `forbidden`
    #[serde(rename = "forbidden")]
    #[cfg_attr(feature = "server", oai(rename = "forbidden"))]
    Forbidden,
    /// `conflict`
    #[serde(rename = "conflict")]
    #[cfg_attr(feature = "server", oai(rename = "conflict"))]
    Conflict,
    /// `members_mismatch`
    #[serde(rename = "members_mismatch")]
    #[cfg_attr(feature = "server", oai(rename = "members_mismatch"))]
    MembersMismatch,
    /// `internal`
    #[serde(rename = "internal")]
    #[cfg_attr(feature = "server", oai(rename = "internal"))]
    Internal,
}
impl ErrorCode {
    /// Every value, in the order api.yml lists them.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::BadEnvelope,
        ErrorCode::Undecryptable,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::SessionRequired,
        ErrorCode::BadRequest,
        ErrorCode::UnknownType,
        ErrorCode::Stale,
        ErrorCode::Replayed,
        ErrorCode::UnknownUser,
        ErrorCode::BadSignature,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidKey,
        ErrorCode::WrongPassword,
        ErrorCode::NotFound,
        ErrorCode::Forbidden,
        ErrorCode::Conflict,
        ErrorCode::MembersMismatch,
        ErrorCode::Internal,
    ];
    /// The wire name of this value.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadEnvelope => "bad_envelope",
            ErrorCode::Undecryptable => "undecryptable",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::SessionRequired => "session_required",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::Stale => "stale",
            ErrorCode::Replayed => "replayed",
            ErrorCode::UnknownUser => "unknown_user",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InvalidKey => "invalid_key",
            ErrorCode::WrongPassword => "wrong_password",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Conflict => "conflict",
            ErrorCode::MembersMismatch => "members_mismatch",
            ErrorCode::Internal => "internal",
        }
    }
}
impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
impl std::str::FromStr for ErrorCode {
    type Err = ();
    fn from_str(value: &str) -> Result<Self, ()> {
        match value {
            "bad_envelope" => Ok(ErrorCode::BadEnvelope),
            "undecryptable" => Ok(ErrorCode::Undecryptable),
            "too_large" => Ok(ErrorCode::TooLarge),
            "rate_limited" => Ok(ErrorCode::RateLimited),
            "unavailable" => Ok(ErrorCode::Unavailable),
            "session_required" => Ok(ErrorCode::SessionRequired),
            "bad_request" => Ok(ErrorCode::BadRequest),
            "unknown_type" => Ok(ErrorCode::UnknownType),
            "stale" => Ok(ErrorCode::Stale),
            "replayed" => Ok(ErrorCode::Replayed),
            "unknown_user" => Ok(ErrorCode::UnknownUser),
            "bad_signature" => Ok(ErrorCode::BadSignature),
            "invalid_token" => Ok(ErrorCode::InvalidToken),
            "invalid_key" => Ok(ErrorCode::InvalidKey),
            "wrong_password" => Ok(ErrorCode::WrongPassword),
            "not_found" => Ok(ErrorCode::NotFound),
            "forbidden" => Ok(ErrorCode::Forbidden),
            "conflict" => Ok(ErrorCode::Conflict),
            "members_mismatch" => Ok(ErrorCode::MembersMismatch),
            "internal" => Ok(ErrorCode::Internal),
            _ => Err(()),
        }
    }
}
/// What a client needs before its first request, from GET /references.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(poem_openapi::Object))]
#[cfg_attr(feature = "server", oai(skip_serializing_if_is_none, example))]
pub struct References {
    /// The protocol version the server speaks; 1.
    pub protocol_version: i32,
    /// The server public key, DER SubjectPublicKeyInfo.
    pub server_public_key: crate::wire::Bytes,
    /// SHA-256 of the SubjectPublicKeyInfo DER, 16 space-separated groups of 4 hex digits.
    pub server_fingerprint: String,
    /// The server clock, so a client can warn about its own clock skew.
    #[serde(with = "time::serde::rfc3339")]
    pub server_time: time::OffsetDateTime,
    /// How far created_at may be from the receiver's clock, in seconds.
    pub freshness_window_seconds: i64,
    /// See [`Limits`].
    pub limits: Limits,
}
#[cfg(feature = "server")]
impl poem_openapi::types::Example for References {
    fn example() -> Self {
        serde_json::from_str(
                "{\"freshness_window_seconds\":300,\"limits\":{\"max_body_bytes\":16777216,\"max_content_bytes\":65536,\"max_conversations\":1000,\"max_file_bytes\":8388608,\"max_members\":100,\"max_page_size\":100},\"protocol_version\":1,\"server_fingerprint\":\"3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d\",\"server_public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"server_time\":\"2026-11-25T09:00:00Z\"}",
            )
            .expect("api.yml example matches its schema")
    }
}
impl References {
    /// The example of `References` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"freshness_window_seconds\":300,\"limits\":{\"max_body_bytes\":16777216,\"max_content_bytes\":65536,\"max_conversations\":1000,\"max_file_bytes\":8388608,\"max_members\":100,\"max_page_size\":100},\"protocol_version\":1,\"server_fingerprint\":\"3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d\",\"server_public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"server_time\":\"2026-11-25T09:00:00Z\"}";
}
/// Server limits; requests over them get too_large. The limits on a message's parts are reachable within max_body_bytes: the envelope's data is base64 of the Body JSON, in which the attachment and content are base64 again, so each ciphertext byte costs about 16/9 bytes of envelope. A server announces only limits for which max_body_bytes >= 16/9 * (max_file_bytes + max_content_bytes + 1024 * max_members) + 16384 (1024 bytes per member cover a wrapped key of a 4096-bit RSA key and its username, 16384 the rest of the Body and the envelope), so a message with an attachment of max_file_bytes, content of max_content_bytes and a key for each of max_members members fits in one request; roughly, max_file_bytes is at most 9/16 of max_body_bytes. With the defaults: 16 MiB bodies, 8 MiB files.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(poem_openapi::Object))]
#[cfg_attr(feature = "server", oai(skip_serializing_if_is_none, example))]
pub struct Limits {
    /// Largest EncryptedBody accepted, in bytes of JSON.
    pub max_body_bytes: i64,
    /// Largest attachment ciphertext, in bytes; at most about 9/16 of max_body_bytes (see Limits).
    pub max_file_bytes: i64,
    /// Largest message content ciphertext, in bytes.
    pub max_content_bytes: i64,
    /// Most members in one conversation, the owner included.
    pub max_members: i64,
    /// Most messages in one page of history.
    pub max_page_size: i64,
    /// Most conversations one user may be a member of. A conversation.create or a conversation.update that would add a member who is already in this many gets too_large, naming them.
    pub max_conversations: i64,
}
#[cfg(feature = "server")]
impl poem_openapi::types::Example for Limits {
    fn example() -> Self {
        serde_json::from_str(
                "{\"max_body_bytes\":16777216,\"max_content_bytes\":65536,\"max_conversations\":1000,\"max_file_bytes\":8388608,\"max_members\":100,\"max_page_size\":100}",
            )
            .expect("api.yml example matches its schema")
    }
}
impl Limits {
    /// The example of `Limits` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"max_body_bytes\":16777216,\"max_content_bytes\":65536,\"max_conversations\":1000,\"max_file_bytes\":8388608,\"max_members\":100,\"max_page_size\":100}";
}
/// The answer of GET /health.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(poem_openapi::Object))]
#[cfg_attr(feature = "server", oai(skip_serializing_if_is_none, example))]
pub struct Health {
    /// Always "ok" in a 200 answer.
    pub status: String,
    /// The server's software version.
    pub version: String,
}
#[cfg(feature = "server")]
impl poem_openapi::types::Example for Health {
    fn example() -> Self {
        serde_json::from_str("{\"status\":\"ok\",\"version\":\"0.1.0\"}")
            .expect("api.yml example matches its schema")
    }
}
impl Health {
    /// The example of `Health` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"status\":\"ok\",\"version\":\"0.1.0\"}";
}
/// The plaintext inside every EncryptedBody, as UTF-8 JSON. Closed: no
/// other fields (see "The Body" in the info description).
/// Requests carry type, created_at, request_id, username and, where the
/// type has one, payload (schema per type in x-nanochat-bodies).
/// Responses echo type and request_id, carry the server's created_at, and
/// either payload (the type's response schema) or error. Events carry an
/// event.* type (x-nanochat-events), created_at, seq and payload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// The body type, a key of x-nanochat-bodies or x-nanochat-events.
    pub r#type: String,
    /// RFC 3339 date-time at which the sender made this Body, written in UTC; missing or malformed is bad_request.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Requests, random and fresh per request, lowercase hyphenated; responses echo it.
    #[serde(
        default,
        with = "crate::wire::canonical_uuid::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<uuid::Uuid>,
    /// Requests only, the user speaking (1 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter or digit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Events only, equal to the EncryptedBody seq.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// The type's payload (requests, events) or response (responses). A request of a type without payload omits it or sends null or {}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Map<String, serde_json::Value>>,
    /// See [`Error`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}
impl Body {
    /// The example of `Body` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"created_at\":\"2026-11-25T09:00:00Z\",\"payload\":{\"id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\"},\"request_id\":\"6f1c1c1e-6c1b-4f0e-9a59-3c1f4d5e6a7b\",\"type\":\"conversation.get\",\"username\":\"alice\"}";
}
/// The payload of a response that carries nothing but success.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[derive(Default)]
#[serde(deny_unknown_fields)]
pub struct Empty {}
impl Empty {
    /// The example of `Empty` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{}";
}
/// A private key (PKCS#8 DER, version 1) or a key ring (version 2) encrypted with a password. key = Argon2id version 0x13 (password, salt, m_cost KiB, t_cost, p_cost, no secret, no associated data) to 32 bytes; ciphertext = AES-256-GCM(key, iv, DER, aad = "nanochat/v1 private-key") for version 1, AES-256-GCM(key, iv, ring bytes, aad = "nanochat/v1 private-key ring") for version 2 (see Password-encrypted private keys in the info description). The format version fixes the Argon2 version, so it is not stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedPrivateKey {
    /// Format version; 1 (one key) or 2 (a key ring), both with Argon2id version 0x13 and a 32-byte key.
    pub version: i32,
    /// Always "argon2id".
    pub kdf: String,
    /// Argon2id memory in KiB; at least 19456.
    pub m_cost: i32,
    /// Argon2id passes; at least 2.
    pub t_cost: i32,
    /// Argon2id lanes; at least 1.
    pub p_cost: i32,
    /// 16 random bytes.
    pub salt: crate::wire::Bytes,
    /// 12 random bytes.
    pub iv: crate::wire::Bytes,
    /// The encrypted PKCS#8 DER, tag appended.
    pub ciphertext: crate::wire::Bytes,
}
impl EncryptedPrivateKey {
    /// The example of `EncryptedPrivateKey` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"ciphertext\":\"yv66vg==\",\"iv\":\"AAECAwQFBgcICQoL\",\"kdf\":\"argon2id\",\"m_cost\":19456,\"p_cost\":1,\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\",\"t_cost\":2,\"version\":1}";
}
/// Payload of user.complete. With "store private key on server", private_key and sync_password are both set.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteUser {
    /// The complete token printed by `nanochat user create`.
    pub token: crate::wire::Secret,
    /// The name shown to others, 1 to 64 characters.
    pub display_name: String,
    /// The new public key, DER SubjectPublicKeyInfo; the request is signed with its private key.
    pub public_key: crate::wire::Bytes,
    /// See [`EncryptedPrivateKey`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<EncryptedPrivateKey>,
    /// Only with private_key. The server keeps an Argon2id hash of it; never the private key password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_password: Option<crate::wire::Secret>,
}
impl CompleteUser {
    /// The example of `CompleteUser` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"display_name\":\"Alice\",\"public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"token\":\"Jq3b0y1H2m5c8rWnKxZt4pQeVs7uLdAaFgHjKlMnOpQ\"}";
}
/// Payload of user.sync; the username is the Body's.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncUser {
    /// The sync password chosen at user.complete or user.update.
    pub sync_password: crate::wire::Secret,
}
impl SyncUser {
    /// The example of `SyncUser` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"sync_password\":\"correct horse battery staple\"}";
}
/// Response of user.sync; the frontend decrypts private_key with the user's password.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrivateKeyUser {
    /// The user.
    pub username: String,
    /// The user's display name.
    pub display_name: String,
    /// The user's public key, DER SubjectPublicKeyInfo.
    pub public_key: crate::wire::Bytes,
    /// See [`EncryptedPrivateKey`].
    pub private_key: EncryptedPrivateKey,
}
impl PrivateKeyUser {
    /// The example of `PrivateKeyUser` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"display_name\":\"Alice\",\"private_key\":{\"ciphertext\":\"yv66vg==\",\"iv\":\"AAECAwQFBgcICQoL\",\"kdf\":\"argon2id\",\"m_cost\":19456,\"p_cost\":1,\"salt\":\"AAECAwQFBgcICQoLDA0ODw==\",\"t_cost\":2,\"version\":1},\"public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"username\":\"alice\"}";
}
/// Payload of user.update; every field is optional. A new public_key needs succession_signature and public_key_signature (without either, bad_request; with one that does not verify, bad_signature); a new private_key needs a sync_password unless one is already set. A rotation without a new private_key removes a stored private key (and the sync password), which would not hold the new key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[derive(Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New display name, 1 to 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New public key, DER SubjectPublicKeyInfo. The request itself is signed with the current key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<crate::wire::Bytes>,
    /// RSA-PSS by the new private key over the succession bytes (proof of possession; see Key history in the info description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_signature: Option<crate::wire::Bytes>,
    /// RSA-PSS by the current (previous) private key over the succession bytes, vouching for the new key (see Key history in the info description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succession_signature: Option<crate::wire::Bytes>,
    /// See [`EncryptedPrivateKey`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<EncryptedPrivateKey>,
    /// Delete the server-stored private key and the sync password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_private_key: Option<bool>,
    /// New sync password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_password: Option<crate::wire::Secret>,
}
impl UpdateUser {
    /// The example of `UpdateUser` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"display_name\":\"Alice L.\"}";
}
/// Names one user.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseUser {
    /// The username.
    pub username: String,
}
impl BaseUser {
    /// The example of `BaseUser` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"username\":\"bob\"}";
}
/// What anyone may know of a user.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PublicUser {
    /// The username, lowercase letters, digits, '.', '_' and '-', 1 to 32 characters.
    pub username: String,
    /// The display name.
    pub display_name: String,
    /// The public key, DER SubjectPublicKeyInfo.
    pub public_key: crate::wire::Bytes,
    /// SHA-256 of the public key DER, grouped hex; clients pin it.
    pub fingerprint: String,
    /// The index of this key in the user's key history (see Key history in the info description).
    pub key_index: i64,
}
impl PublicUser {
    /// The example of `PublicUser` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"display_name\":\"Bob\",\"fingerprint\":\"3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d\",\"key_index\":0,\"public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"username\":\"bob\"}";
}
/// Response of user.keys; every key the user has had, oldest first.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyHistory {
    /// The user.
    pub username: String,
    /// The entries in index order, each index one more than the one before. The last is the current key unless the user is pending (reset by the operator), when every entry has until.
    pub keys: Vec<KeyRecord>,
}
impl KeyHistory {
    /// The example of `KeyHistory` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"keys\":[{\"fingerprint\":\"3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d\",\"index\":0,\"public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"since\":\"2026-11-25T09:00:00Z\"}],\"username\":\"bob\"}";
}
/// One entry of a key history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    /// The entry's index, 0 for the first key the server knew of.
    pub index: i64,
    /// The key, DER SubjectPublicKeyInfo.
    pub public_key: crate::wire::Bytes,
    /// SHA-256 of the key DER, grouped hex.
    pub fingerprint: String,
    /// When it became the user's key.
    #[serde(with = "time::serde::rfc3339")]
    pub since: time::OffsetDateTime,
    /// When it stopped being the user's key (the next entry's since, or the operator's reset); absent for the current key.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<time::OffsetDateTime>,
    /// RSA-PSS by the previous entry's key over the succession bytes; absent for a chain start (a key set by user.complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succession_signature: Option<crate::wire::Bytes>,
    /// RSA-PSS by this key over the same succession bytes; present exactly when succession_signature is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_signature: Option<crate::wire::Bytes>,
}
impl KeyRecord {
    /// The example of `KeyRecord` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"fingerprint\":\"3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d\",\"index\":1,\"public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"public_key_signature\":\"q83vEjRWeJA=\",\"since\":\"2026-11-26T09:00:00Z\",\"succession_signature\":\"q83vEjRWeJA=\"}";
}
/// Payload of conversation.create.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    /// A fresh random conversation id chosen by the caller (it is signed into the name); conflict if taken.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
    /// See [`SealedName`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<SealedName>,
    /// The other members' usernames (one for a 1:1 conversation, more for a group); the caller is added as owner.
    pub members: Vec<String>,
}
impl CreateConversation {
    /// The example of `CreateConversation` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"members\":[\"bob\",\"carol\"]}";
}
/// Payload of conversation.update; every field but id is optional.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
    /// See [`SealedName`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<SealedName>,
    /// Removes the name (any member); not together with name. Increments name_revision, also when the conversation has no name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_name: Option<bool>,
    /// Owner only. The complete new member list, the owner included. A named conversation needs name, sealed for this list, or remove_name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
}
impl Conversation {
    /// The example of `Conversation` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"members\":[\"alice\",\"bob\",\"dave\"],\"remove_name\":true}";
}
/// A conversation name sealed by the caller for the current members (see "Conversation names" in the info description).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedName {
    /// The conversation's name_revision plus one (1 in conversation.create); signed.
    pub revision: i64,
    /// 12-byte AES-GCM IV.
    pub iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the UTF-8 name under the name key, tag appended (at most 128 characters of plaintext).
    pub ciphertext: crate::wire::Bytes,
    /// The name key wrapped for every current member that has a public key, the caller included.
    pub keys: Vec<WrappedKey>,
    /// RSA-PSS by the caller over the canonical name bytes.
    pub signature: crate::wire::Bytes,
    /// Which signed bytes the signature covers; 1 (the default) the canonical bytes, 2 the keyed bytes that bind the signer's key (see Key history in the info description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_version: Option<i32>,
}
impl SealedName {
    /// The example of `SealedName` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"ciphertext\":\"yv66vg==\",\"iv\":\"AAECAwQFBgcICQoL\",\"keys\":[{\"key\":\"q83vEjRWeJA=\",\"username\":\"alice\"}],\"revision\":1,\"signature\":\"q83vEjRWeJA=\"}";
}
/// A sealed conversation name as one reader sees it, with only the name key wrapped for that reader.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConversationName {
    /// The signed revision.
    pub revision: i64,
    /// The member who sealed it; verify the signature with their public key.
    pub sealed_by: String,
    /// When the server accepted it.
    #[serde(with = "time::serde::rfc3339")]
    pub sealed_at: time::OffsetDateTime,
    /// 12-byte AES-GCM IV.
    pub iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the UTF-8 name.
    pub ciphertext: crate::wire::Bytes,
    /// The name key wrapped for the reader; absent when the server holds none for them (they were not a member with a key when it was sealed, or were reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<crate::wire::Bytes>,
    /// Every recipient with the digest of its wrapped key, as signed.
    pub recipients: Vec<RecipientDigest>,
    /// RSA-PSS by the sealer over the canonical name bytes.
    pub signature: crate::wire::Bytes,
    /// The signed bytes the signature covers, 1 or 2 (see Key history in the info description); absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_version: Option<i32>,
    /// The index of the sealer's key the server verified the signature with; absent for a name sealed before the server kept key history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealer_key_index: Option<i64>,
    /// The index of the reader's key that key is wrapped for; absent with key, or for a key recorded before the server kept key history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_index: Option<i64>,
    /// The server's hint that the name should be re-sealed: a current member with a key holds no key wrapped for that key, or the sealer has left or changed key (see Re-sealing in the info description). Not authenticated; it only tells clients when to act.
    pub reseal: bool,
}
impl ConversationName {
    /// The example of `ConversationName` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"ciphertext\":\"yv66vg==\",\"iv\":\"AAECAwQFBgcICQoL\",\"key\":\"q83vEjRWeJA=\",\"recipients\":[{\"key_digest\":\"q83vEjRWeJA=\",\"username\":\"alice\"}],\"reseal\":false,\"revision\":1,\"sealed_at\":\"2026-11-25T09:00:00Z\",\"sealed_by\":\"alice\",\"signature\":\"q83vEjRWeJA=\"}";
}
/// Names one conversation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseConversation {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
}
impl BaseConversation {
    /// The example of `BaseConversation` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\"}";
}
/// A member of a conversation, with the public key to wrap content keys for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// The member.
    pub username: String,
    /// The member's display name.
    pub display_name: String,
    /// The member's public key, DER SubjectPublicKeyInfo; empty while the member, reset by the operator, has not completed again (wrap no key for them then).
    pub public_key: crate::wire::Bytes,
    /// SHA-256 of the public key DER, grouped hex; empty when public_key is.
    pub fingerprint: String,
    /// The index of public_key in the member's key history; absent when public_key is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_index: Option<i64>,
    /// Whether this member owns the conversation.
    pub owner: bool,
    /// When the member joined.
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: time::OffsetDateTime,
}
impl Member {
    /// The example of `Member` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"display_name\":\"Bob\",\"fingerprint\":\"3f2a 9c01 77de 4b10 aa02 19c3 5e6f 0d8b 22c4 e019 7a3b 8f5d 0c1e 64a9 b7f2 0e3d\",\"joined_at\":\"2026-11-25T09:00:00Z\",\"owner\":false,\"public_key\":\"MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEA\",\"username\":\"bob\"}";
}
/// A conversation as its members see it, with its members and a page of messages (the latest page for conversation.get, the latest message for conversation.list).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessageConversation {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
    /// See [`ConversationName`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ConversationName>,
    /// How many times the name was set, re-sealed or removed; the next sealed name carries this plus one.
    pub name_revision: i64,
    /// The owner's username.
    pub owner: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Last change to the conversation or its messages.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    /// Current members, ordered by username.
    pub members: Vec<Member>,
    /// Newest first.
    pub messages: Vec<Message>,
    /// Pass as ListMessages.before to fetch older messages; absent when there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
impl MessageConversation {
    /// The example of `MessageConversation` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"created_at\":\"2026-11-25T09:00:00Z\",\"id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"members\":[],\"messages\":[],\"name_revision\":0,\"owner\":\"alice\",\"updated_at\":\"2026-11-25T09:00:00Z\"}";
}
/// Response of conversation.list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct List {
    /// The caller's conversations, most recently updated first.
    pub items: Vec<MessageConversation>,
}
impl List {
    /// The example of `List` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"items\":[]}";
}
/// The content key wrapped for one member.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrappedKey {
    /// The member.
    pub username: String,
    /// RSA-OAEP-SHA-256 of the 32-byte content key under the member's public key.
    pub key: crate::wire::Bytes,
    /// The index of the member's key this is wrapped for; when present it must be the member's current index (members_mismatch otherwise). See Key history in the info description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_index: Option<i64>,
}
impl WrappedKey {
    /// The example of `WrappedKey` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"key\":\"q83vEjRWeJA=\",\"key_index\":0,\"username\":\"bob\"}";
}
/// An attachment encrypted under the message content key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedAttachment {
    /// 12-byte AES-GCM IV.
    pub iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the file bytes, tag appended.
    pub data: crate::wire::Bytes,
}
impl SealedAttachment {
    /// The example of `SealedAttachment` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"data\":\"yv66vg==\",\"iv\":\"AAECAwQFBgcICQoL\"}";
}
/// Payload of message.create. If there is no attachment the content must hold a text (checked by readers; the server cannot see it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub conversation_id: uuid::Uuid,
    /// A fresh random message id chosen by the sender (it is signed). A retry of a create whose answer was lost sends the same id with the same sealed content.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
    /// 12-byte IV of content.
    pub content_iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the content JSON under the content key.
    pub content: crate::wire::Bytes,
    /// See [`SealedAttachment`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<SealedAttachment>,
    /// The content key wrapped for every current member that has a public key, the sender included.
    pub keys: Vec<WrappedKey>,
    /// RSA-PSS by the sender over the canonical message bytes.
    pub signature: crate::wire::Bytes,
    /// Which signed bytes the signature covers; 1 (the default) the canonical bytes, 2 the keyed bytes that bind the signer's key (see Key history in the info description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_version: Option<i32>,
}
impl CreateMessage {
    /// The example of `CreateMessage` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"content\":\"yv66vg==\",\"content_iv\":\"AAECAwQFBgcICQoL\",\"conversation_id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"id\":\"5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b\",\"keys\":[{\"key\":\"q83vEjRWeJA=\",\"username\":\"alice\"}],\"signature\":\"q83vEjRWeJA=\"}";
}
/// Payload of message.update; the whole content is replaced under a fresh content key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateMessage {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub conversation_id: uuid::Uuid,
    /// The message to replace.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
    /// 12-byte IV of content.
    pub content_iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the new content JSON.
    pub content: crate::wire::Bytes,
    /// See [`SealedAttachment`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<SealedAttachment>,
    /// The new content key wrapped for every current member.
    pub keys: Vec<WrappedKey>,
    /// RSA-PSS by the sender over the canonical message bytes.
    pub signature: crate::wire::Bytes,
    /// Which signed bytes the signature covers; 1 (the default) the canonical bytes, 2 the keyed bytes that bind the signer's key (see Key history in the info description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_version: Option<i32>,
}
impl UpdateMessage {
    /// The example of `UpdateMessage` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"content\":\"yv66vg==\",\"content_iv\":\"AAECAwQFBgcICQoL\",\"conversation_id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"id\":\"5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b\",\"keys\":[{\"key\":\"q83vEjRWeJA=\",\"username\":\"alice\"}],\"signature\":\"q83vEjRWeJA=\"}";
}
/// Names one message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseMessage {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub conversation_id: uuid::Uuid,
    /// The message.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
}
impl BaseMessage {
    /// The example of `BaseMessage` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"conversation_id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"id\":\"5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b\"}";
}
/// One signed recipient of a message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecipientDigest {
    /// The recipient.
    pub username: String,
    /// SHA-256 of the key wrapped for this recipient.
    pub key_digest: crate::wire::Bytes,
}
impl RecipientDigest {
    /// The example of `RecipientDigest` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"key_digest\":\"q83vEjRWeJA=\",\"username\":\"bob\"}";
}
/// What a listed message says of its attachment; the bytes come from message.attachment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentInfo {
    /// 12-byte IV of the attachment.
    pub iv: crate::wire::Bytes,
    /// Length of the attachment ciphertext in bytes.
    pub size: i64,
    /// SHA-256 of the attachment ciphertext (it is signed).
    pub digest: crate::wire::Bytes,
}
impl AttachmentInfo {
    /// The example of `AttachmentInfo` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"digest\":\"q83vEjRWeJA=\",\"iv\":\"AAECAwQFBgcICQoL\",\"size\":4}";
}
/// A message as one reader sees it, with only the content key wrapped for that reader.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub conversation_id: uuid::Uuid,
    /// The message.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub id: uuid::Uuid,
    /// The sender's username; verify the signature with their public key.
    pub sender: String,
    /// When the server accepted the message.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// When it was last edited, if ever.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub edited_at: Option<time::OffsetDateTime>,
    /// 12-byte IV of content.
    pub content_iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the content JSON.
    pub content: crate::wire::Bytes,
    /// See [`AttachmentInfo`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentInfo>,
    /// The content key wrapped for the reader.
    pub key: crate::wire::Bytes,
    /// Every recipient with the digest of its wrapped key, as signed.
    pub recipients: Vec<RecipientDigest>,
    /// RSA-PSS by the sender over the canonical message bytes.
    pub signature: crate::wire::Bytes,
    /// The signed bytes the signature covers, 1 or 2 (see Key history in the info description); absent means 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_version: Option<i32>,
    /// The index of the sender's key the server verified the signature with; absent for a message accepted before the server kept key history (see Key history in the info description).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_key_index: Option<i64>,
    /// The index of the reader's key that key is wrapped for; absent for a key recorded before the server kept key history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_index: Option<i64>,
    /// Stable position of this message in the history (pass as ListMessages.before). An opaque string issued by the server; clients never build, parse or compare cursors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}
impl Message {
    /// The example of `Message` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"content\":\"yv66vg==\",\"content_iv\":\"AAECAwQFBgcICQoL\",\"conversation_id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"created_at\":\"2026-11-25T09:00:00Z\",\"cursor\":\"42\",\"id\":\"5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b\",\"key\":\"q83vEjRWeJA=\",\"recipients\":[{\"key_digest\":\"q83vEjRWeJA=\",\"username\":\"alice\"}],\"sender\":\"alice\",\"signature\":\"q83vEjRWeJA=\"}";
}
/// Payload of message.list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMessages {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub conversation_id: uuid::Uuid,
    /// A cursor this server issued (Message.cursor or next_cursor), passed back unchanged; absent for the newest page. Cursors are opaque: a string the server could not have issued gets bad_request; one of the server's form that it did not issue for this conversation (from another conversation, or made up) is not an error and gets this conversation's messages older than that position, possibly none. A cursor never reveals another conversation's messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Page size, 1 to limits.max_page_size (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}
impl ListMessages {
    /// The example of `ListMessages` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"conversation_id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"limit\":50}";
}
/// Response of message.list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MessagePage {
    /// Newest first.
    pub messages: Vec<Message>,
    /// Pass as before to fetch the next older page; absent at the start of history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
impl MessagePage {
    /// The example of `MessagePage` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"messages\":[]}";
}
/// Response of message.attachment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub conversation_id: uuid::Uuid,
    /// The message.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub message_id: uuid::Uuid,
    /// 12-byte IV.
    pub iv: crate::wire::Bytes,
    /// AES-256-GCM ciphertext of the file bytes under the message content key.
    pub data: crate::wire::Bytes,
}
impl Attachment {
    /// The example of `Attachment` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"conversation_id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"data\":\"yv66vg==\",\"iv\":\"AAECAwQFBgcICQoL\",\"message_id\":\"5a4e3d2c-1b0a-4f9e-8d7c-6b5a4e3d2c1b\"}";
}
/// Response of session.open; events follow on this socket.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionOpened {
    /// How often the server pings; a socket silent for three intervals is closed.
    pub ping_interval_seconds: i64,
}
impl SessionOpened {
    /// The example of `SessionOpened` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"ping_interval_seconds\":30}";
}
/// Payload of event.conversation.left.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemberLeft {
    /// The conversation.
    #[serde(with = "crate::wire::canonical_uuid")]
    pub conversation_id: uuid::Uuid,
    /// Who left.
    pub username: String,
}
impl MemberLeft {
    /// The example of `MemberLeft` in api.yml, as JSON.
    pub const EXAMPLE_JSON: &'static str = "{\"conversation_id\":\"0b3f7a3e-8d1c-4d4b-9a8e-2f5c6d7e8f90\",\"username\":\"carol\"}";
}
