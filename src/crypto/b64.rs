//! Base64 (standard alphabet, with padding) for the few types that have a
//! serde wire form ([`super::EncryptedPrivateKey`], [`super::KeyFile`]). The
//! rest of the crypto API takes and returns raw bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer};
use zeroize::Zeroizing;

use super::Result;

/// Encodes bytes as standard base64 with padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// `#[serde(with = "b64::bytes")]` for `Vec<u8>`.
pub(crate) mod bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(s.as_bytes())
            .map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

/// `#[serde(with = "b64::secret")]` for `Zeroizing<Vec<u8>>`: the decoded
/// bytes and the intermediate string are wiped on drop (serde's own input
/// buffer is the caller's responsibility).
pub(crate) mod secret {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        v: &Zeroizing<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded = Zeroizing::new(encode(v));
        s.serialize_str(&encoded)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Zeroizing<Vec<u8>>, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(s.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| serde::de::Error::custom("invalid base64"))
    }
}

/// `#[serde(with = "b64::secrets")]` for a list of `Zeroizing<Vec<u8>>`, as
/// [`secret`] does for one.
pub(crate) mod secrets {
    use serde::ser::SerializeSeq as _;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        v: &[Zeroizing<Vec<u8>>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for item in v {
            seq.serialize_element(&*Zeroizing::new(encode(item)))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Zeroizing<Vec<u8>>>, D::Error> {
        let items: Vec<Zeroizing<String>> = Vec::<String>::deserialize(d)?
            .into_iter()
            .map(Zeroizing::new)
            .collect();
        items
            .iter()
            .map(|s| {
                STANDARD
                    .decode(s.as_bytes())
                    .map(Zeroizing::new)
                    .map_err(|_| serde::de::Error::custom("invalid base64"))
            })
            .collect()
    }
}
