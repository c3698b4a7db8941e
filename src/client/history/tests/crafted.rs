//! The crafted key histories of bob, each with the pin a reader holds and
//! what the verifier must make of it. One source for two users: the
//! verifier's unit tests (`src/client/history/tests.rs`) and the committed
//! vectors `conformance/vectors/key_history_cases.json`
//! (`tests/offline/key_history_cases.rs`), which the web client checks its
//! own verifier against. Both include this file as a module; the parent
//! provides the four names imported below, so it compiles in the library
//! and in the integration tests alike.

use time::macros::datetime;

use super::{KeyHistory, KeyRecord, PrivateKey, key_succession_bytes};

/// What the verifier must answer for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The history verifies: these indexes are trusted (sorted), and the
    /// current key is trusted or not.
    Trusted {
        /// The indexes of the trusted chain.
        indexes: Vec<i64>,
        /// `TrustedChain::current_is_trusted`.
        current_trusted: bool,
    },
    /// The whole history is refused, for this reason (the vectors only say
    /// "refused": which check fires first is the Rust verifier's business).
    Refused(Refusal),
}

/// Why a case is refused, as `HistoryError` will say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `HistoryError::Malformed`.
    Malformed,
    /// `HistoryError::PinMissing`.
    PinMissing,
    /// `HistoryError::BadLink` at this index.
    BadLink(i64),
    /// `HistoryError::BadKey` at this index.
    BadKey(i64),
}

/// One crafted history and the pin it is verified from.
#[derive(Debug, Clone)]
pub struct Case {
    /// A short description (the vector file's `name`).
    pub name: &'static str,
    /// The history as a server would serve it.
    pub history: KeyHistory,
    /// The pinned index.
    pub pin_index: i64,
    /// The pinned fingerprint, grouped as `KeyRecord.fingerprint` spells it.
    pub pin_fingerprint: String,
    /// The verdict.
    pub expect: Expect,
}

/// RSA-PSS over the bytes with the key: the OS RNG in unit tests, a seeded
/// one for the committed vectors (so they are reproducible).
pub type Signer<'a> = dyn FnMut(&PrivateKey, &[u8]) -> Vec<u8> + 'a;

/// The entry at `index` for `key`, retired the next day unless `current`;
/// `link` is the (succession, possession) signature pair of a successor.
/// Fixed timestamps, so the vectors are deterministic.
fn entry(
    index: i64,
    key: &PrivateKey,
    link: Option<(Vec<u8>, Vec<u8>)>,
    current: bool,
) -> KeyRecord {
    let day = |d: i64| datetime!(2026-11-01 09:00 UTC) + time::Duration::days(d);
    let (succession, possession) = link.unzip();
    KeyRecord {
        index,
        public_key: key.public_key().to_spki_der().to_vec().into(),
        fingerprint: key.fingerprint().to_string(),
        since: day(index),
        until: (!current).then(|| day(index + 1)),
        succession_signature: succession.map(Into::into),
        public_key_signature: possession.map(Into::into),
    }
}

/// Both signatures of the succession of `new` at `index` of `user`'s
/// history after `previous`.
fn link(
    sign: &mut Signer<'_>,
    user: &str,
    index: u64,
    previous: &PrivateKey,
    new: &PrivateKey,
) -> (Vec<u8>, Vec<u8>) {
    let bytes = key_succession_bytes(
        user,
        index,
        previous.public_key().to_spki_der(),
        new.public_key().to_spki_der(),
    );
    (sign(previous, &bytes), sign(new, &bytes))
}

