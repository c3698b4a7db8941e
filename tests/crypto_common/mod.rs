//! Shared by the `tests/crypto_*.rs` binaries: the committed fixture keys and
//! the deterministic test RNG. (A directory module so Cargo does not build it
//! as a test of its own.)
#![allow(dead_code)]

use std::sync::OnceLock;

use nanochat::crypto::PrivateKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

pub const SERVER_3072: &str = include_str!("../../conformance/fixtures/keys/server-3072.pem");
pub const ALICE_3072: &str = include_str!("../../conformance/fixtures/keys/alice-3072.pem");
pub const BOB_3072: &str = include_str!("../../conformance/fixtures/keys/bob-3072.pem");
pub const CAROL_3072: &str = include_str!("../../conformance/fixtures/keys/carol-3072.pem");
pub const DAVE_2048: &str = include_str!("../../conformance/fixtures/keys/dave-2048.pem");
pub const ERIN_4096: &str = include_str!("../../conformance/fixtures/keys/erin-4096.pem");
/// Rejected by the size policy.
pub const WEAK_1024: &str = include_str!("../../conformance/fixtures/keys/weak-1024.pem");
/// Rejected by the exponent policy (e = 3).
pub const EXP3_2048: &str = include_str!("../../conformance/fixtures/keys/exp3-2048.pem");

fn load(cell: &'static OnceLock<PrivateKey>, pem: &str) -> PrivateKey {
    cell.get_or_init(|| PrivateKey::from_pkcs8_pem(pem).expect("fixture key"))
        .clone()
}

pub fn server() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    load(&K, SERVER_3072)
}
pub fn alice() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    load(&K, ALICE_3072)
}
pub fn bob() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    load(&K, BOB_3072)
}
pub fn carol() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    load(&K, CAROL_3072)
}
pub fn dave() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    load(&K, DAVE_2048)
}
pub fn erin() -> PrivateKey {
    static K: OnceLock<PrivateKey> = OnceLock::new();
    load(&K, ERIN_4096)
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
