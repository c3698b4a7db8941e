//! Key pairs: generation policy, encodings, fingerprints.

use super::*;

#[test]
fn key_encodings_round_trip() {
    let k = alice();
    let pk = k.public_key();
    assert_eq!(pk.bits(), 3072);
    assert_eq!(pk.modulus_len(), 384);
    assert_eq!(&PublicKey::from_spki_der(pk.to_spki_der()).unwrap(), pk);
    assert_eq!(&PublicKey::from_base64(&pk.to_base64()).unwrap(), pk);
    assert_eq!(&PublicKey::from_pem(&pk.to_pem()).unwrap(), pk);
    assert!(pk.to_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let der = k.to_pkcs8_der().unwrap();
    assert_eq!(PrivateKey::from_pkcs8_der(&der).unwrap().public_key(), pk);
    assert_eq!(
        PrivateKey::from_pkcs8_base64(&k.to_pkcs8_base64().unwrap())
            .unwrap()
            .public_key(),
        pk
    );
    // Our PEM output is byte-identical to the committed fixture.
    assert_eq!(k.to_pkcs8_pem().unwrap().as_str(), FixtureKey::Alice.pem());
    for (key, bits) in [(dave(), 2048), (erin(), 4096), (server(), 3072)] {
        assert_eq!(key.public_key().bits(), bits);
    }
}

#[test]
fn fingerprint_is_grouped_sha256_of_spki() {
    let pk = alice().public_key().clone();
    let fp = pk.fingerprint();
    assert_eq!(fp, Fingerprint::of_spki_der(pk.to_spki_der()));
    let shown = fp.to_string();
    let groups: Vec<&str> = shown.split(' ').collect();
    assert_eq!(groups.len(), 16);
    assert!(groups.iter().all(|g| {
        g.len() == 4
            && g.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    }));
    assert_eq!(shown.replace(' ', ""), fp.to_hex());
    assert_ne!(fp, bob().fingerprint());
}

#[test]
fn debug_never_shows_secrets() {
    let k = alice();
    let dbg = format!("{k:?}");
    assert!(dbg.contains(&k.fingerprint().to_string()), "{dbg}");
    let b64 = k.to_pkcs8_base64().unwrap();
    assert!(!dbg.contains(&b64[40..80]));
    let (_, secret) = seal_request(server().public_key(), b"x", None).unwrap();
    let s = format!(
        "{secret:?} {:?} {:?}",
        secret.response_key(),
        secret.event_key()
    );
    assert!(!s.contains(&hex(secret.expose_key())));
    assert!(!s.contains(&hex(secret.response_key().expose_key())));
    let file = KeyFile::new_plain("https://chat.example", "alice", &k).unwrap();
    let dbg = format!("{file:?}");
    assert!(!dbg.contains(&b64[40..80]), "{dbg}");
}

#[test]
fn size_and_exponent_policy() {
    assert_eq!(
        PrivateKey::from_pkcs8_pem(FixtureKey::Weak.pem()).unwrap_err(),
        CryptoError::KeySize(1024)
    );
    assert_eq!(
        PrivateKey::from_pkcs8_pem(FixtureKey::Exp3.pem()).unwrap_err(),
        CryptoError::PublicExponent
    );
    // The public halves are rejected too (extracted with the rsa crate).
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    for (pem, err) in [
        (FixtureKey::Weak.pem(), CryptoError::KeySize(1024)),
        (FixtureKey::Exp3.pem(), CryptoError::PublicExponent),
    ] {
        let raw = rsa::PrivateKey::from_pkcs8_pem(pem).unwrap();
        let spki = raw.to_public_key().to_public_key_der().unwrap();
        assert_eq!(PublicKey::from_spki_der(spki.as_bytes()).unwrap_err(), err);
    }
    let mut rng = test_rng(1);
    for bits in [1024, 2047, 4097, 8192] {
        assert_eq!(
            PrivateKey::generate_with_rng(&mut rng, bits).unwrap_err(),
            CryptoError::KeySize(bits)
        );
    }
}

#[test]
fn generate_2048() {
    let k = PrivateKey::generate_with_rng(&mut nanochat::crypto::OsRng, 2048).unwrap();
    assert_eq!(k.public_key().bits(), 2048);
    let sig = k.sign_pss(b"m").unwrap();
    k.public_key().verify_pss(b"m", &sig).unwrap();
}

#[test]
fn pss_and_oaep_primitives() {
    let k = bob();
    let sig = k.sign_pss(b"hello").unwrap();
    k.public_key().verify_pss(b"hello", &sig).unwrap();
    assert_eq!(
        k.public_key().verify_pss(b"hellp", &sig),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        alice().public_key().verify_pss(b"hello", &sig),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        k.public_key().verify_pss(b"hello", &sig[1..]),
        Err(CryptoError::BadSignature)
    );
    let ct = k.public_key().encrypt_oaep(&[7u8; 32]).unwrap();
    assert_eq!(&**k.decrypt_oaep(&ct).unwrap(), &[7u8; 32]);
    assert_eq!(alice().decrypt_oaep(&ct).unwrap_err(), CryptoError::Decrypt);
}
