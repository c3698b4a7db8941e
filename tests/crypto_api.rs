//! Behaviour of the crypto core: round trips, policy, tampering (every byte
//! of short fields, a spread sample plus first/last bytes of long ones),
//! garbage and truncated input (must be an `Err`, never a panic), and the
//! RFC 9106 Argon2id vector.

#[path = "crypto_common/mod.rs"]
mod common;

use common::*;
use nanochat::crypto::envelope::{EventKey, event_aad};
use nanochat::crypto::password::Kdf;
use nanochat::crypto::{
    CryptoError, EncryptedPrivateKey, EventEnvelope, EventReceiver, EventSealer, Fingerprint,
    KdfParams, KeyFile, KeyFilePrivateKey, MAX_NAME_CHARS, MessageContent, PrivateKey, PublicKey,
    ReceivedName, RecipientDigest, RequestEnvelope, ResponseEnvelope, check_name,
    message_signed_bytes, name_signed_bytes, open_message, open_name, seal_message, seal_name,
    seal_request,
};
use rand_core::Rng;
use uuid::Uuid;

fn flip(v: &mut [u8], i: usize) {
    v[i] ^= 0x01;
}

// ---------------------------------------------------------------- keys

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
    assert_eq!(k.to_pkcs8_pem().unwrap().as_str(), ALICE_3072);
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
        PrivateKey::from_pkcs8_pem(WEAK_1024).unwrap_err(),
        CryptoError::KeySize(1024)
    );
    assert_eq!(
        PrivateKey::from_pkcs8_pem(EXP3_2048).unwrap_err(),
        CryptoError::PublicExponent
    );
    // The public halves are rejected too (extracted with the rsa crate).
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    for (pem, err) in [
        (WEAK_1024, CryptoError::KeySize(1024)),
        (EXP3_2048, CryptoError::PublicExponent),
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

// ------------------------------------------------------------ envelope

#[test]
fn request_response_round_trip() {
    let server = server();
    let alice = alice();
    let body = br#"{"type":"conversation.list","username":"alice"}"#;
    let (env, client_secret) = seal_request(server.public_key(), body, Some(&alice)).unwrap();
    assert_eq!(env.key.len(), 384);
    assert_eq!(env.data.len(), body.len() + 16);
    let opened = env.open(&server).unwrap();
    assert_eq!(opened.body, body);
    env.verify_signature(alice.public_key()).unwrap();
    assert_eq!(
        env.verify_signature(bob().public_key()),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(opened.secret.expose_key(), client_secret.expose_key());

    // Server answers under K_resp, client opens.
    let resp = opened.secret.response_key().seal(b"{\"ok\":true}").unwrap();
    assert_eq!(
        client_secret.response_key().open(&resp).unwrap(),
        b"{\"ok\":true}"
    );
    // K_resp and K_events differ from each other and from K.
    assert_ne!(
        client_secret.response_key().expose_key(),
        client_secret.event_key().expose_key()
    );
    assert_ne!(
        client_secret.response_key().expose_key(),
        client_secret.expose_key()
    );
    // Another request's key cannot open this response.
    let (_, other) = seal_request(server.public_key(), body, None).unwrap();
    assert_eq!(other.response_key().open(&resp), Err(CryptoError::Decrypt));
    // Wrong server key.
    assert_eq!(env.open(&bob()).unwrap_err(), CryptoError::Decrypt);
}

#[test]
fn unsigned_request() {
    let (env, _) = seal_request(server().public_key(), b"sync", None).unwrap();
    assert!(env.signature.is_none());
    assert_eq!(env.open(&server()).unwrap().body, b"sync");
    assert_eq!(
        env.verify_signature(alice().public_key()),
        Err(CryptoError::MissingSignature)
    );
}

#[test]
fn request_with_2048_and_4096_server_keys() {
    for server in [dave(), erin()] {
        let (env, _) = seal_request(server.public_key(), b"b", Some(&alice())).unwrap();
        assert_eq!(env.key.len(), server.public_key().modulus_len());
        assert_eq!(env.open(&server).unwrap().body, b"b");
        env.verify_signature(alice().public_key()).unwrap();
    }
}

#[test]
fn request_tampering_is_rejected() {
    let server = server();
    let alice = alice();
    let (env, _) = seal_request(server.public_key(), &[0x42; 100], Some(&alice)).unwrap();
    let sig_ok = |e: &RequestEnvelope| e.verify_signature(alice.public_key()).is_ok();
    // key
    for i in positions(env.key.len()) {
        let mut e = env.clone();
        flip(&mut e.key, i);
        assert!(e.open(&server).is_err(), "key byte {i}");
        assert!(!sig_ok(&e), "key byte {i}");
    }
    // iv: every byte
    for i in 0..12 {
        let mut e = env.clone();
        flip(&mut e.iv, i);
        assert_eq!(e.open(&server).unwrap_err(), CryptoError::Decrypt, "iv {i}");
        assert!(!sig_ok(&e));
    }
    // data, tag included
    for i in positions(env.data.len()) {
        let mut e = env.clone();
        flip(&mut e.data, i);
        assert_eq!(
            e.open(&server).unwrap_err(),
            CryptoError::Decrypt,
            "data {i}"
        );
        assert!(!sig_ok(&e));
    }
    // signature
    let sig = env.signature.clone().unwrap();
    for i in positions(sig.len()) {
        let mut e = env.clone();
        let mut s = sig.clone();
        flip(&mut s, i);
        e.signature = Some(s);
        assert!(e.open(&server).is_ok());
        assert_eq!(
            e.verify_signature(alice.public_key()),
            Err(CryptoError::BadSignature),
            "sig {i}"
        );
    }
    // truncations
    let mut e = env.clone();
    e.data.truncate(15);
    assert!(matches!(
        e.open(&server),
        Err(CryptoError::BadLength { .. })
    ));
    let mut e = env.clone();
    e.key.pop();
    assert_eq!(e.open(&server).unwrap_err(), CryptoError::Decrypt);
    assert!(RequestEnvelope::from_parts(vec![0; 384], &[0; 11], vec![], None).is_err());
}

#[test]
fn response_tampering_is_rejected() {
    let (_, secret) = seal_request(server().public_key(), b"x", None).unwrap();
    let key = secret.response_key();
    let resp = key.seal(&[9u8; 300]).unwrap();
    for i in 0..12 {
        let mut r = resp.clone();
        flip(&mut r.iv, i);
        assert_eq!(key.open(&r), Err(CryptoError::Decrypt));
    }
    for i in positions(resp.data.len()) {
        let mut r = resp.clone();
        flip(&mut r.data, i);
        assert_eq!(key.open(&r), Err(CryptoError::Decrypt));
    }
    // An event key cannot open a response (different derivation).
    let as_event = EventEnvelope {
        seq: 1,
        iv: resp.iv,
        data: resp.data.clone(),
    };
    assert!(secret.event_key().open_unordered(&as_event).is_err());
    assert!(ResponseEnvelope::from_parts(&[0; 13], vec![]).is_err());
}

#[test]
fn events_are_ordered_and_bound_to_seq() {
    let (_, secret) = seal_request(server().public_key(), b"session.open", None).unwrap();
    let mut sealer = EventSealer::new(secret.event_key());
    let mut rx = EventReceiver::new(secret.event_key());
    let e1 = sealer.seal(b"one").unwrap();
    let e2 = sealer.seal(b"two").unwrap();
    let e3 = sealer.seal(b"three").unwrap();
    assert_eq!((e1.seq, e2.seq, e3.seq), (1, 2, 3));
    assert_eq!(rx.open(&e1).unwrap(), b"one");
    assert_eq!(
        rx.open(&e1).unwrap_err(),
        CryptoError::Replay { last: 1, got: 1 }
    );
    // gap is fine, going back is not
    assert_eq!(rx.open(&e3).unwrap(), b"three");
    assert_eq!(
        rx.open(&e2).unwrap_err(),
        CryptoError::Replay { last: 3, got: 2 }
    );
    // A relabelled seq fails authentication and does not advance the state.
    let mut forged = sealer.seal(b"four").unwrap();
    forged.seq = 10;
    assert_eq!(rx.open(&forged).unwrap_err(), CryptoError::Decrypt);
    assert_eq!(rx.last_seq(), Some(3));
    forged.seq = 4;
    assert_eq!(rx.open(&forged).unwrap(), b"four");
    assert_eq!(event_aad(0x0102).len(), "nanochat/v1 event".len() + 8);
    assert!(event_aad(0x0102).ends_with(&[0, 0, 0, 0, 0, 0, 1, 2]));
}

#[test]
fn event_tampering_is_rejected() {
    let (_, secret) = seal_request(server().public_key(), b"x", None).unwrap();
    let key: EventKey = secret.event_key();
    let ev = key.seal_with_rng(&mut test_rng(3), 7, &[1u8; 200]).unwrap();
    for i in 0..12 {
        let mut e = ev.clone();
        flip(&mut e.iv, i);
        assert_eq!(key.open_unordered(&e), Err(CryptoError::Decrypt));
    }
    for i in positions(ev.data.len()) {
        let mut e = ev.clone();
        flip(&mut e.data, i);
        assert_eq!(key.open_unordered(&e), Err(CryptoError::Decrypt));
    }
    for bit in 0..64 {
        let mut e = ev.clone();
        e.seq ^= 1 << bit;
        assert_eq!(key.open_unordered(&e), Err(CryptoError::Decrypt));
    }
    assert_eq!(key.open_unordered(&ev).unwrap(), vec![1u8; 200]);
}

// ------------------------------------------------------------- content

fn members() -> Vec<(String, PrivateKey)> {
    vec![
        ("alice".to_owned(), alice()),
        ("bob".to_owned(), bob()),
        ("carol".to_owned(), carol()),
    ]
}

#[test]
fn message_round_trip_with_attachment() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let content = MessageContent {
        text: Some("hello ✓".into()),
        file_name: Some("a.txt".into()),
        file_type: Some("text/plain".into()),
    };
    let json = content.to_json_bytes().unwrap();
    assert_eq!(
        json,
        r#"{"text":"hello ✓","file_name":"a.txt","file_type":"text/plain"}"#.as_bytes()
    );
    assert_eq!(MessageContent::default().to_json_bytes().unwrap(), b"{}");
    let conv = Uuid::from_u128(1);
    let msg_id = Uuid::from_u128(2);
    let sealed = seal_message(&alice(), conv, msg_id, &json, Some(b"file bytes"), &pubs).unwrap();
    assert_eq!(
        sealed
            .recipients
            .iter()
            .map(|r| r.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob", "carol"]
    );
    sealed.verify_signature(alice().public_key()).unwrap();
    for (user, key) in &m {
        let received = sealed.for_reader(user).unwrap();
        let opened = open_message(&received, user, key, alice().public_key()).unwrap();
        assert_eq!(
            MessageContent::from_json_bytes(&opened.content).unwrap(),
            content
        );
        let att = sealed.attachment.as_ref().unwrap();
        let digest = received.attachment_digest.unwrap();
        assert_eq!(
            opened.content_key.open_attachment(att, &digest).unwrap(),
            b"file bytes"
        );
        let mut bad = att.clone();
        flip(&mut bad.data, 0);
        assert_eq!(
            opened.content_key.open_attachment(&bad, &digest),
            Err(CryptoError::AttachmentMismatch)
        );
        let mut bad_iv = att.clone();
        flip(&mut bad_iv.iv, 0);
        assert_eq!(
            opened.content_key.open_attachment(&bad_iv, &digest),
            Err(CryptoError::Decrypt)
        );
    }
    // Not a member.
    assert_eq!(
        sealed.for_reader("dave").unwrap_err(),
        CryptoError::NotARecipient
    );
    let received = sealed.for_reader("bob").unwrap();
    assert_eq!(
        open_message(&received, "dave", &dave(), alice().public_key()).unwrap_err(),
        CryptoError::NotARecipient
    );
    // Wrong sender key.
    assert_eq!(
        open_message(&received, "bob", &bob(), carol().public_key()).unwrap_err(),
        CryptoError::BadSignature
    );
    // The server hands bob carol's wrapped key: digest mismatch.
    let mut swapped = received.clone();
    swapped.wrapped_key = sealed.recipients[2].wrapped_key.clone();
    assert_eq!(
        open_message(&swapped, "bob", &bob(), alice().public_key()).unwrap_err(),
        CryptoError::KeyDigestMismatch
    );
    // Edit: fresh C, same id; the old signature does not cover the new content.
    let edited = seal_message(&alice(), conv, msg_id, b"{}", None, &pubs).unwrap();
    let mut mixed = edited.for_reader("bob").unwrap();
    mixed.signature = sealed.signature.clone();
    assert_eq!(
        open_message(&mixed, "bob", &bob(), alice().public_key()).unwrap_err(),
        CryptoError::BadSignature
    );
}

#[test]
fn message_sealing_rules() {
    let a = alice();
    let b = bob();
    let conv = Uuid::from_u128(1);
    // duplicate usernames
    assert_eq!(
        seal_message(
            &a,
            conv,
            conv,
            b"x",
            None,
            &[("alice", a.public_key()), ("alice", b.public_key())]
        )
        .unwrap_err(),
        CryptoError::DuplicateRecipient
    );
    // the sender's own key must be among the members
    assert_eq!(
        seal_message(&a, conv, conv, b"x", None, &[("bob", b.public_key())]).unwrap_err(),
        CryptoError::NotARecipient
    );
    let d = |u: &str| RecipientDigest {
        username: u.into(),
        key_digest: [0; 32],
    };
    assert_eq!(
        message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("x"), d("x")]).unwrap_err(),
        CryptoError::DuplicateRecipient
    );
    assert!(message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[]).is_err());
    assert!(message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("")]).is_err());
    // Order of the input list does not matter.
    assert_eq!(
        message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("b"), d("a")]).unwrap(),
        message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &[d("a"), d("b")]).unwrap()
    );
}

