//! Target `password_key`: the password-encrypted private key (no mode
//! byte; every input goes through both paths).
//!
//! - As JSON: [`EncryptedPrivateKey::from_json`] (what the client reads
//!   from `user.sync` and key files), [`EncryptedPrivateKey::validate`],
//!   the JSON round trip, and decryption with the fixture password under a
//!   bounded Argon2id budget ([`decrypt_bounded`]); and as the generated
//!   model the server receives in `user.complete` and `user.update`,
//!   checked as the server checks it (re-encoded, parsed, validated).
//! - As the PKCS#8 plaintext: sealed under a cached Argon2id key with the
//!   default parameters, serialised, parsed and decrypted again, so the
//!   PKCS#8 import behind AES-GCM is reached (mutated ciphertexts never
//!   authenticate).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use zeroize::Zeroizing;

use super::PASSWORD;
use crate::crypto::password::{ENCRYPTED_PRIVATE_KEY_VERSION, Kdf, PRIVATE_KEY_AAD, SALT_LEN};
use crate::crypto::{CryptoError, EncryptedPrivateKey, KdfParams, PrivateKey, aead};

/// The most Argon2id work one input may cost: twice the default's memory
/// times passes (about 50 ms), whatever the blob asks for. A blob over the
/// budget is only validated. The protocol's own ceiling (1 GiB, 20 passes)
/// would make one iteration take seconds and exhaust the fuzzer's memory.
pub const KDF_BUDGET_KIB_PASSES: u64 = 2 * 19_456 * 2;

/// Runs one input (see the module documentation).
pub fn run(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(blob) = EncryptedPrivateKey::from_json(text) {
            let _ = blob.params().check();
            let valid = blob.validate();
            let json = blob.to_json().expect("a parsed blob re-encodes");
            assert_eq!(
                EncryptedPrivateKey::from_json(&json).expect("a re-encoded blob parses"),
                blob
            );
            let decrypted = decrypt_bounded(&blob, PASSWORD);
            if let Err(e) = &valid {
                assert_eq!(decrypted.as_ref().err(), Some(e), "decrypt validates first");
            }
        }
        if let Ok(model) = serde_json::from_str::<crate::models::EncryptedPrivateKey>(text) {
            // The server's check of an uploaded blob (users.rs).
            let json = serde_json::to_string(&model).expect("a parsed model re-encodes");
            if let Ok(parsed) = EncryptedPrivateKey::from_json(&json) {
                let _ = parsed.validate();
            }
        }
    }
    sealed_plaintext(data);
}

/// What [`EncryptedPrivateKey::decrypt`] does (validate, Argon2id,
/// AES-GCM, PKCS#8 import), with the Argon2id output cached by parameters
/// and salt, and refused (as [`CryptoError::KdfTooExpensive`]) over
/// [`KDF_BUDGET_KIB_PASSES`]. The corpus replay test checks that it agrees
/// with the real `decrypt`.
pub fn decrypt_bounded(
    blob: &EncryptedPrivateKey,
    password: &[u8],
) -> Result<PrivateKey, CryptoError> {
    blob.validate()?;
    let iv: [u8; 12] = blob
        .iv
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::Malformed("iv"))?;
    let key = derive_cached(blob.params(), &blob.salt, password)?;
    let der = Zeroizing::new(aead::decrypt(&key, &iv, PRIVATE_KEY_AAD, &blob.ciphertext)?);
    PrivateKey::from_pkcs8_der(&der)
}

/// Whether `params` fit the budget.
pub fn within_budget(params: KdfParams) -> bool {
    u64::from(params.m_cost) * u64::from(params.t_cost) <= KDF_BUDGET_KIB_PASSES
}

type Derived = Zeroizing<[u8; 32]>;
/// Parameters, salt and password of a derived key.
type Inputs = (u32, u32, u32, Vec<u8>, Vec<u8>);

fn derive_cached(params: KdfParams, salt: &[u8], password: &[u8]) -> Result<Derived, CryptoError> {
    static CACHE: OnceLock<Mutex<HashMap<Inputs, Derived>>> = OnceLock::new();
    if !within_budget(params) {
        return Err(CryptoError::KdfTooExpensive);
    }
    let cache = CACHE.get_or_init(Default::default);
    let id = (
        params.m_cost,
        params.t_cost,
        params.p_cost,
        salt.to_vec(),
        password.to_vec(),
    );
    if let Some(key) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
        return Ok(key.clone());
    }
    let key = params.derive_key(password, salt)?;
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= 64 {
        cache.clear();
    }
    cache.insert(id, key.clone());
    Ok(key)
}

/// The fixture salt of [`sealed_plaintext`].
const SALT: [u8; SALT_LEN] = [5; SALT_LEN];

/// `plaintext` as the PKCS#8 DER of a blob under the fixture password.
fn sealed_plaintext(plaintext: &[u8]) {
    let params = KdfParams::DEFAULT;
    let key = derive_cached(params, &SALT, PASSWORD).expect("the default parameters fit");
    let iv = [6u8; 12];
    let blob = EncryptedPrivateKey {
        version: ENCRYPTED_PRIVATE_KEY_VERSION,
        kdf: Kdf::Argon2id,
        m_cost: params.m_cost,
        t_cost: params.t_cost,
        p_cost: params.p_cost,
        salt: SALT.to_vec(),
        iv: iv.to_vec(),
        ciphertext: aead::encrypt(&key, &iv, PRIVATE_KEY_AAD, plaintext)
            .expect("AES-GCM input below its limit"),
    };
    let parsed = EncryptedPrivateKey::from_json(&blob.to_json().expect("a blob encodes"))
        .expect("an encoded blob parses");
    assert_eq!(parsed, blob);
    let decrypted = decrypt_bounded(&parsed, PASSWORD);
    let direct = PrivateKey::from_pkcs8_der(plaintext);
    assert_eq!(
        decrypted.as_ref().map(PrivateKey::fingerprint).ok(),
        direct.as_ref().map(PrivateKey::fingerprint).ok(),
        "decryption imports exactly the sealed PKCS#8"
    );
    if let Ok(key) = decrypted {
        let again = key.to_pkcs8_der().expect("an imported key re-encodes");
        let reimported = PrivateKey::from_pkcs8_der(&again).expect("a re-encoded key imports");
        assert_eq!(reimported.fingerprint(), key.fingerprint());
    }
}
