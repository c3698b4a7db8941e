//! NanoChat conformance material, shipped as data so another implementation
//! (or our own tests) can check its cryptography byte for byte.
//!
//! - `fixtures/keys/`: pre-generated PKCS#8 PEM key pairs (tests never spend
//!   seconds generating keys), including keys the size and exponent policy
//!   must refuse.
//! - `vectors/`: known-answer vectors for the envelope, message content,
//!   password-encrypted private keys and key files; `vectors/README.md`
//!   explains every field.
//!
//! - `cases/`: the conformance suite, one YAML transcript per case
//!   ([`case`] describes the format, `case.schema.json` is its JSON Schema),
//!   replayed against any server by [`runner`] and the
//!   `nanochat-conformance` binary ([`suite`] selects, runs and reports).
//!
//! Build order for an implementer: check the crypto with the vectors first,
//! then run the suite.

pub mod case;
pub mod provision;
pub mod runner;
pub mod suite;
pub mod template;

/// A fixture key's PKCS#8 PEM by name (`server`, `alice`, `bob`, `carol`
/// are 3072-bit, `dave` 2048, `erin` 4096; `weak` is 1024-bit and `exp3`
/// has e = 3, both to be refused).
pub fn fixture_key_pem(name: &str) -> Option<&'static str> {
    Some(match name {
        "server" => include_str!("../fixtures/keys/server-3072.pem"),
        "alice" => include_str!("../fixtures/keys/alice-3072.pem"),
        "bob" => include_str!("../fixtures/keys/bob-3072.pem"),
        "carol" => include_str!("../fixtures/keys/carol-3072.pem"),
        "dave" => include_str!("../fixtures/keys/dave-2048.pem"),
        "erin" => include_str!("../fixtures/keys/erin-4096.pem"),
        "weak" => include_str!("../fixtures/keys/weak-1024.pem"),
        "exp3" => include_str!("../fixtures/keys/exp3-2048.pem"),
        _ => return None,
    })
}

/// The base64 SPKI of a fixture key our own key type refuses to load
/// (`weak`, `exp3`), so cases can offer it to a server; `None` for others.
pub fn fixture_refused_spki(name: &str) -> Option<&'static str> {
    Some(
        match name {
            "weak" => include_str!("../fixtures/keys/weak.spki.b64"),
            "exp3" => include_str!("../fixtures/keys/exp3.spki.b64"),
            _ => return None,
        }
        .trim(),
    )
}

/// The known-answer vector files, by file name, as JSON text.
pub const VECTORS: &[(&str, &str)] = &[
    ("envelope.json", include_str!("../vectors/envelope.json")),
    ("content.json", include_str!("../vectors/content.json")),
    (
        "private_key.json",
        include_str!("../vectors/private_key.json"),
    ),
    ("keyfile.json", include_str!("../vectors/keyfile.json")),
    ("name.json", include_str!("../vectors/name.json")),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_is_a_pkcs8_pem() {
        for name in [
            "server", "alice", "bob", "carol", "dave", "erin", "weak", "exp3",
        ] {
            let pem = fixture_key_pem(name).unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{name}");
        }
        assert_eq!(fixture_key_pem("mallory"), None);
    }

    #[test]
    fn vectors_are_json_objects() {
        for (name, text) in VECTORS {
            assert!(
                text.trim_start().starts_with('{'),
                "{name} is not a JSON object"
            );
        }
    }
}
