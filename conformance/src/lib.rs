//! NanoChat conformance material, shipped as data so another implementation
//! (or our own tests) can check its cryptography byte for byte.
//!
//! - `fixtures/keys/`: pre-generated PKCS#8 PEM key pairs (tests never spend
//!   seconds generating keys), including keys the size and exponent policy
//!   must refuse; [`FixtureKey`] names them.
//! - `vectors/`: known-answer vectors for the envelope, message content,
//!   password-encrypted private keys and key files; `vectors/README.md`
//!   explains every field.
//!
//! - `cases/`: the conformance suite, one YAML transcript per case
//!   ([`case`] describes the format, `case.schema.json` is its JSON Schema),
//!   replayed against any server by [`runner`] and the
//!   `nanochat-conformance` binary ([`suite`] selects, runs and reports).
//! - `statements.yml`: the normative statements of `api.yml`, which cases
//!   name; [`coverage`] checks them and renders `COVERAGE.md`.
//!
//! Build order for an implementer: check the crypto with the vectors first,
//! then run the suite.

pub mod case;
pub mod coverage;
pub mod fixtures;
mod late_events;
pub mod provision;
pub mod runner;
pub mod suite;
pub mod template;

pub use fixtures::FixtureKey;

/// A fixture key's PKCS#8 PEM by name (see [`FixtureKey`]).
pub fn fixture_key_pem(name: &str) -> Option<&'static str> {
    FixtureKey::from_name(name).map(FixtureKey::pem)
}

/// The base64 SPKI of a fixture key our own key type refuses to load
/// (`weak`, `exp3`), so cases can offer it to a server; `None` for others.
pub fn fixture_refused_spki(name: &str) -> Option<&'static str> {
    FixtureKey::from_name(name).and_then(FixtureKey::refused_spki)
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
    fn vectors_are_json_objects() {
        for (name, text) in VECTORS {
            assert!(
                text.trim_start().starts_with('{'),
                "{name} is not a JSON object"
            );
        }
    }
}
