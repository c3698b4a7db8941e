//! Target `keyfile`: key-file import and the key encodings (no mode byte).
//!
//! Every input is tried as SPKI and PKCS#8 DER, and, if it is UTF-8, as
//! PEM, base64 and a fingerprint, then as a key file:
//! [`KeyFile::from_json`], its JSON round trip, [`KeyFile::public_key`] and
//! [`KeyFile::private_key`] (plain: with and without a password, which it
//! ignores; encrypted: without one, which it refuses, and with the fixture
//! password under the Argon2id budget of
//! [`super::password_key::decrypt_bounded`]).

use std::str::FromStr;

use super::PASSWORD;
use super::password_key::decrypt_bounded;
use crate::crypto::{CryptoError, Fingerprint, KeyFile, KeyFilePrivateKey, PrivateKey, PublicKey};

/// Runs one input (see the module documentation).
pub fn run(data: &[u8]) {
    if let Ok(key) = PublicKey::from_spki_der(data) {
        assert_eq!(key.to_spki_der(), data, "only canonical SPKI is accepted");
        assert_eq!(PublicKey::from_pem(&key.to_pem()).ok(), Some(key.clone()));
    }
    if let Ok(key) = PrivateKey::from_pkcs8_der(data) {
        let der = key.to_pkcs8_der().expect("an imported key re-encodes");
        let again = PrivateKey::from_pkcs8_der(&der).expect("a re-encoded key imports");
        assert_eq!(again.fingerprint(), key.fingerprint());
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = PublicKey::from_pem(text);
    let _ = PublicKey::from_base64(text);
    let _ = PrivateKey::from_pkcs8_pem(text);
    let _ = PrivateKey::from_pkcs8_base64(text);
    if let Ok(fingerprint) = Fingerprint::from_str(text) {
        assert_eq!(
            Fingerprint::from_str(&fingerprint.to_string()),
            Ok(fingerprint)
        );
    }
    let Ok(file) = KeyFile::from_json(text) else {
        return;
    };
    let json = file.to_json().expect("a parsed key file re-encodes");
    assert_eq!(
        KeyFile::from_json(&json).expect("a re-encoded key file parses"),
        file
    );
    let public = file.public_key();
    match &file.private_key {
        KeyFilePrivateKey::Plain { .. } => {
            let without = file.private_key(None).map(|k| k.fingerprint());
            let with = file.private_key(Some(PASSWORD)).map(|k| k.fingerprint());
            assert_eq!(without, with, "a plain key file ignores the password");
        }
        KeyFilePrivateKey::Encrypted(blob) => {
            let without = file.private_key(None);
            if public.is_ok() {
                assert_eq!(without.err(), Some(CryptoError::PasswordRequired));
            }
            if let (Ok(public), Ok(private)) = (&public, decrypt_bounded(blob, PASSWORD)) {
                let _ = private.check_matches(public);
            }
        }
    }
}
