//! Garbage and truncated input: always an `Err`, never a panic.

use super::password::blob;
use super::*;

#[test]
fn garbage_and_truncated_input_is_an_error_not_a_panic() {
    let mut rng = test_rng(0x99);
    let server = server();
    let alice = alice();
    let spki = alice.public_key().to_spki_der().to_vec();
    let pkcs8 = alice.to_pkcs8_der().unwrap();
    // Every truncation of a valid SPKI, a sample of PKCS#8 truncations.
    for n in 0..spki.len() {
        assert!(PublicKey::from_spki_der(&spki[..n]).is_err(), "spki[..{n}]");
    }
    for n in positions(pkcs8.len()) {
        assert!(
            PrivateKey::from_pkcs8_der(&pkcs8[..n]).is_err(),
            "pkcs8[..{n}]"
        );
    }
    // Trailing garbage is refused too.
    let mut long = spki.clone();
    long.push(0);
    assert!(PublicKey::from_spki_der(&long).is_err());
    let (env, secret) = seal_request(server.public_key(), b"body", Some(&alice)).unwrap();
    let resp_key = secret.response_key();
    let mut rx = EventReceiver::new(secret.event_key());
    for len in [0usize, 1, 11, 12, 15, 16, 17, 100, 383, 384, 385, 1000] {
        let mut junk = vec![0u8; len];
        rng.fill_bytes(&mut junk);
        let text = String::from_utf8_lossy(&junk).into_owned();
        assert!(PublicKey::from_spki_der(&junk).is_err());
        assert!(PrivateKey::from_pkcs8_der(&junk).is_err());
        assert!(PublicKey::from_base64(&text).is_err());
        assert!(PublicKey::from_pem(&text).is_err());
        assert!(PrivateKey::from_pkcs8_pem(&text).is_err());
        assert!(PrivateKey::from_pkcs8_base64(&text).is_err());
        assert!(server.decrypt_oaep(&junk).is_err());
        assert!(alice.public_key().verify_pss(&junk, &junk).is_err());
        let e = RequestEnvelope {
            key: junk.clone(),
            iv: [0; 12],
            data: junk.clone(),
            signature: Some(junk.clone()),
        };
        assert!(e.open(&server).is_err());
        assert!(e.verify_signature(alice.public_key()).is_err());
        let mixed = RequestEnvelope {
            data: junk.clone(),
            ..env.clone()
        };
        assert!(mixed.open(&server).is_err());
        assert!(
            resp_key
                .open(&ResponseEnvelope {
                    iv: [1; 12],
                    data: junk.clone()
                })
                .is_err()
        );
        assert!(
            rx.open(&EventEnvelope {
                seq: len as u64,
                iv: [2; 12],
                data: junk.clone()
            })
            .is_err()
        );
        assert!(EncryptedPrivateKey::from_json(&text).is_err());
        assert!(KeyFile::from_json(&text).is_err());
        assert!(MessageContent::from_json_bytes(&junk).is_err());
        let received = nanochat::crypto::ReceivedMessage {
            conversation_id: Uuid::nil(),
            message_id: Uuid::nil(),
            content_iv: [0; 12],
            content: junk.clone(),
            attachment_digest: None,
            recipients: vec![RecipientDigest {
                username: "bob".into(),
                key_digest: nanochat_sha256(&junk),
            }],
            wrapped_key: junk.clone(),
            signature: junk.clone(),
            version: nanochat::crypto::SignatureVersion::V1,
        };
        assert!(open_message(&received, "bob", &bob(), alice.public_key()).is_err());
        let name = ReceivedName {
            conversation_id: Uuid::nil(),
            revision: len as u64,
            iv: [0; 12],
            ciphertext: junk.clone(),
            recipients: vec![RecipientDigest {
                username: "bob".into(),
                key_digest: nanochat_sha256(&junk),
            }],
            wrapped_key: junk.clone(),
            signature: junk.clone(),
            version: nanochat::crypto::SignatureVersion::V1,
        };
        assert!(open_name(&name, "bob", &bob(), alice.public_key()).is_err());
    }
    // Garbage inside well-formed JSON.
    let json = blob().to_json().unwrap();
    for field in ["salt", "iv", "ciphertext"] {
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut v = v.as_object().unwrap().clone();
        v.insert(
            field.into(),
            serde_json::Value::String("!!notbase64".into()),
        );
        assert!(EncryptedPrivateKey::from_json(&serde_json::to_string(&v).unwrap()).is_err());
        v.insert(field.into(), serde_json::Value::String(String::new()));
        let x = EncryptedPrivateKey::from_json(&serde_json::to_string(&v).unwrap()).unwrap();
        assert!(x.decrypt(b"correct horse").is_err());
    }
    let kf = r#"{"version":1,"server":"s","username":"u","public_key":"AAAA","private_key":{"encoding":"plain","pkcs8":"AAAA"}}"#;
    let kf = KeyFile::from_json(kf).unwrap();
    assert!(kf.public_key().is_err());
    assert!(kf.private_key(None).is_err());
}

fn nanochat_sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PublicKey>();
    check::<PrivateKey>();
    check::<RequestEnvelope>();
    check::<nanochat::crypto::RequestSecret>();
    check::<nanochat::crypto::ResponseKey>();
    check::<EventKey>();
    check::<EventSealer>();
    check::<EventReceiver>();
    check::<nanochat::crypto::SealedMessage>();
    check::<nanochat::crypto::OpenedMessage>();
    check::<nanochat::crypto::SealedName>();
    check::<ReceivedName>();
    check::<EncryptedPrivateKey>();
    check::<KeyFile>();
    check::<CryptoError>();
}
