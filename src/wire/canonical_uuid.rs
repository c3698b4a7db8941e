//! Serde for `format: uuid` fields: a UUID is spelled one way on the wire,
//! lowercase hyphenated (8-4-4-4-12 hex digits), because that is the form
//! the canonical message and name bytes sign. `uuid`'s own parser accepts
//! other spellings (uppercase, braces, `urn:uuid:`); a server that read one
//! and wrote it back canonical would answer a client that signed the id it
//! sent with `bad_signature`. The generated models use this module for
//! every such field, so another spelling is refused where the JSON is read
//! (`bad_request`), and nothing checks the spelling a second time.

use serde::{Deserialize, Deserializer, Serializer};
use uuid::Uuid;

/// Whether `text` is a UUID written as 8-4-4-4-12 lowercase hex digits.
pub fn is_canonical(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Parses a UUID in the canonical spelling only.
pub fn parse(text: &str) -> Result<Uuid, String> {
    if !is_canonical(text) {
        return Err(format!(
            "{text:?} is not a UUID in lowercase hyphenated form (8-4-4-4-12 hex digits)"
        ));
    }
    Uuid::parse_str(text).map_err(|e| e.to_string())
}

/// Writes the canonical spelling.
pub fn serialize<S: Serializer>(id: &Uuid, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&id.hyphenated())
}

/// Reads the canonical spelling, refusing any other.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// The same for optional fields.
pub mod option {
    use super::*;

    /// Writes the canonical spelling (fields that are `None` are skipped).
    pub fn serialize<S: Serializer>(id: &Option<Uuid>, serializer: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => super::serialize(id, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Reads the canonical spelling, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Uuid>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_canonical_spelling_reads() {
        let id = "0b7d2f4e-6c1a-4d3b-9a8e-1f2c3d4e5f60";
        assert_eq!(parse(id).unwrap().to_string(), id);
        for other in [
            "0B7D2F4E-6C1A-4D3B-9A8E-1F2C3D4E5F60",
            "{0b7d2f4e-6c1a-4d3b-9a8e-1f2c3d4e5f60}",
            "urn:uuid:0b7d2f4e-6c1a-4d3b-9a8e-1f2c3d4e5f60",
            "0b7d2f4e6c1a4d3b9a8e1f2c3d4e5f60",
            "0b7d2f4e-6c1a-4d3b-9a8e-1f2c3d4e5f6",
            "",
        ] {
            assert!(parse(other).is_err(), "{other:?} was accepted");
        }
    }
}