#[test]
fn message_signed_bytes_layout() {
    let conv = Uuid::parse_str("00112233-4455-6677-8899-AABBCCDDEEFF").unwrap();
    let id = Uuid::from_u128(0xfe);
    let recips = [
        RecipientDigest {
            username: "bob".into(),
            key_digest: [0xbb; 32],
        },
        RecipientDigest {
            username: "Zed".into(), // 'Z' (0x5a) sorts before 'b' (0x62)
            key_digest: [0x5a; 32],
        },
    ];
    let got =
        message_signed_bytes(&conv, &id, &[0xaa; 12], b"CT", Some(&[0xdd; 32]), &recips).unwrap();
    let mut want = Vec::new();
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&(v.len() as u32).to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"nanochat/v1 message");
    field(b"00112233-4455-6677-8899-aabbccddeeff");
    field(b"00000000-0000-0000-0000-0000000000fe");
    field(&[0xaa; 12]);
    field(b"CT");
    field(&[0xdd; 32]);
    want.extend_from_slice(&2u32.to_be_bytes());
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&(v.len() as u32).to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"Zed");
    field(&[0x5a; 32]);
    field(b"bob");
    field(&[0xbb; 32]);
    assert_eq!(got, want);
    // No attachment: empty field.
    let none = message_signed_bytes(&conv, &id, &[0xaa; 12], b"CT", None, &recips).unwrap();
    assert_eq!(none.len(), got.len() - 32);
}

