//! Password-encrypted private keys: Argon2id parameters and the RFC 9106 vector.

use super::*;

pub(crate) fn blob() -> EncryptedPrivateKey {
    use std::sync::OnceLock;
    static B: OnceLock<EncryptedPrivateKey> = OnceLock::new();
    B.get_or_init(|| EncryptedPrivateKey::encrypt(&alice(), b"correct horse").unwrap())
        .clone()
}

#[test]
fn encrypted_private_key_round_trip_and_shape() {
    let b = blob();
    assert_eq!(b.params(), KdfParams::DEFAULT);
    assert_eq!(
        b.decrypt(b"correct horse").unwrap().public_key(),
        alice().public_key()
    );
    assert_eq!(
        b.decrypt(b"correct horsf").unwrap_err(),
        CryptoError::Decrypt
    );
    let json = b.to_json().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "ciphertext",
            "iv",
            "kdf",
            "m_cost",
            "p_cost",
            "salt",
            "t_cost",
            "version"
        ]
    );
    assert!(json.starts_with(
        r#"{"version":1,"kdf":"argon2id","m_cost":19456,"t_cost":2,"p_cost":1,"salt":""#
    ));
    assert_eq!(EncryptedPrivateKey::from_json(&json).unwrap(), b);
    assert!(EncryptedPrivateKey::encrypt(&alice(), b"").is_err());
}

#[test]
fn weak_or_absurd_kdf_params_are_refused() {
    let b = blob();
    let with = |m: u32, t: u32, p: u32| {
        let mut x = b.clone();
        (x.m_cost, x.t_cost, x.p_cost) = (m, t, p);
        x.decrypt(b"correct horse").unwrap_err()
    };
    assert_eq!(with(19455, 2, 1), CryptoError::WeakKdf);
    assert_eq!(with(19456, 1, 1), CryptoError::WeakKdf);
    assert_eq!(with(19456, 2, 0), CryptoError::WeakKdf);
    assert_eq!(with(0, 0, 0), CryptoError::WeakKdf);
    assert_eq!(with(1024 * 1024 + 1, 2, 1), CryptoError::KdfTooExpensive);
    assert_eq!(with(19456, 21, 1), CryptoError::KdfTooExpensive);
    assert_eq!(with(19456, 2, 17), CryptoError::KdfTooExpensive);
    assert_eq!(
        with(u32::MAX, u32::MAX, u32::MAX),
        CryptoError::KdfTooExpensive
    );
    // Stronger-than-default but legal parameters derive a different key.
    assert_eq!(with(19456, 3, 1), CryptoError::Decrypt);
    let weak = KdfParams {
        m_cost: 8,
        t_cost: 1,
        p_cost: 1,
    };
    assert_eq!(
        EncryptedPrivateKey::encrypt_with_rng(&mut test_rng(1), &alice(), b"pw", weak).unwrap_err(),
        CryptoError::WeakKdf
    );
    // Version 2 is a key ring under another AAD: a version 1 blob
    // relabelled does not decrypt; version 3 does not exist.
    let mut x = b.clone();
    x.version = 2;
    assert_eq!(
        x.decrypt(b"correct horse").unwrap_err(),
        CryptoError::Decrypt
    );
    let mut x = b.clone();
    x.version = 3;
    assert_eq!(
        x.decrypt(b"correct horse").unwrap_err(),
        CryptoError::UnsupportedVersion(3)
    );
    let mut x = b.clone();
    x.salt.pop();
    assert!(matches!(
        x.decrypt(b"correct horse"),
        Err(CryptoError::BadLength { what: "salt", .. })
    ));
    let mut x = b.clone();
    x.iv.push(0);
    assert!(matches!(
        x.decrypt(b"correct horse"),
        Err(CryptoError::BadLength { .. })
    ));
    assert!(
        EncryptedPrivateKey::from_json(&b.to_json().unwrap().replace("argon2id", "scrypt"))
            .is_err()
    );
}

#[test]
fn encrypted_private_key_tampering_is_rejected() {
    let b = blob();
    for i in 0..12 {
        let mut x = b.clone();
        flip(&mut x.iv, i);
        assert_eq!(
            x.decrypt(b"correct horse").unwrap_err(),
            CryptoError::Decrypt,
            "iv {i}"
        );
    }
    for i in [0, 7, 15] {
        let mut x = b.clone();
        flip(&mut x.salt, i);
        assert_eq!(
            x.decrypt(b"correct horse").unwrap_err(),
            CryptoError::Decrypt,
            "salt {i}"
        );
    }
    let len = b.ciphertext.len();
    for i in [0, 1, len / 3, len / 2, len - 17, len - 16, len - 2, len - 1] {
        let mut x = b.clone();
        flip(&mut x.ciphertext, i);
        assert_eq!(
            x.decrypt(b"correct horse").unwrap_err(),
            CryptoError::Decrypt,
            "ct {i}"
        );
    }
}

#[test]
fn argon2id_rfc9106_section_5_3() {
    // RFC 9106 5.3: Argon2id v=0x13, m=32 KiB, t=3, p=4, tag 32 bytes,
    // password 32 x 0x01, salt 16 x 0x02, secret 8 x 0x03, ad 12 x 0x04.
    use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
    let params = ParamsBuilder::new()
        .m_cost(32)
        .t_cost(3)
        .p_cost(4)
        .data(AssociatedData::new(&[0x04; 12]).unwrap())
        .output_len(32)
        .build()
        .unwrap();
    let secret = [0x03; 8];
    let ctx =
        Argon2::new_with_secret(&secret, Algorithm::Argon2id, Version::V0x13, params).unwrap();
    let mut out = [0u8; 32];
    ctx.hash_password_into(&[0x01; 32], &[0x02; 16], &mut out)
        .unwrap();
    assert_eq!(
        hex(&out),
        "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    );
    // And our wrapper is plain Argon2id v0x13 with no secret/ad: cross-check.
    let ours = KdfParams::DEFAULT.derive_key(b"pw", &[0x02; 16]).unwrap();
    let p = argon2::Params::new(19456, 2, 1, Some(32)).unwrap();
    let mut theirs = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(b"pw", &[0x02; 16], &mut theirs)
        .unwrap();
    assert_eq!(*ours, theirs);
}