/// Every crafted case. `keys` are bob's five keys in history order (the
/// fixture keys bob, carol, dave, erin, alice): k0 a chain start, k1 and
/// k2 rotations, k3 an operator reset (a chain start), k4 a rotation of
/// k3, the current key. Signatures are drawn from `sign` in a fixed order.
pub fn cases(keys: &[PrivateKey; 5], sign: &mut Signer<'_>) -> Vec<Case> {
    let fp = |i: usize| keys[i].fingerprint().to_string();
    let der = |i: usize| keys[i].public_key().to_spki_der().to_vec();
    let links: Vec<_> = [1usize, 2, 4]
        .into_iter()
        .map(|i| link(sign, "bob", i as u64, &keys[i - 1], &keys[i]))
        .collect();
    let bob = KeyHistory {
        username: "bob".into(),
        keys: vec![
            entry(0, &keys[0], None, false),
            entry(1, &keys[1], Some(links[0].clone()), false),
            entry(2, &keys[2], Some(links[1].clone()), false),
            entry(3, &keys[3], None, false),
            entry(4, &keys[4], Some(links[2].clone()), true),
        ],
    };
    let trusted = |indexes: &[i64], current_trusted: bool| Expect::Trusted {
        indexes: indexes.to_vec(),
        current_trusted,
    };
    let case = |name, history: &KeyHistory, pin: usize, expect| Case {
        name,
        history: history.clone(),
        pin_index: pin as i64,
        pin_fingerprint: fp(pin),
        expect,
    };
    let changed = |change: &dyn Fn(&mut KeyHistory)| {
        let mut history = bob.clone();
        change(&mut history);
        history
    };
    let mut out = vec![
        case(
            "forward from the first key",
            &bob,
            0,
            trusted(&[0, 1, 2], false),
        ),
        case(
            "forward and backward from a rotated key",
            &bob,
            1,
            trusted(&[0, 1, 2], false),
        ),
        case(
            "backward from the last key before the reset",
            &bob,
            2,
            trusted(&[0, 1, 2], false),
        ),
        case(
            "forward from the key set after the operator reset",
            &bob,
            3,
            trusted(&[3, 4], true),
        ),
        case(
            "backward from the current key to the reset",
            &bob,
            4,
            trusted(&[3, 4], true),
        ),
        case(
            "a pending user (reset, not completed): every key retired",
            &changed(&|h| h.keys[4].until = Some(h.keys[4].since + time::Duration::days(1))),
            4,
            trusted(&[3, 4], false),
        ),
        case(
            "a swapped key, walking forward",
            &changed(&|h| h.keys[1].public_key = der(4).into()),
            0,
            Expect::Refused(Refusal::BadLink(1)),
        ),
        case(
            "a swapped key, walking backward",
            &changed(&|h| h.keys[1].public_key = der(4).into()),
            2,
            Expect::Refused(Refusal::BadLink(2)),
        ),
        case(
            "a dropped succession signature",
            &changed(&|h| h.keys[2].succession_signature = None),
            0,
            Expect::Refused(Refusal::BadLink(2)),
        ),
        case(
            "a dropped possession signature",
            &changed(&|h| h.keys[2].public_key_signature = None),
            0,
            Expect::Refused(Refusal::BadLink(2)),
        ),
    ];

    // The new key vouches for itself: no signature by the previous one.
    let bytes = key_succession_bytes("bob", 2, &der(1), &der(2));
    let by_new_key_only = sign(&keys[2], &bytes);
    out.push(case(
        "a proof signed by the new key only",
        &changed(&|h| h.keys[2].succession_signature = Some(by_new_key_only.clone().into())),
        0,
        Expect::Refused(Refusal::BadLink(2)),
    ));
    // A genuine proof, but of a succession in carol's history.
    let (succession, possession) = link(sign, "carol", 2, &keys[1], &keys[2]);
    out.push(case(
        "a proof made for another user's history",
        &changed(&|h| {
            h.keys[2].succession_signature = Some(succession.clone().into());
            h.keys[2].public_key_signature = Some(possession.clone().into());
        }),
        0,
        Expect::Refused(Refusal::BadLink(2)),
    ));
    // A reader pinned k4; the server claims k3 (the reset) succeeded k2,
    // with a proof it cannot make (a link of other keys).
    let (succession, possession) = link(sign, "bob", 3, &keys[0], &keys[1]);
    out.push(case(
        "an invented predecessor of the chain start",
        &changed(&|h| {
            h.keys[3].succession_signature = Some(succession.clone().into());
            h.keys[3].public_key_signature = Some(possession.clone().into());
        }),
        4,
        Expect::Refused(Refusal::BadLink(3)),
    ));
    out.extend([
        Case {
            pin_index: 1,
            ..case(
                "a rewritten history: the pinned key is not at the pinned index",
                &bob,
                0,
                Expect::Refused(Refusal::PinMissing),
            )
        },
        Case {
            pin_index: 9,
            ..case(
                "a pin beyond the history",
                &bob,
                0,
                Expect::Refused(Refusal::PinMissing),
            )
        },
        case(
            "a replaced key at the pinned index",
            &changed(&|h| {
                h.keys[0].public_key = der(4).into();
                h.keys[0].fingerprint = fp(4);
            }),
            0,
            Expect::Refused(Refusal::PinMissing),
        ),
        case(
            "reordered entries",
            &changed(&|h| h.keys.swap(1, 2)),
            0,
            Expect::Refused(Refusal::Malformed),
        ),
        case(
            "a skipped index",
            &changed(&|h| {
                h.keys.remove(2);
            }),
            0,
            Expect::Refused(Refusal::Malformed),
        ),
        case(
            "a repeated index",
            &changed(&|h| {
                let again = h.keys[1].clone();
                h.keys.insert(2, again);
            }),
            0,
            Expect::Refused(Refusal::Malformed),
        ),
        case(
            "an open-ended retired key",
            &changed(&|h| h.keys[1].until = None),
            0,
            Expect::Refused(Refusal::Malformed),
        ),
        // Else sound (one current key, pinned): only the index is wrong.
        Case {
            pin_index: -1,
            ..case(
                "a negative index",
                &changed(&|h| {
                    h.keys.truncate(1);
                    h.keys[0].index = -1;
                    h.keys[0].until = None;
                }),
                0,
                Expect::Refused(Refusal::Malformed),
            )
        },
        case(
            "an empty history",
            &changed(&|h| h.keys.clear()),
            0,
            Expect::Refused(Refusal::Malformed),
        ),
        case(
            "an unreadable key in the chain",
            &changed(&|h| h.keys[1].public_key = b"not a key".to_vec().into()),
            0,
            Expect::Refused(Refusal::BadKey(1)),
        ),
    ]);
    out
}