#[test]
fn message_tampering_is_rejected() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let sealed = seal_message(
        &alice(),
        Uuid::from_u128(10),
        Uuid::from_u128(11),
        &[0x33; 150],
        Some(&[0x44; 50]),
        &pubs,
    )
    .unwrap();
    let base = sealed.for_reader("bob").unwrap();
    let (bob, sender) = (bob(), alice().public_key().clone());
    let rejects =
        |r: &nanochat::crypto::ReceivedMessage| open_message(r, "bob", &bob, &sender).is_err();
    assert!(!rejects(&base));
    for i in 0..12 {
        let mut r = base.clone();
        flip(&mut r.content_iv, i);
        assert!(rejects(&r), "iv {i}");
    }
    for i in positions(base.content.len()) {
        let mut r = base.clone();
        flip(&mut r.content, i);
        assert!(rejects(&r), "content {i}");
    }
    for i in positions(base.signature.len()) {
        let mut r = base.clone();
        flip(&mut r.signature, i);
        assert!(rejects(&r), "sig {i}");
    }
    for i in positions(base.wrapped_key.len()) {
        let mut r = base.clone();
        flip(&mut r.wrapped_key, i);
        assert_eq!(
            open_message(&r, "bob", &bob, &sender).unwrap_err(),
            CryptoError::KeyDigestMismatch
        );
    }
    for j in 0..base.recipients.len() {
        for i in [0, 31] {
            let mut r = base.clone();
            flip(&mut r.recipients[j].key_digest, i);
            assert!(rejects(&r), "recipient {j} digest {i}");
        }
        let mut r = base.clone();
        r.recipients[j].username.push('x');
        assert!(rejects(&r), "recipient {j} name");
    }
    let mut r = base.clone();
    r.recipients.pop();
    assert!(rejects(&r), "recipient dropped");
    for i in positions(32) {
        let mut r = base.clone();
        flip(r.attachment_digest.as_mut().unwrap(), i);
        assert!(rejects(&r), "attachment digest {i}");
    }
    let mut r = base.clone();
    r.attachment_digest = None;
    assert!(rejects(&r), "attachment removed");
    let mut r = base.clone();
    r.message_id = Uuid::from_u128(12);
    assert!(rejects(&r), "message id");
    let mut r = base.clone();
    r.conversation_id = Uuid::from_u128(12);
    assert!(rejects(&r), "conversation id");
}

