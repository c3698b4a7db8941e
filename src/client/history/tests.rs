//! The verifier against crafted histories: every way a server could forge,
//! drop, reorder or substitute a key is caught.

use time::macros::datetime;

use super::*;
use crate::crypto::{PrivateKey, Succession};

fn fixture(name: &str) -> PrivateKey {
    let pem = match name {
        "alice" => include_str!("../../../conformance/fixtures/keys/alice-3072.pem"),
        "bob" => include_str!("../../../conformance/fixtures/keys/bob-3072.pem"),
        "carol" => include_str!("../../../conformance/fixtures/keys/carol-3072.pem"),
        "dave" => include_str!("../../../conformance/fixtures/keys/dave-2048.pem"),
        _ => include_str!("../../../conformance/fixtures/keys/erin-4096.pem"),
    };
    PrivateKey::from_pkcs8_pem(pem).unwrap()
}

fn entry(index: i64, key: &PrivateKey, link: Option<Succession>, current: bool) -> KeyRecord {
    let day = |d: i64| datetime!(2026-11-01 09:00 UTC) + time::Duration::days(d);
    KeyRecord {
        index,
        public_key: key.public_key().to_spki_der().to_vec().into(),
        fingerprint: key.fingerprint().to_string(),
        since: day(index),
        until: (!current).then(|| day(index + 1)),
        succession_signature: link.as_ref().map(|l| l.succession_signature.clone().into()),
        public_key_signature: link.map(|l| l.public_key_signature.into()),
    }
}

/// bob: k0 (start), k1 and k2 (rotations), k3 (a reset: chain start), k4
/// (a rotation of k3).
fn bobs_history() -> (Vec<PrivateKey>, KeyHistory) {
    let keys: Vec<PrivateKey> = ["bob", "carol", "dave", "erin", "alice"]
        .iter()
        .map(|n| fixture(n))
        .collect();
    let link = |i: usize| Some(Succession::sign("bob", i as u64, &keys[i - 1], &keys[i]).unwrap());
    let history = KeyHistory {
        username: "bob".into(),
        keys: vec![
            entry(0, &keys[0], None, false),
            entry(1, &keys[1], link(1), false),
            entry(2, &keys[2], link(2), false),
            entry(3, &keys[3], None, false),
            entry(4, &keys[4], link(4), true),
        ],
    };
    (keys, history)
}

fn indexes(chain: &TrustedChain) -> Vec<i64> {
    chain.indexes().collect()
}

#[test]
fn a_reader_walks_forward_and_backward_to_the_chain_starts() {
    let (keys, history) = bobs_history();
    // Pinned at the first key: follows both rotations, stops at the reset.
    let chain = verify(&history, 0, &keys[0].fingerprint()).unwrap();
    assert_eq!(indexes(&chain), [0, 1, 2]);
    assert!(!chain.current_is_trusted(), "the reset is unexplained");
    // Pinned at a later key (a new member): walks back to the first.
    let chain = verify(&history, 2, &keys[2].fingerprint()).unwrap();
    assert_eq!(indexes(&chain), [0, 1, 2]);
    // Pinned after the reset: the earlier chain is another one.
    let chain = verify(&history, 4, &keys[4].fingerprint()).unwrap();
    assert_eq!(indexes(&chain), [3, 4]);
    assert!(chain.current_is_trusted());
    assert_eq!(chain.current_index(), Some(4));
    assert_eq!(
        chain.key(3).unwrap().key.fingerprint(),
        keys[3].fingerprint()
    );
}

#[test]
fn a_swapped_key_is_caught() {
    let (keys, mut history) = bobs_history();
    // The server replaces key 1 by another (with its proofs kept).
    history.keys[1].public_key = keys[4].public_key().to_spki_der().to_vec().into();
    assert_eq!(
        verify(&history, 0, &keys[0].fingerprint()).unwrap_err(),
        HistoryError::BadLink("bob".into(), 1)
    );
    // Pinned at 2, walking back, the same.
    assert!(matches!(
        verify(&history, 2, &keys[2].fingerprint()),
        Err(HistoryError::BadLink(_, _))
    ));
}

#[test]
fn a_dropped_or_forged_proof_is_caught() {
    let (keys, history) = bobs_history();
    // One signature of the pair dropped.
    let mut dropped = history.clone();
    dropped.keys[2].succession_signature = None;
    assert_eq!(
        verify(&dropped, 0, &keys[0].fingerprint()).unwrap_err(),
        HistoryError::BadLink("bob".into(), 2)
    );
    // A proof signed by the new key only (no vouching by the old one).
    let mut forged = history.clone();
    let bytes = crate::crypto::key_succession_bytes(
        "bob",
        2,
        keys[1].public_key().to_spki_der(),
        keys[2].public_key().to_spki_der(),
    );
    forged.keys[2].succession_signature = Some(keys[2].sign_pss(&bytes).unwrap().into());
    assert_eq!(
        verify(&forged, 0, &keys[0].fingerprint()).unwrap_err(),
        HistoryError::BadLink("bob".into(), 2)
    );
    // A proof for another user's history.
    let mut moved = history;
    let other = Succession::sign("carol", 2, &keys[1], &keys[2]).unwrap();
    moved.keys[2].succession_signature = Some(other.succession_signature.into());
    moved.keys[2].public_key_signature = Some(other.public_key_signature.into());
    assert!(verify(&moved, 0, &keys[0].fingerprint()).is_err());
}

#[test]
fn an_invented_predecessor_is_caught() {
    let (keys, history) = bobs_history();
    // A reader pinned key 4. The server claims key 3 was preceded by a key
    // of its own choosing, vouching for 3 with a proof it cannot make.
    let mut invented = history.clone();
    let fake = Succession::sign("bob", 3, &keys[0], &keys[1]).unwrap();
    invented.keys[3].succession_signature = Some(fake.succession_signature.into());
    invented.keys[3].public_key_signature = Some(fake.public_key_signature.into());
    assert_eq!(
        verify(&invented, 4, &keys[4].fingerprint()).unwrap_err(),
        HistoryError::BadLink("bob".into(), 3)
    );
}

#[test]
fn a_rewritten_pin_or_a_malformed_history_is_caught() {
    let (keys, history) = bobs_history();
    // The pinned key is not where the reader pinned it.
    assert!(matches!(
        verify(&history, 1, &keys[0].fingerprint()),
        Err(HistoryError::PinMissing { index: 1, .. })
    ));
    assert!(matches!(
        verify(&history, 9, &keys[0].fingerprint()),
        Err(HistoryError::PinMissing { .. })
    ));
    // Reordered, skipped, an open retired entry, empty.
    let mut reordered = history.clone();
    reordered.keys.swap(1, 2);
    assert!(matches!(
        verify(&reordered, 0, &keys[0].fingerprint()),
        Err(HistoryError::Malformed(..))
    ));
    let mut skipped = history.clone();
    skipped.keys.remove(2);
    assert!(matches!(
        verify(&skipped, 0, &keys[0].fingerprint()),
        Err(HistoryError::Malformed(..))
    ));
    let mut open = history.clone();
    open.keys[1].until = None;
    assert!(matches!(
        verify(&open, 0, &keys[0].fingerprint()),
        Err(HistoryError::Malformed(..))
    ));
    let empty = KeyHistory {
        username: "bob".into(),
        keys: Vec::new(),
    };
    assert!(matches!(
        verify(&empty, 0, &keys[0].fingerprint()),
        Err(HistoryError::Malformed(..))
    ));
}
