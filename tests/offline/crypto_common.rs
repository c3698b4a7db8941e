//! Shared by the crypto modules: the committed fixture keys and the
//! deterministic test RNG.

use nanochat::crypto::PrivateKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub use nanochat_conformance::FixtureKey;

pub fn server() -> PrivateKey {
    FixtureKey::Server.private_key()
}
pub fn alice() -> PrivateKey {
    FixtureKey::Alice.private_key()
}
pub fn bob() -> PrivateKey {
    FixtureKey::Bob.private_key()
}
pub fn carol() -> PrivateKey {
    FixtureKey::Carol.private_key()
}
pub fn dave() -> PrivateKey {
    FixtureKey::Dave.private_key()
}
pub fn erin() -> PrivateKey {
    FixtureKey::Erin.private_key()
}

/// The deterministic RNG of the known-answer vectors: ChaCha20 seeded with
/// 32 bytes of `seed_byte`. Test-only; production code uses the OS RNG.
pub fn test_rng(seed_byte: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed_byte; 32])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Positions to flip in a field of `len` bytes: every position if short,
/// else first, last and a spread sample.
pub fn positions(len: usize) -> Vec<usize> {
    if len <= 64 {
        return (0..len).collect();
    }
    let mut v: Vec<usize> = (0..len).step_by(len / 24 + 1).collect();
    v.extend([1, len / 2, len - 2, len - 1]);
    v.sort_unstable();
    v.dedup();
    v
}
