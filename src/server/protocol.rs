//! The protocol's values as the server reads and stores them, apart from
//! any request flow: the version, the caller a handler gets,
//! UUID spelling, times in UNIX milliseconds and the limits' relation.
//! The pipeline, the handlers and the operator CLI all use these; nothing
//! here imports them.

use std::net::SocketAddr;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::models::Limits;
use crate::username::Username;

/// The protocol version this server speaks: the one the wire types carry.
pub use crate::wire::PROTOCOL_VERSION;

/// The authenticated sender of a request, handed to every handler.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The username from the Body; its signature has been verified (except
    /// for `user.sync`, the one unsigned type).
    pub username: Username,
    /// The peer address, for rate limits and logs.
    pub peer: Option<SocketAddr>,
    /// The request id. Recorded by the replay guard before the handler
    /// runs, or, where `pending` is set, with the request's change.
    pub request_id: Uuid,
    /// Set for the types whose handlers change nothing but through a
    /// conversation turn (`message.*`): the replay guard records the id in
    /// the change's own transaction ([`crate::store::PendingRequest`]), and
    /// the pipeline records it afterwards when no change did.
    pub pending: Option<std::sync::Arc<crate::store::PendingRequest>>,
    /// The server's clock when the request was accepted.
    pub now: OffsetDateTime,
}

/// Whether `json` is written as a JSON object. serde's derived
/// deserialisers also read a struct written as an array of its fields in
/// order (`[1, "key", "iv", "data"]`); api.yml allows objects only, so the
/// envelope and the Body are checked for one before they are parsed.
pub fn is_json_object(json: &[u8]) -> bool {
    json.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
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
        ("max_conversations", limits.max_conversations),
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

    #[test]
    fn only_objects_are_json_objects() {
        assert!(is_json_object(b"{}"));
        assert!(is_json_object(b" \n\t{\"version\":1}"));
        assert!(!is_json_object(b"[1,\"a\",\"b\",\"c\"]"));
        assert!(!is_json_object(b"  \"text\""));
        assert!(!is_json_object(b""));
    }
}
