//! The verifier against crafted histories: every way a server could forge,
//! drop, reorder or substitute a key is caught. The histories are those of
//! the committed vectors (`crafted`), so the web client is held to the same
//! verdicts.

use super::*;
// `crafted` imports these four from here.
use crate::crypto::{PrivateKey, key_succession_bytes};
use crate::models::{KeyHistory, KeyRecord};

mod crafted;

use crafted::{Expect, Refusal};

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

/// bob's keys in history order, as `crafted::cases` takes them.
fn bobs_keys() -> [PrivateKey; 5] {
    ["bob", "carol", "dave", "erin", "alice"].map(fixture)
}

/// The verdict of `verify` in the terms of `crafted::Expect`.
fn verdict(result: Result<TrustedChain, HistoryError>) -> Expect {
    match result {
        Ok(chain) => Expect::Trusted {
            indexes: chain.indexes().collect(),
            current_trusted: chain.current_is_trusted(),
        },
        Err(HistoryError::Malformed(..)) => Expect::Refused(Refusal::Malformed),
        Err(HistoryError::PinMissing { .. }) => Expect::Refused(Refusal::PinMissing),
        Err(HistoryError::BadLink(_, index)) => Expect::Refused(Refusal::BadLink(index)),
        Err(HistoryError::BadKey(_, index)) => Expect::Refused(Refusal::BadKey(index)),
    }
}

#[test]
fn every_crafted_history_gets_its_verdict() {
    let keys = bobs_keys();
    let cases = crafted::cases(&keys, &mut |key, bytes| key.sign_pss(bytes).unwrap());
    assert!(cases.len() >= 12);
    for case in cases {
        let pinned: Fingerprint = case.pin_fingerprint.parse().unwrap();
        assert_eq!(
            verdict(verify(&case.history, case.pin_index, &pinned)),
            case.expect,
            "{}",
            case.name
        );
    }
}

#[test]
fn a_chain_holds_the_keys_and_periods_of_the_history() {
    let keys = bobs_keys();
    let cases = crafted::cases(&keys, &mut |key, bytes| key.sign_pss(bytes).unwrap());
    let history = &cases[0].history;
    // Pinned after the reset: the chain starts at the reset's key, and the
    // user's current key is trusted.
    let chain = verify(history, 4, &keys[4].fingerprint()).unwrap();
    assert_eq!(chain.username(), "bob");
    assert_eq!(chain.current_index(), Some(4));
    assert_eq!(chain.oldest(), Some(3));
    assert_eq!(
        chain.key(3).unwrap().key.fingerprint(),
        keys[3].fingerprint()
    );
    assert_eq!(chain.key(3).unwrap().until, history.keys[3].until);
    assert_eq!(chain.newest().unwrap().1.until, None);
    // The refusals name the user.
    let mut dropped = history.clone();
    dropped.keys[2].succession_signature = None;
    assert_eq!(
        verify(&dropped, 0, &keys[0].fingerprint()).unwrap_err(),
        HistoryError::BadLink("bob".into(), 2)
    );
}

#[test]
fn the_view_tells_rotations_from_chain_starts() {
    let keys = bobs_keys();
    let cases = crafted::cases(&keys, &mut |key, bytes| key.sign_pss(bytes).unwrap());
    let history = &cases[0].history;
    let shown = |pin: usize| {
        let chain = verify(history, pin as i64, &keys[pin].fingerprint()).unwrap();
        view(history, &chain)
            .into_iter()
            .map(|k| (k.index, k.trusted, k.origin))
            .collect::<Vec<_>>()
    };
    // Pinned before the reset: the reset's key and its rotation are not
    // trusted, so the rotation's proof is not checked.
    assert_eq!(
        shown(0),
        [
            (0, true, KeyOrigin::ChainStart),
            (1, true, KeyOrigin::Rotation { signed_by: 0 }),
            (2, true, KeyOrigin::Rotation { signed_by: 1 }),
            (3, false, KeyOrigin::ChainStart),
            (4, false, KeyOrigin::Unchecked),
        ]
    );
    // Pinned after it: the reverse.
    assert_eq!(
        shown(4),
        [
            (0, false, KeyOrigin::ChainStart),
            (1, false, KeyOrigin::Unchecked),
            (2, false, KeyOrigin::Unchecked),
            (3, true, KeyOrigin::ChainStart),
            (4, true, KeyOrigin::Rotation { signed_by: 3 }),
        ]
    );
    let entry = &view(
        history,
        &verify(history, 0, &keys[0].fingerprint()).unwrap(),
    )[2];
    assert_eq!(entry.fingerprint, keys[2].fingerprint());
    assert_eq!(
        (entry.since, entry.until),
        (history.keys[2].since, history.keys[2].until)
    );
}
