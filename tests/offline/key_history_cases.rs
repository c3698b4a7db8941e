//! `conformance/vectors/key_history_cases.json`: the crafted key histories
//! of the verifier's unit tests, each with a pin and the verdict, for the
//! web client's verifier. Generated from the same cases
//! (`src/client/history/tests/crafted.rs`), signed with a seeded RNG so the
//! file is reproducible; the committed file is then checked against
//! `history::verify` case by case, so neither can drift.

use nanochat::client::history;
use nanochat::crypto::Fingerprint;
// `crafted` imports these four from here.
use nanochat::crypto::{PrivateKey, key_succession_bytes};
use nanochat::models::{KeyHistory, KeyRecord};
use serde_json::json;

use crate::crypto_common::*;
use crate::crypto_vectors::check_or_update;

#[path = "../../src/client/history/tests/crafted.rs"]
mod crafted;

const DESCRIPTION: &str = "Crafted key histories of bob (api.yml, \"Key history\"), each with the key a reader pinned (index and fingerprint) and what a reader's verifier must answer. bob's keys, in history order, are the fixture keys bob-3072, carol-3072, dave-2048, erin-4096 and alice-3072: key 0 a chain start, keys 1 and 2 rotations, key 3 a chain start (an operator reset), key 4 a rotation of key 3 and the current key; each case alters that history. `history` is a KeyHistory as user.keys serves it; `pin` is the reader's pin; `expect.ok` false means the whole history is refused; when true, `trusted` lists the indexes of the reader's trusted chain (sorted) and `current_trusted` says whether the user's current key is among them (false after an unexplained change, or while the user is pending). Signatures are RSA-PSS drawn from rand_chacha 0.10 ChaCha20Rng::from_seed([0x90; 32]), in case order; they verify whatever the RNG.";

#[test]
fn key_history_case_vectors() {
    let keys = [bob(), carol(), dave(), erin(), alice()];
    let mut rng = test_rng(0x90);
    let cases = crafted::cases(&keys, &mut |key, bytes| {
        key.sign_pss_with_rng(&mut rng, bytes).unwrap()
    });
    assert!(cases.len() >= 12, "{} cases", cases.len());
    let generated = json!({
        "description": DESCRIPTION,
        "cases": cases.iter().map(|case| json!({
            "name": case.name,
            "history": serde_json::to_value(&case.history).unwrap(),
            "pin": { "index": case.pin_index, "fingerprint": case.pin_fingerprint },
            "expect": match &case.expect {
                crafted::Expect::Trusted { indexes, current_trusted } => json!({
                    "ok": true,
                    "trusted": indexes,
                    "current_trusted": current_trusted,
                }),
                crafted::Expect::Refused(_) => json!({ "ok": false }),
            },
        })).collect::<Vec<_>>(),
    });
    let committed = check_or_update("key_history_cases.json", &generated);

    // The committed file, read as a web client reads it, gets exactly its
    // verdicts from the Rust verifier.
    let committed = committed["cases"].as_array().unwrap();
    assert_eq!(committed.len(), cases.len());
    for case in committed {
        let name = case["name"].as_str().unwrap();
        let history: KeyHistory = serde_json::from_value(case["history"].clone()).unwrap();
        let index = case["pin"]["index"].as_i64().unwrap();
        let pinned: Fingerprint = case["pin"]["fingerprint"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let got = match history::verify(&history, index, &pinned) {
            Ok(chain) => json!({
                "ok": true,
                "trusted": chain.indexes().collect::<Vec<_>>(),
                "current_trusted": chain.current_is_trusted(),
            }),
            Err(_) => json!({ "ok": false }),
        };
        assert_eq!(got, case["expect"], "{name}");
    }
}
