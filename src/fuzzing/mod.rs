//! The bodies of the cargo-fuzz targets in `fuzz/` (`envelope`, `body`,
//! `content`, `websocket_frame`): one function per target taking the raw
//! input, so that the libFuzzer binaries and this crate's
//! unit tests (which replay every file of `fuzz/corpus/<target>/`, the
//! committed seeds and crash regressions, on stable Rust) run the same code.
//!
//! Not an API: compiled only with the `fuzzing` feature, which only `fuzz/`
//! enables, and in unit tests. Every function must return, whatever the
//! input, without panicking: a panic is a finding. The assertions in here are
//! oracles, properties the code under test promises (a sealed body opens to
//! itself, a decoded payload re-encodes to the same value, a server reply is
//! an `Error` or a response that opens under the request's key).
//!
//! Fixture keys are the conformance suite's PEM files, parsed once; no RSA
//! key is ever generated. The server key is the 2048-bit fixture, the
//! cheapest private-key operation the key policy accepts. Nothing an input
//! says makes one iteration take seconds: Argon2id runs only under a small
//! work budget ([`keyfile`], [`password_key`]).
//!
//! Many targets take a first byte that selects a mode (its value modulo the
//! number of modes), so one corpus holds inputs for every layer: the raw
//! wire bytes, and "structure-aware" plaintexts that the harness seals
//! properly with the fixture keys, so the decoders behind RSA and AES-GCM
//! are reached at all (random bytes never authenticate).

pub mod body;
pub mod content;
pub mod envelope;
pub mod keyfile;
pub mod password_key;
pub mod websocket_frame;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use crate::crypto::{PrivateKey, RequestEnvelope, RequestSecret, seal_request};

/// A target's body: runs one input.
pub type Target = fn(&[u8]);

/// Every target, by the name of its file in `fuzz/fuzz_targets/` and its
/// corpus directory, with its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("envelope", envelope::run),
    ("body", body::run),
    ("content", content::run),
    ("keyfile", keyfile::run),
    ("password_key", password_key::run),
    ("websocket_frame", websocket_frame::run),
];

/// The server's key in every target (the conformance suite's 2048-bit key).
pub const SERVER_PEM: &str = include_str!("../../conformance/fixtures/keys/dave-2048.pem");
/// Alice's key: the sender of every fixture request and message.
pub const ALICE_PEM: &str = include_str!("../../conformance/fixtures/keys/alice-3072.pem");
/// Bob's key: the reader of every fixture message.
pub const BOB_PEM: &str = include_str!("../../conformance/fixtures/keys/bob-3072.pem");
/// The password of every fixture encrypted key.
pub const PASSWORD: &[u8] = b"correct horse";

/// The parsed fixture keys and one request secret sealed for the server.
pub struct Fixtures {
    /// The server's key pair.
    pub server: PrivateKey,
    /// Alice's key pair.
    pub alice: PrivateKey,
    /// Bob's key pair.
    pub bob: PrivateKey,
    /// An envelope whose `key` wraps `secret`'s K under the server key: the
    /// harness seals any plaintext for the server with that K and reuses the
    /// wrapped key, so sealing costs no RSA operation per input.
    pub request: RequestEnvelope,
    /// The K (and IV) of `request`.
    pub secret: RequestSecret,
}

/// The fixtures, parsed and sealed on first use.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let parse = |pem: &str| PrivateKey::from_pkcs8_pem(pem).expect("fixture key");
        let server = parse(SERVER_PEM);
        let (request, secret) =
            seal_request(server.public_key(), b"{}", None).expect("sealing for the fixture key");
        Fixtures {
            alice: parse(ALICE_PEM),
            bob: parse(BOB_PEM),
            server,
            request,
            secret,
        }
    })
}

/// Splits off the mode byte: `(mode % modes, rest)`; an empty input is mode 0.
pub(crate) fn mode(data: &[u8], modes: u8) -> (u8, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (first % modes, rest),
        None => (0, data),
    }
}

/// Seals `plaintext` for the fixture server under the cached K and IV (a
/// fuzz harness may reuse an IV; nothing real does), signed by `signer`.
/// Opening it yields [`Fixtures::secret`].
pub(crate) fn seal_cached(plaintext: &[u8], signer: Option<&PrivateKey>) -> RequestEnvelope {
    let f = fixtures();
    let iv = *f.secret.iv();
    let data = crate::crypto::aead::encrypt(f.secret.expose_key(), &iv, &[], plaintext)
        .expect("AES-GCM input below its limit");
    let mut envelope = RequestEnvelope {
        key: f.request.key.clone(),
        iv,
        data,
        signature: None,
    };
    if let Some(signer) = signer {
        envelope.signature = Some(
            signer
                .sign_pss(&envelope.signed_bytes())
                .expect("signing with a fixture key"),
        );
    }
    envelope
}