// --------------------------------------------------------------- names

#[test]
fn name_round_trip_and_rules() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let conv = Uuid::from_u128(1);
    let sealed = seal_name(&bob(), conv, 1, "Ωμάδα ☕", &pubs).unwrap();
    assert_eq!(
        sealed
            .recipients
            .iter()
            .map(|r| r.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob", "carol"]
    );
    sealed.verify_signature(bob().public_key()).unwrap();
    assert_eq!(
        sealed.verify_signature(alice().public_key()),
        Err(CryptoError::BadSignature)
    );
    for (user, key) in &m {
        let received = sealed.for_reader(user).unwrap();
        assert_eq!(
            open_name(&received, user, key, bob().public_key()).unwrap(),
            "Ωμάδα ☕"
        );
    }
    assert_eq!(
        sealed.for_reader("dave").unwrap_err(),
        CryptoError::NotARecipient
    );
    // A rename: fresh N, next revision; the old signature does not cover it.
    let renamed = seal_name(&alice(), conv, 2, "Team", &pubs).unwrap();
    let mut mixed = renamed.for_reader("carol").unwrap();
    mixed.signature = sealed.signature.clone();
    assert_eq!(
        open_name(&mixed, "carol", &carol(), bob().public_key()).unwrap_err(),
        CryptoError::BadSignature
    );
    // Rules, on both sides.
    check_name(&"é".repeat(MAX_NAME_CHARS)).unwrap();
    for bad in [
        String::new(),
        "é".repeat(MAX_NAME_CHARS + 1),
        "a\u{1b}[2J".into(),
        "trailing ".into(),
    ] {
        assert!(
            matches!(check_name(&bad), Err(CryptoError::Malformed(_))),
            "{bad:?}"
        );
        assert!(
            matches!(
                seal_name(&alice(), conv, 3, &bad, &pubs),
                Err(CryptoError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        seal_name(&alice(), conv, 0, "x", &pubs),
        Err(CryptoError::Malformed(_))
    ));
    assert_eq!(
        seal_name(&alice(), conv, 1, "x", &[("bob", bob().public_key())]).unwrap_err(),
        CryptoError::NotARecipient
    );
    assert_eq!(
        seal_name(
            &alice(),
            conv,
            1,
            "x",
            &[
                ("alice", alice().public_key()),
                ("alice", bob().public_key())
            ]
        )
        .unwrap_err(),
        CryptoError::DuplicateRecipient
    );
}

#[test]
fn name_signed_bytes_layout() {
    let conv = Uuid::parse_str("00112233-4455-6677-8899-AABBCCDDEEFF").unwrap();
    let recips = [
        RecipientDigest {
            username: "bob".into(),
            key_digest: [0xbb; 32],
        },
        RecipientDigest {
            username: "Zed".into(), // 'Z' (0x5a) sorts before 'b' (0x62)
            key_digest: [0x5a; 32],
        },
    ];
    let got = name_signed_bytes(&conv, 0x0102_0304_0506_0708, &[0xaa; 12], b"CT", &recips).unwrap();
    let mut want = Vec::new();
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&(v.len() as u32).to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"nanochat/v1 conversation name");
    field(b"00112233-4455-6677-8899-aabbccddeeff");
    field(&[1, 2, 3, 4, 5, 6, 7, 8]);
    field(&[0xaa; 12]);
    field(b"CT");
    let head = want.len();
    want.extend_from_slice(&2u32.to_be_bytes());
    let mut field = |v: &[u8]| {
        want.extend_from_slice(&(v.len() as u32).to_be_bytes());
        want.extend_from_slice(v);
    };
    field(b"Zed");
    field(&[0x5a; 32]);
    field(b"bob");
    field(&[0xbb; 32]);
    assert_eq!(got, want);
    // The recipient list is encoded exactly as for messages.
    let message = message_signed_bytes(&conv, &conv, &[0; 12], b"", None, &recips).unwrap();
    assert!(message.ends_with(&want[head..]));
    // Same list rules as messages, plus revisions start at 1.
    let d = |u: &str| RecipientDigest {
        username: u.into(),
        key_digest: [0; 32],
    };
    assert_eq!(
        name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("x"), d("x")]).unwrap_err(),
        CryptoError::DuplicateRecipient
    );
    assert!(name_signed_bytes(&conv, 1, &[0; 12], b"", &[]).is_err());
    assert!(name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("")]).is_err());
    assert!(name_signed_bytes(&conv, 0, &[0; 12], b"", &[d("x")]).is_err());
    assert_eq!(
        name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("b"), d("a")]).unwrap(),
        name_signed_bytes(&conv, 1, &[0; 12], b"", &[d("a"), d("b")]).unwrap()
    );
}

