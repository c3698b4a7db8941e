//! Small wire types the generated models rely on: [`Bytes`] for
//! `format: byte` (base64 on the wire), [`Secret`] for `format: password`
//! (zeroized, never printed) and [`canonical_uuid`] for `format: uuid`
//! (one spelling only), and the [`PROTOCOL_VERSION`] every envelope
//! carries. `openapi` (server builds only) says how the server's
//! poem-openapi endpoints see these types.

pub mod canonical_uuid;

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

use crate::models::{EncryptedBody, EncryptedRequest, Error, ErrorCode};

/// The envelope `version` this crate speaks (api.yml, info.description,
/// "Request envelope": "Send `{version: 1, key, iv, data, signature}`"),
/// and the `protocol_version` that `/references` announces. One constant
/// so that a version 2 changes every sender and checker at once. Not the
/// `signature_version` of messages and names, which moves on its own.
pub const PROTOCOL_VERSION: i32 = 1;

/// Binary data, base64 (standard alphabet, padded) in JSON.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Consumes the wrapper.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ciphertexts can be megabytes: show the size and a short prefix.
        let shown = STANDARD.encode(&self.0[..self.0.len().min(12)]);
        write!(f, "Bytes({} bytes, {shown}..)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}

/// A password or token: zeroized when dropped, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself; keep the borrow short.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut text = String::deserialize(deserializer)?;
        let secret = Secret::new(text.as_str());
        text.zeroize();
        Ok(secret)
    }
}

impl Error {
    /// An error with a code and a human message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// How the server's poem-openapi endpoints see these types; the client
/// builds without poem.
#[cfg(feature = "server")]
mod openapi {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
    use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};

    use super::{Bytes, Cow};
    use crate::models::{Error, ErrorCode};

    impl Type for Bytes {
        const IS_REQUIRED: bool = true;
        type RawValueType = Self;
        type RawElementValueType = Self;

        fn name() -> Cow<'static, str> {
            "string_byte".into()
        }

        fn schema_ref() -> MetaSchemaRef {
            MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "byte")))
        }

        fn as_raw_value(&self) -> Option<&Self::RawValueType> {
            Some(self)
        }

        fn raw_element_iter<'a>(
            &'a self,
        ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
            Box::new(self.as_raw_value().into_iter())
        }

        fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    impl ParseFromJSON for Bytes {
        fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
            match value {
                Some(serde_json::Value::String(text)) => Ok(Bytes(
                    STANDARD
                        .decode(text.as_bytes())
                        .map_err(ParseError::custom)?,
                )),
                other => Err(ParseError::expected_type(other.unwrap_or_default())),
            }
        }
    }

    impl ToJSON for Bytes {
        fn to_json(&self) -> Option<serde_json::Value> {
            Some(serde_json::Value::String(STANDARD.encode(&self.0)))
        }
    }

    /// poem-openapi reports a request body it cannot parse as a `poem::Error`;
    /// the generated endpoints turn it into the spec's plain `Error`.
    impl From<poem::Error> for Error {
        fn from(error: poem::Error) -> Self {
            let code = if error.status() == poem::http::StatusCode::PAYLOAD_TOO_LARGE {
                ErrorCode::TooLarge
            } else {
                ErrorCode::BadEnvelope
            };
            Error::new(
                code,
                format!("the envelope is not a valid EncryptedBody: {error}"),
            )
        }
    }
}

/// A request as the pipeline reads it: every envelope is an `EncryptedBody`
/// inside the server (WebSocket frames are parsed as one).
impl From<EncryptedRequest> for EncryptedBody {
    fn from(request: EncryptedRequest) -> Self {
        EncryptedBody {
            version: request.version,
            key: Some(request.key),
            iv: request.iv,
            data: request.data,
            signature: request.signature,
            seq: None,
        }
    }
}

/// The HTTP form of a sealed request; only an envelope with a key and no
/// `seq` is one.
impl TryFrom<&EncryptedBody> for EncryptedRequest {
    type Error = &'static str;

    fn try_from(envelope: &EncryptedBody) -> Result<Self, Self::Error> {
        if envelope.seq.is_some() {
            return Err("a request envelope carries no seq");
        }
        Ok(EncryptedRequest {
            version: envelope.version,
            key: envelope
                .key
                .clone()
                .ok_or("a request envelope needs a key")?,
            iv: envelope.iv.clone(),
            data: envelope.data.clone(),
            signature: envelope.signature.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_base64() {
        let bytes = Bytes(vec![0, 1, 2, 250, 255]);
        let json = serde_json::to_string(&bytes).unwrap();
        assert_eq!(json, "\"AAEC+v8=\"");
        assert_eq!(serde_json::from_str::<Bytes>(&json).unwrap(), bytes);
    }

    #[test]
    fn bytes_reject_bad_base64() {
        let err = serde_json::from_str::<Bytes>("\"not base64!\"").unwrap_err();
        assert!(err.to_string().contains("invalid base64"), "{err}");
    }

    #[test]
    fn secret_is_redacted() {
        let secret: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
