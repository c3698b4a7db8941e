//! Key files: plain and encrypted, import and export.

use super::*;

#[test]
fn key_files() {
    let a = alice();
    let plain = KeyFile::new_plain("https://chat.example", "alice", &a).unwrap();
    let json = plain.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["server"], "https://chat.example");
    assert_eq!(v["username"], "alice");
    assert_eq!(v["public_key"], a.public_key().to_base64());
    assert_eq!(v["private_key"]["encoding"], "plain");
    assert_eq!(
        v["private_key"]["pkcs8"],
        a.to_pkcs8_base64().unwrap().as_str()
    );
    let back = KeyFile::from_json(&json).unwrap();
    assert!(!back.is_encrypted());
    assert_eq!(back.private_key(None).unwrap().public_key(), a.public_key());

    let enc = KeyFile::new_encrypted("https://chat.example", "alice", &a, b"pw!").unwrap();
    let json = enc.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["private_key"]["encoding"], "encrypted");
    assert_eq!(v["private_key"]["kdf"], "argon2id");
    assert_eq!(v["private_key"]["version"], 1);
    let back = KeyFile::from_json(&json).unwrap();
    assert!(back.is_encrypted());
    assert_eq!(
        back.private_key(None).unwrap_err(),
        CryptoError::PasswordRequired
    );
    assert_eq!(
        back.private_key(Some(b"pw?")).unwrap_err(),
        CryptoError::Decrypt
    );
    assert_eq!(
        back.private_key(Some(b"pw!")).unwrap().public_key(),
        a.public_key()
    );

    // Mismatched pair.
    let mut bad = KeyFile::new_plain("https://chat.example", "alice", &a).unwrap();
    bad.public_key = bob().public_key().to_spki_der().to_vec();
    let bad = KeyFile::from_json(&bad.to_json().unwrap()).unwrap();
    assert_eq!(bad.private_key(None).unwrap_err(), CryptoError::KeyMismatch);
    // Version: 2 is a key ring (a single key under it reads as a ring of
    // one); 3 does not exist.
    let v3 = json.replacen("\"version\": 1", "\"version\": 3", 1);
    assert_eq!(
        KeyFile::from_json(&v3).unwrap_err(),
        CryptoError::UnsupportedVersion(3)
    );
    assert!(matches!(
        KeyFile::from_json(&json.replace("\"encrypted\"", "\"rot13\"")),
        Err(CryptoError::Malformed(_))
    ));
    assert!(
        matches!(back.private_key, KeyFilePrivateKey::Encrypted(ref e) if e.kdf == Kdf::Argon2id)
    );
}