#[test]
fn name_tampering_is_rejected() {
    let m = members();
    let pubs: Vec<(&str, &PublicKey)> = m
        .iter()
        .map(|(u, k)| (u.as_str(), k.public_key()))
        .collect();
    let sealed = seal_name(&alice(), Uuid::from_u128(10), 5, &"n".repeat(100), &pubs).unwrap();
    let base = sealed.for_reader("bob").unwrap();
    let (bob, sender) = (bob(), alice().public_key().clone());
    let rejects = |r: &ReceivedName| open_name(r, "bob", &bob, &sender).is_err();
    assert!(!rejects(&base));
    for i in 0..12 {
        let mut r = base.clone();
        flip(&mut r.iv, i);
        assert!(rejects(&r), "iv {i}");
    }
    for i in positions(base.ciphertext.len()) {
        let mut r = base.clone();
        flip(&mut r.ciphertext, i);
        assert!(rejects(&r), "ciphertext {i}");
    }
    for i in positions(base.signature.len()) {
        let mut r = base.clone();
        flip(&mut r.signature, i);
        assert!(rejects(&r), "sig {i}");
    }
    for i in positions(base.wrapped_key.len()) {
        let mut r = base.clone();
        flip(&mut r.wrapped_key, i);
        assert_eq!(
            open_name(&r, "bob", &bob, &sender).unwrap_err(),
            CryptoError::KeyDigestMismatch
        );
    }
    for j in 0..base.recipients.len() {
        for i in [0, 31] {
            let mut r = base.clone();
            flip(&mut r.recipients[j].key_digest, i);
            assert!(rejects(&r), "recipient {j} digest {i}");
        }
        let mut r = base.clone();
        r.recipients[j].username.push('x');
        assert!(rejects(&r), "recipient {j} name");
    }
    let mut r = base.clone();
    r.recipients.pop();
    assert!(rejects(&r), "recipient dropped");
    for bit in 0..64 {
        let mut r = base.clone();
        r.revision ^= 1 << bit;
        assert!(rejects(&r), "revision bit {bit}");
    }
    let mut r = base.clone();
    r.conversation_id = Uuid::from_u128(11);
    assert!(rejects(&r), "conversation id");
}

// ------------------------------------------------------------ password

fn blob() -> EncryptedPrivateKey {
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
    let mut x = b.clone();
    x.version = 2;
    assert_eq!(
        x.decrypt(b"correct horse").unwrap_err(),
        CryptoError::UnsupportedVersion(2)
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

// ------------------------------------------------------------- keyfile

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
    // Version.
    let v2 = json.replacen("\"version\": 1", "\"version\": 2", 1);
    assert_eq!(
        KeyFile::from_json(&v2).unwrap_err(),
        CryptoError::UnsupportedVersion(2)
    );
    assert!(matches!(
        KeyFile::from_json(&json.replace("\"encrypted\"", "\"rot13\"")),
        Err(CryptoError::Malformed(_))
    ));
    assert!(
        matches!(back.private_key, KeyFilePrivateKey::Encrypted(ref e) if e.kdf == Kdf::Argon2id)
    );
}

// ------------------------------------------------------ garbage in, Err out

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
